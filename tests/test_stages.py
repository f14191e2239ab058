"""The Predictor's stages, each alone: pose, finding, following, smoothing, actions, report."""

from types import SimpleNamespace

import numpy as np
import pytest

from posenet.data.augment import DEFAULT_MARGIN
from posenet.data.targets import PELVIS, depth_to_mm
from posenet.inference import report
from posenet.inference.actions_stage import TrackActions, action_models
from posenet.inference.finding import SinglePersonFinder
from posenet.inference.following import FollowMany, FollowOne
from posenet.inference.pose_stage import PoseStage
from posenet.inference.smoothing import SmoothingConfig, jitter
from posenet.inference.smoothing_stage import JointSmoothing
from posenet.inference.tracking import Track
from tests.inference_fixtures import TINY_POSE

J = 17


class FixedRuntime:
    """A runtime whose network puts every joint at ``uv`` (normalised to the crop), with
    depth ``z`` and visibility ``vis``; records the batch sizes it is called with."""

    def __init__(self, uv, z=None, vis=0.75, block=1):
        self.uv, self.z, self.vis, self.block = np.asarray(uv, np.float32), z, vis, block
        self.batches = []

    def predict(self, crops):
        n = len(crops)
        self.batches.append(n)
        pose = np.broadcast_to(self.uv, (n, J, 2)).astype(np.float32)
        if self.z is not None:
            pose = np.concatenate([pose, np.broadcast_to(self.z, (n, J, 1))], -1)
        return {f"pose_{self.block}": pose.astype(np.float32),
                f"visibility_{self.block}": np.full((n, J, 1), self.vis, np.float32)}


def _frame(width=320, height=240, value=0):
    return np.full((height, width, 3), value, np.uint8)


# -- the pose stage ---------------------------------------------------------------------

def test_pose_stage_maps_crop_coordinates_back_to_image_pixels():
    size = 64
    uv = np.zeros((J, 2), np.float32)
    uv[0] = (0.5, 0.5)  # the crop's centre
    uv[1] = (0.0, 0.0)  # its top-left corner
    uv[2] = (1.0, 0.25)
    stage = PoseStage(FixedRuntime(uv), 1, size, J, 2, batch_size=8)
    box = np.array([100.0, 50.0, 200.0, 250.0])  # centre (150, 150), longer side 200
    (result,) = stage.estimate([_frame()], [box])
    side = 200 * DEFAULT_MARGIN
    xy = result["joints2d"][:, :2]
    np.testing.assert_allclose(xy[0], (150, 150), atol=1e-3)
    np.testing.assert_allclose(xy[1], (150 - side / 2, 150 - side / 2), atol=1e-3)
    np.testing.assert_allclose(xy[2], (150 + side / 2, 150 - side / 4), atol=1e-3)
    assert result["joints2d"].shape == (J, 3)
    np.testing.assert_allclose(result["joints2d"][:, 2], 0.75)
    assert result["score"] == pytest.approx(0.75)
    assert result["crop"].shape == (size, size, 3) and result["crop"].dtype == np.uint8
    assert result["joints3d"] is None and result["z"] is None


def test_pose_stage_3d_joints_are_pelvis_relative_mm():
    uv = np.full((J, 2), 0.5, np.float32)
    other = (PELVIS + 1) % J
    uv[other] = (0.75, 0.25)  # a quarter of the crop right of and above the pelvis
    z = np.full((J, 1), 0.5, np.float32)
    z[other] = 0.25  # nearer than the pelvis
    stage = PoseStage(FixedRuntime(uv, z=z), 1, 64, J, 3, batch_size=8, crop_side_mm=2000.0)
    (result,) = stage.estimate([_frame()], [np.array([0.0, 0.0, 100.0, 100.0])])
    np.testing.assert_allclose(result["joints3d"][PELVIS], 0.0)
    depth = depth_to_mm(np.float64(0.25), 0.0) - depth_to_mm(np.float64(0.5), 0.0)
    assert depth < 0
    np.testing.assert_allclose(result["joints3d"][other], (500.0, -500.0, depth), atol=1e-3)
    assert result["z"].dtype == np.float64


def test_pose_stage_runs_the_network_in_batches():
    runtime = FixedRuntime(np.full((J, 2), 0.5))
    stage = PoseStage(runtime, 1, 64, J, 2, batch_size=2)
    frames = [_frame() for _ in range(5)]
    boxes = [np.array([10.0 * i, 10.0, 10.0 * i + 50, 90.0]) for i in range(5)]
    results = stage.estimate(frames, boxes)
    assert runtime.batches == [2, 2, 1] and len(results) == 5
    centres = [r["joints2d"][0, 0] for r in results]
    np.testing.assert_allclose(centres, [10.0 * i + 25 for i in range(5)], atol=1e-3)
    assert stage.estimate([], []) == []
    assert PoseStage.outputs_read(2) == ["pose_2", "visibility_2"]
    assert len(PoseStage.outputs_read(2, heads=True)) == 4


def _tiny_stage():
    """A pose stage over a tiny random PoseNetwork on the Keras runtime (batches of 4)."""
    from posenet.export.cache import runtime_for
    from posenet.models import PoseNetwork

    network = PoseNetwork(**TINY_POSE)
    blocks = TINY_POSE["num_blocks"]
    runtime = runtime_for("keras", network, blocks, blocks,
                          outputs=PoseStage.outputs_read(blocks))
    return PoseStage(runtime, blocks, network.input_size, J, network.pose_dims, 4)


@pytest.mark.backend
def test_pose_stage_on_a_tiny_network_lands_joints_in_the_crop():
    stage = _tiny_stage()
    frame = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), np.uint8)
    box = np.array([1000.0, 400.0, 1100.0, 600.0])  # crop: the square of side 200 x margin
    results = stage.estimate([frame, frame], [box, box])
    half = 200 * DEFAULT_MARGIN / 2
    for result in results:
        xy = result["joints2d"][:, :2]
        assert np.all(np.abs(xy - (1050.0, 500.0)) <= half + 1e-3)
        assert result["joints3d"].shape == (J, 3)
    np.testing.assert_allclose(results[0]["joints2d"], results[1]["joints2d"], atol=1e-3)


# -- the finding stage ------------------------------------------------------------------

class PersonAt:
    """A pose stage that always finds the same person, at ``joints`` (J, 2) image px with
    confidence ``conf``, wherever the crop is; counts its calls."""

    size = 64

    def __init__(self, joints, conf=0.9, wander=0.0):
        self.joints, self.conf, self.wander = np.asarray(joints, np.float64), conf, wander
        self.calls = 0

    def estimate(self, frames, boxes, margin=DEFAULT_MARGIN):
        self.calls += 1
        results = []
        for box in boxes:
            # ``wander``: the joints follow the crop, as on an empty frame
            xy = self.joints + self.wander * np.asarray(box[:2], np.float64)
            results.append({"joints2d": np.concatenate([xy, np.full((J, 1), self.conf)], 1),
                            "score": self.conf, "z": None, "joints3d": None})
        return results


def _person_joints(x=100.0, y=60.0):
    rng = np.random.default_rng(1)
    return np.stack([rng.uniform(x, x + 40, J), rng.uniform(y, y + 100, J)], 1)


def test_finding_gives_one_result_and_box_per_frame():
    joints = _person_joints()
    pose = PersonAt(joints)
    finder = SinglePersonFinder(pose, refine_passes=1)
    frames = [_frame(), _frame(640, 480), _frame(100, 300)]
    results, boxes = finder.detect(frames)
    assert len(results) == len(boxes) == 3
    assert pose.calls == 3  # the whole frame, the person's box, one refinement
    for result, box in zip(results, boxes, strict=True):
        assert box.shape == (4,)
        lo, hi = joints.min(0), joints.max(0)
        assert box[0] < lo[0] and box[1] < lo[1] and box[2] > hi[0] and box[3] > hi[1]
        # found at the same place twice: the person score is the confidence
        assert result["person_score"] == pytest.approx(0.9)


def test_finding_scores_a_wandering_pose_lower_and_finds_nobody_under_min_score():
    wandering = PersonAt(_person_joints(), wander=1.0)
    (result,), _ = SinglePersonFinder(wandering).detect([_frame()])
    assert result["person_score"] < 0.9 * 0.95
    finder = SinglePersonFinder(PersonAt(_person_joints(), conf=0.2), min_score=0.28)
    assert finder.find(_frame()) is None
    box = SinglePersonFinder(PersonAt(_person_joints(290.0, 200.0))).find(_frame())
    assert box is not None and box[2] <= 320 and box[3] <= 240  # clipped to the frame


def test_finding_redetects_only_weak_poses_and_keeps_surer_ones():
    pose = PersonAt(_person_joints(), conf=0.6)
    finder = SinglePersonFinder(pose, redetect_below=0.4, min_score=0.28)
    strong = [{"score": 0.5}, {"score": 0.45}]
    assert finder.redetect([_frame(), _frame()], strong) == [] and pose.calls == 0
    weak = [{"score": 0.5}, {"score": 0.1}, {"score": 0.7}, {"score": 0.3}]
    again = finder.redetect([_frame()] * 4, weak)
    assert [i for i, _, _ in again] == [1, 3]
    assert all(r["score"] == 0.6 and b.shape == (4,) for _, r, b in again)
    finder.redetect_below = 0.99  # now 0.7 is weak too, but re-detection is not surer
    assert [i for i, _, _ in finder.redetect([_frame()] * 4, weak)] == [0, 1, 3]


@pytest.mark.backend
def test_finding_on_a_tiny_network():
    stage = _tiny_stage()
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, shape, np.uint8) for shape in
              [(240, 320, 3), (480, 200, 3), (64, 64, 3)]]
    results, boxes = SinglePersonFinder(stage, refine_passes=2).detect(frames)
    assert len(results) == len(boxes) == 3
    assert all(0.0 <= r["person_score"] <= r["score"] <= 1.0 for r in results)
    assert all(np.isfinite(b).all() and b[2] > b[0] and b[3] > b[1] for b in boxes)


# -- the following stage ----------------------------------------------------------------

class CountingDetector:
    """Returns ``boxes`` (score 0.9: a confirmed track at once); records the frames."""

    def __init__(self, boxes):
        self.boxes, self.frames = np.asarray(boxes, np.float64), []

    def __call__(self, frame):
        self.frames.append(int(frame[0, 0, 0]))
        return self.boxes, np.full(len(self.boxes), 0.9)


def _chunks(count, size):
    items = [(i, _frame(value=i)) for i in range(count)]
    return [items[i:i + size] for i in range(0, count, size)]


def _poses(plan, score=0.9):
    """Poses filling each planned box (confident), as the pose stage would give them."""
    results = []
    for p in plan:
        x1, y1, x2, y2 = p.box
        xy = np.stack([np.linspace(x1 + 5, x2 - 5, J), np.linspace(y1 + 5, y2 - 5, J)], 1)
        results.append({"joints2d": np.concatenate([xy, np.full((J, 1), score)], 1),
                        "score": score})
    return results


def test_following_asks_the_detector_every_detect_every_frames():
    detector = CountingDetector([[20.0, 20.0, 80.0, 200.0]])
    follow = FollowMany(detector, detect_every=4, crowded_every=2, min_score=0.28)
    planned = []
    for chunk in _chunks(10, 3):
        plan = follow.plan(chunk)
        planned += [chunk[p.pos][0] for p in plan]
        found = follow.settle(chunk, plan, _poses(plan))
        assert all(len(people) == 1 and people[0]["track"] == 0 for people in found)
    assert detector.frames == [0, 4, 8]
    assert planned == list(range(10))  # the track is estimated in every frame
    assert [t.id for t in follow.finish()] == [0]


def test_following_asks_more_often_where_people_overlap():
    detector = CountingDetector([[20.0, 20.0, 80.0, 200.0], [40.0, 20.0, 100.0, 200.0]])
    follow = FollowMany(detector, detect_every=4, crowded_every=2)
    for chunk in _chunks(9, 4):
        follow.plan(chunk)
    assert detector.frames == [0, 2, 4, 6, 8]


class BoxFinder:
    """A single-person finder with a fixed answer; counts :meth:`find` calls."""

    def __init__(self, box):
        self.box, self.finds = box, 0

    def find(self, frame, previous=None):
        self.finds += 1
        return None if self.box is None else np.asarray(self.box, np.float64)

    def redetect(self, frames, results, previous=None):
        return []


def test_following_one_person_starts_follows_and_loses_the_track():
    finder = BoxFinder([50.0, 20.0, 150.0, 220.0])
    follow = FollowOne(finder, min_score=0.28)
    chunks = _chunks(8, 4)
    plan = follow.plan(chunks[0])
    assert finder.finds == 1 and [p.pos for p in plan] == [0, 1, 2, 3]
    found = follow.settle(chunks[0], plan, _poses(plan))
    assert [len(people) for people in found] == [1, 1, 1, 1]
    assert found[0][0]["box"] is not None and found[0][0]["track"] == 0
    plan = follow.plan(chunks[1])
    assert finder.finds == 1  # followed, not found again
    found = follow.settle(chunks[1], plan, _poses(plan, score=0.1))  # unsure: lost
    assert found == [[], [], [], []] and not follow.tracker.active
    finder.box = None
    assert follow.plan(_chunks(9, 1)[8]) == [] and finder.finds == 2


# -- the smoothing stage ----------------------------------------------------------------

def _track_result(track, xy, conf=0.8):
    return {"track": track, "joints2d": np.concatenate([xy, np.full((J, 1), conf)], 1),
            "joints3d": None}


def test_smoothing_smooths_a_jittery_track_and_leaves_a_still_one():
    rng = np.random.default_rng(0)
    base = rng.uniform(50, 200, (J, 2))
    smoothing = JointSmoothing(SmoothingConfig(), fps=25.0)
    raw, smoothed, still = [], [], []
    for index in range(50):
        noisy = base + rng.normal(0, 3.0, (J, 2))
        jittery, fixed = _track_result(0, noisy), _track_result(1, base)
        smoothing.smooth(index, jittery)
        smoothing.smooth(index, fixed)
        raw.append(noisy)
        smoothed.append(jittery["joints2d"][:, :2])
        still.append(fixed["joints2d"][:, :2])
        np.testing.assert_array_equal(jittery["joints2d"][:, 2], 0.8)  # not filtered
    assert jitter(np.array(smoothed)) < 0.6 * jitter(np.array(raw))
    np.testing.assert_allclose(np.array(still), np.broadcast_to(base, (50, J, 2)), atol=1e-9)
    assert sorted(smoothing.smoothers) == [0, 1]


def test_smoothing_is_off_without_a_frame_rate_or_a_config():
    xy = np.random.default_rng(0).uniform(0, 100, (J, 2))
    for stage in (JointSmoothing(SmoothingConfig(), fps=None), JointSmoothing(None, 25.0)):
        for index in range(3):
            result = _track_result(0, xy + index)
            stage.smooth(index, result)
            np.testing.assert_array_equal(result["joints2d"][:, :2], xy + index)
        assert stage.smoothers == {}


def test_smoothing_reads_the_frames_times_from_the_clock():
    base = np.full((J, 2), 100.0)
    # the same two positions, 1/25 s apart or 0.5 s apart (a variable rate's slow stretch):
    # the longer the interval, the less the filter holds the joint back
    outs = {}
    for gap in (0.04, 0.5):
        stage = JointSmoothing(SmoothingConfig(), fps=25.0, clock=[0.0, gap].__getitem__)
        for index, xy in enumerate((base, base + 20.0)):
            result = _track_result(0, xy)
            stage.smooth(index, result)
        outs[gap] = result["joints2d"][0, 0]
    assert 100.0 < outs[0.04] < outs[0.5] <= 120.0


# -- the actions stage ------------------------------------------------------------------

def _people(track_frames, count):
    """Frame dicts of ``count`` frames with a person of each track where it is seen."""
    return [{"index": i, "people": [{"track": t} for t, seen in track_frames.items()
                                    if i in seen]} for i in range(count)]


def test_actions_make_no_windows_without_action_models():
    actions = TrackActions({}, dims=3, fps=25.0)
    for index in range(5):
        actions.add(index, {"track": 0, "joints2d": np.zeros((J, 3)), "z": None,
                            "box": np.array([0.0, 0.0, 10.0, 10.0])})
    assert actions.windows == {}
    finished = [Track(1, np.zeros(4), 0, 0, 0), Track(0, np.zeros(4), 0, 0, 0),
                Track(2, np.zeros(4), 0, 0, 0)]
    frames = _people({0: {1, 2, 3}, 1: {4}}, 5)
    tracks = actions.tracks(finished, frames, {})
    assert tracks == [{"id": 0, "first_frame": 1, "last_frame": 3, "actions": {}},
                      {"id": 1, "first_frame": 4, "last_frame": 4, "actions": {}}]


@pytest.mark.backend
def test_actions_window_each_track_through_the_action_model(tmp_path):
    from posenet.engine.weights import load_weights
    from tests.inference_fixtures import save_networks

    _, bundle = save_networks(tmp_path, action_frames=4)
    models, classes, num_frames = action_models(load_weights(str(bundle)))
    assert list(models) == ["penn_action"] and len(classes["penn_action"]) == 15
    assert num_frames >= 4
    actions = TrackActions(models, dims=3, fps=None)
    rng = np.random.default_rng(0)
    for index in range(10):
        for track in (0, 1):
            joints = np.concatenate([rng.uniform(0, 100, (J, 2)), np.ones((J, 1))], 1)
            actions.add(index, {"track": track, "joints2d": joints, "z": rng.uniform(0, 1, J),
                                "box": np.array([0.0, 0.0, 100.0, 100.0])})
    assert sorted(actions.windows) == [0, 1]
    finished = [Track(t, np.zeros(4), 0, 0, 0) for t in (0, 1)]
    tracks = actions.tracks(finished, _people({0: set(range(10)), 1: set(range(10))}, 10),
                            classes)
    for track in tracks:
        result = track["actions"]["penn_action"]
        assert len(result["probabilities"]) == 15 and len(result["windows"]) >= 2
        assert sum(result["probabilities"]) == pytest.approx(1.0, abs=1e-4)


def test_action_models_refuse_a_network_filed_under_another_dataset():
    net = SimpleNamespace(actions={"penn_action": 15}, num_frames=8)
    weights = SimpleNamespace(actions={"ntu": net}, multitask=None)
    with pytest.raises(ValueError, match="fix the dataset name"):
        action_models(weights)
    assert action_models(SimpleNamespace(actions={}, multitask=None)) == ({}, {}, 0)


# -- the report stage -------------------------------------------------------------------

def test_report_rounds_people_and_calls_on_frame():
    seen = []
    frames = report.Frames(25.0, on_frame=lambda i, frame, people: seen.append((i, people)))
    joints = np.full((J, 3), 1.234567)
    result = {"track": np.int64(3), "box": np.array([1.0, 2.0, 30.123, 40.456]),
              "score": 0.123456, "joints2d": joints, "joints3d": None}
    chunk = [(0, _frame(50, 40)), (5, _frame(50, 40))]
    frames.add(chunk, [[result], []])
    assert [i for i, _ in seen] == [0, 5] and seen[1][1] == []
    person = frames.frames[0]["people"][0]
    assert person["track"] == 3 and person["box"] == [1.0, 2.0, 30.12, 40.46]
    assert person["score"] == 0.1235 and person["joints2d"][0] == [1.23, 1.23, 1.2346]
    assert frames.frames[1]["time"] == 0.2 and (frames.width, frames.height) == (50, 40)
    head = report.header("s/1", "video", "x.avi", 25.0, 50, 40,
                         SimpleNamespace(name="k", joints=("a", "b"), links=[("a", "b")]),
                         {"block": 1}, {})
    whole = report.predictions(head, frames.frames, [])
    assert whole["num_frames"] == 2 and whole["skeleton"]["links"] == [["a", "b"]]

