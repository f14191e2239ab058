"""A runtime for an in-memory pose network: Keras as is, LiteRT or ONNX exported on the fly.

:func:`runtime_for` exports the network (cut to the outputs its caller reads,
:func:`output_subset`) into a cache folder (``posenet.engine.runtimes.cache_folder``)
keyed by the weights' SHA-256, the block, the batch size, the format and the precision
(LiteRT: float32, float16 or int8, ``posenet.export.quantize``), so the export (tens of
seconds) happens once per weights, then loads it with ``posenet.engine.runtimes``.
"""

from __future__ import annotations

import os
import tempfile

from posenet.engine.errors import ExportError, require
from posenet.engine.runtimes import (
    RUNTIME_NEEDS,
    RUNTIMES,
    KerasRuntime,
    cache_folder,
    load_runtime,
    sidecar_path,
)
from posenet.export.network import write_export


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
        from posenet.export.quantize import Calibration

        name += f"-c{(calibration or Calibration()).key()}"
    return name + suffix


def runtime_for(kind, network, block=None, num_blocks=None, batch_size=None, sha256=None,
                precision="float32", calibration=None, outputs=None):
    """The runtime ``kind`` of the in-memory pose ``network`` (cut at ``block``): Keras as
    is, else exported first (cached by ``sha256`` when given, else in a temporary folder)
    at ``precision`` (litert: ``float32``, ``float16`` or ``int8``, calibrated on
    ``calibration``, a ``posenet.export.quantize.Calibration``; see ``posenet.export.quantize``).
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
    from posenet.export.quantize import check_precision

    check_precision(kind, precision)
    if kind in RUNTIME_NEEDS:
        require(*RUNTIME_NEEDS[kind])
    if precision == "int8":  # fails before the export's minutes when the crops are absent
        from posenet.export.quantize import Calibration

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
