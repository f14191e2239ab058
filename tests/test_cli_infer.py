"""``posenet infer`` through Click: outputs, overlays, folders, bad inputs and weights."""

import json
import os

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from cli.infer import infer
from posenet.inference import load_predictions
from tests.inference_fixtures import rendered_video, save_networks, write_video


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_infer")
    pose, bundle = save_networks(folder)
    video, clip = rendered_video(folder / "walk.avi", 12, (1280, 720))
    images = folder / "images"
    images.mkdir()
    for i in (2, 0, 1):
        cv2.imwrite(str(images / f"img{i}.png"), cv2.resize(clip["frames"][i], (360, 640)))
    return {"folder": folder, "pose": pose, "bundle": bundle, "video": video, "images": images}


def run(*args):
    result = CliRunner().invoke(infer, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def listing(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_video_json_and_overlay(files, tmp_path, monkeypatch):
    # --device cpu sets CUDA_VISIBLE_DEVICES: restore it for the tests that follow.
    monkeypatch.setitem(os.environ, "CUDA_VISIBLE_DEVICES",
                        os.environ.get("CUDA_VISIBLE_DEVICES", ""))
    result = run(files["video"], "--weights", files["bundle"], "--out", tmp_path,
                 "--save-video", "--batch-size", "8", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert listing(tmp_path) == ["walk.json", "walk_overlay.mp4"] or \
        listing(tmp_path) == ["walk.json", "walk_overlay.avi"]
    pred = load_predictions(tmp_path / "walk.json")
    assert pred["num_frames"] == len(pred["frames"]) == 12
    assert pred["tracks"][0]["actions"]["penn_action"]["label"]
    overlay = next(p for p in tmp_path.iterdir() if "overlay" in p.name)
    cap = cv2.VideoCapture(str(overlay))
    count = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        assert frame.shape == (720, 1280, 3)
        count += 1
    cap.release()
    assert count == 12


@pytest.mark.parametrize("fmt", ["csv", "npz"])
def test_folder_of_images(files, tmp_path, fmt):
    result = run(files["images"], "--weights", files["pose"], "--out", tmp_path,
                 "--format", fmt)
    assert result.exit_code == 0, result.output
    assert listing(tmp_path) == [f"img{i}.{fmt}" for i in range(3)]
    pred = load_predictions(tmp_path / f"img0.{fmt}")
    assert (pred["kind"], pred["width"], pred["height"], pred["num_frames"]) == \
        ("image", 360, 640, 1)
    assert pred["action_classes"] == {}


def test_bad_inputs_are_reported_and_the_others_processed(files, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.mp4").write_bytes(b"")
    (bad / "junk.mp4").write_bytes(b"\x00junk" * 500)
    (bad / "notes.txt").write_text("hello")
    write_video(bad / "noframes.avi", [], (64, 64))
    out = tmp_path / "out"
    result = run(bad / "empty.mp4", bad / "junk.mp4", bad / "notes.txt", bad / "noframes.avi",
                 bad / "missing.mp4", files["video"], "--weights", files["pose"], "--out", out)
    assert result.exit_code == 1
    for text in ("empty (0 bytes)", "junk.mp4: not a readable video", "notes.txt: not a video",
                 "noframes.avi", "missing.mp4: no such file", "5 of 6 inputs failed"):
        assert text in result.output, result.output
    assert "Traceback" not in result.output
    assert listing(out) == ["walk.json"]


def test_nothing_readable_fails_without_output(tmp_path):
    out = tmp_path / "out"
    result = run(tmp_path / "missing.mp4", "--out", out)
    assert result.exit_code != 0 and "no such file" in result.output
    assert listing(out) == []


def test_unwritable_output_folder(files, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run(files["video"], "--weights", files["pose"], "--out", blocker / "sub")
    assert result.exit_code != 0 and "cannot create the output folder" in result.output


def test_weights_errors(files, tmp_path, monkeypatch):
    import posenet.engine.weights as weights

    monkeypatch.setattr(weights, "DEFAULT_MANIFEST", tmp_path / "manifest.json")
    result = run(files["video"], "--out", tmp_path / "o")
    assert result.exit_code != 0
    assert "no default weights shipped yet: pass --weights FILE" in result.output
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"PK\x03\x04 nonsense")
    result = run(files["video"], "--weights", corrupt, "--out", tmp_path / "o")
    # refused before the model loads (a bad option: status 2)
    assert result.exit_code == 2 and "is not a .keras file (not a zip archive)" in result.output
    from posenet.models import ActionNetwork

    ActionNetwork({"jhmdb": 14}, num_frames=8, num_joints=16, pose_dims=2,
                  num_blocks=1).save(tmp_path / "a16.keras")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"pose": str(files["pose"]),
                                  "actions": {"jhmdb": "a16.keras"}}))
    result = run(files["video"], "--weights", bundle, "--out", tmp_path / "o")
    assert result.exit_code != 0 and "reads 16 joints" in result.output
    assert listing(tmp_path / "o") == []


def test_device_gpu_without_gpu(files, tmp_path):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is visible")
    result = run(files["video"], "--weights", files["pose"], "--out", tmp_path,
                 "--device", "gpu")
    assert result.exit_code != 0 and "no GPU is visible" in result.output


def test_multi_person_without_detector_weights(files, tmp_path, monkeypatch):
    from posenet.inference import detector

    monkeypatch.setattr(detector, "DEFAULT_DETECTOR", tmp_path / "missing.keras")
    result = run(files["video"], "--weights", files["pose"], "--out", tmp_path,
                 "--multi-person")
    assert result.exit_code != 0 and "person detector" in result.output
    assert np.all([p.suffix != ".json" for p in tmp_path.iterdir()])


def test_litert_is_the_default_runtime_and_precision_goes_with_it(files, tmp_path,
                                                                   monkeypatch):
    """Without POSENET_RUNTIME the pose network runs on LiteRT (the measured choice);
    --precision other than float32 is refused for the other runtimes before any work."""
    import cli.infer

    seen = {}
    monkeypatch.setattr(cli.infer, "run_infer",
                        lambda *args: seen.update(args[7]))  # the Predictor's options
    target = str(files["video"])
    result = CliRunner().invoke(infer, [target, "--out", str(tmp_path / "a")],
                                env={"POSENET_RUNTIME": None})
    assert result.exit_code == 0, result.output
    assert seen["runtime"] == "litert" and seen["precision"] == "float32"
    result = CliRunner().invoke(infer, [target, "--out", str(tmp_path / "b"), "--runtime",
                                        "keras", "--precision", "int8"])
    assert result.exit_code == 2 and "int8 is for --runtime litert" in result.output
    assert not (tmp_path / "b").exists()
