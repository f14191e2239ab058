"""Writing a Keras network in another runtime's format, atomically, with its sidecar JSON.

``export_model`` runs Keras's own ``model.export`` (LiteRT through TensorFlow's
``TFLiteConverter``, ONNX through ``tf2onnx``); :func:`publish` writes a model and its
sidecar (``posenet.engine.runtimes.sidecar_path``) under a temporary name beside the target
and renames both at the end, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import os
import shutil

import numpy as np

from posenet.engine.errors import ExportError
from posenet.engine.runtimes import FOLDER_SIDECAR
from posenet.io import remove_stale_temporaries, temporary_name, write_json_atomic
from posenet.native_output import LITERT_CHATTER, quiet_native

#: ``--format`` name -> (Keras export format, file suffix or "" for a folder).
FORMATS = {"savedmodel": ("tf_saved_model", ""), "litert": ("litert", ".tflite"),
           "onnx": ("onnx", ".onnx")}


#: Modules each format needs to be exported, and the extra that installs them.
EXPORT_NEEDS = {"onnx": (("tf2onnx", "onnx"), "onnx")}


SCHEMA = "posenet-export/1"


def resize_network(network, input_size):
    """A copy of the (fully convolutional) ``network`` taking ``input_size`` inputs."""
    from posenet.models.weights import copy_weights_by_name

    if input_size == network.input_size:
        return network
    if input_size % 32:
        raise ExportError(f"--input-size must be a multiple of 32, got {input_size}")
    resized = type(network).from_config({**network.get_config(), "input_size": input_size})
    try:
        copy_weights_by_name(network, resized)
    except ValueError as error:
        raise ExportError(f"the network cannot take {input_size} px inputs: {error}") from None
    return resized


def metadata(network, fmt, block, num_blocks, batch_size, file, source=None, sha256=None,
             precision="float32", calibration=None):
    """The sidecar dict of an export of ``network`` (already cut at ``block``);
    ``calibration`` describes int8's calibration crops."""
    from posenet.data.targets import DEPTH_RANGE_MM
    from posenet.outputs import pose_output, visibility_output
    from posenet.skeleton import get_skeleton, layout_name

    size = int(network.input_size)
    skeleton = get_skeleton(layout_name(network.num_joints))
    return {
        "schema": SCHEMA, "format": fmt, "file": file,
        "network": type(network).__name__,
        "input": {"name": "image", "shape": [batch_size, size, size, 3], "dtype": "float32",
                  "channels": "RGB", "range": [0.0, 1.0]},
        "outputs": sorted(network.output_names),
        "pose_output": pose_output(block), "visibility_output": visibility_output(block),
        "input_size": size, "num_joints": int(network.num_joints),
        "layout": skeleton.name, "joints": list(skeleton.joints),
        "num_blocks": int(num_blocks), "block": int(block),
        "pose_dims": int(network.pose_dims),
        "depth_range_mm": float(DEPTH_RANGE_MM) if network.pose_dims == 3 else None,
        "batch_size": batch_size, "source": source, "sha256": sha256,
        "precision": precision, "calibration": calibration,
    }


def example_inputs(network, batch_size=1):
    """Zero inputs of ``network``: a pose network's (N, S, S, 3) image, one array for any
    single-input model, else one array per Keras input keyed by its name (an
    ActionNetwork's ``poses`` and ``visibility``)."""
    if hasattr(network, "input_size"):
        size = network.input_size
        return np.zeros((batch_size, size, size, 3), np.float32)
    if len(network.inputs) == 1:
        return np.zeros((batch_size, *network.inputs[0].shape[1:]), np.float32)
    return {t.name: np.zeros((batch_size, *t.shape[1:]), np.float32) for t in network.inputs}


def export_model(network, fmt, path, batch_size=None, converter=None):
    """``network.export`` to ``path`` in the posenet ``fmt`` (no sidecar, not atomic);
    ``converter``: TFLiteConverter settings (litert, ``posenet.export.quantize``)."""
    import keras

    keras_format, _ = FORMATS[fmt]
    kwargs = dict(converter or {})
    if batch_size is not None:
        import tensorflow as tf

        def spec(name, x):
            return tf.TensorSpec((batch_size, *x.shape[1:]), tf.float32, name=name)

        sample = example_inputs(network)
        kwargs["input_signature"] = [spec("image", sample) if isinstance(sample, np.ndarray)
                                     else {k: spec(k, v) for k, v in sample.items()}]
    if keras.backend.backend() != "tensorflow":
        raise ExportError("export runs on the tensorflow Keras backend (--backend tensorflow)")
    # the ONNX exporter refuses a model never called (as one just loaded is)
    network.predict_on_batch(example_inputs(network))
    with quiet_native(LITERT_CHATTER):  # the quantizer's summary line
        network.export(path, format=keras_format, verbose=False, **kwargs)


def check_destination(path):
    """ExportError when ``path``'s folder does not exist or cannot be written."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(folder):
        raise ExportError(f"cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {path}: the folder {folder} is not writable")
    if os.path.isdir(path) and not os.path.isfile(os.path.join(path, FOLDER_SIDECAR)):
        raise ExportError(f"{path} is a folder that is not a posenet export: not replacing it")


def _replace(source, target):
    """Rename ``source`` onto ``target``; a folder replaces a folder (the old one is moved
    aside first, then removed)."""
    if os.path.isdir(target) and not os.path.islink(target):
        old = temporary_name(target)
        os.replace(target, old)
        os.replace(source, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(source, target)


def publish(path, suffix, write, info):
    """Write a model with ``write(tmp)`` (``tmp`` ends in ``suffix``; "" for a folder) in a
    temporary folder beside ``path``, with the sidecar ``info``, then rename both onto
    ``path``: a failure leaves nothing half-written."""
    remove_stale_temporaries(os.path.dirname(path))
    folder = temporary_name(path)
    os.mkdir(folder)
    try:
        tmp = os.path.join(folder, "model" + suffix)
        write(tmp)
        if suffix:  # a file: the sidecar lies beside it, renamed after the file
            write_json_atomic(os.path.join(folder, "sidecar.json"), info)
            _replace(tmp, path)
            _replace(os.path.join(folder, "sidecar.json"), path + ".json")
        else:  # a folder: the sidecar lies inside, so one rename publishes both
            write_json_atomic(os.path.join(tmp, FOLDER_SIDECAR), info)
            _replace(tmp, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
