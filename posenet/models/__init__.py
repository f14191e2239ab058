"""The networks: pose network, action part, multitask model, presets."""

from posenet.models.action import ActionNetwork
from posenet.models.flops import flops_per_frame, model_flops
from posenet.models.mobile_pose_network import MobilePoseNetwork
from posenet.models.multitask import MultitaskModel
from posenet.models.pose_network import PoseNetwork, SingleFrameNetwork
from posenet.models.presets import PRESETS, Preset, build_model, get_preset

__all__ = [
    "PRESETS",
    "ActionNetwork",
    "MobilePoseNetwork",
    "MultitaskModel",
    "PoseNetwork",
    "Preset",
    "SingleFrameNetwork",
    "build_model",
    "flops_per_frame",
    "get_preset",
    "model_flops",
]
