"""The pose network of the method: a stem and a stack of prediction blocks.

Each prediction block is a reception block, a separable convolution, the regression of
heatmaps (1x1) and, except after the last block, the re-injection of the heatmaps into the
features. Every block predicts (intermediate supervision), so the network can be cut after
any block for speed (:meth:`PoseNetwork.truncated`).
"""

import keras
from keras import layers

from posenet.layers import (
    ContextAggregation,
    JointVisibility,
    SoftArgmax2D,
    SpatialSoftmax,
    VolumetricSoftArgmax,
    VolumetricVisibility,
)
from posenet.models.blocks import act_conv_bn, act_sepconv_bn, reception_block
from posenet.models.stem import stem
from posenet.models.weights import copy_weights_by_name
from posenet.outputs import pose_output, visibility_output


def regression_head(x, block, num_joints, depth_maps, context_maps, context_alpha, window=0):
    """Heatmap regression and soft-argmax of one block (``window``: the soft-argmax's
    radius around each map's peak, in map cells; 0 for the whole map).

    Returns ``(pose, visibility, heatmaps, probabilities)``: poses (B, J, 2) or, with
    ``depth_maps`` > 0, (B, J, 3); visibility (B, J, 1); all regressed heatmaps (for the
    re-injection); the joints' spatial probability maps (B, H, W, J) for appearance pooling.
    """
    name = f"block{block}"
    x = layers.Activation("relu", name=f"{name}_heatmaps_relu")(x)
    if depth_maps:
        heatmaps = layers.Conv2D(depth_maps * num_joints, 1, name=f"{name}_heatmaps")(x)
        rows, cols = heatmaps.shape[1:3]
        volume = layers.Reshape((rows, cols, depth_maps, num_joints), name=f"{name}_volume")(
            heatmaps
        )
        pose = VolumetricSoftArgmax(window, name=pose_output(block))(volume)
        visibility = VolumetricVisibility(name=visibility_output(block))(volume)
        probabilities = SpatialSoftmax(average_depth=True, name=f"{name}_probs")(volume)
        return pose, visibility, heatmaps, probabilities

    own = layers.Conv2D(num_joints, 1, name=f"{name}_heatmaps")(x)
    visibility = JointVisibility(name=visibility_output(block))(own)
    probabilities = SpatialSoftmax(name=f"{name}_probs")(own)
    if not context_maps:
        return (SoftArgmax2D(window=window, name=pose_output(block))(own), visibility, own,
                probabilities)
    context = layers.Conv2D(num_joints * context_maps, 1, name=f"{name}_context_heatmaps")(x)
    pose = ContextAggregation(context_maps, context_alpha, name=pose_output(block))(
        [
            SoftArgmax2D(window=window, name=f"{name}_own_pose")(own),
            SoftArgmax2D(window=window, name=f"{name}_context_pose")(context),
            JointVisibility(name=f"{name}_context_confidence")(context),
        ]
    )
    heatmaps = layers.Concatenate(name=f"{name}_all_heatmaps")([own, context])
    return pose, visibility, heatmaps, probabilities


class SingleFrameNetwork:
    """What every single-frame pose network offers (:class:`PoseNetwork`,
    :class:`~posenet.models.mobile_pose_network.MobilePoseNetwork`): ``pose_k`` and
    ``visibility_k`` outputs, ``input_size``, ``num_joints``, ``num_blocks``, ``depth_maps``,
    and a cut after any block."""

    @property
    def pose_dims(self):
        """2 for a 2D head, 3 for the volumetric 3D head."""
        return 3 if self.depth_maps else 2

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def truncated(self, num_blocks):
        """A copy of this network cut after ``num_blocks`` blocks, sharing no variables."""
        if not 1 <= num_blocks <= self.num_blocks:
            raise ValueError(f"num_blocks must be in 1..{self.num_blocks}, got {num_blocks}")
        cut = type(self).from_config({**self.get_config(), "num_blocks": num_blocks})
        copy_weights_by_name(self, cut)
        return cut

    def with_window(self, cells):
        """A copy of this network whose soft-argmax heads read ``cells`` map cells around
        each heatmap's peak (0: the whole map), sharing no variables."""
        copy = type(self).from_config({**self.get_config(), "softargmax_window": cells})
        copy_weights_by_name(self, copy)
        return copy


@keras.saving.register_keras_serializable(package="posenet")
class PoseNetwork(SingleFrameNetwork, keras.Model):
    """Single-frame pose network: (S, S, 3) images in [0, 1] -> per-block poses.

    Outputs, for every block ``k`` from 1 to ``num_blocks``:

    - ``pose_k``: (B, J, 2) normalised (x, y) in the input crop, pixel centres at
      ``(i + 0.5) / S``; with ``depth_maps`` > 0, (B, J, 3) where z in [0, 1] spans the
      depth range the caller maps to millimetres (root-relative);
    - ``visibility_k``: (B, J, 1) probability that the joint is visible.

    With ``export_features``, also ``features`` (B, S/8, S/8, F), the output of the first
    reception block, and ``probabilities`` (B, S/8, S/8, J), the last block's joint
    probability maps: together they give the appearance features of the action part.

    Args:
        input_size: side S of the square input crop, a multiple of 32.
        num_joints: joints of the layout (16 for the 2D layout, 17 for the 3D one).
        num_blocks: prediction blocks (8 in the paper).
        kernel_size: kernel of the separable convolutions (5 in the paper).
        num_features: channels of the feature maps (576 in the paper).
        stem_width: multiplier of the stem's inner channels.
        depth_maps: depth bins per joint of the volumetric 3D head; 0 for a 2D head.
        context_maps: context heatmaps per joint of the 2D head (2 in the paper, or 0).
        context_alpha: weight of the joint's own estimate against its context (0.8).
        softargmax_window: radius (map cells) of the soft-argmax around each heatmap's
            peak; 0 (the method's, and training's) for the whole map.
    """

    def __init__(
        self,
        input_size=256,
        num_joints=16,
        num_blocks=8,
        kernel_size=5,
        num_features=576,
        stem_width=1.0,
        depth_maps=0,
        context_maps=0,
        context_alpha=0.8,
        export_features=False,
        softargmax_window=0,
        **kwargs,
    ):
        if input_size % 32:
            raise ValueError(f"input_size must be a multiple of 32, got {input_size}")
        if num_blocks < 1:
            raise ValueError(f"num_blocks must be at least 1, got {num_blocks}")
        if depth_maps and context_maps:
            raise ValueError("context maps belong to the 2D head: set depth_maps or context_maps")
        image = keras.Input((input_size, input_size, 3), name="image")
        x = stem(image, num_features=num_features, width=stem_width)
        outputs = {}
        for block in range(1, num_blocks + 1):
            reception = reception_block(x, kernel_size, f"block{block}_reception")
            if block == 1:
                features = reception
            sep = act_sepconv_bn(reception, num_features, kernel_size, f"block{block}_sepconv")
            pose, visibility, heatmaps, probabilities = regression_head(
                sep, block, num_joints, depth_maps, context_maps, context_alpha,
                softargmax_window,
            )
            outputs[pose_output(block)] = pose
            outputs[visibility_output(block)] = visibility
            if block < num_blocks:
                remap = act_conv_bn(heatmaps, num_features, 1, f"block{block}_remap")
                x = layers.Add(name=f"block{block}_reinject")([reception, sep, remap])
        if export_features:
            outputs["features"] = features
            outputs["probabilities"] = probabilities
        super().__init__(inputs=image, outputs=outputs, **kwargs)
        self.input_size = input_size
        self.num_joints = num_joints
        self.num_blocks = num_blocks
        self.kernel_size = kernel_size
        self.num_features = num_features
        self.stem_width = stem_width
        self.depth_maps = depth_maps
        self.context_maps = context_maps
        self.context_alpha = context_alpha
        self.export_features = export_features
        self.softargmax_window = softargmax_window

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "input_size": self.input_size,
            "num_joints": self.num_joints,
            "num_blocks": self.num_blocks,
            "kernel_size": self.kernel_size,
            "num_features": self.num_features,
            "stem_width": self.stem_width,
            "depth_maps": self.depth_maps,
            "context_maps": self.context_maps,
            "context_alpha": self.context_alpha,
            "export_features": self.export_features,
            "softargmax_window": self.softargmax_window,
        }
