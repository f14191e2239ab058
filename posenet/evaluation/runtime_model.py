"""Evaluating a pose network run by another runtime (LiteRT, ONNX Runtime).

:func:`runtime_model` exports a single-frame pose network (``posenet.engine.runtimes``,
cached by the weights' SHA-256) and wraps the runtime as evaluation sees a model:
``predict_on_batch`` of the network's float input (RGB in [0, 1]) and the Keras network's
``input_shapes`` / ``output_shapes``. The protocols are unchanged (the same crops, flips
and scoring); only the forward pass differs. ``--find-person`` runs ``posenet infer``'s
Predictor on the same runtime.
"""

from __future__ import annotations

import numpy as np

from posenet.evaluation.model_spec import EvaluationError, model_shapes, model_spec


class RuntimeModel:
    """``network`` (a Keras pose network) as run by ``runtime`` (``.predict(x) -> dict``)."""

    def __init__(self, network, runtime):
        self.network, self.runtime = network, runtime
        self.input_shapes, self.output_shapes = model_shapes(network)

    def predict_on_batch(self, x) -> dict:
        return self.runtime.predict(np.asarray(x, np.float32))


def check_runtime_model(network, kind):
    """EvaluationError when ``network`` cannot run through the runtime ``kind``: only
    single-frame pose networks are exported."""
    if kind == "keras":
        return
    spec = model_spec(network)
    if spec.input_kind != "frames" or not spec.pose_blocks:
        raise EvaluationError(f"--runtime {kind} runs single-frame pose networks (pose_k "
                              f"outputs on (S, S, 3) images); this model reads "
                              f"{spec.input_kind}: use --runtime keras")


def runtime_model(network, kind, sha256=None, precision="float32", calibration=None):
    """``network`` itself for ``keras``, else a :class:`RuntimeModel` of its export (every
    block's outputs, any batch size) to ``kind`` at ``precision``."""
    from posenet.export.cache import runtime_for

    check_runtime_model(network, kind)
    if kind == "keras" and precision == "float32":
        return network
    blocks = int(network.num_blocks)
    runtime = runtime_for(kind, network, blocks, blocks, sha256=sha256, precision=precision,
                          calibration=calibration)
    return RuntimeModel(network, runtime)
