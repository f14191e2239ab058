"""Inference pipeline: Predictor outputs, schema, formats, tracking, weights, benchmark."""

import json

import cv2
import numpy as np
import pytest

from posenet.engine.errors import WeightsError
from posenet.engine.weights import DEFAULT_MANIFEST, load_default
from posenet.inference import load_predictions, write_predictions
from posenet.inference.people import box_from_joints, iou
from posenet.inference.sources import InputError, expand_inputs, probe
from posenet.skeleton import map_joints
from tests.inference_fixtures import (
    TINY_POSE,
    rendered_video,
    save_networks,
    two_people_video,
    write_video,
)

KEYS = {"schema", "source", "kind", "width", "height", "fps", "num_frames", "skeleton",
        "model", "action_classes", "warnings", "frames", "tracks"}
PERSON = {"track", "box", "score", "joints2d", "joints3d"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inference")
    pose, bundle = save_networks(folder)
    video, clip = rendered_video(folder / "walk.avi", 12, (1280, 720))
    portrait, _ = rendered_video(folder / "portrait.avi", 10, (360, 640), seed=2)
    return {"folder": folder, "pose": pose, "bundle": bundle, "video": video, "clip": clip,
            "portrait": portrait}


@pytest.fixture(scope="module")
def predictor(files):
    from posenet.inference import Predictor

    # Random weights: never give up on a person, so every frame has one.
    return Predictor(str(files["bundle"]), batch_size=4, min_score=0.0)


@pytest.fixture(scope="module")
def predictions(predictor, files):
    return predictor.predict_video(files["video"])


def check_schema(pred, num_frames, width, height, three_d=True):
    assert set(pred) == KEYS and pred["schema"] == "posenet-predictions/1"
    assert (pred["width"], pred["height"], pred["num_frames"]) == (width, height, num_frames)
    assert len(pred["frames"]) == num_frames
    joints = pred["skeleton"]["joints"]
    assert len(joints) == 17 and all(len(link) == 2 for link in pred["skeleton"]["links"])
    for i, frame in enumerate(pred["frames"]):
        assert frame["index"] == i
        assert frame["time"] == pytest.approx(i / pred["fps"] if pred["fps"] else 0.0)
        for person in frame["people"]:
            assert set(person) == PERSON and len(person["box"]) == 4
            assert np.shape(person["joints2d"]) == (17, 3)
            if three_d:
                assert np.shape(person["joints3d"]) == (17, 3)
                assert person["joints3d"][0] == [0.0, 0.0, 0.0]  # root-relative
            else:
                assert person["joints3d"] is None
    for track in pred["tracks"]:
        assert track["first_frame"] <= track["last_frame"]
        for dataset, action in track["actions"].items():
            classes = pred["action_classes"][dataset]
            assert action["best"] in classes
            assert action["label"] in (action["best"], "uncertain")
            assert (action["label"] == "uncertain") == (
                action["confidence"] < action["threshold"])
            assert action["confidence"] == pytest.approx(max(action["probabilities"]))
            assert len(action["probabilities"]) == len(classes)
            assert sum(action["probabilities"]) == pytest.approx(1.0, abs=1e-4)
            for window in action["windows"]:
                assert window["start"] <= window["end"]
    json.dumps(pred)  # plain Python types only


def test_video_predictions_follow_the_schema(predictions):
    check_schema(predictions, 12, 1280, 720)
    assert predictions["kind"] == "video" and predictions["fps"] == pytest.approx(10.0)
    assert predictions["model"]["block"] == 2 and len(predictions["model"]["sha256"]) == 64
    assert all(len(f["people"]) == 1 for f in predictions["frames"])
    (track,) = predictions["tracks"]
    windows = track["actions"]["penn_action"]["windows"]
    # 12 frames, T = 8, stride 4: windows over frames 0-7 and 4-11.
    assert [(w["start"], w["end"]) for w in windows] == [(0, 7), (4, 11)]
    assert predictions["action_classes"]["penn_action"][0] == "baseball_pitch"


@pytest.mark.parametrize("fmt", ["json", "csv", "npz"])
def test_formats_round_trip(predictions, tmp_path, fmt):
    path = tmp_path / f"walk.{fmt}"
    write_predictions(predictions, path)
    assert load_predictions(path) == json.loads(json.dumps(predictions))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left


def test_portrait_video_and_image(predictor, files):
    pred = predictor.predict_video(files["portrait"])
    check_schema(pred, 10, 360, 640)
    image = cv2.resize(files["clip"]["frames"][0], (500, 300))
    single = predictor.predict_image(image)
    check_schema(single, 1, 500, 300)
    assert single["kind"] == "image" and single["fps"] is None
    path = files["folder"] / "frame.png"
    cv2.imwrite(str(path), image)
    from_file = predictor.predict_video(path)
    assert from_file["frames"] == single["frames"]


def test_2d_model_gives_null_joints3d(tmp_path, files):
    from posenet.inference import Predictor

    _, bundle = save_networks(tmp_path, pose_dims=2)
    pred = Predictor(str(bundle), batch_size=8, min_score=0.0).predict_video(files["portrait"])
    check_schema(pred, 10, 360, 640, three_d=False)
    assert pred["tracks"][0]["actions"]["penn_action"]["label"]


def test_action_network_must_fit_the_pose_network(tmp_path, files):
    from posenet.inference import Predictor
    from posenet.models import ActionNetwork

    ActionNetwork({"jhmdb": 14}, num_frames=8, num_joints=16, pose_dims=2,
                  num_blocks=1).save(tmp_path / "a16.keras")
    bundle = {"pose": str(files["pose"]), "actions": {"jhmdb": str(tmp_path / "a16.keras")}}
    with pytest.raises(WeightsError, match="16 joints"):
        Predictor(bundle)


def test_multitask_model_actions_from_clips(files):
    from posenet.inference import Predictor
    from posenet.models import MultitaskModel

    model = MultitaskModel(TINY_POSE, {"jhmdb": 14}, num_frames=4, action_blocks=1,
                           pose_width=0.25, appearance_width=16)
    pred = Predictor(model, batch_size=8, min_score=0.0).predict_video(files["portrait"])
    check_schema(pred, 10, 360, 640)
    windows = pred["tracks"][0]["actions"]["jhmdb"]["windows"]
    assert [(w["start"], w["end"]) for w in windows] == [(0, 3), (2, 5), (4, 7), (6, 9)]


def test_multi_person_tracks_injected_detections(files):
    """Any callable detector plugs in: here one that returns the two people's halves of
    the frame as plain boxes (scored 1, so their tracks are confirmed at once)."""
    from posenet.inference import Predictor

    video = two_people_video(files["folder"] / "two.avi", 10)
    boxes = np.array([[160, 100, 480, 700], [800, 100, 1120, 700]], float)
    calls = []

    def detector(frame):
        calls.append(frame.shape)
        return boxes

    pred = Predictor(str(files["pose"]), multi_person=True, detector=detector, batch_size=8,
                     min_score=0.0, detect_every=5).predict_video(video)
    check_schema(pred, 10, 1280, 720)
    assert len(calls) == 2  # frames 0 and 5
    assert [t["id"] for t in pred["tracks"]] == [0, 1]
    assert all(sorted(p["track"] for p in f["people"]) == [0, 1] for f in pred["frames"])


def test_boxes_from_joints_and_iou():
    assert iou([[0, 0, 10, 10]], [[5, 0, 15, 10]])[0, 0] == pytest.approx(1 / 3)
    joints = np.array([[10, 20, 0.9], [30, 60, 0.9], [500, 500, 0.1]])
    assert box_from_joints(joints) == pytest.approx([8, 16, 32, 64])


def test_inputs_expansion_and_probe(tmp_path):
    for name in ("b.png", "a.jpg", "notes.txt"):
        cv2.imwrite(str(tmp_path / name), np.zeros((8, 8, 3), np.uint8)) if name[-3:] != "txt" \
            else (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    assert expand_inputs([tmp_path]) == [(str(tmp_path / "a.jpg"), None),
                                         (str(tmp_path / "b.png"), None)]
    (bad,) = expand_inputs([tmp_path / "notes.txt"])
    assert "not a video or image" in bad[1]
    assert "no such file" in expand_inputs([tmp_path / "gone.mp4"])[0][1]
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        probe(tmp_path / "empty.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all" * 100)
    with pytest.raises(InputError):
        probe(tmp_path / "junk.mp4")
    write_video(tmp_path / "none.avi", [], (64, 64))
    with pytest.raises(InputError):
        probe(tmp_path / "none.avi")


def test_default_weights_errors(tmp_path, files):
    with pytest.raises(WeightsError, match="no default weights shipped yet"):
        load_default(tmp_path / "manifest.json")
    manifest = {"default": "tiny", "tiny": {"files": {"pose": "pose.keras"},
                                            "sha256": {"pose.keras": "0" * 64}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "pose.keras").write_bytes(files["pose"].read_bytes())
    with pytest.raises(WeightsError, match="corrupt"):
        load_default(tmp_path / "manifest.json")


def test_benchmark_rates(predictor, files):
    from posenet.bench.infer import inference_rates

    rates = inference_rates(predictor, files["portrait"], repeats=2)
    assert rates["end_to_end"] > 0 and rates["model_only"] > 0
    assert rates["ratio"] == pytest.approx(rates["end_to_end"] / rates["model_only"])


def test_shipped_weights_land_near_the_truth(tmp_path):
    if not DEFAULT_MANIFEST.is_file():
        pytest.skip("no shipped weights yet (weights/manifest.json is absent)")
    from posenet.inference import Predictor

    video, clip = rendered_video(tmp_path / "walk.avi", 12, (1280, 720))
    pred = Predictor().predict_video(video)
    scale = 1280 / clip["frames"].shape[2]
    truth, _ = map_joints(clip["joints_2d"] * scale, "h36m17", pred["skeleton"]["name"])
    errors = []
    for frame, true in zip(pred["frames"], truth, strict=True):
        assert frame["people"], "no person found"
        joints = np.array(frame["people"][0]["joints2d"])[:, :2]
        errors.append(np.nanmean(np.linalg.norm(joints - true, axis=1)))
    assert np.mean(errors) < 0.1 * 720  # within 10% of the frame height on average


def test_network_input_matches_the_loaders_conversion():
    from posenet.engine.inputs import to_input

    rng = np.random.default_rng(0)
    for shape in [(5, 24, 24, 3), (24, 24, 3), (2, 3, 8, 8, 3), (0, 8, 8, 3)]:
        crops = rng.integers(0, 256, shape, dtype=np.uint8)
        expected = crops[..., ::-1].astype(np.float32) / 255.0
        got = to_input(crops)
        assert got.dtype == np.float32 and np.array_equal(got, expected)
    strided = rng.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)[:, ::2]
    assert np.array_equal(to_input(strided), strided[..., ::-1].astype(np.float32) / 255.0)
