"""``posenet export`` of the pose-only action networks: round trips, sidecar, bad inputs."""

import json
import os

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from cli.export import export
from posenet import export as E
from posenet.data.action_input import normalise_window
from posenet.data.readers.jhmdb import JHMDB_CLASSES
from posenet.export import actions as A
from posenet.export import convert
from posenet.io import sha256_file
from tests.inference_fixtures import needs_onnx

T, J, D = 4, 16, 2
#: Class probabilities of the export against Keras's.
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from posenet.models import ActionNetwork

    folder = tmp_path_factory.mktemp("export_actions")
    keras.utils.set_random_seed(5)
    model = ActionNetwork({"jhmdb": len(JHMDB_CLASSES)}, num_frames=T, num_joints=J,
                          pose_dims=D, num_blocks=2, pose_width=0.25,
                          uncertain_below={"jhmdb": 0.4})
    model.save(folder / "act.keras")
    # 5 windows built as inference builds them: predicted joints (px, confidence), boxes
    rng = np.random.default_rng(1)
    windows = []
    for _ in range(5):
        joints = np.concatenate([rng.uniform(100, 300, (T, J, 2)), rng.random((T, J, 1))], -1)
        boxes = np.tile([90.0, 80.0, 320.0, 330.0], (T, 1))
        windows.append(normalise_window(joints, None, boxes, D))
    poses = np.stack([p for p, _ in windows])
    visibility = np.stack([v for _, v in windows])
    want = A.load_action_runtime("keras", model).probabilities(poses, visibility)
    return {"folder": folder, "action": folder / "act.keras", "model": model,
            "poses": poses, "visibility": visibility, "want": want}


def run_export(*args):
    return CliRunner().invoke(export, [str(a) for a in args])


def check_sidecar(info, fmt, files, batch_size=None):
    assert info["schema"] == A.SCHEMA and info["kind"] == "action" and info["format"] == fmt
    assert info["datasets"] == ["jhmdb"]
    jhmdb = info["actions"]["jhmdb"]
    assert jhmdb["classes"] == list(JHMDB_CLASSES) and jhmdb["num_classes"] == 14
    assert jhmdb["output"] == "action_jhmdb_2" and jhmdb["uncertain_below"] == 0.4
    assert info["outputs"] == ["action_jhmdb_1", "action_jhmdb_2"]
    assert info["num_frames"] == T and info["window"]["stride"] == T // 2
    assert info["num_joints"] == J and info["layout"] == "model16" and len(info["joints"]) == J
    assert info["pose_dims"] == D and info["batch_size"] == batch_size
    assert [(i["name"], i["shape"], i["dtype"]) for i in info["inputs"]] == [
        ("poses", [batch_size, T, J, D], "float32"),
        ("visibility", [batch_size, T, J, 1], "float32")]
    assert info["source"] == os.fspath(files["action"])
    assert info["sha256"] == sha256_file(files["action"])


@pytest.mark.parametrize("fmt, name, batch", [
    ("litert", "act.tflite", "2"),  # 5 windows in batches of 2, the last one padded
    pytest.param("onnx", "act.onnx", None, marks=needs_onnx),
])
def test_round_trip_matches_keras(files, tmp_path, fmt, name, batch):
    out = tmp_path / name
    result = run_export(files["action"], "--format", fmt, "--out", out,
                        *(["--batch-size", batch] if batch else []))
    assert result.exit_code == 0, result.output
    assert "action network" in result.output and "jhmdb: 14 classes" in result.output
    assert sorted(os.listdir(tmp_path)) == sorted([name, f"{name}.json"])  # no temporaries
    info = json.loads((tmp_path / f"{name}.json").read_text())
    check_sidecar(info, fmt, files, int(batch) if batch else None)
    runtime = A.load_action_runtime(fmt, out)
    got = runtime.probabilities(files["poses"], files["visibility"])
    assert got["jhmdb"].shape == (5, 14)
    np.testing.assert_allclose(got["jhmdb"], files["want"]["jhmdb"], atol=TOLERANCE)
    np.testing.assert_allclose(got["jhmdb"].sum(-1), 1.0, atol=1e-5)
    everything = runtime.predict(files["poses"], files["visibility"])
    assert sorted(everything) == info["outputs"]


def test_savedmodel(files, tmp_path):
    import tensorflow as tf

    out = tmp_path / "saved"
    result = run_export(files["action"], "--format", "savedmodel", "--out", out)
    assert result.exit_code == 0, result.output
    assert os.listdir(tmp_path) == ["saved"]
    info = json.loads((out / E.FOLDER_SIDECAR).read_text())
    check_sidecar(info, "savedmodel", files)
    serve = tf.saved_model.load(str(out)).signatures["serving_default"]
    got = serve(poses=tf.constant(files["poses"]), visibility=tf.constant(files["visibility"]))
    np.testing.assert_allclose(got["action_jhmdb_2"].numpy(), files["want"]["jhmdb"],
                               atol=TOLERANCE)


@pytest.mark.parametrize("args, words", [
    (["--block", "1"], "--block is for a pose network"),
    (["--input-size", "64"], "--input-size is for a pose network"),
    (["--precision", "int8"], "float32 or float16, not int8"),
    (["--network", "actions"], "pose or action:DATASET"),
])
def test_options_that_do_not_apply_are_refused(files, tmp_path, args, words):
    result = run_export(files["action"], "--format", "litert", "--out", tmp_path / "x.tflite",
                        *args)
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == []


def test_bundle_and_manifest_select_the_action_network(files, tmp_path):
    folder = files["folder"]
    bundle = folder / "bundle.json"
    bundle.write_text(json.dumps({"pose": "pose.keras", "actions": {"jhmdb": "act.keras"}}))
    out = tmp_path / "a.tflite"
    result = run_export(bundle, "--format", "litert", "--out", out, "--network", "action:jhmdb")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "a.tflite.json").read_text())["sha256"] == \
        sha256_file(files["action"])
    os.remove(out)
    os.remove(tmp_path / "a.tflite.json")
    result = run_export(bundle, "--format", "litert", "--out", out, "--network",
                        "action:penn_action")
    assert result.exit_code == 1 and "no action network for 'penn_action'" in result.output
    # a manifest whose checksum does not match: refused before anything is written
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps({"default": "m", "m": {
        "files": {"pose": "pose.keras", "actions": {"jhmdb": "act.keras"}},
        "sha256": {"act.keras": "0" * 64}}}))
    result = run_export(manifest, "--format", "litert", "--out", out, "--network",
                        "action:jhmdb")
    assert result.exit_code == 1 and "corrupt" in result.output
    # an ActionNetwork file asked for another dataset's network
    result = run_export(files["action"], "--format", "litert", "--out", out, "--network",
                        "action:penn_action")
    assert result.exit_code == 1 and "not 'penn_action'" in result.output
    assert list(tmp_path.iterdir()) == []


def test_shipped_default_bundle_resolves():
    from posenet.engine.weights import default_entry

    files, sums, folder = default_entry()
    path, digest = A.resolve_action("default", "jhmdb")
    assert path == os.fspath(folder / files["actions"]["jhmdb"])
    assert digest == sums[files["actions"]["jhmdb"]]
    assert A.action_config(path)["actions"] == {"jhmdb": 14}


def test_failed_export_leaves_nothing(files, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(convert, "export_model", fail)
    with pytest.raises(RuntimeError, match="crashed"):
        A.write_action_export(files["model"], "savedmodel", tmp_path / "x")
    with pytest.raises(RuntimeError, match="crashed"):
        A.export_action_network(files["action"], "litert", tmp_path / "x.tflite")
    assert list(tmp_path.iterdir()) == []


def test_runtime_refuses_a_pose_export(files, tmp_path):
    out = tmp_path / "act.tflite"
    A.write_action_export(files["model"], "litert", out)
    (tmp_path / "act.tflite.json").write_text(json.dumps({"schema": E.SCHEMA}))
    with pytest.raises(E.ExportError, match="not an exported action network"):
        A.load_action_runtime("litert", out)
    with pytest.raises(ValueError, match="unknown runtime"):
        A.load_action_runtime("tensorrt", out)


def test_a_span_network_sidecar_names_its_span():
    from posenet.export.actions import action_metadata
    from posenet.models import ActionNetwork

    span = ActionNetwork({"jhmdb": 4}, num_frames=8, num_joints=17, branch="geometry",
                         filters=4, clip_span=40)
    info = action_metadata(span, "litert", 1, "span.tflite")
    assert info["clip_span"] == 40 and info["window"]["clip_span"] == 40
    assert info["window"]["stride"] == 20 and "resampled" in info["window"]["frames"]
    plain = ActionNetwork({"jhmdb": 4}, num_frames=8, num_joints=17, branch="geometry",
                          filters=4)
    info = action_metadata(plain, "litert", 1, "plain.tflite")
    assert info["clip_span"] is None and info["window"]["stride"] == 4
