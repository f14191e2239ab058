"""Runtimes that run the pose network: Keras, LiteRT (.tflite) or ONNX Runtime.

``load_runtime(kind, path_or_model)`` returns an object whose ``predict(batch)`` gives
``{output name: array}`` as the Keras network's ``predict_on_batch`` does. ``batch`` is
either uint8 BGR crops (N, S, S, 3), as the Predictor crops them (converted with
``to_input``), or the network's float input (RGB in [0, 1]) as is.

``keras`` takes a Keras model or a ``.keras`` path; ``litert`` and ``onnx`` take a file
written by ``posenet export`` (its sidecar JSON, when present, gives the fixed batch size).
:func:`runtime_for` exports an in-memory network on the fly for the Predictor
(``posenet infer --runtime``), into a cache folder (``$POSENET_CACHE``, default
``~/.cache/posenet``) keyed by the weights' SHA-256, the block, the batch size, the
format and the precision (LiteRT: float32, float16 or int8, ``posenet.quantize``), so the
export (tens of seconds) happens once per weights. LiteRT's interpreter is created quietly
(its C++ INFO lines filtered, ``posenet.native_output``) unless ``$POSENET_VERBOSE``.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from posenet.export import ExportError, require, sidecar_path, write_export
from posenet.native_output import LITERT_CHATTER, quiet_native

RUNTIMES = ("keras", "litert", "onnx")
#: Modules each runtime needs, and the extra that installs them.
RUNTIME_NEEDS = {"onnx": (("onnxruntime",), "onnx")}


def _float_input(batch) -> np.ndarray:
    from posenet.evaluation.predict import to_input

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
            from posenet.inference.weights import load_weights

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
        self.info = _read_sidecar(path)
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
        self.info = _read_sidecar(path)
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


def output_subset(network, names=None):
    """``network`` cut to the outputs ``names``: a functional model over the same layers
    and variables (nothing copied) with the attributes the export reads (``input_size``,
    ``num_joints``, ``pose_dims``, ``num_blocks``); ``network`` itself when ``names`` is
    None or all of its outputs. A runtime computes only what its outputs need: the
    Predictor, which reads one block's pose and visibility, skips a mobile network's
    person heads (figures in the README's export section)."""
    if names is None or set(names) >= set(network.output_names):
        return network
    import keras

    by_name = dict(zip(network.output_names, network.outputs, strict=True))
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        raise ValueError(f"the network has no output {', '.join(unknown)}")
    subset = keras.Model(network.inputs, {n: by_name[n] for n in sorted(names)},
                         name=f"{network.name}_subset")
    for attribute in ("input_size", "num_joints", "pose_dims", "num_blocks"):
        setattr(subset, attribute, getattr(network, attribute))
    return subset


def export_name(kind, network, block=None, batch_size=None, sha256=None,
                precision="float32", calibration=None) -> str:
    """The cache file name of an on-the-fly export (float32 keeps the historical name;
    a network cut to some of its outputs, :func:`output_subset`, is named by them)."""
    suffix = {"litert": ".tflite", "onnx": ".onnx"}[kind]
    name = f"{sha256[:16]}-b{block}-n{batch_size or 'any'}-s{network.input_size}"
    if network.name.endswith("_subset"):
        import hashlib

        outputs = ",".join(sorted(network.output_names)).encode()
        name += f"-o{hashlib.sha256(outputs).hexdigest()[:8]}"
    if precision != "float32":
        name += f"-{precision}"
    if precision == "int8":
        from posenet.quantize import Calibration

        name += f"-c{(calibration or Calibration()).key()}"
    return name + suffix


def runtime_for(kind, network, block=None, num_blocks=None, batch_size=None, sha256=None,
                precision="float32", calibration=None, outputs=None):
    """The runtime ``kind`` of the in-memory pose ``network`` (cut at ``block``): Keras as
    is, else exported first (cached by ``sha256`` when given, else in a temporary folder)
    at ``precision`` (litert: ``float32``, ``float16`` or ``int8``, calibrated on
    ``calibration``, a ``posenet.quantize.Calibration``; see ``posenet.quantize``).
    ``outputs``: the output names the caller reads (default all; :func:`output_subset`).

    ``kind`` may also be a runtime already built (anything with ``predict``): returned as
    it is, so a caller can hand the Predictor one it made."""
    if not isinstance(kind, str) and hasattr(kind, "predict"):
        return kind
    if kind not in RUNTIMES:
        raise ValueError(f"unknown runtime {kind!r}; known: {', '.join(RUNTIMES)}")
    network = output_subset(network, outputs)
    if kind == "keras":
        if precision != "float32":
            raise ExportError(f"precision {precision} is for the litert runtime, not keras")
        return KerasRuntime(network)
    from posenet.quantize import check_precision

    check_precision(kind, precision)
    if kind in RUNTIME_NEEDS:
        require(*RUNTIME_NEEDS[kind])
    if precision == "int8":  # fails before the export's minutes when the crops are absent
        from posenet.quantize import Calibration

        calibration = calibration or Calibration()
        calibration.check()
    export = {"batch_size": batch_size, "precision": precision, "calibration": calibration}
    if sha256:
        folder = cache_folder()
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, export_name(kind, network, block, batch_size, sha256,
                                                precision, calibration))
        if not (os.path.isfile(path) and os.path.isfile(sidecar_path(path))):
            write_export(network, kind, path, block, num_blocks, sha256=sha256, **export)
        return load_runtime(kind, path)
    with tempfile.TemporaryDirectory(prefix="posenet-export-") as folder:
        path = os.path.join(folder, export_name(kind, network, block, batch_size, "pose",
                                                precision, calibration))
        write_export(network, kind, path, block, num_blocks, **export)
        return load_runtime(kind, path)  # both runtimes read the file whole on loading


def model_fps(runtime, batch, repeats=5) -> float:
    """Frames/s of ``runtime.predict`` on ``batch`` (median of ``repeats`` after a warm-up)."""
    return interleaved_fps({"one": runtime}, batch, repeats)["one"]


def interleaved_fps(runtimes: dict, batch, repeats=5) -> dict:
    """Frames/s of each of ``runtimes`` (name -> runtime) on ``batch``: the median of
    ``repeats`` rounds, each timing every runtime once in turn after a warm-up, so a
    machine whose load drifts slows them all alike."""
    import time

    times: dict[str, list] = {name: [] for name in runtimes}
    for runtime in runtimes.values():
        runtime.predict(batch)
    for _ in range(repeats):
        for name, runtime in runtimes.items():
            start = time.perf_counter()
            runtime.predict(batch)
            times[name].append(time.perf_counter() - start)
    return {name: len(batch) / float(np.median(t)) for name, t in times.items()}


def main(argv=None):
    """``python -m posenet.inference.runtime [WEIGHTS] [--batch-size N] [--runtime K ...]
    [--precision P ...] [--all-outputs]``: model-only frames/s of the pose network per
    runtime (litert at each ``--precision``; timed in interleaved rounds) and the ratio to
    Keras; the network computes what the Predictor reads (the last block's pose and
    visibility), or with ``--all-outputs`` every output (as ``posenet export`` writes it)."""
    import argparse

    from posenet.inference.weights import load_weights
    from posenet.outputs import pose_output, visibility_output
    from posenet.quantize import PRECISIONS, Calibration

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("weights", nargs="?", default=None)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--runtime", action="append", choices=RUNTIMES)
    parser.add_argument("--precision", action="append", choices=PRECISIONS,
                        help="litert's precisions to measure (default: float32)")
    parser.add_argument("--calibration", default=None, help="int8's prepared file")
    parser.add_argument("--all-outputs", action="store_true",
                        help="time every output, person heads included")
    args = parser.parse_args(argv)
    loaded = load_weights(args.weights)
    pose = loaded.pose
    size = pose.input_size
    batch = np.random.default_rng(0).integers(0, 256, (args.batch_size, size, size, 3),
                                              dtype=np.uint8)
    outputs = None if args.all_outputs else [pose_output(pose.num_blocks),
                                             visibility_output(pose.num_blocks)]
    runtimes = {}
    for kind in args.runtime or RUNTIMES:
        for precision in (args.precision or ["float32"]) if kind == "litert" else ["float32"]:
            label = kind if precision == "float32" else f"{kind} {precision}"
            runtimes[label] = runtime_for(kind, pose, pose.num_blocks, pose.num_blocks,
                                          sha256=loaded.sha256, precision=precision,
                                          calibration=Calibration(args.calibration),
                                          outputs=outputs)
    rates = interleaved_fps(runtimes, batch, args.repeats)
    for label, rate in rates.items():
        ratio = rate / rates["keras"] if "keras" in rates else float("nan")
        print(f"{label}: {rate:.1f} frames/s (batch {args.batch_size}, {size} px), "
              f"{ratio:.2f}x keras", flush=True)


if __name__ == "__main__":
    main()
