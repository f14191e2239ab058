"""Pooling layers of the action part: max-min pooling and heatmap-weighted appearance."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="posenet")
class MaxMinPooling2D(keras.layers.Layer):
    """``max_pool(x) - max_pool(-x)`` over (rows, cols) windows: (B, R, C, F) -> pooled.

    Keeps both strong positive and strong negative responses (the action heatmaps of the
    method are signed).
    """

    def __init__(self, pool_size=2, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)
        self.padding = padding

    def call(self, inputs):
        size = self.pool_size
        maxima = ops.max_pool(inputs, size, size, self.padding)
        minima = ops.max_pool(-inputs, size, size, self.padding)
        return maxima - minima

    def compute_output_shape(self, input_shape):
        def pooled(n):
            if n is None:
                return None
            if self.padding == "same":
                return -(-n // self.pool_size)
            return n // self.pool_size

        b, r, c, f = input_shape
        return (b, pooled(r), pooled(c), f)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding}


@keras.saving.register_keras_serializable(package="posenet")
class GlobalMaxMinPooling2D(keras.layers.Layer):
    """``max(x) - max(-x)`` over the two spatial axes: (B, R, C, F) -> (B, F)."""

    def call(self, inputs):
        return ops.max(inputs, axis=(1, 2)) - ops.max(-inputs, axis=(1, 2))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package="posenet")
class AppearancePooling(keras.layers.Layer):
    """Pool visual features with the joints' probability maps.

    Inputs ``[probs, features]``: probs (..., H, W, J), each map summing to one, and
    features (..., H, W, C) at the same resolution. Output (..., J, C): for each joint the
    features averaged under its probability map (e.g. (T, J, C) from (T, H, W, J) and
    (T, H, W, C) for a clip).
    """

    def call(self, inputs):
        probs, features = inputs
        return ops.einsum("...hwj,...hwc->...jc", probs, features)

    def compute_output_shape(self, input_shapes):
        probs, features = input_shapes
        return tuple(probs[:-3]) + (probs[-1], features[-1])
