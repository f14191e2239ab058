"""Fold the time axis of a clip into the batch axis and back, so frame models run on clips."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="posenet")
class FoldTime(keras.layers.Layer):
    """(B, T, ...) -> (B * T, ...)."""

    def call(self, inputs):
        return ops.reshape(inputs, (-1,) + tuple(inputs.shape[2:]))

    def compute_output_shape(self, input_shape):
        batch, frames = input_shape[0], input_shape[1]
        folded = None if batch is None or frames is None else batch * frames
        return (folded,) + tuple(input_shape[2:])


@keras.saving.register_keras_serializable(package="posenet")
class UnfoldTime(keras.layers.Layer):
    """(B * T, ...) -> (B, T, ...) for a fixed number of frames T."""

    def __init__(self, num_frames, **kwargs):
        super().__init__(**kwargs)
        self.num_frames = int(num_frames)

    def call(self, inputs):
        return ops.reshape(inputs, (-1, self.num_frames) + tuple(inputs.shape[1:]))

    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        unfolded = None if batch is None else batch // self.num_frames
        return (unfolded, self.num_frames) + tuple(input_shape[1:])

    def get_config(self):
        return {**super().get_config(), "num_frames": self.num_frames}
