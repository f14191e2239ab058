"""Finding people with the detector: NMS on any number of boxes, the main person of a
single-person video, and multi-person mode on frames without anyone (issue 27)."""

import numpy as np
import pytest

from posenet.inference.detector import DEFAULT_DETECTOR, Detections, nms
from posenet.inference.finding import CONTINUES, DetectorFinder, main_person
from posenet.inference.following import FollowOne
from posenet.inference.people import iou
from tests.test_stages import PersonAt, _chunks, _frame, _person_joints, _poses

needs_detector = pytest.mark.skipif(not DEFAULT_DETECTOR.is_file(),
                                    reason=f"{DEFAULT_DETECTOR} not shipped in this checkout")


def _greedy(boxes, scores, threshold):
    """The textbook greedy NMS, to check the library's against."""
    keep = []
    for i in np.argsort(-np.asarray(scores), kind="stable"):
        if not keep or iou(boxes[i], boxes[keep]).max() <= threshold:
            keep.append(int(i))
    return keep


def test_nms_of_no_box_is_an_empty_integer_index():
    keep = nms(np.zeros((0, 4)), np.zeros(0), 0.6)
    assert keep.dtype == np.int64 and keep.shape == (0,)
    nobody = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 17, 3)))
    kept = nobody.select(keep)  # was an IndexError: np.asarray([]) is a float array
    assert len(kept) == 0 and kept.boxes.shape == (0, 4) and kept.keypoints.shape == (0, 17, 3)


def test_nms_keeps_one_box_and_drops_overlapping_ones():
    assert nms([[10.0, 10.0, 50.0, 90.0]], [0.7], 0.6).tolist() == [0]
    boxes = np.array([[0, 0, 100, 200], [5, 5, 100, 200], [300, 0, 400, 200],
                      [302, 0, 402, 200.0]])
    assert sorted(nms(boxes, [0.5, 0.9, 0.6, 0.8], 0.6).tolist()) == [1, 3]
    assert nms(boxes, [0.5, 0.9, 0.6, 0.8], 0.6).tolist() == [1, 3]  # highest first


def test_nms_matches_the_greedy_rule_on_random_boxes():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(0, 9))
        corner = rng.uniform(0, 100, (n, 2))
        boxes = np.concatenate([corner, corner + rng.uniform(5, 60, (n, 2))], axis=1)
        scores = rng.uniform(0.25, 1.0, n)
        assert nms(boxes, scores, 0.5).tolist() == _greedy(boxes, scores, 0.5)


@needs_detector
@pytest.mark.parametrize("name", ["black", "sky", "tiny", "white"])
def test_the_shipped_detector_runs_on_frames_without_anyone(name):
    from posenet.inference.detector import MultiPoseDetector

    frames = {"black": np.zeros((360, 640, 3), np.uint8),
              "white": np.full((360, 640, 3), 255, np.uint8),
              "tiny": np.zeros((3, 5, 3), np.uint8)}
    sky = np.zeros((360, 640, 3), np.uint8)
    sky[..., 0] = np.linspace(255, 180, 360)[:, None]  # blue to pale, BGR
    sky[..., 1] = np.linspace(160, 220, 360)[:, None]
    sky[..., 2] = np.linspace(90, 200, 360)[:, None]
    frames["sky"] = sky
    found = MultiPoseDetector()(frames[name])
    assert len(found) == 0 and found.boxes.shape == (0, 4)


# -- the main person ---------------------------------------------------------------------

BOXES = np.array([[10.0, 10.0, 70.0, 150.0],     # large, left
                  [300.0, 100.0, 330.0, 160.0],  # small, central
                  [500.0, 20.0, 560.0, 140.0]])  # medium, right


def test_main_person_is_the_largest_the_most_central_or_the_one_followed():
    scores = [0.4, 0.9, 0.6]
    assert main_person(BOXES, scores, 640, 260) == 0
    assert main_person(BOXES, scores, 640, 260, "central") == 1
    followed = np.array([495.0, 25.0, 555.0, 150.0])
    assert main_person(BOXES, scores, 640, 260, "largest", previous=followed) == 2
    far = np.array([200.0, 200.0, 220.0, 240.0])  # overlaps nobody: the rule decides
    assert main_person(BOXES, scores, 640, 260, "largest", previous=far) == 0
    assert main_person(np.zeros((0, 4)), [], 640, 260) is None
    with pytest.raises(ValueError, match="largest, central"):
        main_person(BOXES, scores, 640, 260, "loudest")


class ListDetector:
    """Gives ``boxes`` (scores 0.8) on every call; counts the calls."""

    def __init__(self, boxes):
        self.boxes, self.calls = np.asarray(boxes, np.float64).reshape(-1, 4), 0

    def __call__(self, frame):
        self.calls += 1
        return Detections(self.boxes, np.full(len(self.boxes), 0.8))


def test_detector_finder_crops_the_main_person_and_finds_nobody_without_a_detection():
    joints = _person_joints(20.0, 30.0)  # inside BOXES[0]
    finder = DetectorFinder(PersonAt(joints), ListDetector(BOXES), refine_passes=1)
    (result,), (box,) = finder.detect([_frame(640, 260)])
    assert result["person_score"] == pytest.approx(0.9)
    lo, hi = joints.min(0), joints.max(0)  # refined on the joints it estimated
    assert box[0] < lo[0] and box[1] < lo[1] and box[2] > hi[0] and box[3] > hi[1]
    empty = DetectorFinder(PersonAt(joints), ListDetector([]))
    assert empty.detect([_frame()]) == ([None], [None]) and empty.find(_frame()) is None
    unsure = DetectorFinder(PersonAt(joints, conf=0.1), ListDetector(BOXES), min_score=0.28)
    assert unsure.find(_frame(640, 260)) is None


def test_detector_finder_redetects_weak_poses_only():
    detector = ListDetector(BOXES)
    finder = DetectorFinder(PersonAt(_person_joints(), conf=0.6), detector,
                            redetect_below=0.4, min_score=0.28)
    assert finder.redetect([_frame()] * 2, [{"score": 0.5}, {"score": 0.9}]) == []
    assert detector.calls == 0
    again = finder.redetect([_frame()] * 3, [{"score": 0.1}, {"score": 0.9}, {"score": 0.3}],
                            [BOXES[2]] * 3)
    assert [i for i, _, _ in again] == [0, 2] and detector.calls == 2


def test_single_person_runs_the_detector_only_when_it_has_no_person():
    detector = ListDetector([[50.0, 20.0, 150.0, 220.0]])
    follow = FollowOne(DetectorFinder(PersonAt(_person_joints(60.0, 30.0)), detector),
                       min_score=0.28, confirm_every=None)
    for chunk in _chunks(12, 4):  # a steady person: found once, then followed
        plan = follow.plan(chunk)
        follow.settle(chunk, plan, _poses(plan))
    assert detector.calls == 1
    chunk = _chunks(16, 4)[3]
    plan = follow.plan(chunk)
    detector.boxes = np.zeros((0, 4))  # the person leaves: re-detection finds nobody
    follow.settle(chunk, plan, _poses(plan, score=0.1))
    assert detector.calls == 5  # once for each of the chunk's four weak poses
    assert follow.last_box is not None and not follow.tracker.active
    detector.boxes = np.array([[55.0, 25.0, 150.0, 220.0]])
    follow.plan(_chunks(17, 1)[16])  # looked for again
    assert detector.calls == 6 and follow.tracker.active


def test_single_person_track_ends_when_the_detector_no_longer_sees_the_person():
    detector = ListDetector([[50.0, 20.0, 150.0, 220.0]])
    follow = FollowOne(DetectorFinder(PersonAt(_person_joints(60.0, 30.0)), detector),
                       min_score=0.28, confirm_every=5)
    reported = []
    for chunk in _chunks(20, 1):
        if chunk[0][0] == 8:
            detector.boxes = np.zeros((0, 4))  # the person walks out after frame 7
        plan = follow.plan(chunk)
        found = follow.settle(chunk, plan, _poses(plan))  # the pose stays confident
        reported.append(bool(found[0]))
    # checked at frames 5 (still there, at a glance) and 10 (gone: the glance misses, the
    # whole find too): frames 8 and 9 are the only frames reported after the person left;
    # then the detector looks every frame
    assert reported == [True] * 10 + [False] * 10
    assert detector.calls == 1 + 1 + 2 + 9


def test_a_confirmation_at_a_glance_runs_no_pose_and_a_miss_looks_again_in_full():
    box = [50.0, 20.0, 150.0, 220.0]
    detector, glanced = ListDetector(box), []
    pose = PersonAt(_person_joints(60.0, 30.0))

    def glance(frame, followed):
        glanced.append(np.asarray(followed))
        return glancing(frame)

    glancing = ListDetector(box)
    follow = FollowOne(DetectorFinder(pose, detector, glance=glance), min_score=0.28,
                       confirm_every=5)
    for chunk in _chunks(6, 1):
        plan = follow.plan(chunk)
        follow.settle(chunk, plan, _poses(plan))
    # frame 0: the whole find (detector, pose and its refinement); frame 5: the glance
    assert (detector.calls, glancing.calls, pose.calls) == (1, 1, 2)
    assert iou(glanced[0], box)[0, 0] > CONTINUES  # asked about the person followed
    glancing.boxes = np.zeros((0, 4))  # the glance misses the person (too small there)
    for chunk in _chunks(11, 1)[6:]:
        plan = follow.plan(chunk)
        follow.settle(chunk, plan, _poses(plan))
    # frame 10: the glance misses, the whole find sees the person still there
    assert (detector.calls, glancing.calls, pose.calls) == (2, 2, 4)
    assert follow.tracker.active


def test_a_weak_pose_where_the_detector_sees_nobody_is_not_reported():
    detector = ListDetector([[50.0, 20.0, 150.0, 220.0]])
    follow = FollowOne(DetectorFinder(PersonAt(_person_joints(60.0, 30.0)), detector,
                                      redetect_below=0.5), min_score=0.28, confirm_every=None)
    chunk = _chunks(1, 1)[0]
    follow.settle(chunk, follow.plan(chunk), _poses(follow.plan(chunk)))
    detector.boxes = np.zeros((0, 4))
    chunk = _chunks(2, 1)[1]
    plan = follow.plan(chunk)
    assert follow.settle(chunk, plan, _poses(plan, score=0.45)) == [[]]  # 0.45 >= min_score
    assert not follow.tracker.active


# -- the Predictor ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    from tests.inference_fixtures import save_networks

    return save_networks(tmp_path_factory.mktemp("person_detection"))[0]


def test_single_person_falls_back_to_the_whole_frame_pose_without_a_detector(
        tiny_bundle, tmp_path, monkeypatch):
    from posenet.inference import predictor as module

    monkeypatch.setattr(module, "DEFAULT_DETECTOR", tmp_path / "missing.keras")
    assert module.Predictor(tiny_bundle).finder == "pose"
    assert module.Predictor(tiny_bundle, detector=ListDetector([])).finder == "detector"
    with pytest.raises(ValueError, match="person must be one of"):
        module.Predictor(tiny_bundle, person="tallest")


def test_multi_person_runs_through_thirty_empty_frames(tiny_bundle):
    """A detector that sees nobody for 30 frames, then one person: no crash, nobody
    reported before the person appears."""
    from posenet.inference import Predictor
    from posenet.inference.sources import MediaInfo

    class LateDetector:
        def __call__(self, frame):
            if frame[0, 0, 0] < 30:
                return Detections(np.zeros((0, 4)), np.zeros(0))
            return Detections(np.array([[40.0, 20.0, 140.0, 220.0]]), np.array([0.9]))

    # flat frames: the frame check (tested in test_frame_quality) would leave them out
    predictor = Predictor(tiny_bundle, multi_person=True, detector=LateDetector(),
                          detect_every=1, min_score=0.0, batch_size=8, frame_check=False)
    frames = ((i, _frame(value=i)) for i in range(40))
    info = MediaInfo(path="late.avi", kind="video", width=320, height=240, fps=25.0,
                     frame_count=40)
    pred = predictor.predict_frames(frames, info)
    assert pred["num_frames"] == 40
    assert all(not f["people"] for f in pred["frames"][:30])
    assert any(f["people"] for f in pred["frames"][30:])


@needs_detector
def test_multi_person_with_the_shipped_detector_on_black_then_a_person(tmp_path):
    from posenet.inference import Predictor
    from posenet.render.scene import demo_clip
    from tests.inference_fixtures import write_video

    person = list(demo_clip(8, size=(320, 240), seed=1)["frames"])
    frames = [np.zeros((240, 320, 3), np.uint8)] * 30 + person
    path = write_video(tmp_path / "late.avi", frames, (320, 240))
    pred = Predictor(multi_person=True, detect_every=2).predict_video(path)
    assert pred["num_frames"] == 38
    assert all(not f["people"] for f in pred["frames"][:30])
