"""The person detector on LiteRT and ONNX Runtime: the same heads, boxes and scores as on
Keras, exported once per weights and input size into the runtime cache."""

import os

import numpy as np
import pytest

HEADS = (("center", 1), ("box_scale", 2), ("box_offset", 2), ("heatmap", 17),
         ("regress", 34), ("offset", 34))


@pytest.fixture(autouse=True)
def _tensorflow_backend():
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the detector's export runs on the tensorflow backend")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A runtime cache folder of this module's own ($POSENET_CACHE)."""
    folder = tmp_path_factory.mktemp("posenet-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POSENET_CACHE", str(folder))
        yield folder


def _tiny_detector(seed=0):
    """A small fully convolutional model with MultiPose's heads (stride 4)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    image = keras.Input((None, None, 3), name="image")
    x = layers.Conv2D(8, 3, strides=4, padding="same", activation="relu")(image)
    outputs = {name: layers.Conv2D(n, 3, padding="same", name=name)(x) for name, n in HEADS}
    return keras.Model(image, outputs)


def _frame():
    """A rendered 640x360 frame with two people (BGR uint8)."""
    from posenet.render.crowd import CROSSING_PAIR, render_crowd

    return render_crowd(CROSSING_PAIR, 1, (640, 360))["frames"][0]


def test_detector_runtime_is_exported_once_per_size(cache, monkeypatch):
    from posenet.inference import detector_runtime as R

    model = _tiny_detector()
    image = np.random.default_rng(0).random((1, 64, 96, 3)).astype(np.float32)
    first = R.DetectorRuntime(model, "litert")
    out = first.predict(image)
    assert first.exports == 1
    path = R.export_path("litert", first.sha256, 64, 96)
    assert os.path.isfile(path) and os.path.isfile(path + ".json")
    expected = model.predict_on_batch(image)
    for name, channels in HEADS:
        assert out[name].shape == (1, 16, 24, channels)
        np.testing.assert_allclose(out[name], expected[name], atol=1e-4)

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(R, "export_detector", no_export)
    again = R.DetectorRuntime(model, "litert")  # a new run: the file is taken from the cache
    np.testing.assert_array_equal(again.predict(image)["center"], out["center"])
    assert again.exports == 0 and again.sha256 == first.sha256
    other = R.DetectorRuntime(_tiny_detector(seed=1), "litert")  # other weights, other file
    assert other.sha256 != first.sha256
    with pytest.raises(AssertionError, match="exported again"):
        other.predict(image)


def test_unknown_detector_runtime_is_refused():
    from posenet.inference.detector_runtime import DetectorRuntime

    with pytest.raises(ValueError, match="unknown detector runtime"):
        DetectorRuntime(None, "tensorrt")


def test_litert_detector_finds_the_same_people_as_keras(cache):
    """The shipped MultiPose on a rendered frame: same heads within float tolerance, same
    people, boxes within a hundredth of a px, scores within 1e-4; the file keyed by the
    weights' SHA-256 and the input size is in the cache."""
    from posenet.inference.detector import MultiPoseDetector, load_detector_model
    from posenet.inference.detector_runtime import export_path

    model = load_detector_model()
    frame = _frame()
    keras_detector = MultiPoseDetector(model, long_side=320)
    litert_detector = MultiPoseDetector(model, long_side=320, runtime="litert")
    image = np.random.default_rng(0).random((1, 192, 320, 3)).astype(np.float32)
    expected, heads = keras_detector.runtime.predict(image), litert_detector.runtime.predict(image)
    for name, _ in HEADS:
        scale = np.abs(expected[name]).max()
        np.testing.assert_allclose(heads[name], expected[name], atol=1e-5 * scale + 1e-5)
    want, got = keras_detector(frame), litert_detector(frame)
    assert len(want) == len(got) == 2  # the two people of the crossing scene
    np.testing.assert_allclose(got.boxes, want.boxes, atol=0.01)
    np.testing.assert_allclose(got.scores, want.scores, atol=1e-4)
    np.testing.assert_allclose(got.keypoints[..., :2], want.keypoints[..., :2], atol=0.01)
    assert os.path.isfile(export_path("litert", litert_detector.runtime.sha256, 192, 320))
    assert litert_detector.runtime.exports == 1


@pytest.mark.slow
def test_onnx_detector_finds_the_same_people_as_keras(cache):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    from posenet.inference.detector import MultiPoseDetector, load_detector_model

    model = load_detector_model()
    frame = _frame()
    want = MultiPoseDetector(model, long_side=320)(frame)
    got = MultiPoseDetector(model, long_side=320, runtime="onnx")(frame)
    assert len(want) == len(got) == 2
    np.testing.assert_allclose(got.boxes, want.boxes, atol=0.01)
    np.testing.assert_allclose(got.scores, want.scores, atol=1e-4)


def test_the_predictor_runs_its_detector_on_its_runtime(monkeypatch):
    """Predictor(runtime=...) runs the default detector on LiteRT with litert (a runtime
    object: by its ``kind``) and onnx (ONNX Runtime ran it slower than Keras, and LiteRT
    keeps Keras out of the run), else on Keras."""
    from posenet.inference.detector_runtime import for_pose_runtime

    assert [for_pose_runtime(k) for k in ("keras", "litert", "onnx")] == [
        "keras", "litert", "litert"]
    from posenet.inference import predictor as predictor_module

    made = []
    monkeypatch.setattr(predictor_module, "MultiPoseDetector",
                        lambda runtime="keras": made.append(runtime) or (lambda frame: []))

    class Runtime:
        kind = "litert"

        def predict(self, batch):
            raise AssertionError("not called")

    from posenet.models import PoseNetwork

    network = PoseNetwork(input_size=64, num_joints=17, num_blocks=1, kernel_size=3,
                          num_features=16, stem_width=0.25, depth_maps=4)
    predictor_module.Predictor(network, multi_person=True, runtime="keras")
    predictor_module.Predictor(network, multi_person=True, runtime=Runtime())
    assert made == ["keras", "litert"]
