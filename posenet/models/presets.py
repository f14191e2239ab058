"""Named model configurations: the papers' ones and smaller ones for CPU inference.

The parameters and GFLOPs per frame of each preset are measured by ``posenet bench``
(``make bench``) and checked by the tests, so the figures here cannot drift from the code.
"""

import dataclasses

from posenet.models.mobile_pose_network import MobilePoseNetwork
from posenet.models.multitask import MultitaskModel
from posenet.models.pose_network import PoseNetwork


@dataclasses.dataclass(frozen=True)
class Preset:
    """A model configuration.

    ``pose`` holds the :class:`PoseNetwork` arguments; ``actions`` (``{dataset: classes}``)
    and ``num_frames`` make it a :class:`MultitaskModel` over clips, with the other
    arguments of the action part in ``action_options``. ``params`` and
    ``gflops`` are the measured size and GFLOPs per frame at ``pose["input_size"]``.
    ``network`` is ``pose_network`` (the method's stem and blocks) or ``mobile`` (the
    blocks on MoveNet's MobileNetV2, a :class:`MobilePoseNetwork`; ``pretrained`` names
    the MoveNet variant its weights are imported from).
    """

    name: str
    description: str
    pose: dict
    params: int
    gflops: float
    actions: dict = dataclasses.field(default_factory=dict)
    num_frames: int = 0
    action_options: dict = dataclasses.field(default_factory=dict)
    network: str = "pose_network"
    pretrained: str | None = None

    @property
    def input_size(self):
        """Side of the square input crop, in pixels."""
        return self.pose["input_size"]

    @property
    def is_multitask(self):
        return bool(self.actions)


PAPER_2D = dict(
    input_size=256, num_joints=16, num_blocks=8, kernel_size=5, num_features=576,
    context_maps=2,
)
PAPER_3D = dict(
    input_size=256, num_joints=17, num_blocks=8, kernel_size=5, num_features=576,
    depth_maps=16,
)
CPU_3D = dict(
    input_size=128, num_joints=17, num_blocks=2, kernel_size=3, num_features=192,
    stem_width=0.5, depth_maps=8,
)
CPU_ACTIONS = {"penn_action": 15, "jhmdb": 14}
MOBILE_3D = dict(input_size=192, num_joints=17, num_blocks=2, alpha=1.0, depth_maps=8)
MOBILE_3D_LARGE = dict(input_size=256, num_joints=17, num_blocks=2, alpha=1.75, depth_maps=8)

PRESETS = {
    p.name: p
    for p in (
        Preset(
            "mpii_2d",
            "CVPR 2018 2D pose: 256x256, 8 blocks, 5x5 kernels, 2 context maps per joint, "
            "16 joints (MPII).",
            PAPER_2D, params=14_785_248, gflops=19.66,
        ),
        Preset(
            "h36m_3d",
            "TPAMI 2020 3D pose: 256x256, 8 blocks, 5x5 kernels, 16 depth maps per joint, "
            "17 joints (Human3.6M).",
            PAPER_3D, params=16_722_400, gflops=23.63,
        ),
        Preset(
            "penn_action",
            "CVPR 2018 multitask on Penn Action: the 2D pose network on clips of 16 frames, "
            "15 actions.",
            PAPER_2D, params=19_716_904, gflops=19.71, actions={"penn_action": 15}, num_frames=16,
        ),
        Preset(
            "ntu",
            "CVPR 2018 multitask on NTU RGB+D: the 3D pose network on clips of 20 frames, "
            "60 actions.",
            PAPER_3D, params=22_698_224, gflops=23.69, actions={"ntu": 60}, num_frames=20,
        ),
        Preset(
            "cpu_3d",
            "CPU pose: 128x128, 2 blocks, 3x3 kernels, 192 features, 8 depth maps, 17 joints.",
            CPU_3D, params=645_824, gflops=0.38,
        ),
        Preset(
            "cpu_multitask",
            "CPU multitask: cpu_3d on clips of 16 frames, Penn Action (15) and J-HMDB (14) "
            "actions.",
            CPU_3D, params=4_488_024, gflops=0.42, actions=CPU_ACTIONS, num_frames=16,
            action_options={"appearance_width": 128},
        ),
        Preset(
            "mobile_3d",
            "MoveNet Lightning's MobileNetV2 and pyramid (192x192, stride 4) under 2 of the "
            "method's blocks: volumetric heatmaps, 8 depth maps, 17 joints, person heads.",
            MOBILE_3D, params=2_346_227, gflops=0.67, network="mobile", pretrained="lightning",
        ),
        Preset(
            "mobile_3d_large",
            "As mobile_3d on MoveNet Thunder's backbone (depth multiplier 1.75, 256x256).",
            MOBILE_3D_LARGE, params=6_254_299, gflops=2.67, network="mobile", pretrained="thunder",
        ),
    )
}


def get_preset(name):
    """The preset called ``name``; an unknown name raises ``ValueError`` listing the known."""
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise ValueError(f"unknown preset {name!r}; known presets: {known}") from None


def build_model(preset, num_blocks=None, **overrides):
    """Build the model of a preset (name or :class:`Preset`).

    ``num_blocks`` cuts the pose network after that many blocks; ``overrides`` replace pose
    arguments (e.g. ``input_size=64`` for a quick test) or, for ``num_frames`` and
    ``actions``, the clip settings.
    """
    preset = get_preset(preset) if isinstance(preset, str) else preset
    num_frames = overrides.pop("num_frames", preset.num_frames)
    actions = overrides.pop("actions", preset.actions)
    pose = {**preset.pose, **overrides}
    if num_blocks is not None:
        pose["num_blocks"] = num_blocks
    if preset.network == "mobile":
        if actions:
            raise ValueError(f"preset {preset.name}: the mobile network has no multitask "
                             "form; use the pose-only action networks")
        return MobilePoseNetwork(**pose, name=preset.name)
    if actions:
        return MultitaskModel(pose=pose, actions=actions, num_frames=num_frames,
                              name=preset.name, **preset.action_options)
    return PoseNetwork(**pose, name=preset.name)
