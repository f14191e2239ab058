"""LiteRT precisions (float16, int8 with calibration crops), ``posenet evaluate --runtime``
and LiteRT's quiet interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from fixtures_eval import write_lsp_file

from cli.evaluate import evaluate
from cli.export import export
from posenet import export as E
from posenet.data.render_dataset import prepare_builtin_render
from posenet.engine.runtimes import load_runtime
from posenet.export import cache
from posenet.export import quantize as Q
from posenet.models import PoseNetwork, build_model

ROOT = Path(__file__).resolve().parents[1]
SIZE = 32


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("precision")
    keras.utils.set_random_seed(5)
    model = build_model("cpu_3d", input_size=SIZE, num_features=32)
    model.save(folder / "pose.keras")
    # 4 person crops of an LSPet-like training file: the calibration set
    write_lsp_file(folder / "lspet_train.h5", np.random.default_rng(1), "lspet", "train")
    crops, _ = Q.calibration_crops(Q.Calibration(folder / "lspet_train.h5"), SIZE)
    return {"folder": folder, "pose": folder / "pose.keras", "model": model,
            "calibration": folder / "lspet_train.h5", "crops": crops}


def run_export(*args):
    return CliRunner().invoke(export, [str(a) for a in args])


def tensor_types(path):
    """The dtypes of a .tflite file's tensors (weights and activations)."""
    runtime = load_runtime("litert", path)
    return {str(t["dtype"].__name__) for t in runtime.interpreter.get_tensor_details()}


def differences(files, path):
    """Largest |litert - keras| of the pose x, y (crop-normalised), z and visibility on
    the calibration crops and their mirrors."""
    x = np.concatenate([files["crops"], files["crops"][:, :, ::-1]])
    got = load_runtime("litert", path).predict(x)
    want = load_runtime("keras", files["model"]).predict(x)
    pose = np.abs(got["pose_2"] - want["pose_2"])
    return (pose[..., :2].max(), pose[..., 2].max(),
            np.abs(got["visibility_2"] - want["visibility_2"]).max())


def test_calibration_crops_are_the_pipelines_crops_and_seeded(files):
    from posenet.data.prepared import PreparedDataset
    from posenet.engine.inputs import crop_batches

    crops, info = Q.calibration_crops(Q.Calibration(files["calibration"], 3, seed=7), SIZE)
    again, _ = Q.calibration_crops(Q.Calibration(files["calibration"], 3, seed=7), SIZE)
    other, _ = Q.calibration_crops(Q.Calibration(files["calibration"], 3, seed=8), SIZE)
    assert crops.shape == (3, SIZE, SIZE, 3) and crops.dtype == np.float32
    assert info == {"file": "lspet_train.h5", "dataset": "lspet", "split": "train",
                    "samples": 3, "seed": 7}
    np.testing.assert_array_equal(crops, again)
    assert not np.array_equal(crops, other)  # 3 of 4 samples: another seed, another draw
    # every calibration crop is one of evaluation's crops of the file (same cropping)
    dataset = PreparedDataset(files["calibration"])
    (_, _, everything), = crop_batches(dataset, np.arange(4), SIZE, 8)
    dataset.close()
    for crop in crops:
        assert min(np.abs(everything - crop).max(axis=(1, 2, 3))) == 0


def test_float16_round_trip(files, tmp_path):
    out = tmp_path / "pose16.tflite"
    result = run_export(files["pose"], "--format", "litert", "--precision", "float16",
                        "--out", out)
    assert result.exit_code == 0, result.output
    assert "litert float16" in result.output
    info = json.loads(Path(f"{out}.json").read_text())
    assert info["precision"] == "float16" and info["calibration"] is None
    # float16 weights: the file holds fewer bytes than the float32 weights alone would
    assert os.path.getsize(out) < 0.75 * 4 * files["model"].count_params()
    assert "float16" in tensor_types(out)
    pose_xy, z, vis = differences(files, out)
    # float16 keeps 11 significant bits (relative error <= 2^-11 = 4.9e-4 per weight),
    # computed in float32: this untrained network's nearly flat heatmaps move by ~1e-6;
    # 1e-3 of the crop's side (0.03 px of 32 px) still fails a float16 rounding of the
    # activations or a wrong weight; z and the sigmoid visibility are in [0, 1] too
    assert pose_xy < 1e-3 and z < 1e-3 and vis < 1e-3, (pose_xy, z, vis)
    assert pose_xy > 0  # the weights were rounded: not float32 in disguise


def test_int8_export_with_a_tiny_calibration_set(files, tmp_path):
    out = tmp_path / "pose8.tflite"
    result = run_export(files["pose"], "--format", "litert", "--precision", "int8",
                        "--calibration", files["calibration"], "--calibration-samples", "4",
                        "--out", out)
    assert result.exit_code == 0, result.output
    assert "calibrated on 4 crops of lspet_train.h5 (split train, seed 0)" in result.output
    info = json.loads(Path(f"{out}.json").read_text())
    assert info["precision"] == "int8"
    assert info["calibration"] == {"file": "lspet_train.h5", "dataset": "lspet",
                                   "split": "train", "samples": 4, "seed": 0}
    assert info["input"]["dtype"] == "float32"
    assert info["float_layers"] == Q.float_layers(files["model"])
    assert sorted(os.listdir(tmp_path)) == ["pose8.tflite", "pose8.tflite.json"]
    assert "int8" in tensor_types(out)
    # the soft-argmax and visibility layers (Float32Layer) stay float32, the rest is int8
    kept = Q.float_layers(files["model"])
    assert "pose_2" in kept and "visibility_2" in kept
    names = {t["name"]: t["dtype"] for t in
             load_runtime("litert", out).interpreter.get_tensor_details()}
    softmax = [n for n in names if "/pose_2" in n and n.endswith("/Exp")]
    assert softmax and all(names[n] == np.float32 for n in softmax), softmax
    assert any(names[n] == np.int8 for n in names if "conv" in n.lower())
    runtime = load_runtime("litert", out)
    details = runtime.interpreter.get_signature_runner().get_input_details()
    assert [d["dtype"] for d in details.values()] == [np.float32]  # float at the edges
    pose_xy, z, vis = differences(files, out)
    # int8 activations: 256 levels over each calibrated range, 4 crops calibrating them
    # roughly; the soft-argmax (float) averages the quantized logits: measured 9e-4 of the
    # crop (0.03 px of 32) for x, y, 1e-3 for z, 2e-3 for the visibility. 3e-3 leaves a 3x
    # margin and fails the soft-argmax quantized too (measured 4.6e-3 for x, y, 4.3e-3 z)
    assert pose_xy < 3e-3 and z < 3e-3 and vis < 0.01, (pose_xy, z, vis)
    assert pose_xy > 1e-5  # quantized: not the float network


def test_precision_is_for_litert_only(files, tmp_path):
    for fmt in ("onnx", "savedmodel"):
        result = run_export(files["pose"], "--format", fmt, "--precision", "float16",
                            "--out", tmp_path / "x")
        assert result.exit_code == 2, result.output
        assert "--precision is for --format litert" in result.output
    result = run_export(files["pose"], "--format", "litert", "--precision", "bfloat16",
                        "--out", tmp_path / "x.tflite")
    assert result.exit_code == 2 and "bfloat16" in result.output
    result = run_export(files["pose"], "--format", "litert", "--calibration",
                        files["calibration"], "--out", tmp_path / "x.tflite")
    assert result.exit_code == 2 and "--calibration is for --precision int8" in result.output
    with pytest.raises(E.ExportError, match="unknown precision 'int4'"):
        E.write_export(files["model"], "litert", tmp_path / "x.tflite", precision="int4")
    with pytest.raises(E.ExportError, match="litert format, not onnx"):
        cache.runtime_for("onnx", files["model"], precision="int8")
    with pytest.raises(E.ExportError, match="litert runtime, not keras"):
        cache.runtime_for("keras", files["model"], precision="float16")
    assert list(tmp_path.iterdir()) == []


def test_int8_without_calibration_data(files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no datasets/lspet_train.h5 here
    result = run_export(files["pose"], "--format", "litert", "--precision", "int8",
                        "--out", tmp_path / "x.tflite")
    assert result.exit_code == 1
    assert "int8 calibration data datasets/lspet_train.h5 not found" in result.output
    assert "posenet prepare lspet" in result.output
    (tmp_path / "junk.h5").write_text("not hdf5")
    result = run_export(files["pose"], "--format", "litert", "--precision", "int8",
                        "--calibration", tmp_path / "junk.h5", "--out", tmp_path / "x.tflite")
    assert result.exit_code == 1 and "calibration data" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.h5"]
    result = CliRunner().invoke(evaluate, ["--weights", str(files["pose"]), "--dataset",
                                           str(files["calibration"]), "--runtime", "litert",
                                           "--precision", "int8"])
    assert result.exit_code == 1 and "int8 calibration data" in result.output


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate_runtime")
    prepare_builtin_render(root / "builtin_render_train.h5", num_clips=1, frames=4, size=64)
    keras.utils.set_random_seed(2)
    PoseNetwork(num_joints=17, depth_maps=4, input_size=64, num_blocks=2, kernel_size=3,
                num_features=32, stem_width=0.25).save(root / "net3d.keras")
    return root


def evaluate_report(rendered, tmp_path, *args):
    out = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.json"
    result = CliRunner().invoke(evaluate, [
        "--weights", str(rendered / "net3d.keras"), "--dataset",
        str(rendered / "builtin_render_train.h5"), "--batch-size", "3", "--out", str(out),
        *args])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def mpjpe(report, block):
    return report["evaluations"][0]["protocols"]["MPJPE"]["blocks"][block]["summary"][
        "MPJPE mm"]


def test_evaluate_through_litert_agrees_with_keras(rendered, tmp_path, monkeypatch):
    monkeypatch.setenv("POSENET_CACHE", str(rendered / "cache"))
    want = evaluate_report(rendered, tmp_path)
    got = evaluate_report(rendered, tmp_path, "--runtime", "litert")
    assert got["options"]["runtime"] == "litert" and got["options"]["precision"] == "float32"
    assert want["options"]["runtime"] == "keras"
    for block in ("1", "2"):
        # float32 both: the same crops, a different kernel order; MPJPE (hundreds of mm
        # for an untrained network) moves by far less than 0.1 mm
        assert mpjpe(got, block) == pytest.approx(mpjpe(want, block), abs=0.1)
        assert mpjpe(want, block) > 10
    # the export is cached under the weights' SHA-256
    (cached,) = [p for p in os.listdir(rendered / "cache" / "exports") if
                 p.endswith(".tflite")]
    assert cached.startswith(want["weights_sha256"][:16])


@pytest.mark.slow  # 15-20 s more than the test above
def test_evaluate_find_person_through_litert(rendered, tmp_path, monkeypatch):
    # --find-person: the Predictor runs on the same runtime
    monkeypatch.setenv("POSENET_CACHE", str(rendered / "cache"))
    want = evaluate_report(rendered, tmp_path, "--find-person", "--finder", "pose")
    got = evaluate_report(rendered, tmp_path, "--find-person", "--finder", "pose",
                          "--runtime", "litert")
    assert got["options"]["find_person"] == "pose" and got["options"]["runtime"] == "litert"
    assert mpjpe(got, "2") == pytest.approx(mpjpe(want, "2"), abs=0.1)
    assert mpjpe(want, "2") > 10


def test_evaluate_runtime_options_are_checked(rendered, files, tmp_path):
    base = ["--weights", str(rendered / "net3d.keras"), "--dataset",
            str(rendered / "builtin_render_train.h5")]
    result = CliRunner().invoke(evaluate, [*base, "--precision", "float16"])
    assert result.exit_code == 2 and "--precision is for --runtime litert" in result.output
    action = tmp_path / "dense.keras"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save(action)
    result = CliRunner().invoke(evaluate, ["--weights", str(action), "--dataset",
                                           str(rendered / "builtin_render_train.h5"),
                                           "--runtime", "litert"])
    assert result.exit_code == 1 and "runs single-frame pose networks" in result.output


def test_missing_runtime_package_for_evaluate(rendered, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("tf2onnx", "onnxruntime")
                        else real(name, *a))
    result = CliRunner().invoke(evaluate, ["--weights", str(rendered / "net3d.keras"),
                                           "--dataset",
                                           str(rendered / "builtin_render_train.h5"),
                                           "--runtime", "onnx"])
    assert result.exit_code == 1
    assert "is not installed: pip install 'posenet[onnx]'" in result.output


XNNPACK = "Created TensorFlow Lite XNNPACK delegate"


@pytest.fixture(scope="module")
def tflite(files):
    path = files["folder"] / "pose32.tflite"
    E.write_export(files["model"], "litert", path)
    return path


@pytest.mark.parametrize("verbose", [False, True])
def test_litert_says_nothing_on_stderr_unless_verbose(tflite, verbose):
    path = tflite
    code = ("import numpy as np, sys; from posenet.engine.runtimes import load_runtime; "
            "r = load_runtime('litert', sys.argv[1]); "
            "r.predict(np.zeros((3, 32, 32, 3), np.uint8)); "
            "r.predict(np.zeros((5, 32, 32, 3), np.uint8)); print('ran')")
    env = {k: v for k, v in os.environ.items() if k != "POSENET_VERBOSE"}
    if verbose:
        env["POSENET_VERBOSE"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", code, str(path)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ran\n"
    assert (XNNPACK in done.stderr) == verbose, done.stderr  # verbose: the line does exist


@pytest.mark.slow
def test_infer_runtime_litert_stderr_is_quiet(files, tmp_path):
    from posenet.render.video import write_motion_video

    clip = write_motion_video(str(tmp_path / "walk"), "walk", 4, (160, 120), 10, 0)
    env = {k: v for k, v in os.environ.items() if k not in ("POSENET_VERBOSE",
                                                              "TF_CPP_MIN_LOG_LEVEL")}
    env |= {"PYTHONPATH": str(ROOT), "POSENET_CACHE": str(tmp_path / "cache"),
            "KERAS_BACKEND": "tensorflow"}
    command = [sys.executable, "-c", "from cli.main import main; main(prog_name='posenet')",
               "infer", clip["path"], "--weights", str(files["pose"]), "--out",
               str(tmp_path / "out"), "--runtime", "litert", "--min-score", "0"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert XNNPACK not in done.stderr and XNNPACK not in done.stdout, done.stderr
    assert len(list((tmp_path / "out").iterdir())) == 1


def test_litert_runs_without_ai_edge_litert(files, tflite, monkeypatch):
    # ai-edge-litert is optional (posenet[litert]): TensorFlow's own interpreter runs it
    want = load_runtime("litert", tflite).predict(files["crops"])
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(ImportError):
        import ai_edge_litert.interpreter  # noqa: F401
    runtime = load_runtime("litert", tflite)
    assert type(runtime.interpreter).__module__.startswith("tensorflow")
    got = runtime.predict(files["crops"])
    np.testing.assert_allclose(got["pose_2"], want["pose_2"], atol=1e-5)
