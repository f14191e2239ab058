"""The full multitask model over clips: poses per frame and actions per clip."""

import keras

from posenet.layers import AppearancePooling, FoldTime, UnfoldTime
from posenet.models.action import action_part
from posenet.models.pose_network import PoseNetwork
from posenet.models.weights import copy_weights_by_name
from posenet.outputs import pose_output, visibility_output


@keras.saving.register_keras_serializable(package="posenet")
class MultitaskModel(keras.Model):
    """Clips (B, T, S, S, 3) in [0, 1] -> poses per frame and actions per clip.

    Every frame goes through the same :class:`PoseNetwork` (the nested layer
    ``pose_network``). Its last block's poses and visibility feed the pose branch of the
    action part; the first block's features pooled by the last block's joint probability
    maps feed the appearance branch. Outputs:

    - ``pose_k`` (B, T, J, D) and ``visibility_k`` (B, T, J, 1) for every pose block ``k``;
    - ``action_<dataset>_<k>`` (B, C) for every dataset and action block ``k``.

    Args:
        pose: keyword arguments of the :class:`PoseNetwork`.
        actions: ``{dataset: number of classes}``, one action part each.
        num_frames: frames T of a clip.
        action_blocks: action prediction blocks per branch (4 in the method).
        pose_width: width multiplier of the action part's pose branch.
        appearance_width: channels of the appearance branch (256 in the method).
    """

    def __init__(
        self, pose, actions, num_frames=16, action_blocks=4, pose_width=1.0,
        appearance_width=256, **kwargs,
    ):
        pose = {k: v for k, v in pose.items() if k not in ("name", "trainable")}
        size = pose.get("input_size", 256)
        clip = keras.Input((num_frames, size, size, 3), name="clip")
        network = PoseNetwork(**{**pose, "export_features": True}, name="pose_network")
        per_frame = network(FoldTime(name="fold_frames")(clip))

        def unfold(key, name=None):
            return UnfoldTime(num_frames, name=name or f"unfold_{key}")(per_frame[key])

        outputs = {}
        for block in range(1, network.num_blocks + 1):
            for key in (pose_output(block), visibility_output(block)):
                outputs[key] = unfold(key, name=key)
        last = network.num_blocks
        appearance = AppearancePooling(name="appearance_pooling")(
            [unfold("probabilities"), unfold("features")]
        )
        for dataset, num_classes in actions.items():
            outputs.update(
                action_part(
                    dataset, num_classes, outputs[pose_output(last)],
                    outputs[visibility_output(last)], appearance, num_blocks=action_blocks,
                    pose_width=pose_width, appearance_width=appearance_width,
                )
            )
        super().__init__(inputs=clip, outputs=outputs, **kwargs)
        self.pose = network.get_config() | {"export_features": False}
        self.pose.pop("name")
        self.pose.pop("trainable")
        self.actions = dict(actions)
        self.num_frames = num_frames
        self.action_blocks = action_blocks
        self.pose_width = pose_width
        self.appearance_width = appearance_width

    @property
    def pose_network(self):
        """The nested single-frame :class:`PoseNetwork` (shares its variables)."""
        return self.get_layer("pose_network")

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "pose": self.pose,
            "actions": self.actions,
            "num_frames": self.num_frames,
            "action_blocks": self.action_blocks,
            "pose_width": self.pose_width,
            "appearance_width": self.appearance_width,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def truncated(self, num_blocks):
        """A copy whose pose network is cut after ``num_blocks`` blocks (variables copied)."""
        total = self.pose["num_blocks"]
        if not 1 <= num_blocks <= total:
            raise ValueError(f"num_blocks must be in 1..{total}, got {num_blocks}")
        config = self.get_config()
        config["pose"] = {**self.pose, "num_blocks": num_blocks}
        cut = type(self).from_config(config)
        copy_weights_by_name(self, cut)
        return cut
