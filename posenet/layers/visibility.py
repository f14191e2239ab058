"""Joint visibility (confidence) estimated from the heatmaps, as in the method."""

import keras
from keras import ops

from posenet.layers.precision import Float32Layer
from posenet.layers.softargmax import spatial_softmax


def window_mass(probs):
    """Probability mass of every 2x2 window (stride 1): (..., H, W, J) -> (..., H-1, W-1, J).

    This is 4x the 2x2 average pooling of the method, so it lies in [0, 1].
    """
    return (
        probs[..., :-1, :-1, :]
        + probs[..., 1:, :-1, :]
        + probs[..., :-1, 1:, :]
        + probs[..., 1:, 1:, :]
    )


@keras.saving.register_keras_serializable(package="posenet")
class JointVisibility(Float32Layer):
    """Heatmap logits (..., H, W, J) -> visibility in [0, 1], shape (..., J, 1).

    The maximum over the map of the probability mass in a 2x2 window: a confident,
    concentrated heatmap gives a value near 1, a diffuse one a value near 0.
    """

    def call(self, inputs):
        mass = window_mass(spatial_softmax(inputs))
        return ops.expand_dims(ops.max(mass, axis=(-3, -2)), axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (input_shape[-1], 1)


@keras.saving.register_keras_serializable(package="posenet")
class VolumetricVisibility(Float32Layer):
    """Volumetric logits (..., H, W, D, J) -> visibility (..., J, 1) in (0, 1).

    The sigmoid form of the 3D head: sigmoid of the peak of the depth-averaged map plus the
    peak of the xy-averaged depth profile.
    """

    def call(self, inputs):
        peak_xy = ops.max(ops.mean(inputs, axis=-2), axis=(-3, -2))
        peak_z = ops.max(ops.mean(inputs, axis=(-4, -3)), axis=-2)
        return ops.expand_dims(ops.sigmoid(peak_xy + peak_z), axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-4]) + (input_shape[-1], 1)
