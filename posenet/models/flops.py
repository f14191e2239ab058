"""Analytic count of the floating-point operations of a model's convolutions and dense layers.

A multiply-add counts as 2 FLOPs. Element-wise work (normalisation, activations, softmax,
pooling) is left out: it is a few percent of the convolutions in these networks.
"""

import math

from keras import layers

from posenet.models.weights import iter_layers


def layer_flops(layer):
    """FLOPs of one call of ``layer`` on one sample (0 for layers without a kernel)."""
    try:
        out_shape = layer.output.shape
    except (AttributeError, ValueError):
        return 0
    positions = math.prod(d for d in out_shape[1:-1] if d)
    if isinstance(layer, layers.SeparableConv2D):
        kh, kw, cin, mult = layer.depthwise_kernel.shape
        cout = layer.pointwise_kernel.shape[-1]
        return 2 * positions * (kh * kw * cin * mult + cin * mult * cout)
    if isinstance(layer, layers.DepthwiseConv2D):
        kh, kw, cin, mult = layer.kernel.shape
        return 2 * positions * kh * kw * cin * mult
    if isinstance(layer, (layers.Conv2D, layers.Conv1D, layers.Conv3D)):
        return 2 * positions * math.prod(layer.kernel.shape)
    if isinstance(layer, layers.Dense):
        return 2 * positions * math.prod(layer.kernel.shape)
    return 0


def model_flops(model, exclude=()):
    """FLOPs per sample of a model, descending into nested models except ``exclude`` paths."""
    return sum(
        layer_flops(layer)
        for path, layer in iter_layers(model)
        if not any(path.startswith(f"{prefix}/") for prefix in exclude)
    )


def flops_per_frame(model):
    """FLOPs per input frame: for clip models, the pose network per frame plus the action
    part's per-clip work divided by the clip's frames."""
    frames = getattr(model, "num_frames", None)
    if frames is None or not hasattr(model, "pose_network"):
        return model_flops(model)
    per_frame = model_flops(model.pose_network)
    per_clip = model_flops(model, exclude=("pose_network",))
    return per_frame + per_clip / frames
