"""``posenet export`` and the inference runtimes: round trips, infer, bad inputs."""

import importlib.util
import json
import os

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from cli.export import export
from cli.infer import infer
from posenet import export as E
from posenet.engine.runtimes import load_runtime
from posenet.export import cache
from posenet.export import network as network_module
from posenet.models import build_model
from posenet.render.video import write_motion_video
from tests.inference_fixtures import needs_onnx

SIZE = 32
#: Pose outputs are normalised to the crop: 1e-3 of its side.
TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    keras.utils.set_random_seed(3)
    model = build_model("cpu_3d", input_size=SIZE, num_features=32)
    model.save(folder / "pose.keras")
    windowed = model.with_window(2)
    windowed.save(folder / "pose_window.keras")
    action = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    action.save(folder / "dense.keras")
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (5, SIZE, SIZE, 3), dtype=np.uint8)
    return {"folder": folder, "pose": folder / "pose.keras", "dense": folder / "dense.keras",
            "model": model, "batch": batch, "pose_window": folder / "pose_window.keras",
            "model_window": windowed}


def run_export(*args):
    return CliRunner().invoke(export, [str(a) for a in args])


def keras_outputs(model, batch):
    return load_runtime("keras", model).predict(batch)


@pytest.mark.parametrize("fmt, name, source", [
    ("litert", "pose.tflite", "pose"),
    pytest.param("onnx", "pose.onnx", "pose", marks=needs_onnx),
    # the soft-argmax window exports with builtin operators only (no select TF ops)
    ("litert", "pose.tflite", "pose_window"),
    pytest.param("onnx", "pose.onnx", "pose_window", marks=needs_onnx),
])
def test_round_trip_matches_keras(files, tmp_path, fmt, name, source):
    out = tmp_path / name
    result = run_export(files[source], "--format", fmt, "--out", out, "--batch-size", "2")
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / f"{name}.json").read_text())
    assert info["format"] == fmt and info["block"] == info["num_blocks"] == 2
    assert info["input"]["shape"] == [2, SIZE, SIZE, 3]
    assert info["pose_dims"] == 3 and info["layout"] and len(info["joints"]) == 17
    assert info["outputs"] == ["pose_1", "pose_2", "visibility_1", "visibility_2"]
    assert sorted(os.listdir(tmp_path)) == sorted([name, f"{name}.json"])  # no temporaries
    runtime = load_runtime(fmt, out)
    got = runtime.predict(files["batch"])  # 5 crops in batches of 2, the last one padded
    want = keras_outputs(files[source.replace("pose", "model")], files["batch"])
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key].shape == value.shape
        np.testing.assert_allclose(got[key], value, atol=TOLERANCE)
    # the float input is taken as is, the uint8 one as BGR crops
    floats = files["batch"][..., ::-1].astype(np.float32) / 255
    np.testing.assert_allclose(runtime.predict(floats)["pose_2"], got["pose_2"], atol=1e-6)


def test_savedmodel_cut_at_block(files, tmp_path):
    import tensorflow as tf

    out = tmp_path / "saved"
    result = run_export(files["pose"], "--format", "savedmodel", "--out", out, "--block", "1",
                        "--input-size", "64")
    assert result.exit_code == 0, result.output
    info = json.loads((out / E.FOLDER_SIDECAR).read_text())
    assert info["block"] == 1 and info["num_blocks"] == 2 and info["input_size"] == 64
    assert info["outputs"] == ["pose_1", "visibility_1"]
    loaded = tf.saved_model.load(str(out))
    x = files["batch"].repeat(2, axis=1).repeat(2, axis=2)[..., ::-1].astype(np.float32) / 255
    got = loaded.serve(tf.constant(x))
    net = E.resize_network(files["model"].truncated(1), 64)
    want = net.predict_on_batch(x)
    np.testing.assert_allclose(np.asarray(got["pose_1"]), want["pose_1"], atol=TOLERANCE)


@pytest.fixture(scope="module")
def clip(files):
    return write_motion_video(str(files["folder"] / "walk"), "walk", 8, (160, 120), 10, 0)


def infer_json(files, clip, tmp_path, runtime):
    out = tmp_path / runtime
    result = CliRunner().invoke(infer, [clip["path"], "--weights", str(files["pose"]),
                                        "--out", str(out), "--min-score", "0",
                                        "--batch-size", "4", "--runtime", runtime])
    assert result.exit_code == 0, result.output
    (path,) = out.iterdir()
    return json.loads(path.read_text())


# litert's export takes half a minute more (Keras converts through a SavedModel): slow
@pytest.mark.parametrize("runtime", [pytest.param("litert", marks=pytest.mark.slow),
                                     pytest.param("onnx", marks=needs_onnx)])
def test_infer_runtime_matches_keras(files, clip, tmp_path, monkeypatch, runtime):
    monkeypatch.setenv("POSENET_CACHE", str(tmp_path / "cache"))
    want = infer_json(files, clip, tmp_path, "keras")
    got = infer_json(files, clip, tmp_path, runtime)
    assert got["num_frames"] == want["num_frames"] == 8
    assert [len(f["people"]) for f in got["frames"]] == [len(f["people"]) for f in
                                                         want["frames"]] == [1] * 8
    for g, w in zip(got["frames"], want["frames"], strict=True):
        a, b = np.array(g["people"][0]["joints2d"]), np.array(w["people"][0]["joints2d"])
        side = max(np.ptp(b[:, 0]), np.ptp(b[:, 1]), 1.0)
        assert np.abs(a[:, :2] - b[:, :2]).max() <= 0.02 * side + 0.02
        np.testing.assert_allclose(a[:, 2], b[:, 2], atol=2e-3)
    # the pose network's export (the detector, which finds the person, has its own), and
    # the index that lets the next run start from it (``posenet.export.runtime_index``)
    cached = sorted(n for n in os.listdir(tmp_path / "cache" / "exports")
                    if not n.startswith(("detector-", "index-")))
    assert len(cached) == 2 and cached[1] == cached[0] + ".json"
    assert len([n for n in os.listdir(tmp_path / "cache" / "exports")
                if n.startswith("index-")]) == 1


def test_unknown_format_is_refused_by_click(files, tmp_path):
    result = run_export(files["pose"], "--format", "coreml", "--out", tmp_path / "x")
    assert result.exit_code == 2 and "coreml" in result.output
    assert list(tmp_path.iterdir()) == []


def test_not_a_pose_network(files, tmp_path):
    result = run_export(files["dense"], "--format", "litert", "--out", tmp_path / "x.tflite")
    assert result.exit_code == 1
    assert "not a posenet PoseNetwork" in result.output
    assert list(tmp_path.iterdir()) == []
    junk = tmp_path / "junk.keras"
    junk.write_text("not a zip")
    result = run_export(junk, "--format", "litert", "--out", tmp_path / "x.tflite")
    assert result.exit_code == 2 and "not a .keras file" in result.output


def test_unwritable_out(files, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_export(files["pose"], "--format", "litert", "--out", blocker / "x.tflite")
    assert result.exit_code == 1 and "does not exist" in result.output
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    result = run_export(files["pose"], "--format", "savedmodel", "--out", folder)
    assert result.exit_code == 1 and "not a posenet export" in result.output
    assert os.listdir(folder) == ["keep.txt"]


def test_missing_package(files, tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("tf2onnx", "onnxruntime")
                        else real(name, *a))
    result = run_export(files["pose"], "--format", "onnx", "--out", tmp_path / "x.onnx")
    assert result.exit_code == 1
    assert "tf2onnx is not installed: pip install 'posenet[onnx]'" in result.output
    with pytest.raises(E.ExportError, match=r"posenet\[onnx\]"):
        cache.runtime_for("onnx", files["model"])
    assert list(tmp_path.iterdir()) == []


def test_failed_export_leaves_nothing(files, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(network_module, "export_model", fail)
    with pytest.raises(RuntimeError, match="crashed"):
        E.write_export(files["model"], "litert", tmp_path / "x.tflite")
    assert list(tmp_path.iterdir()) == []


def test_unknown_runtime(files):
    with pytest.raises(ValueError, match="unknown runtime"):
        load_runtime("tensorrt", files["model"])


def test_output_subset_computes_only_what_is_read(files, tmp_path, monkeypatch):
    model = files["model"]
    wanted = ["pose_1", "visibility_1"]
    subset = cache.output_subset(model, wanted)
    assert sorted(subset.output_names) == wanted and subset.input_size == SIZE
    assert subset.count_params() < model.count_params()  # the later blocks are not in it
    full, cut = keras_outputs(model, files["batch"]), keras_outputs(subset, files["batch"])
    assert set(cut) == set(wanted)
    for name in wanted:
        np.testing.assert_allclose(cut[name], full[name], atol=1e-6)
    assert cache.output_subset(model, None) is model
    assert cache.output_subset(model, model.output_names) is model
    with pytest.raises(ValueError, match="no output person_center"):
        cache.output_subset(model, ["pose_1", "person_center"])
    # the on-the-fly export of a subset is cached under its own name, and runs as Keras
    names = {cache.export_name("litert", n, 2, None, "f" * 64) for n in (model, subset)}
    assert len(names) == 2
    monkeypatch.setenv("POSENET_CACHE", str(tmp_path))
    lite = cache.runtime_for("litert", model, sha256="a" * 64, outputs=wanted)
    out = lite.predict(files["batch"])
    assert set(out) == set(wanted)
    np.testing.assert_allclose(out["pose_1"], full["pose_1"], atol=TOLERANCE)
