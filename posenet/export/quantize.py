"""Precision of a LiteRT export: float32, float16 weights, or int8 with calibration crops.

- ``float32``: the network as it is.
- ``float16``: weights stored as float16 (half the file); LiteRT's CPU kernels run in
  float32 (the weights are expanded once, when the interpreter loads).
- ``int8``: full integer quantization of the network's internals (int8 weights per
  channel, int8 activations with ranges measured on a *representative dataset*), with
  float32 input and outputs kept, so callers of ``posenet.engine.runtimes`` see no
  difference. An operation LiteRT has no int8 kernel for stays in float32 (the converter
  inserts the (de)quantize steps around it).

The representative dataset is :func:`calibration_crops`: real person crops of a prepared
file (by default LSPet's *training* split, ``datasets/lspet_train.h5``: never the data the
figures are measured on), cut from each sample's ground-truth box exactly as evaluation
and ``posenet infer`` crop them (``posenet.evaluation.predict.crop_batches``), chosen by a
seeded draw.
"""

from __future__ import annotations

import os

import numpy as np

from posenet.data.prepared import PreparedFileError, open_prepared
from posenet.engine.errors import ExportError
from posenet.engine.inputs import crop_batches, usable_boxes
from posenet.export.convert import export_model
from posenet.native_output import LITERT_CHATTER, quiet_native

PRECISIONS = ("float32", "float16", "int8")
#: Where ``posenet prepare lspet --split train`` writes (relative to the working folder).
DEFAULT_CALIBRATION = os.path.join("datasets", "lspet_train.h5")
DEFAULT_SAMPLES = 128
DEFAULT_SEED = 0


class Calibration:
    """Where int8's calibration crops come from: a prepared ``file``, how many ``samples``
    and the ``seed`` of their draw."""

    def __init__(self, file=None, samples=DEFAULT_SAMPLES, seed=DEFAULT_SEED):
        self.file = os.fspath(file) if file is not None else DEFAULT_CALIBRATION
        self.samples, self.seed = int(samples), int(seed)
        if self.samples < 1:
            raise ExportError(f"calibration needs at least 1 sample, got {self.samples}")

    def check(self):
        """ExportError with the way to make the file when it is absent."""
        if not os.path.isfile(self.file):
            raise ExportError(
                f"int8 calibration data {self.file} not found: int8 measures the network's "
                "ranges on real person crops. Make it with `posenet prepare lspet --source "
                "../shared/data/lspet --split train --out datasets/lspet_train.h5` (or `make "
                "data-lspet`), or pass --calibration PREPARED.h5")

    def key(self) -> str:
        """A short digest of the settings and the file's size and date (for caches)."""
        import hashlib

        stat = os.stat(self.file)
        text = f"{os.path.abspath(self.file)}|{stat.st_size}|{stat.st_mtime_ns}|" \
               f"{self.samples}|{self.seed}"
        return hashlib.sha256(text.encode()).hexdigest()[:8]


def check_precision(fmt, precision):
    """ExportError when ``precision`` is unknown or ``fmt`` does not take it."""
    if precision not in PRECISIONS:
        raise ExportError(f"unknown precision {precision!r}; known: {', '.join(PRECISIONS)}")
    if precision != "float32" and fmt != "litert":
        raise ExportError(f"precision {precision} is for the litert format, not {fmt}")


def calibration_crops(calibration: Calibration, size: int) -> tuple[np.ndarray, dict]:
    """(crops (n, S, S, 3) float32 RGB in [0, 1], a description for the sidecar) of
    ``calibration``: ``samples`` samples with a usable box and an annotated joint, drawn
    with ``seed`` without replacement (all of them when the file has fewer)."""
    calibration.check()
    try:
        dataset = open_prepared(calibration.file)
    except PreparedFileError as error:
        raise ExportError(f"calibration data {calibration.file}: {error}") from None
    try:
        if "bbox" not in dataset.names or "valid2d" not in dataset.names:
            raise ExportError(f"calibration data {calibration.file} has no person boxes")
        ok = usable_boxes(dataset.arrays("bbox")) & dataset.arrays("valid2d").any(axis=1)
        usable = np.flatnonzero(ok)
        if not len(usable):
            raise ExportError(f"calibration data {calibration.file}: no sample has a usable "
                              "person box")
        rng = np.random.default_rng(calibration.seed)
        count = min(calibration.samples, len(usable))
        chosen = np.sort(rng.choice(usable, count, replace=False))
        crops = np.concatenate([x for _, _, x in crop_batches(dataset, chosen, size, 32)])
        attrs = dataset.attrs
    finally:
        dataset.close()
    info = {"file": os.path.basename(calibration.file), "dataset": attrs.get("dataset"),
            "split": attrs.get("split"), "samples": int(count), "seed": calibration.seed}
    return crops.astype(np.float32), info


def converter_options(precision) -> dict:
    """Keyword arguments of Keras's LiteRT export (TFLiteConverter attributes) for
    ``float32`` and ``float16`` (int8 is :func:`write_int8`)."""
    import tensorflow as tf

    if precision == "float16":
        return {"optimizations": [tf.lite.Optimize.DEFAULT],
                "target_spec": {"supported_types": [tf.float16]}}
    return {}


def float_layers(network) -> list[str]:
    """Names of the layers kept in float32 in an int8 export: those the network keeps in
    float32 under mixed precision too (``posenet.layers.precision.Float32Layer``: the
    soft-argmax over thousands of heatmap pixels, the visibility, context aggregation).
    Quantized, a spatial softmax's probabilities (most far below 1/256 of the peak) round
    to 0 and the coordinates drift by pixels: on LSPet this cost 20 points of PCK."""
    from posenet.layers.precision import Float32Layer

    names, todo = [], list(getattr(network, "layers", []))
    while todo:  # nested models too
        layer = todo.pop(0)
        if isinstance(layer, Float32Layer):
            names.append(layer.name)
        todo += list(getattr(layer, "layers", []))
    return names


def _tensor_names(model_bytes) -> list[str]:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806
    return [t["name"] for t in Interpreter(model_content=model_bytes).get_tensor_details()]


def write_int8(network, path, crops, batch_size=None):
    """Write ``network`` to the ``.tflite`` ``path`` quantized to int8 (float32 input and
    outputs), its activation ranges calibrated on ``crops`` (fed in batches of
    ``batch_size``, 1 when the batch is free), the :func:`float_layers` left in float32.

    Goes through TensorFlow's ``QuantizationDebugger`` (a public, experimental API), whose
    ``denylisted_nodes`` keep chosen operations out of the quantization.
    """
    import re
    import tempfile
    import warnings

    import tensorflow as tf



    step = batch_size or 1
    if crops is None or len(crops) < step:
        raise ExportError(f"int8 needs at least {step} calibration crops (the batch size)")

    def representative():
        for start in range(0, len(crops) - step + 1, step):
            yield [crops[start:start + step]]

    keep = float_layers(network)
    # TensorFlow names each operation <model>/<layer>[_k]/<op>
    pattern = re.compile("|".join(rf"/{re.escape(name)}(_\d+)?/" for name in keep) or "$^")
    with tempfile.TemporaryDirectory(prefix="posenet-int8-") as saved, \
            warnings.catch_warnings(), quiet_native(LITERT_CHATTER):
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation, inside TF
        export_model(network, "savedmodel", saved, batch_size)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=representative)
        names = [n for n in _tensor_names(debugger.calibrated_model) if pattern.search(n)]
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(
            denylisted_nodes=names)
        model = debugger.get_nondebug_quantized_model()
    with open(path, "wb") as f:
        f.write(model)
