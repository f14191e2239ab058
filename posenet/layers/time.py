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


@keras.saving.register_keras_serializable(package="posenet")
class TimeSlice(keras.layers.Layer):
    """(B, T, ...) -> (B, T', ...): frames ``start, start + step, ...`` up to ``stop``
    (``stop`` None: to the end; a negative ``stop`` counts from the end)."""

    def __init__(self, start=0, stop=None, step=1, **kwargs):
        super().__init__(**kwargs)
        self.start, self.step = int(start), int(step)
        self.stop = None if stop is None else int(stop)

    def _range(self, frames):
        return range(frames)[self.start:self.stop:self.step]

    def call(self, inputs):
        frames = list(self._range(inputs.shape[1]))
        if self.step == 1:
            return inputs[:, frames[0]:frames[-1] + 1]
        return ops.take(inputs, ops.convert_to_tensor(frames, "int32"), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self._range(input_shape[1]))) + tuple(input_shape[2:])

    def get_config(self):
        return {**super().get_config(), "start": self.start, "stop": self.stop,
                "step": self.step}
