"""``posenet infer`` hardening: no person where there is none, inputs and options refused
before the model loads, clear messages, Ctrl-C, and streams written frame by frame."""

import json
import time
import zipfile

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main
from posenet.inference import load_predictions
from posenet.inference.schema import JsonLinesWriter, write_predictions
from posenet.inference.sources import check_weights, is_stream, stream_stem
from tests.inference_fixtures import rendered_video, save_networks


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hardening")
    pose, bundle = save_networks(folder)
    video, _ = rendered_video(folder / "walk.avi", 10, (320, 240))
    return {"folder": folder, "pose": pose, "bundle": bundle, "video": video}


def run(*args):
    result = CliRunner().invoke(main, ["infer", *map(str, args)])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def listing(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if the model is loaded."""
    from posenet.inference import predictor

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(predictor.Predictor, "__init__", refuse)


# -- inputs and options refused before the model loads --------------------------------
def test_bad_inputs_are_refused_before_the_model_loads(tmp_path, no_model):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not an image")
    (tmp_path / "junk.mp4").write_bytes(b"\x00junk" * 500)
    started = time.perf_counter()
    result = run(tmp_path / "empty.mp4", tmp_path / "text.jpg", tmp_path / "junk.mp4",
                 tmp_path / "missing.png", "--out", tmp_path / "out")
    assert time.perf_counter() - started < 5
    assert result.exit_code == 1
    for text in ("empty.mp4: the file is empty", "text.jpg: not a readable image",
                 "junk.mp4: not a readable video", "missing.png: no such file",
                 "nothing to do"):
        assert text in result.output
    assert result.output.count(str(tmp_path / "text.jpg")) == 1  # each path said once


def test_weights_that_are_not_keras_files(files, tmp_path, no_model):
    fake = tmp_path / "notes.keras"
    fake.write_text("hello")
    result = run(files["video"], "--weights", fake, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "is not a .keras file (not a zip archive)" in result.output
    assert "not found" not in result.output.lower()
    assert result.output.count(str(fake)) == 1
    zipped = tmp_path / "other.keras"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("readme.txt", "no config")
    result = run(files["video"], "--weights", zipped, "--out", tmp_path / "o")
    assert result.exit_code == 2 and "no readable config.json" in result.output
    result = run(files["video"], "--weights", tmp_path / "absent.keras")
    assert result.exit_code == 2 and "absent.keras: no such file" in result.output
    assert listing(tmp_path / "o") == []


def test_block_range_is_checked_before_the_model_loads(files, tmp_path, no_model):
    result = run(files["video"], "--weights", files["bundle"], "--block", 3,
                 "--out", tmp_path)
    assert result.exit_code == 2
    assert "3 is not in 1..2 (the pose network has 2 blocks)" in result.output


def test_check_weights_reads_the_block_count(files, tmp_path):
    assert check_weights(files["pose"]) == 2
    assert check_weights(files["bundle"]) == 2
    multitask = tmp_path / "multitask.keras"
    with zipfile.ZipFile(multitask, "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "MultitaskModel",
                                                    "config": {"pose": {"num_blocks": 5}}}))
    assert check_weights(multitask) == 5
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(ValueError, match="not a JSON weights bundle"):
        check_weights(bad)


@pytest.mark.parametrize("args, text", [
    ((), "missing INPUTS"),
    (("x.mp4", "--source", "0"), "not both"),
    (("--source", "0", "--format", "csv"), "JSON Lines"),
])
def test_source_and_inputs_usage(args, text, no_model):
    result = run(*args)
    assert result.exit_code == 2 and text in result.output


def test_action_network_under_the_wrong_dataset(files, tmp_path):
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"pose": str(files["pose"]),
                                  "actions": {"jhmdb": str(files["folder"] / "penn.keras")}}))
    message = "the action network given for 'jhmdb' predicts 'penn_action' actions"
    result = run(files["video"], "--weights", bundle, "--out", tmp_path / "o")
    assert result.exit_code == 2 and message in result.output  # seen before loading
    assert listing(tmp_path / "o") == []
    from posenet.inference import Predictor  # the Python API says the same

    with pytest.raises(ValueError, match=message):
        Predictor(str(bundle))


# -- Ctrl-C ---------------------------------------------------------------------------
def test_ctrl_c_while_loading_leaves_nothing(files, tmp_path, monkeypatch):
    from posenet.inference import predictor

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(predictor.Predictor, "__init__", interrupted)
    result = run(files["video"], "--weights", files["pose"], "--out", tmp_path / "out")
    assert result.exit_code == 130 and "interrupted" in result.output
    assert not (tmp_path / "out").exists()


def stop_after_first_chunk(monkeypatch):
    """Make the progress callback raise KeyboardInterrupt after the first chunk."""
    import cli.infer

    real = cli.infer.progress_bar

    def progress_bar(label, length):
        bar, _ = real(label, length)

        def update(n):
            raise KeyboardInterrupt

        return bar, update

    monkeypatch.setattr(cli.infer, "progress_bar", progress_bar)


def test_ctrl_c_mid_video_leaves_no_partial_output(files, tmp_path, monkeypatch):
    stop_after_first_chunk(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    result = run(files["video"], "--weights", files["pose"], "--out", out, "--save-video",
                 "--batch-size", 4)
    assert result.exit_code == 130
    assert listing(out) == []  # no predictions, no overlay, no temporary file


# -- streams --------------------------------------------------------------------------
def test_stream_names():
    assert is_stream("0") and is_stream("rtsp://cam/live") and is_stream("http://h:8080/v")
    assert not is_stream("clips/walk.mp4") and not is_stream("C:/walk.mp4")
    assert [stream_stem(s) for s in ("2", "rtsp://u:p@cam.local:554/live/main.sdp",
                                     "http://host:8080/", "clips/walk.avi")] == \
        ["camera2", "main", "host_8080", "walk"]


def test_video_file_through_the_stream_path(files, tmp_path):
    result = run("--source", files["video"], "--weights", files["bundle"], "--out", tmp_path,
                 "--batch-size", 4, "--max-frames", 7, "--min-score", 0)
    assert result.exit_code == 0, result.output
    assert listing(tmp_path) == ["walk.jsonl"]
    lines = (tmp_path / "walk.jsonl").read_text().splitlines()
    assert len(lines) == 1 + 7 + 1  # header, frames, tracks
    pred = load_predictions(tmp_path / "walk.jsonl")
    assert pred["num_frames"] == 7 and [f["index"] for f in pred["frames"]] == list(range(7))
    assert pred["kind"] == "video" and (pred["width"], pred["height"]) == (320, 240)
    assert all(len(f["people"]) == 1 for f in pred["frames"])
    assert pred["tracks"] and "penn_action" in pred["tracks"][0]["actions"]


def test_interrupted_stream_keeps_its_frames(files, tmp_path, monkeypatch):
    stop_after_first_chunk(monkeypatch)
    result = run("--source", files["video"], "--weights", files["pose"], "--out", tmp_path,
                 "--batch-size", 4, "--min-score", 0)
    assert result.exit_code == 130
    assert "stopped after 4 frames" in result.output
    assert listing(tmp_path) == ["walk.jsonl"]
    pred = load_predictions(tmp_path / "walk.jsonl")
    assert [f["index"] for f in pred["frames"]] == [0, 1, 2, 3]
    assert pred["tracks"] == [] and all(f["people"] for f in pred["frames"])


def test_json_lines_round_trip(tmp_path):
    header = {"schema": "posenet-predictions/1", "source": "0", "kind": "stream",
              "width": 4, "height": 3, "fps": 30.0, "num_frames": None,
              "skeleton": {"name": "x", "joints": [], "links": []}, "model": {},
              "action_classes": {}, "warnings": ["the frame rate varies"]}
    frames = [{"index": i, "time": i / 30, "people": []} for i in range(3)]
    pred = {**header, "num_frames": 3, "frames": frames, "tracks": []}
    write_predictions(pred, tmp_path / "a.jsonl")
    assert load_predictions(tmp_path / "a.jsonl") == pred
    writer = JsonLinesWriter(tmp_path / "b.jsonl", header)
    writer.frame(frames[0])
    # A stopped stream: what is on disk already reads back, before the writer closes.
    assert load_predictions(tmp_path / "b.jsonl")["frames"] == frames[:1]
    writer.close()


# -- no person where there is none ----------------------------------------------------
def test_person_score_and_clipped_boxes():
    from posenet.inference.predictor import clip_box, person_score

    joints = np.array([[10.0, 10.0], [10.0, 110.0]])
    box = [0, 0, 100, 100]
    assert person_score(0.9, joints, joints, box) == pytest.approx(0.9)
    moved = joints + [50.0, 0.0]  # half the box: drift 0.5
    assert person_score(0.9, joints, moved, box) == pytest.approx(0.9 / np.e)
    assert person_score(0.9, joints, joints * np.nan, box) == 0.0
    assert clip_box([-5, -5, 50, 300], 40, 200).tolist() == [0, 0, 40, 200]
    assert clip_box([-3.4, -4.1, 4.5, 3.9], 1, 1) is None  # a 1x1 image holds no person
    assert clip_box(None, 10, 10) is None


def test_boxes_stay_in_the_frame(files):
    from posenet.inference import Predictor

    pred = Predictor(str(files["pose"]), batch_size=4, min_score=0.0).predict_video(
        files["video"], max_frames=4)
    assert len(pred["frames"]) == 4
    for frame in pred["frames"]:
        for person in frame["people"]:
            x1, y1, x2, y2 = person["box"]
            assert 0 <= x1 < x2 <= 320 and 0 <= y1 < y2 <= 240


def test_min_score_must_be_a_probability(files):
    from posenet.inference import Predictor

    with pytest.raises(ValueError, match="min_score"):
        Predictor(str(files["pose"]), min_score=1.5)


@pytest.fixture(scope="module")
def shipped():
    from posenet.engine.weights import DEFAULT_MANIFEST

    if not DEFAULT_MANIFEST.is_file():
        pytest.skip("no shipped weights")
    from posenet.inference import Predictor

    return Predictor()


@pytest.mark.parametrize("name", ["grey", "black", "one_pixel", "noise"])
def test_shipped_weights_find_nobody_in_empty_images(shipped, name):
    image = {"grey": np.full((480, 640, 3), 128, np.uint8),
             "black": np.zeros((240, 320, 3), np.uint8),
             "one_pixel": np.full((1, 1, 3), 200, np.uint8),
             "noise": np.random.default_rng(0).integers(0, 256, (300, 400, 3), np.uint8)}[name]
    pred = shipped.predict_image(image)
    assert pred["frames"][0]["people"] == [] and pred["tracks"] == []


def test_shipped_weights_find_the_person_in_real_photos(shipped, shared_data):
    found = []
    for i in range(8001, 8021):  # LSPet validation photos, one person each
        image = cv2.imread(str(shared_data / "lspet" / "images" / f"im{i:05d}.jpg"))
        found.append(len(shipped.predict_image(image)["frames"][0]["people"]))
    assert sum(found) >= 19 and max(found) == 1
