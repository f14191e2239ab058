"""Aggregation of a joint's own estimate with the estimates of its context maps."""

import keras
from keras import ops

from posenet.layers.precision import Float32Layer


@keras.saving.register_keras_serializable(package="posenet")
class ContextAggregation(Float32Layer):
    """Blend each joint's position with its context maps' positions.

    Inputs ``[own, context, confidence]``:

    - ``own``: (B, J, 2) positions regressed from the joints' own heatmaps;
    - ``context``: (B, J * C, 2) positions regressed from the context heatmaps, the C maps
      of joint ``j`` being channels ``j * C`` to ``j * C + C - 1``;
    - ``confidence``: (B, J * C, 1) visibility of each context map.

    Output (B, J, 2): ``alpha * own + (1 - alpha) * sum_c(p_c * y_c) / sum_c(p_c)``, the
    context estimates weighted by their confidence (``alpha`` = 0.8 in the method).
    """

    def __init__(self, num_context=2, alpha=0.8, **kwargs):
        super().__init__(**kwargs)
        self.num_context = int(num_context)
        self.alpha = float(alpha)

    def call(self, inputs):
        own, context, confidence = inputs
        num_joints = own.shape[-2]
        context = ops.reshape(context, (-1, num_joints, self.num_context, 2))
        confidence = ops.reshape(confidence, (-1, num_joints, self.num_context, 1))
        # The confidences are probability masses in (0, 1]; the floor only guards underflow.
        total = ops.maximum(ops.sum(confidence, axis=2), 1e-12)
        blended = ops.sum(context * confidence, axis=2) / total
        return self.alpha * own + (1.0 - self.alpha) * blended

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])

    def get_config(self):
        return {**super().get_config(), "num_context": self.num_context, "alpha": self.alpha}
