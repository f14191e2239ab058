"""Pose-sequence features of the geometric action branch: joint distances and motion.

Both read a clip of normalised joints ``poses`` (B, T, J, D) with its ``visibility``
(B, T, J, 1) and ignore what involves a hidden joint (its coordinates are 0 there), so a
joint the pose network missed reads as "unknown" rather than as a joint at the origin.
"""

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="posenet")
class JointDistances(keras.layers.Layer):
    """[poses (B, T, J, D), visibility (B, T, J, 1)] -> (B, T, J(J-1)/2): per frame the
    Euclidean distance of every pair of joints (the upper triangle of the distance matrix,
    in the poses' units), 0 where either joint is hidden.

    Distances do not change when the person moves or turns in the image plane: the pose's
    shape, apart from where it is (DD-Net's "joint collection distances", Yang et al. 2019).
    """

    def __init__(self, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        num_joints = int(input_shape[0][2])
        rows, cols = np.triu_indices(num_joints, k=1)
        self._pairs = (rows * num_joints + cols).astype("int32")
        self._num_joints = num_joints

    def call(self, inputs):
        poses, visibility = inputs
        j = self._num_joints
        diff = ops.expand_dims(poses, 3) - ops.expand_dims(poses, 2)  # (B, T, J, J, D)
        # epsilon keeps the gradient of sqrt finite at a joint's distance to itself
        dist = ops.sqrt(ops.sum(ops.square(diff), axis=-1) + self.epsilon)
        both = visibility * ops.swapaxes(visibility, 2, 3)  # (B, T, J, J)
        dist = dist * both
        shape = ops.shape(dist)
        return ops.take(ops.reshape(dist, (shape[0], shape[1], j * j)), self._pairs, axis=2)

    def compute_output_shape(self, input_shape):
        b, t, j = input_shape[0][:3]
        return (b, t, j * (j - 1) // 2)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="posenet")
class JointMotion(keras.layers.Layer):
    """[poses (B, T, J, D), visibility (B, T, J, 1)] -> (B, T, J * D): each joint's
    displacement over ``lag`` frames, ``poses[t + lag] - poses[t]``, 0 where the joint is
    hidden in either frame and for the last ``lag`` frames (no later frame).

    Two lags give DD-Net's slow and fast global motion.
    """

    def __init__(self, lag=1, **kwargs):
        super().__init__(**kwargs)
        if int(lag) < 1:
            raise ValueError(f"lag must be at least 1, got {lag}")
        self.lag = int(lag)

    def call(self, inputs):
        poses, visibility = inputs
        lag = self.lag
        moved = (poses[:, lag:] - poses[:, :-lag]) * (visibility[:, lag:] * visibility[:, :-lag])
        moved = ops.pad(moved, [(0, 0), (0, lag), (0, 0), (0, 0)])
        shape = ops.shape(moved)
        return ops.reshape(moved, (shape[0], shape[1], shape[2] * shape[3]))

    def compute_output_shape(self, input_shape):
        b, t, j, d = input_shape[0]
        return (b, t, j * d)

    def get_config(self):
        return {**super().get_config(), "lag": self.lag}
