"""Soft-argmax layers: differentiable heatmap-to-coordinate regression.

Coordinates are normalised to [0, 1] with pixel ``i`` of a map of size ``n`` centred at
``(i + 0.5) / n``: a map concentrated on one pixel regresses that pixel's centre, and a
uniform map regresses the centre of the image (0.5).

A ``window`` (radius r in map cells, 0 = off) restricts the expectation to the
(2r + 1) x (2r + 1) cells around each map's peak. The expectation over the whole map is
the method's (and what training uses); where a map has two modes (a second person's knee
in the crop, the other leg) it lands between them, and the window keeps the stronger one.
"""

import numbers

import keras
from keras import ops

from posenet.layers.precision import Float32Layer


def spatial_softmax(logits, axes=(-3, -2)):
    """Softmax over the given (spatial) axes, computed stably through logsumexp."""
    return ops.exp(logits - ops.logsumexp(logits, axis=axes, keepdims=True))


def bin_centres(n, dtype="float32"):
    """Normalised centres of ``n`` equal bins of [0, 1]: ``(i + 0.5) / n``."""
    return (ops.arange(n, dtype=dtype) + 0.5) / n


def _index_of_max(values, n):
    """Index (float) of the maximum of ``values`` (..., n, J) along axis -2; the mean
    index where several cells tie."""
    top = ops.cast(values >= ops.max(values, axis=-2, keepdims=True), values.dtype)
    index = ops.reshape(ops.arange(n, dtype=values.dtype), (n, 1))
    return ops.sum(top * index, axis=-2) / ops.sum(top, axis=-2)


def peak_window(probs, radius):
    """Probability maps (..., H, W, J) restricted to the cells within ``radius`` (rows and
    columns, map cells) of each map's maximum, renormalised to sum to one (a map whose
    equal maxima lie more than 2 ``radius`` apart stays whole)."""
    peak = ops.stop_gradient(probs)
    dtype = probs.dtype
    height, width = probs.shape[-3], probs.shape[-2]
    # Float arithmetic and products of masks only, no argmax (Keras' TensorFlow argmax
    # needs a select TensorFlow operator in LiteRT).
    rows = _index_of_max(ops.max(peak, axis=-2), height)  # (..., J)
    cols = _index_of_max(ops.max(peak, axis=-3), width)
    near_row = ops.abs(ops.arange(height, dtype=dtype)[:, None]
                       - ops.expand_dims(rows, -2)) <= radius  # (..., H, J)
    near_col = ops.abs(ops.arange(width, dtype=dtype)[:, None]
                       - ops.expand_dims(cols, -2)) <= radius  # (..., W, J)
    mask = (ops.expand_dims(ops.cast(near_row, dtype), -2)
            * ops.expand_dims(ops.cast(near_col, dtype), -3))  # (..., H, W, J)
    kept = probs * mask
    total = ops.sum(kept, axis=(-3, -2), keepdims=True)
    # Zero only when equal maxima lie far apart (the window centred between them): such a
    # map keeps the whole map's expectation.
    empty = ops.cast(total <= 0, dtype)
    return (kept + empty * probs) / (total + empty)


def expected_xy(probs, window=0):
    """Normalised (x, y) (..., J, 2) of probability maps (..., H, W, J), over the whole
    map or (``window`` > 0) the cells within ``window`` of each map's peak."""
    if window:
        probs = peak_window(probs, window)
    x = expected_position(ops.sum(probs, axis=-3), axis=-2)  # marginal over rows
    y = expected_position(ops.sum(probs, axis=-2), axis=-2)  # marginal over columns
    return ops.stack([x, y], axis=-1)


def check_window(window):
    """``window`` as an int >= 0 (ValueError otherwise)."""
    if isinstance(window, bool) or not isinstance(window, numbers.Integral) or window < 0:
        raise ValueError(f"window must be an integer >= 0 (map cells), got {window!r}")
    return int(window)


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
    ``window``: radius in map cells around each map's peak (0: the whole map).
    """

    def __init__(self, apply_softmax=True, window=0, **kwargs):
        super().__init__(**kwargs)
        self.apply_softmax = apply_softmax
        self.window = check_window(window)

    def call(self, inputs):
        probs = spatial_softmax(inputs) if self.apply_softmax else inputs
        return expected_xy(probs, self.window)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (input_shape[-1], 2)

    def get_config(self):
        return {**super().get_config(), "apply_softmax": self.apply_softmax,
                "window": self.window}


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
    ``window`` (map cells, 0: off) restricts x, y to the cells around the peak of the
    depth-averaged map; z is unchanged.
    """

    def __init__(self, window=0, **kwargs):
        super().__init__(**kwargs)
        self.window = check_window(window)

    def call(self, inputs):
        xy_logits = ops.mean(inputs, axis=-2)  # (..., H, W, J)
        z_logits = ops.mean(inputs, axis=(-4, -3))  # (..., D, J)
        xy = expected_xy(spatial_softmax(xy_logits), self.window)
        z = expected_position(ops.softmax(z_logits, axis=-2), axis=-2)
        return ops.concatenate([xy, ops.expand_dims(z, -1)], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-4]) + (input_shape[-1], 3)

    def get_config(self):
        return {**super().get_config(), "window": self.window}
