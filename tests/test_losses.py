"""Tests for posenet.losses against hand-computed values.

The losses are called through ``loss(y_true, y_pred)`` (the Keras ``__call__`` path with
the "sum" reduction). Backend-agnostic: run with KERAS_BACKEND=tensorflow and jax.
"""

import math

import keras
import numpy as np
import pytest

from posenet.losses import (
    ElasticNetLoss,
    MaskedBinaryCrossentropy,
    MaskedCategoricalCrossentropy,
    loss_weights_for,
    losses_for,
)

pytestmark = pytest.mark.backend

NAN = float("nan")


def value(loss, y_true, y_pred):
    """The loss through ``loss(y_true, y_pred)`` as a Python float (jitted under JAX)."""
    call = loss.__call__
    if keras.backend.backend() == "jax":
        import jax

        call = jax.jit(call)  # one compiled program rather than one per primitive
    out = call(np.asarray(y_true, "float32"), np.asarray(y_pred, "float32"))
    out = keras.ops.convert_to_numpy(out)
    assert out.shape == ()  # the "sum" reduction gives a scalar
    return float(out)


def value_and_grad(loss, y_true, y_pred):
    """(loss, d loss / d y_pred) as numpy through the Keras __call__ path, on either backend."""
    y_true = np.asarray(y_true, "float32")
    y_pred = np.asarray(y_pred, "float32")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        pred = tf.constant(y_pred)
        with tf.GradientTape() as tape:
            tape.watch(pred)
            out = loss(y_true, pred)
        grad = tape.gradient(out, pred)
        return float(out.numpy()), grad.numpy()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        out, grad = jax.jit(jax.value_and_grad(lambda p: loss(y_true, p)))(jnp.asarray(y_pred))
        return float(out), np.asarray(grad)
    pytest.skip(f"no gradient helper for backend {backend!r}")


# --------------------------------------------------------------------------- ElasticNetLoss

# Batch of 2 samples x 3 joints x 2 dims; targets (x, y, flag_x, flag_y).
PRED_2D = [
    [[0.1, 0.2], [0.5, 0.5], [0.9, 0.0]],
    [[0.3, 0.3], [0.0, 1.0], [0.2, 0.8]],
]
TRUE_2D = [
    [[0.4, 0.0, 1, 1], [NAN, NAN, 0, 0], [1.0, 0.5, 1, 1]],
    [[0.3, 0.3, 1, 1], [0.5, 0.5, 1, 1], [0.0, 0.8, 1, 1]],
]
# Labelled joints and their |e| + e^2 summed over x, y:
#   s0 j0: e = (-0.3, 0.2)  -> 0.5 + 0.13 = 0.63
#   s0 j1: masked (NaN target)
#   s0 j2: e = (-0.1, -0.5) -> 0.6 + 0.26 = 0.86
#   s1 j0: e = (0, 0)       -> 0 (but it counts as labelled)
#   s1 j1: e = (-0.5, 0.5)  -> 1.0 + 0.5 = 1.5
#   s1 j2: e = (0.2, 0)     -> 0.2 + 0.04 = 0.24
# Batch mean over the 5 labelled joints: 3.23 / 5. (Per-sample means averaged would give
# (1.49 / 2 + 1.74 / 3) / 2 = 0.6625, and their sum 1.325.)
EXPECTED_2D = 3.23 / 5


def test_elastic_net_hand_computed():
    assert value(ElasticNetLoss(), TRUE_2D, PRED_2D) == pytest.approx(EXPECTED_2D, rel=1e-5)


def test_elastic_net_per_sample_values_sum_to_batch_mean():
    loss = ElasticNetLoss()
    per_sample = keras.ops.convert_to_numpy(
        loss.call(
            keras.ops.convert_to_tensor(np.asarray(TRUE_2D, "float32")),
            keras.ops.convert_to_tensor(np.asarray(PRED_2D, "float32")),
        )
    )
    np.testing.assert_allclose(per_sample, [1.49 / 5, 1.74 / 5], rtol=1e-5)


def test_elastic_net_nan_target_under_zero_flag_gives_finite_loss_and_gradient():
    loss_value, grad = value_and_grad(ElasticNetLoss(), TRUE_2D, PRED_2D)
    assert math.isfinite(loss_value)
    assert loss_value == pytest.approx(EXPECTED_2D, rel=1e-5)
    assert np.all(np.isfinite(grad))
    # d/de (|e| + e^2) = sign(e) + 2 e, divided by the 5 labelled joints; 0 where masked.
    pred = np.asarray(PRED_2D)
    target = np.nan_to_num(np.asarray(TRUE_2D)[..., :2])
    flags = np.asarray(TRUE_2D)[..., 2:]
    err = (pred - target) * flags
    expected = (np.sign(err) + 2 * err) * flags / 5
    # Where a labelled e is exactly 0 (s1 j0, s1 j2 y), |e| is not differentiable and the
    # backends pick different subgradients (TF 0, JAX 1): accept any in [-1, 1] / 5.
    free = (err == 0) & (flags > 0)
    assert free.sum() == 3
    np.testing.assert_allclose(grad[~free], expected[~free], atol=1e-5)
    assert np.all(np.abs(grad[free]) <= 1 / 5 + 1e-6)
    np.testing.assert_array_equal(grad[0, 1], [0.0, 0.0])


def test_elastic_net_all_masked_is_exactly_zero_with_zero_gradient():
    y_true = np.asarray(TRUE_2D, "float32").copy()
    y_true[..., 2:] = 0.0
    y_true[0, 0, :2] = NAN
    loss_value, grad = value_and_grad(ElasticNetLoss(), y_true, PRED_2D)
    assert loss_value == 0.0
    np.testing.assert_array_equal(grad, np.zeros_like(grad))


def test_elastic_net_3d_ignores_z_when_z_flag_is_zero():
    pred = np.array([[[0.1, 0.2, 0.3], [0.5, 0.5, 0.9]]], "float32")  # (1, J=2, 3)
    # Joint 0: x, y labelled, z absent (NaN); joint 1: fully labelled.
    y_true = np.array([[[0.2, 0.0, NAN, 1, 1, 0], [0.5, 0.7, 0.4, 1, 1, 1]]], "float32")
    # j0: e = (-0.1, 0.2) -> 0.3 + 0.05 = 0.35; j1: e = (0, -0.2, 0.5) -> 0.7 + 0.29 = 0.99.
    expected = (0.35 + 0.99) / 2
    loss = ElasticNetLoss()
    assert value(loss, y_true, pred) == pytest.approx(expected, rel=1e-5)
    moved = pred.copy()
    moved[0, 0, 2] = -7.0
    assert value(loss, y_true, moved) == pytest.approx(expected, rel=1e-5)
    _, grad = value_and_grad(loss, y_true, pred)
    assert grad[0, 0, 2] == 0.0
    assert np.all(np.isfinite(grad))


def test_elastic_net_joint_with_one_labelled_coordinate_counts_once():
    pred = np.array([[[0.5, 0.5], [0.0, 0.0]]], "float32")
    y_true = np.array([[[0.1, 9.0, 1, 0], [0.0, 0.0, 1, 1]]], "float32")
    # j0: only x labelled, e = 0.4 -> 0.4 + 0.16 = 0.56; j1: 0. Two labelled joints.
    assert value(ElasticNetLoss(), y_true, pred) == pytest.approx(0.56 / 2, rel=1e-5)


def test_elastic_net_clip_shaped_inputs():
    # (B, T, J, D) = (2, 2, 3, 2): the same joints as TRUE_2D / PRED_2D, split over time.
    pred = np.asarray(PRED_2D, "float32").reshape(1, 2, 3, 2).repeat(2, axis=0)
    y_true = np.asarray(TRUE_2D, "float32").reshape(1, 2, 3, 4).repeat(2, axis=0)
    y_true[1, :, :, 2:] = 0.0  # second clip fully unlabelled
    assert value(ElasticNetLoss(), y_true, pred) == pytest.approx(EXPECTED_2D, rel=1e-5)
    _, grad = value_and_grad(ElasticNetLoss(), y_true, pred)
    assert grad.shape == (2, 2, 3, 2)
    assert np.all(np.isfinite(grad))
    np.testing.assert_array_equal(grad[1], np.zeros((2, 3, 2)))


# --------------------------------------------------------------------------- visibility BCE


def test_masked_binary_crossentropy_hand_computed():
    pred = [[[0.9], [0.2]], [[0.6], [0.3]], [[0.5], [0.01]]]  # (B=3, J=2, 1)
    y_true = [[[1, 1], [NAN, 0]], [[0, 1], [1, 1]], [[1, 0], [0, 0]]]
    # Labelled: (1, 0.9), (0, 0.6), (1, 0.3).
    expected = -(math.log(0.9) + math.log(0.4) + math.log(0.3)) / 3
    loss = MaskedBinaryCrossentropy()
    assert value(loss, y_true, pred) == pytest.approx(expected, rel=1e-5)
    loss_value, grad = value_and_grad(loss, y_true, pred)
    assert np.all(np.isfinite(grad))
    # d/dp of -log p is -1/p; of -log(1 - p) is 1/(1 - p); 0 where unlabelled.
    expected_grad = np.zeros((3, 2, 1))
    expected_grad[0, 0, 0] = -1 / 0.9 / 3
    expected_grad[1, 0, 0] = 1 / 0.4 / 3
    expected_grad[1, 1, 0] = -1 / 0.3 / 3
    np.testing.assert_allclose(grad, expected_grad, atol=1e-4)


def test_masked_binary_crossentropy_all_masked_is_zero():
    pred = [[[0.9], [0.2]], [[0.6], [0.0]]]
    y_true = [[[1, 0], [NAN, 0]], [[0, 0], [1, 0]]]
    loss_value, grad = value_and_grad(MaskedBinaryCrossentropy(), y_true, pred)
    assert loss_value == 0.0
    np.testing.assert_array_equal(grad, np.zeros_like(grad))


# --------------------------------------------------------------------------- action CCE

ACTION_PRED = [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.25, 0.25, 0.5]]


def test_masked_categorical_crossentropy_hand_computed():
    y_true = [[1, 0, 0], [0, 0, 0], [0, 1, 0]]
    # Row 1 is unlabelled; mean over rows 0 and 2 of -log p[label].
    expected = -(math.log(0.7) + math.log(0.25)) / 2
    loss = MaskedCategoricalCrossentropy()
    assert value(loss, y_true, ACTION_PRED) == pytest.approx(expected, rel=1e-5)


def test_masked_categorical_crossentropy_zero_row_contributes_nothing():
    y_true = [[1, 0, 0], [0, 0, 0], [0, 1, 0]]
    loss = MaskedCategoricalCrossentropy()
    changed = np.asarray(ACTION_PRED, "float32").copy()
    changed[1] = [1e-9, 1e-9, 1.0 - 2e-9]
    assert value(loss, y_true, changed) == pytest.approx(value(loss, y_true, ACTION_PRED))
    _, grad = value_and_grad(loss, y_true, ACTION_PRED)
    np.testing.assert_array_equal(grad[1], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(grad[0], [-1 / 0.7 / 2, 0, 0], atol=1e-5)
    np.testing.assert_allclose(grad[2], [0, -1 / 0.25 / 2, 0], atol=1e-5)


def test_masked_categorical_crossentropy_all_unlabelled_is_zero():
    loss_value, grad = value_and_grad(MaskedCategoricalCrossentropy(), np.zeros((3, 3)),
                                      ACTION_PRED)
    assert loss_value == 0.0
    np.testing.assert_array_equal(grad, np.zeros_like(grad))


# --------------------------------------------------------------------------- output mapping

NAMES = [
    "pose_1",
    "visibility_1",
    "pose_2",
    "visibility_2",
    "action_penn_action_1",
    "action_ntu_4",
    "features",
]


def test_losses_for_maps_kinds_and_skips_features():
    losses = losses_for(NAMES)
    assert list(losses) == NAMES[:-1]
    assert isinstance(losses["pose_1"], ElasticNetLoss)
    assert isinstance(losses["pose_2"], ElasticNetLoss)
    assert isinstance(losses["visibility_1"], MaskedBinaryCrossentropy)
    assert isinstance(losses["visibility_2"], MaskedBinaryCrossentropy)
    assert isinstance(losses["action_penn_action_1"], MaskedCategoricalCrossentropy)
    assert isinstance(losses["action_ntu_4"], MaskedCategoricalCrossentropy)
    assert losses["pose_1"] is not losses["pose_2"]
    for loss in losses.values():
        assert loss.reduction == "sum"


def test_loss_weights_for_defaults():
    assert loss_weights_for(NAMES) == {
        "pose_1": 1.0,
        "visibility_1": 0.01,
        "pose_2": 1.0,
        "visibility_2": 0.01,
        "action_penn_action_1": 0.01,
        "action_ntu_4": 0.1,
    }


def test_loss_weights_for_override_and_unknown_dataset():
    weights = loss_weights_for(NAMES + ["action_jhmdb_2"], action_weights={"ntu": 0.5})
    assert weights["action_ntu_4"] == 0.5
    assert weights["action_penn_action_1"] == 0.01
    assert weights["action_jhmdb_2"] == 0.01
    assert weights["pose_2"] == 1.0
    assert "features" not in weights
    weights = loss_weights_for(NAMES, action_weights={"penn_action": 0.3})
    assert weights["action_penn_action_1"] == 0.3
    assert weights["action_ntu_4"] == 0.1
    # The override does not leak into later calls.
    assert loss_weights_for(NAMES)["action_penn_action_1"] == 0.01
