"""Tests for posenet.layers, against values computed by hand or with numpy.

Backend-agnostic: run with KERAS_BACKEND=tensorflow and KERAS_BACKEND=jax.
"""

import keras
import numpy as np
import pytest
from keras import ops

import posenet.layers as pl
from posenet.layers import (
    AppearancePooling,
    ContextAggregation,
    FoldTime,
    GlobalMaxMinPooling2D,
    JointDistances,
    JointMotion,
    JointVisibility,
    MaxMinPooling2D,
    SoftArgmax1D,
    SoftArgmax2D,
    SpatialSoftmax,
    UnfoldTime,
    VolumetricSoftArgmax,
    VolumetricVisibility,
)

pytestmark = pytest.mark.backend

BIG = 1e4
RNG_SEED = 1234


def run(layer, *inputs):
    """Call ``layer`` eagerly on float32 numpy inputs and return a numpy array."""
    args = [np.asarray(x, dtype="float32") for x in inputs]

    def call(*xs):
        return layer(list(xs) if len(xs) > 1 else xs[0])

    if keras.backend.backend() == "jax":
        # One compiled program per call instead of one per primitive: much faster on CPU.
        import jax

        call = jax.jit(call)
    return keras.ops.convert_to_numpy(call(*args))


def value_and_grad(fn, x):
    """Scalar ``fn`` of one float32 array: (value, d fn / d x) as numpy, on either backend."""
    x = np.asarray(x, dtype="float32")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        var = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(var)
            value = fn(var)
        grad = tape.gradient(value, var)
        return float(keras.ops.convert_to_numpy(value)), keras.ops.convert_to_numpy(grad)
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        value, grad = jax.jit(jax.value_and_grad(fn))(jnp.asarray(x))
        return float(value), np.asarray(grad)
    pytest.skip(f"no gradient helper for backend {backend!r}")


def np_softmax(x, axis):
    x = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def peaked(shape, index):
    """An array of -BIG with +BIG at ``index``."""
    a = np.full(shape, -BIG, dtype="float32")
    a[index] = BIG
    return a


def np_soft_argmax_2d(logits):
    """Reference (..., H, W, J) -> (..., J, 2) with pixel centres (i + 0.5) / n."""
    h, w = logits.shape[-3], logits.shape[-2]
    probs = np_softmax_hw(logits)
    xs = (np.arange(w) + 0.5) / w
    ys = (np.arange(h) + 0.5) / h
    x = np.einsum("...hwj,w->...j", probs, xs)
    y = np.einsum("...hwj,h->...j", probs, ys)
    return np.stack([x, y], axis=-1)


def np_softmax_hw(logits):
    shape = logits.shape
    flat = logits.reshape(shape[:-3] + (shape[-3] * shape[-2], shape[-1]))
    return np_softmax(flat, axis=-2).reshape(shape)


# --------------------------------------------------------------------------- SoftArgmax2D

H, W = 8, 12  # non-square so that x / y (or H / W) mix-ups fail


@pytest.mark.parametrize("r,c", [(0, 0), (2, 9), (7, 11), (5, 1)])
def test_soft_argmax_2d_peak_returns_pixel_centre(r, c):
    logits = peaked((1, H, W, 1), (0, r, c, 0))
    out = run(SoftArgmax2D(), logits)
    assert out.shape == (1, 1, 2)
    np.testing.assert_allclose(out[0, 0], [(c + 0.5) / W, (r + 0.5) / H], atol=1e-6)


def test_soft_argmax_2d_uniform_returns_centre():
    out = run(SoftArgmax2D(), np.full((2, H, W, 3), 3.7))
    np.testing.assert_allclose(out, np.full((2, 3, 2), 0.5), atol=1e-6)


def test_soft_argmax_2d_without_softmax_one_hot_is_exact_centre():
    probs = np.zeros((1, H, W, 1), dtype="float32")
    probs[0, 6, 3, 0] = 1.0
    out = run(SoftArgmax2D(apply_softmax=False), probs)
    np.testing.assert_allclose(out[0, 0], [3.5 / W, 6.5 / H], rtol=0, atol=1e-7)


def test_soft_argmax_2d_without_softmax_is_linear_expectation():
    # Two half masses: the result is the mean of the two pixel centres.
    probs = np.zeros((1, H, W, 1), dtype="float32")
    probs[0, 1, 2, 0] = 0.5
    probs[0, 5, 10, 0] = 0.5
    out = run(SoftArgmax2D(apply_softmax=False), probs)
    expected = [0.5 * (2.5 + 10.5) / W, 0.5 * (1.5 + 5.5) / H]
    np.testing.assert_allclose(out[0, 0], expected, atol=1e-6)


def test_soft_argmax_2d_joints_are_independent():
    peaks = [(0, 0), (3, 7), (7, 11)]
    logits = np.full((1, H, W, 3), -BIG, dtype="float32")
    for j, (r, c) in enumerate(peaks):
        logits[0, r, c, j] = BIG
    out = run(SoftArgmax2D(), logits)
    expected = [[(c + 0.5) / W, (r + 0.5) / H] for r, c in peaks]
    np.testing.assert_allclose(out[0], expected, atol=1e-6)


def test_soft_argmax_2d_leading_dims_and_random_reference():
    rng = np.random.default_rng(RNG_SEED)
    logits = rng.normal(scale=2.0, size=(2, 3, H, W, 4)).astype("float32")
    logits[1, 2, :, :, 1] = -BIG
    logits[1, 2, 4, 9, 1] = BIG
    out = run(SoftArgmax2D(), logits)
    assert out.shape == (2, 3, 4, 2)
    np.testing.assert_allclose(out, np_soft_argmax_2d(logits.astype("float64")), atol=1e-5)
    np.testing.assert_allclose(out[1, 2, 1], [9.5 / W, 4.5 / H], atol=1e-6)


def test_soft_argmax_2d_gradients_finite_and_nonzero():
    layer = SoftArgmax2D()
    rng = np.random.default_rng(RNG_SEED)
    weights = np.array([1.0, -2.0], dtype="float32")

    def objective(v):
        return ops.sum(layer(v) * weights)

    value, grad = value_and_grad(objective, rng.normal(size=(1, H, W, 2)))
    assert np.isfinite(value)
    assert grad.shape == (1, H, W, 2)
    assert np.all(np.isfinite(grad))
    assert np.max(np.abs(grad)) > 1e-4
    # The logits' gradient sums to zero per map (softmax is shift invariant).
    np.testing.assert_allclose(grad.sum(axis=(1, 2)), 0.0, atol=1e-5)

    value, grad = value_and_grad(objective, peaked((1, H, W, 2), (0, 3, 4, slice(None))))
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))


# --------------------------------------------------------------------------- SoftArgmax1D


@pytest.mark.parametrize("d", [0, 3, 6])
def test_soft_argmax_1d_peak_uniform_and_one_hot(d):
    depth = 7
    out = run(SoftArgmax1D(), peaked((2, depth, 1), (slice(None), d, 0)))
    assert out.shape == (2, 1, 1)
    np.testing.assert_allclose(out[..., 0], np.full((2, 1), (d + 0.5) / depth), atol=1e-6)

    out = run(SoftArgmax1D(), np.full((2, depth, 3), -1.5))
    np.testing.assert_allclose(out, np.full((2, 3, 1), 0.5), atol=1e-6)

    one_hot = np.zeros((1, depth, 1), dtype="float32")
    one_hot[0, d, 0] = 1.0
    out = run(SoftArgmax1D(apply_softmax=False), one_hot)
    np.testing.assert_allclose(out[0, 0, 0], (d + 0.5) / depth, atol=1e-7)


def test_soft_argmax_1d_hand_computed_and_joints_independent():
    # Joint 0: logits (0, log 3) over 2 bins -> probs (0.25, 0.75) -> 0.25*0.25 + 0.75*0.75.
    # Joint 1: peaked at bin 0 -> 0.25.
    scores = np.array([[[0.0, BIG], [np.log(3.0), -BIG]]], dtype="float32")  # (1, D=2, J=2)
    out = run(SoftArgmax1D(), scores)
    np.testing.assert_allclose(out[0, :, 0], [0.625, 0.25], atol=1e-6)


def test_soft_argmax_1d_gradient_nonzero():
    layer = SoftArgmax1D()
    rng = np.random.default_rng(RNG_SEED)
    value, grad = value_and_grad(lambda v: ops.sum(layer(v)), rng.normal(size=(2, 5, 3)))
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad)) and np.max(np.abs(grad)) > 1e-4


# --------------------------------------------------------------------------- VolumetricSoftArgmax

D = 4


@pytest.mark.parametrize("r,c,d", [(0, 0, 0), (6, 2, 3), (1, 10, 1)])
def test_volumetric_soft_argmax_peak(r, c, d):
    volume = peaked((1, H, W, D, 1), (0, r, c, d, 0))
    out = run(VolumetricSoftArgmax(), volume)
    assert out.shape == (1, 1, 3)
    np.testing.assert_allclose(
        out[0, 0], [(c + 0.5) / W, (r + 0.5) / H, (d + 0.5) / D], atol=1e-6
    )


def test_volumetric_soft_argmax_uniform():
    out = run(VolumetricSoftArgmax(), np.full((2, H, W, D, 3), 0.3))
    np.testing.assert_allclose(out, np.full((2, 3, 3), 0.5), atol=1e-6)


def test_volumetric_soft_argmax_two_depth_bins_hand_computed():
    # Depth bin 0 holds a map s with mean 0, bin 1 holds log(3) + s'. The depth-averaged map
    # is (s + s') / 2 + log(3) / 2 (x, y from it); the xy-averaged profile is (0, log 3),
    # so z = 0.25 * 0.25 + 0.75 * 0.75 = 0.625.
    rng = np.random.default_rng(RNG_SEED)
    s0 = rng.normal(size=(H, W))
    s1 = rng.normal(size=(H, W))
    s0 -= s0.mean()
    s1 -= s1.mean()
    volume = np.stack([s0, np.log(3.0) + s1], axis=-1)[None, :, :, :, None]  # (1,H,W,2,1)
    out = run(VolumetricSoftArgmax(), volume)

    avg = 0.5 * (s0 + s1)
    probs = np_softmax(avg.reshape(-1), axis=0).reshape(H, W)
    x = np.sum(probs.sum(axis=0) * (np.arange(W) + 0.5) / W)
    y = np.sum(probs.sum(axis=1) * (np.arange(H) + 0.5) / H)
    np.testing.assert_allclose(out[0, 0], [x, y, 0.625], atol=1e-5)
    # Sanity: the hand-computed x, y are far from the image centre, so the check is real.
    assert abs(x - 0.5) + abs(y - 0.5) > 1e-3


def test_volumetric_soft_argmax_random_reference():
    rng = np.random.default_rng(RNG_SEED)
    volume = rng.normal(scale=2.0, size=(2, 3, H, W, D, 2))  # extra leading dim (B, T, ...)
    out = run(VolumetricSoftArgmax(), volume)
    assert out.shape == (2, 3, 2, 3)
    xy = np_soft_argmax_2d(volume.mean(axis=-2))
    profile = np_softmax(volume.mean(axis=(-4, -3)), axis=-2)  # (..., D, J)
    z = np.einsum("...dj,d->...j", profile, (np.arange(D) + 0.5) / D)
    expected = np.concatenate([xy, z[..., None]], axis=-1)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_volumetric_soft_argmax_gradient():
    layer = VolumetricSoftArgmax()
    rng = np.random.default_rng(RNG_SEED)
    value, grad = value_and_grad(lambda v: ops.sum(layer(v)), rng.normal(size=(1, 4, 5, 3, 2)))
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad)) and np.max(np.abs(grad)) > 1e-4


def two_modes(shape, strong, weak, gap=1.0):
    """Logits (1, H, W, 1) of -BIG but for two cells: ``strong`` at 0 and ``weak`` at
    -``gap`` (two people's knees in one crop)."""
    logits = np.full(shape, -BIG, dtype="float32")
    logits[(0, *strong, 0)] = 0.0
    logits[(0, *weak, 0)] = -gap
    return logits


def test_window_keeps_the_stronger_of_two_modes():
    """The whole-map expectation lands between two modes; a window around the peak
    returns the stronger mode's cell centre, and a window that reaches both is the whole
    map again."""
    logits = two_modes((1, H, W, 1), strong=(1, 2), weak=(6, 9))
    whole = run(SoftArgmax2D(), logits)[0, 0]
    near = run(SoftArgmax2D(window=2), logits)[0, 0]
    wide = run(SoftArgmax2D(window=max(H, W)), logits)[0, 0]
    np.testing.assert_allclose(near, [2.5 / W, 1.5 / H], atol=1e-6)
    np.testing.assert_allclose(wide, whole, atol=1e-6)
    weak = np.exp(-1.0) / (1.0 + np.exp(-1.0))  # the weak mode's share, pulling the mean
    np.testing.assert_allclose(whole, [((1 - weak) * 2.5 + weak * 9.5) / W,
                                       ((1 - weak) * 1.5 + weak * 6.5) / H], atol=1e-5)


def test_window_is_a_square_around_the_peak_by_hand():
    """Probabilities inside the window renormalise: with the peak at row 3, column 5, a
    second cell at distance 1 (kept by window 1, not by window 0's off state) moves the
    expectation by its share; one at distance 2 is dropped by window 1."""
    logits = np.full((1, H, W, 1), -BIG, dtype="float32")
    logits[0, 3, 5, 0] = np.log(3.0)  # probability 3/5 before the window
    logits[0, 4, 6, 0] = np.log(1.0)  # 1/5, diagonal neighbour: inside window 1
    logits[0, 3, 7, 0] = np.log(1.0)  # 1/5, two columns away: outside window 1
    got = run(SoftArgmax2D(window=1), logits)[0, 0]
    np.testing.assert_allclose(got, [(0.75 * 5.5 + 0.25 * 6.5) / W,
                                     (0.75 * 3.5 + 0.25 * 4.5) / H], atol=1e-6)


def test_volumetric_window_moves_x_y_only():
    rng = np.random.default_rng(RNG_SEED)
    volume = rng.normal(scale=2.0, size=(2, H, W, D, 3))
    whole = run(VolumetricSoftArgmax(), volume)
    windowed = run(VolumetricSoftArgmax(window=1), volume)
    np.testing.assert_allclose(windowed[..., 2], whole[..., 2], atol=1e-6)
    assert np.abs(windowed[..., :2] - whole[..., :2]).max() > 1e-3
    # x, y as the 2D layer's on the depth-averaged logits
    np.testing.assert_allclose(windowed[..., :2], run(SoftArgmax2D(window=1), volume.mean(-2)),
                               atol=1e-5)


def test_windowed_gradient_is_finite_and_reaches_the_window_only():
    logits = two_modes((1, H, W, 1), strong=(1, 2), weak=(6, 9), gap=0.5)
    logits[logits < -1] = -5.0  # finite everywhere, so every cell has a gradient path
    value, grad = value_and_grad(lambda v: ops.sum(SoftArgmax2D(window=1)(v)), logits)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    inside = np.abs(grad[0, 0:3, 1:4, 0]).max()  # the window around the peak
    assert inside > 1e-4
    # outside, the softmax's normaliser cancels in the window's: zero up to round-off
    assert np.abs(grad[0, 5:8, 8:11, 0]).max() < 1e-4 * inside


def test_window_between_two_equal_far_peaks_keeps_the_whole_map():
    """Two equal maxima far apart put the window between them, on cells of probability
    zero: the whole map's expectation (their midpoint) rather than a division by zero."""
    logits = np.full((1, H, W, 1), -BIG, dtype="float32")
    logits[0, 0, 0, 0] = logits[0, 7, 11, 0] = 0.0
    got = run(SoftArgmax2D(window=1), logits)[0, 0]
    np.testing.assert_allclose(got, [0.5, 0.5], atol=1e-6)


@pytest.mark.parametrize("window", [-1, 1.5, True, "2"])
def test_window_must_be_a_non_negative_integer(window):
    with pytest.raises(ValueError, match="window"):
        SoftArgmax2D(window=window)
    with pytest.raises(ValueError, match="window"):
        VolumetricSoftArgmax(window=window)


# --------------------------------------------------------------------------- SpatialSoftmax


def test_spatial_softmax_sums_to_one_and_matches_numpy():
    rng = np.random.default_rng(RNG_SEED)
    logits = rng.normal(scale=3.0, size=(2, 5, 6, 3))
    out = run(SpatialSoftmax(), logits)
    assert out.shape == logits.shape
    np.testing.assert_allclose(out.sum(axis=(1, 2)), np.ones((2, 3)), atol=1e-5)
    np.testing.assert_allclose(out, np_softmax_hw(logits), atol=1e-6)


def test_spatial_softmax_average_depth():
    rng = np.random.default_rng(RNG_SEED)
    volume = rng.normal(scale=3.0, size=(2, 5, 6, 4, 3))
    out = run(SpatialSoftmax(average_depth=True), volume)
    assert out.shape == (2, 5, 6, 3)
    np.testing.assert_allclose(out, np_softmax_hw(volume.mean(axis=-2)), atol=1e-6)
    np.testing.assert_allclose(out.sum(axis=(1, 2)), np.ones((2, 3)), atol=1e-5)


def test_spatial_softmax_stable_for_huge_logits():
    out = run(SpatialSoftmax(), peaked((1, 3, 4, 1), (0, 2, 1, 0)) * 1e3)  # +-1e7
    expected = np.zeros((1, 3, 4, 1))
    expected[0, 2, 1, 0] = 1.0
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, expected, atol=1e-7)


# --------------------------------------------------------------------------- visibility


def test_joint_visibility_peak_uniform_and_shape():
    logits = np.zeros((2, H, W, 3), dtype="float32")  # joint 0 uniform
    logits[:, :, :, 1] = peaked((2, H, W), (slice(None), 0, W - 1))  # peak in a corner
    logits[:, :, :, 2] = peaked((2, H, W), (slice(None), 4, 5))
    out = run(JointVisibility(), logits)
    assert out.shape == (2, 3, 1)
    np.testing.assert_allclose(out[:, 0, 0], 4.0 / (H * W), rtol=1e-5)
    np.testing.assert_allclose(out[:, 1:, 0], 1.0, atol=1e-6)


def test_joint_visibility_matches_max_2x2_window_mass():
    rng = np.random.default_rng(RNG_SEED)
    logits = rng.normal(scale=2.0, size=(2, 5, 7, 2))
    p = np_softmax_hw(logits)
    mass = p[:, :-1, :-1] + p[:, 1:, :-1] + p[:, :-1, 1:] + p[:, 1:, 1:]
    out = run(JointVisibility(), logits)
    np.testing.assert_allclose(out[..., 0], mass.max(axis=(1, 2)), rtol=1e-5)
    # Mass split evenly over one 2x2 window, nothing elsewhere: visibility 1.
    split = np.full((1, 5, 7, 1), -BIG, dtype="float32")
    split[0, 2:4, 3:5, 0] = 0.0
    np.testing.assert_allclose(run(JointVisibility(), split)[0, 0, 0], 1.0, atol=1e-6)


def test_volumetric_visibility_matches_numpy():
    rng = np.random.default_rng(RNG_SEED)
    volume = rng.normal(size=(2, 5, 6, 4, 3))
    out = run(VolumetricVisibility(), volume)
    assert out.shape == (2, 3, 1)
    peak_xy = volume.mean(axis=3).max(axis=(1, 2))
    peak_z = volume.mean(axis=(1, 2)).max(axis=1)
    np.testing.assert_allclose(out[..., 0], np_sigmoid(peak_xy + peak_z), rtol=1e-5)


# --------------------------------------------------------------------------- ContextAggregation


def test_context_aggregation_hand_computed_and_channel_order():
    own = np.array([[[0.2, 0.4], [0.5, 0.5]]])  # (1, J=2, 2)
    # Joint j's context maps are channels j * C .. j * C + C - 1 (C = 2).
    context = np.array([[[0.6, 0.4], [0.0, 1.0], [1.0, 0.0], [0.0, 0.5]]])  # (1, 4, 2)
    confidence = np.array([[[0.25], [0.75], [0.1], [0.3]]])  # (1, 4, 1)
    out = run(ContextAggregation(num_context=2, alpha=0.8), own, context, confidence)
    # Joint 0: weighted mean (0.6*0.25 + 0*0.75, 0.4*0.25 + 1*0.75) / 1.0 = (0.15, 0.85)
    #   -> 0.8 * (0.2, 0.4) + 0.2 * (0.15, 0.85) = (0.19, 0.49).
    # Joint 1: (1*0.1 + 0*0.3, 0*0.1 + 0.5*0.3) / 0.4 = (0.25, 0.375)
    #   -> 0.8 * (0.5, 0.5) + 0.2 * (0.25, 0.375) = (0.45, 0.475).
    assert out.shape == (1, 2, 2)
    np.testing.assert_allclose(out[0], [[0.19, 0.49], [0.45, 0.475]], atol=1e-6)


def test_context_aggregation_three_maps_random_reference():
    rng = np.random.default_rng(RNG_SEED)
    b, j, c, alpha = 3, 4, 3, 0.7
    own = rng.uniform(size=(b, j, 2))
    context = rng.uniform(size=(b, j * c, 2))
    confidence = rng.uniform(0.05, 1.0, size=(b, j * c, 1))
    out = run(ContextAggregation(num_context=c, alpha=alpha), own, context, confidence)
    ctx = context.reshape(b, j, c, 2)
    conf = confidence.reshape(b, j, c, 1)
    blended = (ctx * conf).sum(axis=2) / conf.sum(axis=2)
    np.testing.assert_allclose(out, alpha * own + (1 - alpha) * blended, atol=1e-5)


# --------------------------------------------------------------------------- pooling


def np_max_min_pool(x, size, padding):
    """max + min over windows of ``size`` with stride ``size``, TF/XLA padding conventions.

    'same' pads ``(out - 1) * size + size - n`` cells in total, ``total // 2`` before and
    the rest after; padded cells are ignored.
    """
    b, rows, cols, f = x.shape

    def starts(n):
        if padding == "same":
            out = -(-n // size)
            before = max((out - 1) * size + size - n, 0) // 2
        else:
            out, before = n // size, 0
        return [i * size - before for i in range(out)]

    row_starts, col_starts = starts(rows), starts(cols)
    out = np.zeros((b, len(row_starts), len(col_starts), f))
    for i, r0 in enumerate(row_starts):
        for j, c0 in enumerate(col_starts):
            window = x[:, max(r0, 0) : r0 + size, max(c0, 0) : c0 + size]
            out[:, i, j] = window.max(axis=(1, 2)) + window.min(axis=(1, 2))
    return out


@pytest.mark.parametrize(
    "shape,size,padding",
    [
        ((2, 4, 6, 3), 2, "valid"),
        ((2, 5, 7, 3), 2, "valid"),
        ((2, 5, 7, 3), 2, "same"),
        ((1, 7, 8, 2), 3, "same"),
        ((1, 7, 8, 2), 3, "valid"),
    ],
)
def test_max_min_pooling(shape, size, padding):
    rng = np.random.default_rng(RNG_SEED)
    x = rng.normal(size=shape)
    layer = MaxMinPooling2D(pool_size=size, padding=padding)
    out = run(layer, x)
    expected = np_max_min_pool(x, size, padding)
    assert out.shape == expected.shape
    assert tuple(layer.compute_output_shape(shape)) == out.shape
    assert tuple(layer.compute_output_shape((None,) + shape[1:])) == (None,) + out.shape[1:]
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_max_min_pooling_hand_computed():
    # One 2x2 window per channel: max + min of (3, -1, 0.5, 2) = 2; a negative-only window
    # (-4, -2, -3, -5) gives -2 - 5 = -7.
    x = np.array([[[[3.0, -4.0], [-1.0, -2.0]], [[0.5, -3.0], [2.0, -5.0]]]])  # (1, 2, 2, 2)
    out = run(MaxMinPooling2D(), x)
    np.testing.assert_allclose(out.reshape(-1), [2.0, -7.0])


def test_global_max_min_pooling():
    rng = np.random.default_rng(RNG_SEED)
    x = rng.normal(size=(3, 5, 6, 4))
    layer = GlobalMaxMinPooling2D()
    out = run(layer, x)
    assert out.shape == (3, 4) == tuple(layer.compute_output_shape(x.shape))
    np.testing.assert_allclose(out, x.max(axis=(1, 2)) + x.min(axis=(1, 2)), atol=1e-6)


def test_appearance_pooling_matches_einsum_and_picks_pixel():
    rng = np.random.default_rng(RNG_SEED)
    probs = np_softmax_hw(rng.normal(size=(2, 3, 5, 6, 4)))  # (B, T, H, W, J)
    features = rng.normal(size=(2, 3, 5, 6, 7))
    layer = AppearancePooling()
    out = run(layer, probs, features)
    assert out.shape == (2, 3, 4, 7)
    assert tuple(layer.compute_output_shape([probs.shape, features.shape])) == out.shape
    np.testing.assert_allclose(
        out, np.einsum("bthwj,bthwc->btjc", probs, features), atol=1e-5
    )

    one_hot = np.zeros((2, 5, 6, 2))
    one_hot[:, 3, 1, 0] = 1.0
    one_hot[:, 0, 5, 1] = 1.0
    feats = rng.normal(size=(2, 5, 6, 7))
    out = run(layer, one_hot, feats)
    np.testing.assert_allclose(out[:, 0], feats[:, 3, 1], atol=1e-6)
    np.testing.assert_allclose(out[:, 1], feats[:, 0, 5], atol=1e-6)


# --------------------------------------------------------------------------- time folding


def test_fold_unfold_round_trip_and_ordering():
    b, t = 2, 3
    x = np.arange(b * t * 4 * 5 * 2, dtype="float32").reshape(b, t, 4, 5, 2)
    fold, unfold = FoldTime(), UnfoldTime(num_frames=t)
    folded = run(fold, x)
    assert folded.shape == (b * t, 4, 5, 2)
    for i in range(b):
        for k in range(t):
            np.testing.assert_array_equal(folded[i * t + k], x[i, k])
    back = run(unfold, folded)
    np.testing.assert_array_equal(back, x)
    assert tuple(fold.compute_output_shape(x.shape)) == folded.shape
    assert tuple(fold.compute_output_shape((None, t, 4, 5, 2))) == (None, 4, 5, 2)
    assert tuple(unfold.compute_output_shape(folded.shape)) == x.shape
    assert tuple(unfold.compute_output_shape((None, 4, 5, 2))) == (None, t, 4, 5, 2)


# --------------------------------------------------------------------------- output shapes


@pytest.mark.parametrize(
    "layer,shapes",
    [
        (SoftArgmax2D(), [(2, 3, 5, 6, 4)]),
        (SoftArgmax1D(), [(2, 5, 4)]),
        (VolumetricSoftArgmax(), [(2, 5, 6, 3, 4)]),
        (SpatialSoftmax(), [(2, 5, 6, 4)]),
        (SpatialSoftmax(average_depth=True), [(2, 5, 6, 3, 4)]),
        (JointVisibility(), [(2, 3, 5, 6, 4)]),
        (VolumetricVisibility(), [(2, 5, 6, 3, 4)]),
        (ContextAggregation(num_context=3), [(2, 4, 2), (2, 12, 2), (2, 12, 1)]),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, keras.layers.Layer) else None,
)
def test_compute_output_shape_matches_call(layer, shapes):
    rng = np.random.default_rng(RNG_SEED)
    inputs = [rng.uniform(0.1, 1.0, size=s) for s in shapes]
    out = run(layer, *inputs)
    declared = layer.compute_output_shape(shapes if len(shapes) > 1 else shapes[0])
    assert tuple(declared) == out.shape


# --------------------------------------------------------------------------- serialisation

SERIALISATION_CASES = [
    SoftArgmax2D(apply_softmax=False, window=3, name="sa2"),
    SoftArgmax1D(apply_softmax=False, name="sa1"),
    VolumetricSoftArgmax(window=2, name="vsa"),
    SpatialSoftmax(average_depth=True, name="ss"),
    JointVisibility(name="jv"),
    VolumetricVisibility(name="vv"),
    ContextAggregation(num_context=3, alpha=0.7, name="ctx"),
    MaxMinPooling2D(pool_size=3, padding="same", name="mmp"),
    GlobalMaxMinPooling2D(name="gmmp"),
    AppearancePooling(name="ap"),
    FoldTime(name="fold"),
    UnfoldTime(num_frames=5, name="unfold"),
    JointDistances(epsilon=1e-4, name="jd"),
    JointMotion(lag=2, name="jm"),
]


def test_serialisation_cases_cover_every_layer():
    covered = {type(layer).__name__ for layer in SERIALISATION_CASES}
    assert covered == set(pl.__all__)


@pytest.mark.parametrize("layer", SERIALISATION_CASES, ids=lambda v: type(v).__name__)
def test_layer_serialisation_round_trip(layer):
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()
    assert restored.name == layer.name
    for attr in ("apply_softmax", "average_depth", "num_context", "alpha", "pool_size",
                 "padding", "num_frames", "window"):
        if hasattr(layer, attr):
            assert getattr(restored, attr) == getattr(layer, attr)


def test_non_default_configs_are_recorded():
    configs = {type(layer).__name__: layer.get_config() for layer in SERIALISATION_CASES}
    assert configs["SoftArgmax2D"]["apply_softmax"] is False
    assert configs["SoftArgmax2D"]["window"] == 3
    assert configs["VolumetricSoftArgmax"]["window"] == 2
    assert configs["SoftArgmax1D"]["apply_softmax"] is False
    assert configs["SpatialSoftmax"]["average_depth"] is True
    assert configs["ContextAggregation"]["num_context"] == 3
    assert configs["ContextAggregation"]["alpha"] == pytest.approx(0.7)
    assert configs["MaxMinPooling2D"]["pool_size"] == 3
    assert configs["MaxMinPooling2D"]["padding"] == "same"
    assert configs["UnfoldTime"]["num_frames"] == 5
    assert configs["JointDistances"]["epsilon"] == pytest.approx(1e-4)
    assert configs["JointMotion"]["lag"] == 2


def test_functional_model_save_and_load(tmp_path):
    inputs = keras.Input((H, W, 3))
    maps = keras.layers.Conv2D(2, 1, name="maps")(inputs)
    pose = SoftArgmax2D(name="pose")(maps)
    vis = JointVisibility(name="vis")(maps)
    model = keras.Model(inputs, [pose, vis])
    assert tuple(model.outputs[0].shape) == (None, 2, 2)
    assert tuple(model.outputs[1].shape) == (None, 2, 1)

    x = np.random.default_rng(RNG_SEED).normal(size=(2, H, W, 3)).astype("float32")
    before = [keras.ops.convert_to_numpy(o) for o in model(x)]
    path = tmp_path / "tiny.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.get_layer("pose"), SoftArgmax2D)
    assert isinstance(loaded.get_layer("vis"), JointVisibility)
    after = [keras.ops.convert_to_numpy(o) for o in loaded(x)]
    for a, b in zip(before, after, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)


# --------------------------------------------------------------------------- geometry


def test_joint_distances_by_hand_and_hidden_pairs():
    rng = np.random.default_rng(RNG_SEED)
    poses = rng.uniform(0, 1, (2, 3, 4, 2)).astype(np.float32)
    vis = np.ones((2, 3, 4, 1), np.float32)
    vis[1, 2, 3] = 0.0  # joint 3 hidden in one frame
    out = ops.convert_to_numpy(JointDistances(epsilon=0.0)([poses, vis]))
    rows, cols = np.triu_indices(4, k=1)
    expected = np.linalg.norm(poses[:, :, rows] - poses[:, :, cols], axis=-1)
    expected[1, 2, cols == 3] = 0.0  # every pair with the hidden joint
    assert out.shape == (2, 3, 6)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    # moving or turning the person in the plane leaves the distances as they are
    turn = np.array([[0.0, -1.0], [1.0, 0.0]], np.float32)
    moved = poses @ turn.T + np.float32(0.3)
    again = ops.convert_to_numpy(JointDistances(epsilon=0.0)([moved, vis]))
    np.testing.assert_allclose(again, out, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("lag", [1, 2])
def test_joint_motion_by_hand(lag):
    rng = np.random.default_rng(RNG_SEED)
    poses = rng.uniform(0, 1, (2, 5, 3, 2)).astype(np.float32)
    vis = np.ones((2, 5, 3, 1), np.float32)
    vis[0, 1, 2] = 0.0
    out = ops.convert_to_numpy(JointMotion(lag)([poses, vis]))
    expected = np.zeros((2, 5, 3, 2), np.float32)
    expected[:, :-lag] = poses[:, lag:] - poses[:, :-lag]
    expected[0, 1, 2] = 0.0  # hidden at frame 1: its motion from frame 1 and into it
    expected[0, 1 - lag, 2] = 0.0
    np.testing.assert_allclose(out, expected.reshape(2, 5, 6), atol=1e-6)
    with pytest.raises(ValueError, match="lag"):
        JointMotion(0)
