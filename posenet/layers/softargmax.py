"""Soft-argmax layers: differentiable heatmap-to-coordinate regression.

Coordinates are normalised to [0, 1] with pixel ``i`` of a map of size ``n`` centred at
``(i + 0.5) / n``: a map concentrated on one pixel regresses that pixel's centre, and a
uniform map regresses the centre of the image (0.5).
"""

import keras
from keras import ops

from posenet.layers.precision import Float32Layer


def spatial_softmax(logits, axes=(-3, -2)):
    """Softmax over the given (spatial) axes, computed stably through logsumexp."""
    return ops.exp(logits - ops.logsumexp(logits, axis=axes, keepdims=True))


def bin_centres(n, dtype="float32"):
    """Normalised centres of ``n`` equal bins of [0, 1]: ``(i + 0.5) / n``."""
    return (ops.arange(n, dtype=dtype) + 0.5) / n


def expected_position(probs, axis):
    """Expectation of the bin centre along ``axis`` of a probability tensor.

    ``probs`` sums to one over ``axis`` (after summing out any other spatial axes); the
    result drops ``axis``.
    """
    n = probs.shape[axis]
    shape = [1] * len(probs.shape)
    shape[axis] = n
    centres = ops.reshape(bin_centres(n, probs.dtype), shape)
    return ops.sum(probs * centres, axis=axis)


@keras.saving.register_keras_serializable(package="posenet")
class SpatialSoftmax(Float32Layer):
    """Per-channel softmax over the two spatial axes: (..., H, W, J) -> same shape.

    With ``average_depth``, the inputs are volumetric (..., H, W, D, J) and the softmax is
    taken over the depth-averaged map, giving (..., H, W, J).
    """

    def __init__(self, average_depth=False, **kwargs):
        super().__init__(**kwargs)
        self.average_depth = average_depth

    def call(self, inputs):
        if self.average_depth:
            inputs = ops.mean(inputs, axis=-2)
        return spatial_softmax(inputs)

    def compute_output_shape(self, input_shape):
        if self.average_depth:
            return tuple(input_shape[:-2]) + (input_shape[-1],)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "average_depth": self.average_depth}


@keras.saving.register_keras_serializable(package="posenet")
class SoftArgmax2D(Float32Layer):
    """Heatmaps (..., H, W, J) -> expected joint positions (..., J, 2) as normalised (x, y).

    With ``apply_softmax`` (the default) the inputs are logits and a spatial softmax makes
    them a probability map per joint; without it the inputs must already be probabilities.
    """

    def __init__(self, apply_softmax=True, **kwargs):
        super().__init__(**kwargs)
        self.apply_softmax = apply_softmax

    def call(self, inputs):
        probs = spatial_softmax(inputs) if self.apply_softmax else inputs
        x = expected_position(ops.sum(probs, axis=-3), axis=-2)  # marginal over rows
        y = expected_position(ops.sum(probs, axis=-2), axis=-2)  # marginal over columns
        return ops.stack([x, y], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (input_shape[-1], 2)

    def get_config(self):
        return {**super().get_config(), "apply_softmax": self.apply_softmax}


@keras.saving.register_keras_serializable(package="posenet")
class SoftArgmax1D(Float32Layer):
    """Scores (..., D, J) -> expected normalised position (..., J, 1) along the D axis."""

    def __init__(self, apply_softmax=True, **kwargs):
        super().__init__(**kwargs)
        self.apply_softmax = apply_softmax

    def call(self, inputs):
        probs = ops.softmax(inputs, axis=-2) if self.apply_softmax else inputs
        return ops.expand_dims(expected_position(probs, axis=-2), axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-2]) + (input_shape[-1], 1)

    def get_config(self):
        return {**super().get_config(), "apply_softmax": self.apply_softmax}


@keras.saving.register_keras_serializable(package="posenet")
class VolumetricSoftArgmax(Float32Layer):
    """Volumetric heatmaps (..., H, W, D, J) -> (..., J, 3) normalised (x, y, z).

    As in the TPAMI 2020 3D head: x, y are the 2D soft-argmax of the depth-averaged map,
    z the 1D soft-argmax of the map averaged over x and y. z is normalised to [0, 1] over
    the depth range the D bins cover (root-relative depth, scaled by the caller).
    """

    def call(self, inputs):
        xy_logits = ops.mean(inputs, axis=-2)  # (..., H, W, J)
        z_logits = ops.mean(inputs, axis=(-4, -3))  # (..., D, J)
        probs_xy = spatial_softmax(xy_logits)
        x = expected_position(ops.sum(probs_xy, axis=-3), axis=-2)
        y = expected_position(ops.sum(probs_xy, axis=-2), axis=-2)
        z = expected_position(ops.softmax(z_logits, axis=-2), axis=-2)
        return ops.stack([x, y, z], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-4]) + (input_shape[-1], 3)
