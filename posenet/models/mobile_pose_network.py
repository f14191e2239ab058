"""The method's heads on a pose-pretrained MobileNetV2 (MoveNet's extractor and pyramid).

The features at stride 4 (48x48 for 192 px inputs) feed N prediction blocks, each a
separable convolution and the regression of (volumetric) heatmaps with the method's
soft-argmax heads: 2D joints, 3D joints (depth soft-argmax) and per-joint visibility.
Between blocks the previous block's heatmaps (as sigmoid probabilities) and features are
re-injected (1x1 convolutions added to the pyramid's features) and a residual 5x5
separable convolution widens the receptive field; both start at zero, so every block
starts as the first.
Every block predicts (intermediate supervision): the network can be cut at any block.

Two person heads (MoveNet's ``center`` and ``kpt_regress``) ride on the same features, so
a whole-frame pass can find the person to crop (``posenet.inference.person_finder``).
They are never trained here: fine-tuning the backbone shifts their inputs.
"""

import keras
from keras import layers

from posenet.models.mobilenet import centernet_head, feature_pyramid, mobilenet_v2
from posenet.models.pose_network import SingleFrameNetwork, regression_head
from posenet.outputs import PERSON_CENTER, PERSON_REGRESS, pose_output, visibility_output


@keras.saving.register_keras_serializable(package="posenet")
class MobilePoseNetwork(SingleFrameNetwork, keras.Model):
    """Single-frame pose network on MoveNet's backbone: (S, S, 3) RGB in [0, 1] ->
    ``pose_k`` (B, J, 2 or 3) and ``visibility_k`` (B, J, 1) for every block ``k``, with
    the conventions of :class:`PoseNetwork` (x, y normalised to the crop, pixel centres at
    ``(i + 0.5) / S``; z in [0, 1] over the depth range), plus ``person_center`` and
    ``person_regress`` when ``person_heads``.

    Args:
        input_size: side S of the square input, a multiple of 32 (192 for Lightning's
            weights, 256 for Thunder's).
        num_joints: joints of the layout (17: ``model17``).
        num_blocks: prediction blocks.
        alpha: MobileNetV2 depth multiplier (1.0 Lightning, 1.75 Thunder).
        depth_maps: depth bins per joint of the volumetric head; 0 for a 2D head.
        head_width: channels of each block's separable convolution (96 as MoveNet's heads).
        refine_kernel: kernel of the residual convolution before blocks 2..N.
        person_heads: add MoveNet's centre and keypoint-regression heads.
        softargmax_window: radius (map cells) of the soft-argmax around each heatmap's
            peak; 0 (training's) for the whole map.
    """

    def __init__(self, input_size=192, num_joints=17, num_blocks=2, alpha=1.0, depth_maps=8,
                 head_width=96, refine_kernel=5, person_heads=True, softargmax_window=0,
                 **kwargs):
        if input_size % 32:
            raise ValueError(f"input_size must be a multiple of 32, got {input_size}")
        if num_blocks < 1:
            raise ValueError(f"num_blocks must be at least 1, got {num_blocks}")
        image = keras.Input((input_size, input_size, 3), name="image")
        scaled = layers.Rescaling(2.0, offset=-1.0, name="to_unit_range")(image)
        features = feature_pyramid(mobilenet_v2(scaled, alpha))
        width = features.shape[-1]
        outputs = {}
        x = features
        for block in range(1, num_blocks + 1):
            name = f"block{block}"
            if block > 1:
                refined = layers.SeparableConv2D(
                    width, refine_kernel, padding="same", activation="relu",
                    pointwise_initializer="zeros", name=f"{name}_refine")(x)
                x = layers.Add(name=f"{name}_refine_add")([x, refined])
            sep = layers.SeparableConv2D(head_width, 3, padding="same", activation="relu",
                                         name=f"{name}_sepconv")(x)
            pose, visibility, heatmaps, _ = regression_head(sep, block, num_joints, depth_maps,
                                                            0, 0.8, softargmax_window)
            outputs[pose_output(block)] = pose
            outputs[visibility_output(block)] = visibility
            if block < num_blocks:
                # Heatmap logits come at MoveNet's scale (about +-10 over J x D maps):
                # re-injected raw, the first updates of a zero-initialised remap would swamp
                # the features; as probabilities in [0, 1] they stay on the features' scale.
                maps = layers.Activation("sigmoid", name=f"{name}_heatmaps_sigmoid")(heatmaps)
                remaps = [layers.Conv2D(width, 1, kernel_initializer="zeros",
                                        name=f"{name}_remap_{kind}")(t)
                          for kind, t in (("features", sep), ("heatmaps", maps))]
                x = layers.Add(name=f"{name}_reinject")([features, *remaps])
        if person_heads:
            centre = centernet_head(features, 1, "person_center_logits")
            outputs[PERSON_CENTER] = layers.Activation("sigmoid", name=PERSON_CENTER)(centre)
            outputs[PERSON_REGRESS] = centernet_head(features, 34, PERSON_REGRESS)
        super().__init__(inputs=image, outputs=outputs, **kwargs)
        self.input_size = input_size
        self.num_joints = num_joints
        self.num_blocks = num_blocks
        self.alpha = alpha
        self.depth_maps = depth_maps
        self.head_width = head_width
        self.refine_kernel = refine_kernel
        self.person_heads = person_heads
        self.softargmax_window = softargmax_window

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "input_size": self.input_size,
            "num_joints": self.num_joints,
            "num_blocks": self.num_blocks,
            "alpha": self.alpha,
            "depth_maps": self.depth_maps,
            "head_width": self.head_width,
            "refine_kernel": self.refine_kernel,
            "person_heads": self.person_heads,
            "softargmax_window": self.softargmax_window,
        }
