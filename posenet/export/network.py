"""Exporting the pose network for other runtimes: SavedModel, LiteRT (.tflite), ONNX.

:func:`export_network` writes the single-frame pose network of a ``.keras`` file (a
PoseNetwork, a MobilePoseNetwork, or the pose part of a MultitaskModel), optionally cut
after a block, with Keras's own ``model.export`` (LiteRT goes through TensorFlow's
``TFLiteConverter``, ONNX through ``tf2onnx``), plus a sidecar JSON with what inference
needs (:func:`sidecar_path`): the input (name, shape, RGB in [0, 1]), the output names,
the joints' layout, the block used, the pose dimensions, the depth range and the precision
(LiteRT can store float16 weights or quantize to int8: ``posenet.export.quantize``).

The exported input is float32 RGB in [0, 1], (N, S, S, 3), N free unless ``batch_size``
fixes it. Everything is written beside the target under a temporary name and renamed at
the end: a failure leaves nothing half-written.
"""

from __future__ import annotations

import os

from posenet.engine.errors import ExportError, require
from posenet.export.convert import (
    EXPORT_NEEDS,
    FORMATS,
    check_destination,
    export_model,
    metadata,
    publish,
    resize_network,
)


def write_export(network, fmt, path, block=None, num_blocks=None, batch_size=None,
                 source=None, sha256=None, precision="float32", calibration=None) -> dict:
    """Export the in-memory pose ``network`` (already cut at ``block``, default its last)
    to ``path`` atomically with its sidecar; returns the sidecar dict.

    ``precision`` (litert only): ``float32``, ``float16`` or ``int8``; int8 calibrates on
    the crops of ``calibration`` (a ``posenet.export.quantize.Calibration``, default LSPet's
    training split), see ``posenet.export.quantize``.
    """
    from posenet.export import quantize

    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt in EXPORT_NEEDS:
        require(*EXPORT_NEEDS[fmt])
    quantize.check_precision(fmt, precision)
    path = os.path.abspath(os.fspath(path))
    check_destination(path)
    block = network.num_blocks if block is None else int(block)
    num_blocks = network.num_blocks if num_blocks is None else int(num_blocks)
    suffix = FORMATS[fmt][1]
    crops, described = None, None
    if precision == "int8":  # read before anything is written: a bad file fails first
        crops, described = quantize.calibration_crops(calibration or quantize.Calibration(),
                                                      int(network.input_size))
    converter = quantize.converter_options(precision) if fmt == "litert" else None
    info = metadata(network, fmt, block, num_blocks, batch_size, os.path.basename(path),
                    source, sha256, precision, described)
    if precision == "int8":  # the layers left in float32 (quantize.float_layers)
        info["float_layers"] = quantize.float_layers(network)
        publish(path, suffix, lambda tmp: quantize.write_int8(network, tmp, crops, batch_size),
                info)
    else:
        publish(path, suffix, lambda tmp: export_model(network, fmt, tmp, batch_size, converter),
                info)
    return info


def export_network(weights, fmt, path, block=None, batch_size=None, input_size=None,
                   precision="float32", calibration=None) -> dict:
    """Export the pose network of ``weights`` (a ``.keras`` path, or anything
    ``posenet.engine.weights.load_weights`` takes) cut after ``block`` (default: its
    last) to ``path`` in ``fmt`` (:data:`FORMATS`) at ``precision`` (litert: see
    :func:`write_export`); returns the sidecar dict.

    ExportError (or ``WeightsError``) with the reason on bad input.
    """
    from posenet.engine.weights import load_weights
    from posenet.export import quantize

    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt in EXPORT_NEEDS:
        require(*EXPORT_NEEDS[fmt])
    quantize.check_precision(fmt, precision)
    if precision == "int8":  # before the network loads
        (calibration or quantize.Calibration()).check()
    check_destination(path)
    if batch_size is not None and batch_size < 1:
        raise ExportError(f"--batch-size must be at least 1, got {batch_size}")
    loaded = load_weights(weights)
    pose = loaded.pose
    if block is not None and not 1 <= block <= pose.num_blocks:
        raise ExportError(f"--block must be in 1..{pose.num_blocks}, got {block}")
    block = pose.num_blocks if block is None else int(block)
    network = pose if block == pose.num_blocks else pose.truncated(block)
    if input_size is not None:
        network = resize_network(network, int(input_size))
    return write_export(network, fmt, path, block, pose.num_blocks, batch_size,
                        loaded.source, loaded.sha256, precision, calibration)
