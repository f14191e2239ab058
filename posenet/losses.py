"""Losses of the multitask network, masked so that missing labels contribute nothing.

Target conventions (the data pipeline writes targets this way):

- ``pose_k`` (B, J, D) or clips (B, T, J, D): targets (..., J, 2 * D), the D coordinates
  followed by D per-coordinate validity flags (1 labelled, 0 absent). A 2D-only sample of a
  3D model sets the z flag to 0; coordinates under a 0 flag may hold anything, even NaN.
- ``visibility_k`` (..., J, 1): targets (..., J, 2), the visibility (0 or 1) and its flag.
- ``action_<dataset>_k`` (B, C) probabilities: targets (B, C) one-hot; an all-zero row
  (a sample without an action label, or from another dataset) contributes nothing.

Each loss is normalised by the number of labelled items in the batch (joints, or samples
for actions), so a batch without any label gives exactly 0 and never NaN.
"""

import keras
from keras import ops

from posenet.outputs import action_dataset, output_kind

#: The method's loss weights: pose 1, visibility 0.01, action per dataset.
POSE_WEIGHT = 1.0
VISIBILITY_WEIGHT = 0.01
ACTION_WEIGHTS = {"penn_action": 0.01, "ntu": 0.1}
DEFAULT_ACTION_WEIGHT = 0.01


def _replica_sum(value):
    """``value`` summed over the replicas of a TensorFlow distribution strategy (itself
    elsewhere: JAX's sharded arrays already span the global batch)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        if context is not None and context.num_replicas_in_sync > 1:
            return context.all_reduce("SUM", tf.stop_gradient(value))
    return value


def _normalised_sum(per_item, counts):
    """Per-sample sums of ``per_item`` divided by the global batch's total ``counts`` (at
    least 1).

    With the loss reduction "sum", these per-sample values add up to the batch mean over
    labelled items. Under data parallelism each replica divides by the count of the whole
    global batch, so the replicas' summed gradients are the one-device gradient.
    """
    axes = tuple(range(1, len(per_item.shape)))
    per_sample = ops.sum(per_item, axis=axes) if axes else per_item
    return per_sample / ops.maximum(_replica_sum(ops.sum(counts)), 1.0)


@keras.saving.register_keras_serializable(package="posenet")
class ElasticNetLoss(keras.losses.Loss):
    """L1 + L2 error on labelled joints, averaged over the labelled joints of the batch.

    Per joint: ``sum_d |e_d| + e_d ** 2`` over its labelled coordinates ``d``; a joint
    counts once if any of its coordinates is labelled. Units: those of the targets
    (normalised coordinates for the network's outputs).
    """

    def __init__(self, name="elastic_net", reduction="sum", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)

    def call(self, y_true, y_pred):
        dims = y_pred.shape[-1]
        y_true = ops.cast(y_true, y_pred.dtype)
        flags = y_true[..., dims : 2 * dims]
        # Replace unlabelled targets first: a NaN there would poison the gradient.
        target = ops.where(flags > 0, y_true[..., :dims], ops.zeros_like(y_pred))
        error = (y_pred - target) * flags
        per_joint = ops.sum(ops.abs(error) + ops.square(error), axis=-1)
        return _normalised_sum(per_joint, ops.max(flags, axis=-1))


@keras.saving.register_keras_serializable(package="posenet")
class MaskedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy of the visibility of labelled joints, averaged over them."""

    def __init__(self, name="masked_binary_crossentropy", reduction="sum", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        target, flag = y_true[..., 0], y_true[..., 1]
        target = ops.where(flag > 0, target, ops.zeros_like(target))
        prob = ops.clip(y_pred[..., 0], 1e-7, 1.0 - 1e-7)
        bce = -(target * ops.log(prob) + (1.0 - target) * ops.log(1.0 - prob))
        return _normalised_sum(bce * flag, flag)


@keras.saving.register_keras_serializable(package="posenet")
class MaskedCategoricalCrossentropy(keras.losses.Loss):
    """Categorical cross-entropy over labelled samples (one-hot rows), averaged over them."""

    def __init__(self, name="masked_categorical_crossentropy", reduction="sum", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        labelled = ops.sum(y_true, axis=-1)
        prob = ops.clip(y_pred, 1e-7, 1.0)
        return _normalised_sum(-ops.sum(y_true * ops.log(prob), axis=-1), labelled)


def losses_for(output_names):
    """A dict of losses for the supervised outputs (features and maps are skipped)."""
    makers = {
        "pose": ElasticNetLoss,
        "visibility": MaskedBinaryCrossentropy,
        "action": MaskedCategoricalCrossentropy,
    }
    losses = {}
    for name in output_names:
        try:
            losses[name] = makers[output_kind(name)]()
        except ValueError:
            continue
    return losses


def loss_weights_for(output_names, action_weights=None):
    """The method's loss weights for the supervised outputs, overridable per dataset."""
    action_weights = {**ACTION_WEIGHTS, **(action_weights or {})}
    weights = {}
    for name in losses_for(output_names):
        kind = output_kind(name)
        if kind == "pose":
            weights[name] = POSE_WEIGHT
        elif kind == "visibility":
            weights[name] = VISIBILITY_WEIGHT
        else:
            weights[name] = action_weights.get(action_dataset(name), DEFAULT_ACTION_WEIGHT)
    return weights
