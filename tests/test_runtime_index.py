"""LiteRT / ONNX inference from cached exports alone: no TensorFlow, no Keras, same outputs.

The first Predictor of some weight files on ``litert`` exports the pose and action
networks and writes the runtime index (``posenet.export.runtime_index``); the next one
reads only the exports. ``posenet infer`` then runs in a process where TensorFlow, Keras
and JAX cannot be imported at all.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from posenet.engine.weight_files import NetworkInfo, weight_files
from posenet.export.runtime_index import ExportedActionNetwork, index_path, load_index
from posenet.inference.predictor import Predictor
from tests.inference_fixtures import rendered_video, save_networks

ROOT = Path(__file__).resolve().parents[1]
#: Run ``posenet`` (argv after the code) with tensorflow, keras and jax not installed, as
#: far as Python can tell: importing them raises ModuleNotFoundError. The names tried are
#: printed on stderr's last line.
UNINSTALLED = """
import json, sys
tried = []
class Uninstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "jax", "tf_keras"):
            tried.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Uninstalled())
from cli.main import main
try:
    main(prog_name="posenet")
finally:
    print("tried:" + json.dumps(sorted(set(tried))), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("index")
    pose, bundle = save_networks(folder, action_frames=4)
    clip, _ = rendered_video(folder / "walk.avi", num_frames=12, size=(320, 240))
    frame = cv2.VideoCapture(str(clip)).read()[1]
    cv2.imwrite(str(folder / "photo.png"), frame)
    return {"pose": pose, "bundle": bundle, "clip": clip, "photo": folder / "photo.png",
            "folder": folder}


def test_weight_files_name_the_files_without_loading_them(files, tmp_path):
    found = weight_files(str(files["bundle"]))
    assert found.source == str(files["bundle"])
    assert Path(found.pose[0]) == files["pose"].resolve()
    assert sorted(found.actions) == ["penn_action"]
    assert weight_files(str(files["pose"])).actions == {}
    assert weight_files(str(files["pose"])).key() != found.key()  # the actions count
    assert weight_files(str(tmp_path / "missing.keras")) is None
    broken = tmp_path / "bundle.json"
    broken.write_text(json.dumps({"pose": "absent.keras"}))
    assert weight_files(str(broken)) is None  # loading says what is wrong
    assert weight_files({"pose": object()}) is None  # an in-memory model


def test_the_second_predictor_runs_from_the_exports_alone(files, tmp_path, monkeypatch):
    monkeypatch.setenv("POSENET_CACHE", str(tmp_path / "cache"))
    bundle = str(files["bundle"])
    assert load_index("litert", weight_files(bundle)) is None
    first = Predictor(bundle, runtime="litert", finder="pose", min_score=0)
    assert first.weights.pose is None  # the first run already reads its own exports
    second = Predictor(bundle, runtime="litert", finder="pose", min_score=0)
    assert second.weights.pose is None
    assert isinstance(second.weights.actions["penn_action"], ExportedActionNetwork)
    assert second.weights.info == first.weights.info
    assert second.weights.sha256 == weight_files(bundle).pose[1]
    # another block is another index (and export)
    assert not os.path.isfile(index_path("litert", weight_files(bundle), 1, "float32", "pose"))
    a, b = (p.predict_video(str(files["clip"])) for p in (first, second))
    assert a["frames"] == b["frames"] and a["tracks"] == b["tracks"]
    assert a["tracks"] and "penn_action" in a["tracks"][0]["actions"]


def test_keras_runs_and_in_memory_models_do_not_use_the_index(files, tmp_path, monkeypatch):
    monkeypatch.setenv("POSENET_CACHE", str(tmp_path / "cache"))
    predictor = Predictor(str(files["bundle"]), runtime="keras", finder="pose")
    assert predictor.weights.pose is not None
    assert predictor.weights.info == NetworkInfo.of(predictor.weights.pose)
    assert not (tmp_path / "cache").exists()


def test_a_stale_index_is_made_again(files, tmp_path, monkeypatch):
    monkeypatch.setenv("POSENET_CACHE", str(tmp_path / "cache"))
    bundle = str(files["bundle"])
    Predictor(bundle, runtime="litert", finder="pose")
    found = load_index("litert", weight_files(bundle))
    os.remove(found.weights.actions["penn_action"].path)  # an export lost from the cache
    assert load_index("litert", weight_files(bundle)) is None
    again = Predictor(bundle, runtime="litert", finder="pose")
    assert again.weights.actions["penn_action"].path == found.weights.actions["penn_action"].path
    assert os.path.isfile(again.weights.actions["penn_action"].path)


def _posenet(args, cache, uninstalled=False):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env |= {"PYTHONPATH": str(ROOT), "POSENET_CACHE": str(cache)}
    code = UNINSTALLED if uninstalled else "from cli.main import main; main(prog_name='posenet')"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_infer_on_litert_imports_neither_tensorflow_nor_keras(files, tmp_path):
    cache = tmp_path / "cache"
    inputs = [files["clip"], files["photo"]]
    common = ["--weights", files["bundle"], "--runtime", "litert"]
    first = _posenet(["infer", *inputs, *common, "--out", tmp_path / "first"], cache)
    assert first.returncode == 0, first.stderr
    done = _posenet(["infer", *inputs, *common, "--out", tmp_path / "second"], cache,
                    uninstalled=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "tried:[]", done.stderr
    for name in ("walk.json", "photo.json"):
        a = json.loads((tmp_path / "first" / name).read_text())
        b = json.loads((tmp_path / "second" / name).read_text())
        assert a == b
    assert np.array(a["frames"][0]["people"][0]["joints2d"]).shape == (17, 3)
    # multi-person: the detector too runs from its cached export
    multi = ["infer", files["clip"], *common, "--multi-person"]
    assert _posenet([*multi, "--out", tmp_path / "m1"], cache).returncode == 0
    done = _posenet([*multi, "--out", tmp_path / "m2"], cache, uninstalled=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "tried:[]", done.stderr
    assert (json.loads((tmp_path / "m1" / "walk.json").read_text())
            == json.loads((tmp_path / "m2" / "walk.json").read_text()))
