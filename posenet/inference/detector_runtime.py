"""What runs the person detector (MoveNet MultiPose): Keras, LiteRT or ONNX Runtime.

MultiPose takes any input whose sides are multiples of 32, but each runtime needs one
fixed size: TensorFlow cannot upsample bilinearly in a graph of unknown size, and the
exported files have a fixed shape. :class:`DetectorRuntime` therefore holds one model per
input size ``(rows, cols)`` (a video has one): for ``keras`` a clone of the model with that
input, sharing its weights; for ``litert`` and ``onnx`` the clone exported once into the
runtime cache (``posenet.engine.runtimes.cache_folder()``, ``$POSENET_CACHE``), named
by the SHA-256 of the detector's weights and the size, so that the export (5 to 10 s)
happens once per weights and frame size, not once per run.

``predict(image)`` takes the float input (1, rows, cols, 3), RGB in [0, 1], and gives
the heads' logits ``{name: (1, rows / 4, cols / 4, C)}`` as the Keras model does.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

#: Runtimes the detector can run on (the pose network's, ``posenet.engine.runtimes``).
DETECTOR_RUNTIMES = ("keras", "litert", "onnx")
#: The detector's runtime when the pose network runs on each runtime: ONNX Runtime ran the
#: detector at 0.7x Keras's speed (median of 60 calls, 448 x 256, 2-core CPU, 2026-12-02)
#: where LiteRT ran it at 1.3-1.4x, so with ``onnx`` the detector runs on LiteRT (which
#: also keeps TensorFlow and Keras out of an ONNX run).
FOR_POSE_RUNTIME = {"keras": "keras", "litert": "litert", "onnx": "litert"}
_SUFFIX = {"litert": ".tflite", "onnx": ".onnx"}
SCHEMA = "posenet-detector-export/1"


def for_pose_runtime(runtime) -> str:
    """The detector's runtime beside the pose network's ``runtime`` (a kind, or a runtime
    object with a ``kind``): :data:`FOR_POSE_RUNTIME`."""
    kind = runtime if isinstance(runtime, str) else getattr(runtime, "kind", "keras")
    return FOR_POSE_RUNTIME.get(kind, "keras")


def weights_sha256(model) -> str:
    """SHA-256 of a Keras model's weights (their shapes and bytes, in order)."""
    digest = hashlib.sha256()
    for value in model.get_weights():
        value = np.ascontiguousarray(value)
        digest.update(f"{value.dtype}{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def fixed_input_model(model, rows, cols):
    """A clone of ``model`` taking (rows, cols, 3) inputs, with the same weights."""
    import keras

    sized = keras.models.clone_model(model, input_tensors=keras.Input((rows, cols, 3)))
    sized.set_weights(model.get_weights())
    return sized


def export_path(kind, sha256, rows, cols) -> str:
    """Where the ``kind`` export of the detector with weights ``sha256`` at (rows, cols)
    is cached."""
    from posenet.engine.runtimes import cache_folder

    return os.path.join(cache_folder(), f"detector-{sha256[:16]}-{rows}x{cols}{_SUFFIX[kind]}")


def export_detector(model, kind, path, rows, cols, sha256=None) -> str:
    """Export ``model`` at a fixed (rows, cols) input to ``path`` (``litert`` or ``onnx``)
    with its sidecar JSON, atomically (``posenet.export.publish``: the sidecar's presence
    marks a finished export). Returns ``path``."""
    from posenet.engine.errors import require
    from posenet.export.convert import EXPORT_NEEDS, export_model, publish

    if kind in EXPORT_NEEDS:
        require(*EXPORT_NEEDS[kind])
    sized = fixed_input_model(model, rows, cols)
    info = {"schema": SCHEMA, "format": kind, "file": os.path.basename(path),
            "input": {"name": "image", "shape": [1, rows, cols, 3], "dtype": "float32",
                      "channels": "RGB", "range": [0.0, 1.0]},
            "outputs": sorted(sized.output_names), "batch_size": 1, "sha256": sha256}
    publish(path, _SUFFIX[kind], lambda tmp: export_model(sized, kind, tmp), info)
    return path


class DetectorRuntime:
    """The detector ``model`` (Keras) run by ``kind`` (:data:`DETECTOR_RUNTIMES`), one
    fixed-size model per input size (see the module docstring).

    ``sha256`` names the weights in the cache (default: :func:`weights_sha256` of the
    model, computed once when a first export is looked up). ``exports`` counts the exports
    this object made (0 when every size came from the cache). ``loader``: instead of
    ``model``, a function that loads it, called only when the model is needed (``keras``,
    or an export missing from the cache), so that a cached LiteRT detector imports
    neither Keras nor TensorFlow.
    """

    def __init__(self, model, kind="keras", sha256=None, num_threads=None, loader=None):
        if kind not in DETECTOR_RUNTIMES:
            raise ValueError(f"unknown detector runtime {kind!r}; known: "
                             f"{', '.join(DETECTOR_RUNTIMES)}")
        if kind != "keras":
            from posenet.engine.errors import require
            from posenet.engine.runtimes import RUNTIME_NEEDS

            if kind in RUNTIME_NEEDS:  # fail now, not at the first frame
                require(*RUNTIME_NEEDS[kind])
        if model is None and (loader is None or sha256 is None):
            raise ValueError("a detector runtime needs a model, or a loader and its sha256")
        self._model, self._loader = model, loader
        self.kind, self.num_threads = kind, num_threads
        self._sha256 = sha256
        self._sized: dict[tuple[int, int], object] = {}
        self.exports = 0

    @property
    def model(self):
        """The Keras model (loaded on first use when a ``loader`` was given)."""
        if self._model is None:
            self._model = self._loader()
        return self._model

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = weights_sha256(self.model)
        return self._sha256

    def predict(self, image) -> dict:
        """The heads' logits of ``image`` (1, rows, cols, 3) float32 RGB in [0, 1]."""
        image = np.ascontiguousarray(image, np.float32)
        runner = self.sized(*image.shape[1:3])
        if self.kind == "keras":
            out = runner.predict_on_batch(image)
        else:
            out = runner.predict(image)
        return {name: np.asarray(value) for name, value in out.items()}

    def sized(self, rows, cols):
        """The model (Keras) or runtime (LiteRT, ONNX) of the (rows, cols) input."""
        key = int(rows), int(cols)
        if key not in self._sized:
            if self.kind == "keras":
                self._sized[key] = fixed_input_model(self.model, *key)
            else:
                self._sized[key] = self._load_export(*key)
        return self._sized[key]

    def _load_export(self, rows, cols):
        from posenet.engine.runtimes import load_runtime, sidecar_path

        path = export_path(self.kind, self.sha256, rows, cols)
        if not (os.path.isfile(path) and os.path.isfile(sidecar_path(path))):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            export_detector(self.model, self.kind, path, rows, cols, self.sha256)
            self.exports += 1
        return load_runtime(self.kind, path, self.num_threads)
