"""Numerically sensitive layers keep float32 under a mixed-precision policy."""

import keras


class Float32Layer(keras.layers.Layer):
    """A layer computing in float32 unless told otherwise.

    Softmaxes over thousands of heatmap pixels and the expectations that follow lose
    precision (and some kernels, such as TensorFlow's CPU ``Range``, refuse float16) under
    ``mixed_float16``; with a float32 policy Keras casts the inputs up on entry.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
