"""Runtimes that run the pose network: Keras, LiteRT (.tflite) or ONNX Runtime.

``load_runtime(kind, path_or_model)`` returns an object whose ``predict(batch)`` gives
``{output name: array}`` as the Keras network's ``predict_on_batch`` does. ``batch`` is
either uint8 BGR crops (N, S, S, 3), as the Predictor crops them (converted with
``to_input``), or the network's float input (RGB in [0, 1]) as is.

``keras`` takes a Keras model or a ``.keras`` path; ``litert`` and ``onnx`` take a file
written by ``posenet export`` (its sidecar JSON, :func:`sidecar_path`, when present gives
the fixed batch size). ``posenet.export.cache.runtime_for`` exports an in-memory network on
the fly into :func:`cache_folder` (``$POSENET_CACHE``, default ``~/.cache/posenet``).
LiteRT's interpreter is created quietly (its C++ INFO lines filtered,
``posenet.native_output``) unless ``$POSENET_VERBOSE``.
"""

from __future__ import annotations

import json
import os

import numpy as np

from posenet.engine.errors import ExportError, require
from posenet.engine.inputs import to_input
from posenet.native_output import LITERT_CHATTER, quiet_native

RUNTIMES = ("keras", "litert", "onnx")
#: Modules each runtime needs, and the extra that installs them.
RUNTIME_NEEDS = {"onnx": (("onnxruntime",), "onnx")}


def _float_input(batch) -> np.ndarray:
    batch = np.asarray(batch)
    if batch.dtype == np.uint8:
        return to_input(batch)
    return np.ascontiguousarray(batch, dtype=np.float32)


def _read_sidecar(path) -> dict:
    side = sidecar_path(path)
    if not os.path.isfile(side):
        return {}
    with open(side) as f:
        return json.load(f)


def _in_batches(run, x, batch_size):
    """``run`` over ``x`` in batches of exactly ``batch_size`` (the last one padded)."""
    if batch_size is None or len(x) == batch_size:
        return run(x)
    parts: dict[str, list] = {}
    for start in range(0, len(x), batch_size):
        piece = x[start:start + batch_size]
        count = len(piece)
        if count < batch_size:
            pad = np.zeros((batch_size - count, *x.shape[1:]), x.dtype)
            piece = np.concatenate([piece, pad])
        for name, value in run(piece).items():
            parts.setdefault(name, []).append(value[:count])
    return {name: np.concatenate(v) for name, v in parts.items()}


class KerasRuntime:
    kind = "keras"

    def __init__(self, model):
        if isinstance(model, (str, os.PathLike)):
            from posenet.engine.weights import load_weights

            model = load_weights(model).pose
        self.model = model

    def predict(self, batch) -> dict:
        # Keras traces the predict function with reduce_retracing, so a short last batch
        # does not build a new graph per size.
        out = self.model.predict_on_batch(_float_input(batch))
        return {name: np.asarray(value) for name, value in out.items()}


class LiteRTRuntime:
    """A ``.tflite`` file run by LiteRT's interpreter (``ai_edge_litert``, else TensorFlow's
    ``tf.lite``) with XNNPACK on every CPU core."""

    kind = "litert"

    def __init__(self, path, num_threads=None):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter  # noqa: N806
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise ExportError(f"LiteRT model {path} not found")
        self.path, self.info = path, _read_sidecar(path)
        # LiteRT's C++ logger prints an INFO line when the XNNPACK delegate is applied (at
        # the first allocation): allocated here, under the filter, so it never shows.
        with quiet_native(LITERT_CHATTER):
            self.interpreter = Interpreter(model_path=path,
                                           num_threads=num_threads or os.cpu_count() or 1)
            self.interpreter.allocate_tensors()
        signatures = self.interpreter.get_signature_list()
        self.signature = next(iter(signatures))
        self.input_name = signatures[self.signature]["inputs"][0]
        self.runner = self.interpreter.get_signature_runner(self.signature)
        self.batch_size = self.info.get("batch_size")

    def _run(self, x):
        out = self.runner(**{self.input_name: x})
        return {name: np.array(value) for name, value in out.items()}

    def predict(self, batch) -> dict:
        return _in_batches(self._run, _float_input(batch), self.batch_size)


class OnnxRuntime:
    """A ``.onnx`` file run by ONNX Runtime on the CPU, on every core."""

    kind = "onnx"

    def __init__(self, path, num_threads=None):
        require(*RUNTIME_NEEDS["onnx"])
        import onnxruntime as ort

        path = os.fspath(path)
        if not os.path.isfile(path):
            raise ExportError(f"ONNX model {path} not found")
        self.path, self.info = path, _read_sidecar(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or os.cpu_count() or 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.batch_size = self.info.get("batch_size")

    def _run(self, x):
        values = self.session.run(self.output_names, {self.input_name: x})
        return dict(zip(self.output_names, values, strict=True))

    def predict(self, batch) -> dict:
        return _in_batches(self._run, _float_input(batch), self.batch_size)


def load_runtime(kind, path_or_model, num_threads=None):
    """The runtime ``kind`` (:data:`RUNTIMES`) of a Keras model or ``.keras`` path
    (``keras``) or of an exported file (``litert``, ``onnx``)."""
    if kind == "keras":
        return KerasRuntime(path_or_model)
    if kind == "litert":
        return LiteRTRuntime(path_or_model, num_threads)
    if kind == "onnx":
        return OnnxRuntime(path_or_model, num_threads)
    raise ValueError(f"unknown runtime {kind!r}; known: {', '.join(RUNTIMES)}")


def cache_folder() -> str:
    """Where on-the-fly exports are kept (``$POSENET_CACHE``, else ``~/.cache/posenet``)."""
    root = os.environ.get("POSENET_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                           "posenet")
    return os.path.join(root, "exports")


#: Name of the sidecar inside an exported folder (SavedModel).
FOLDER_SIDECAR = "posenet_export.json"


def sidecar_path(path) -> str:
    """The metadata JSON of an export: ``<PATH>.json`` beside a file, or
    ``PATH/posenet_export.json`` inside a folder (SavedModel)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return os.path.join(path, FOLDER_SIDECAR)
    return path + ".json"
