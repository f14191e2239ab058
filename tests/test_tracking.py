"""Multi-person inference: the detector's decoding, the tracker's life cycle, and whole
rendered scenes (people crossing, one leaving, one standing still) through the shipped
detector and pose network."""

import numpy as np
import pytest

from posenet.inference.detector import Detections, as_detections, decode_people, input_shape
from posenet.inference.tracking import Tracker, joint_agreement, suppress_duplicates


def _heads(rows=16, cols=12):
    heads = {"center": np.full((1, rows, cols, 1), -8.0),
             "box_scale": np.zeros((1, rows, cols, 2)),
             "box_offset": np.zeros((1, rows, cols, 2))}
    return heads


def test_decode_people_reads_boxes_at_the_centre_peaks():
    heads = _heads()
    heads["center"][0, 5, 3, 0] = 3.0   # sure person
    heads["center"][0, 5, 4, 0] = 2.0   # its neighbour: not a second peak
    heads["center"][0, 10, 8, 0] = 0.0  # score 0.5
    heads["center"][0, 1, 10, 0] = -3.0  # score 0.05: under min_score
    heads["box_scale"][0, 5, 3] = [8.0, 4.0]
    heads["box_offset"][0, 5, 3] = [0.5, -0.25]
    heads["box_scale"][0, 10, 8] = [40.0, 6.0]  # taller than the map: clipped
    found = decode_people(heads, min_score=0.25)
    assert len(found) == 2 and found.keypoints is None
    np.testing.assert_allclose(found.scores, [1 / (1 + np.exp(-3.0)), 0.5])
    np.testing.assert_allclose(found.boxes[0], [2.75 - 2, 5.5 - 4, 2.75 + 2, 5.5 + 4])
    np.testing.assert_allclose(found.boxes[1], [5.0, 0.0, 11.0, 16.0])
    assert len(decode_people(heads, min_score=0.25, max_people=1)) == 1


def test_detector_results_in_every_accepted_form():
    boxes = [[0, 0, 10, 20], [5, 5, 8, 9]]
    plain = as_detections(np.array(boxes))
    assert plain.boxes.shape == (2, 4) and plain.scores.tolist() == [1.0, 1.0]
    paired = as_detections((boxes, [0.9, 0.4]))
    assert paired.scores.tolist() == [0.9, 0.4]
    assert as_detections(np.zeros((0, 4))).boxes.shape == (0, 4)
    with pytest.raises(ValueError, match="scores"):
        as_detections((boxes, [0.9]))
    assert input_shape(720, 1280, 448) == (256, 448)
    assert input_shape(1920, 1088, 448) == (448, 256)


def test_tracks_are_confirmed_lost_taken_back_and_ended():
    tracker = Tracker(max_missed=10, confirm_hits=2, confident_score=0.9)
    a, b = [0, 0, 10, 20], [50, 0, 60, 20]
    tracker.update(([a, b], [0.5, 0.95]), 0)
    assert [t.id for t in tracker.active] == [1]  # only the sure one is reported at once
    tracker.update(([a, b], [0.5, 0.95]), 4)
    assert [t.id for t in tracker.active] == [0, 1]  # the other confirmed by a 2nd match
    tracker.update(([[300, 0, 310, 20]], [0.5]), 8)  # both missed; a tentative track
    assert tracker.active == [] and len(tracker.tracks) == 3
    tracker.update(([[1, 0, 11, 20]], [0.5]), 12)  # person 0 is back: same id
    assert [t.id for t in tracker.active] == [0]
    assert 2 not in [t.id for t in tracker.tracks]  # the unconfirmed one was dropped
    tracker.update(([[1, 0, 11, 20]], [0.5]), 16)
    tracker.update(([[1, 0, 11, 20]], [0.5]), 20)  # track 1 unseen since frame 4
    assert [t.id for t in tracker.finished] == [1]
    tracker.end_all()
    assert sorted(t.id for t in tracker.finished) == [0, 1]


def test_assignment_is_optimal_and_moves_boxes_with_their_velocity():
    tracker = Tracker(confirm_hits=1)
    tracker.update([[0, 0, 10, 10], [6, 0, 16, 10]], 0)
    # Greedy IoU would pair the first detection with track 1 (IoU 0.67) and leave the
    # second unmatched (IoU 0 with track 0); the optimum pairs both (0.43 each).
    tracker.update([[4, 0, 14, 10], [10, 0, 20, 10]], 1)
    assert len(tracker.tracks) == 2 and [t.box[0] for t in tracker.tracks] == [4, 10]
    one = Tracker(confirm_hits=1)
    for frame in range(3):  # moving 2 px a frame
        one.update([[2 * frame, 0, 2 * frame + 10, 10]], frame)
    np.testing.assert_allclose(one.tracks[0].velocity, [1.5, 0, 1.5, 0])  # 0.5 decay
    np.testing.assert_allclose(one.tracks[0].predicted(4), [7, 0, 17, 10])


def test_joints_keep_ids_when_boxes_overlap():
    """Two people at one place: the detection whose keypoints agree with a track's joints
    goes to that track, whatever the boxes say."""
    tracker = Tracker(confirm_hits=1)
    tracker.update([[0, 0, 100, 200], [20, 0, 120, 200]], 0)
    coco = np.zeros((2, 17, 3))
    coco[..., 2] = 0.9
    coco[0, :, :2] = np.linspace([10, 10], [40, 190], 17)   # person on the left side
    coco[1, :, :2] = np.linspace([80, 10], [110, 190], 17)  # person on the right side
    from posenet.skeleton import map_joints

    for track, k in zip(tracker.tracks, (1, 0), strict=True):  # swapped on purpose
        joints, _ = map_joints(coco[k, :, :2], "coco", "model17")
        track.joints = np.concatenate([np.nan_to_num(joints), np.isfinite(joints[:, :1])
                                       * 0.9], axis=1)
    assert joint_agreement(tracker.tracks[0].joints, coco[1], [0, 0, 100, 200]) > 0.9
    tracker.update(Detections(np.array([[0, 0, 100, 200], [20, 0, 120, 200]], float),
                              np.array([0.9, 0.9]), coco), 1)
    np.testing.assert_allclose(tracker.tracks[0].box, [20, 0, 120, 200])


def test_the_younger_of_two_tracks_on_one_person_is_dropped():
    class T:
        def __init__(self, id):
            self.id = id

    results = [{"box": np.array([0, 0, 10, 10.0])}, {"box": np.array([1, 0, 11, 10.0])},
               {"box": np.array([50, 0, 60, 10.0])}]
    assert suppress_duplicates(results, [T(3), T(1), T(2)]) == [False, True, True]


# ------------------------------------------------ rendered scenes, shipped networks


def _follow(gt, pred):
    """{track id: [index of the ground-truth person its box overlaps most, per frame]}."""
    from posenet.inference.people import iou

    out = {}
    for frame in pred["frames"]:
        boxes = np.array([p["boxes"][frame["index"]] for p in gt["people"]])
        for person in frame["people"]:
            overlap = np.nan_to_num(iou(person["box"], boxes)[0])
            out.setdefault(person["track"], []).append(int(np.argmax(overlap))
                                                       if overlap.max() > 0.3 else -1)
    return out


@pytest.fixture(scope="module")
def shipped_predictor():
    from posenet.inference.predictor import Predictor

    return Predictor(multi_person=True, batch_size=8)


@pytest.mark.slow
def test_two_people_crossing_keep_their_ids(tmp_path, shipped_predictor):
    from posenet.render.crowd import CROSSING_PAIR, write_crowd_video

    gt = write_crowd_video(tmp_path / "crossing", CROSSING_PAIR, num_frames=60,
                           size=(960, 540), render_scale=0.5)
    pred = shipped_predictor.predict_video(gt["path"])
    follow = _follow(gt, pred)
    assert len(pred["tracks"]) == 2 and len(follow) == 2
    people = sorted(max(set(v), key=v.count) for v in follow.values())
    assert people == [0, 1]  # one track per person
    for frames in follow.values():  # no swap: each track stays on its person
        assert frames.count(max(set(frames), key=frames.count)) >= 0.9 * len(frames)
        assert len(frames) >= 50  # reported on most frames (the far one is hidden a while)


@pytest.mark.slow
def test_a_track_ends_when_its_person_leaves(tmp_path, shipped_predictor):
    from posenet.render.crowd import THREE_ONE_LEAVES, write_crowd_video

    gt = write_crowd_video(tmp_path / "exit", THREE_ONE_LEAVES, num_frames=60,
                           size=(960, 540), render_scale=0.5)
    gone = int(np.nonzero(np.isnan(gt["people"][2]["boxes"][:, 0]))[0][0])
    pred = shipped_predictor.predict_video(gt["path"])
    follow = _follow(gt, pred)
    assert len(pred["tracks"]) == 3
    leaver = [k for k, v in follow.items() if max(set(v), key=v.count) == 2]
    assert len(leaver) == 1
    track = next(t for t in pred["tracks"] if t["id"] == leaver[0])
    assert track["first_frame"] == 0 and track["last_frame"] < gone
    assert all(len(f["people"]) == 2 for f in pred["frames"][gone:])


@pytest.mark.slow
def test_smoothing_steadies_a_still_person():
    """A rendered person standing still under sensor noise: every frame-to-frame motion
    of the estimated joints is jitter, and the One Euro filter lowers it (measured: 0.69
    -> 0.20 px, 4.3 -> 1.4 mm over 100 frames at 25 frames/s)."""
    from posenet.bench.infer import still_person_jitter

    row = still_person_jitter(num_frames=30, size=(640, 360))
    assert row["raw"]["reported"] == row["smoothed"]["reported"] == 30
    assert row["raw"]["2d"] > 0.05  # the noise makes the raw joints move
    assert row["smoothed"]["2d"] < 0.6 * row["raw"]["2d"]
    assert row["smoothed"]["3d"] < 0.6 * row["raw"]["3d"]


@pytest.mark.data
@pytest.mark.backend
@pytest.mark.parametrize("camera, frame, people", [(1, 10, 3), (1, 90, 3), (4, 10, 2),
                                                   (4, 90, 2)])
def test_detector_finds_the_people_of_real_frames(shared_data, camera, frame, people):
    """Pose2Sim's lab videos, people counted by eye on these frames (cam01: two in front
    and one standing at the back on the left; cam04: two)."""
    import cv2

    from posenet.inference.detector import MultiPoseDetector

    path = shared_data / "videos" / "pose2sim_multiperson" / f"cam0{camera}.mp4"
    if not path.exists():
        pytest.skip(f"{path} not found")
    cap = cv2.VideoCapture(str(path))
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, image = cap.read()
    finally:
        cap.release()
    assert ok
    found = MultiPoseDetector()(image)
    assert len(found) == people
    height, width = image.shape[:2]
    assert np.all((found.boxes >= 0) & (found.boxes <= [width, height, width, height]))
    assert np.all(found.boxes[:, 3] - found.boxes[:, 1] > 0.15 * height)  # whole people


def test_a_new_track_needs_a_sure_detection_with_a_body_of_keypoints():
    boxes = np.array([[0, 0, 100, 200], [300, 0, 400, 200], [600, 0, 700, 200]], float)
    keypoints = np.zeros((3, 17, 3))
    keypoints[:, :, 2] = [[0.6], [0.1], [0.6]]  # the middle one: foliage, no body
    found = Detections(boxes, np.array([0.8, 0.9, 0.35]), keypoints)
    tracker = Tracker(min_detection=0.4, min_keypoints=0.25)
    tracker.update(found, 0)
    assert [t.box[0] for t in tracker.tracks] == [0.0]  # 0.35 is too unsure, 0.1 no body
    lenient = Tracker()  # the defaults: the detector's score alone, from 0.3
    lenient.update(found, 0)
    assert len(lenient.tracks) == 3
    # a weak detection still continues the track it matches
    tracker.update(Detections(boxes[:1], np.array([0.35]), keypoints[1:2]), 4)
    assert tracker.tracks[0].detected_frame == 4
