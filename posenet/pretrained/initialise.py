"""A :class:`MobilePoseNetwork` initialised from MoveNet's weights (the recipes' start).

What is copied, by layer:

- the MobileNetV2 extractor and the pyramid decoder, as they are;
- MoveNet's ``center`` and ``kpt_regress`` heads into the person heads;
- MoveNet's keypoint-heatmap head into *every* prediction block: its separable
  convolution as it is, and its 1x1 convolution mixed into the layout's joints by
  :func:`coco_combination` and repeated over the depth bins (so each depth bin starts
  with the same logits, and the depth soft-argmax starts in the middle of the range).

The layers between blocks start at zero (see ``MobilePoseNetwork``), so every block
starts as MoveNet's heatmap head. MoveNet's ``kpt_offset`` head has no counterpart (the
soft-argmax is sub-pixel by itself) and is not copied.
"""

from __future__ import annotations

import numpy as np

from posenet.models import build_model, get_preset
from posenet.pretrained.movenet import (
    COCO_KEYPOINTS,
    HEADS,
    graph_layer_weights,
    set_layer_weights,
    source_files,
)
from posenet.pretrained.tfjs import GraphModel, TfjsError, read_graph_model
from posenet.skeleton import get_skeleton

#: Layout joints that COCO lacks -> the COCO keypoints whose logits they average.
#: Pelvis and thorax as ``posenet.skeleton.map_joints`` places them (mid-hips,
#: mid-shoulders); the upper neck between the shoulders and the nose; the head top from
#: the eyes and ears (a start only: training moves it above them).
MISSING_JOINTS = {
    "pelvis": ("l_hip", "r_hip"),
    "thorax": ("l_shoulder", "r_shoulder"),
    "spine": ("l_hip", "r_hip", "l_shoulder", "r_shoulder"),
    "neck": ("nose", "l_shoulder", "r_shoulder"),
    "head_top": ("l_eye", "r_eye", "l_ear", "r_ear"),
}
#: The layout of a pose network by its number of joints.
_LAYOUTS = {17: "model17", 16: "model16"}
#: MoveNet head -> the MobilePoseNetwork layer prefix that takes it as it is.
_PERSON_HEADS = {HEADS["center"][0]: "person_center_logits",
                 HEADS["regress"][0]: "person_regress"}


def coco_combination(layout: str = "model17") -> np.ndarray:
    """(17, J) weights turning MoveNet's 17 COCO heatmap logits into ``layout``'s J joints:
    column j is one-hot on the same COCO keypoint, or the mean of the neighbours named in
    :data:`MISSING_JOINTS`. Every column sums to 1."""
    skeleton = get_skeleton(layout)
    mix = np.zeros((len(COCO_KEYPOINTS), skeleton.num_joints), np.float32)
    for j, name in enumerate(skeleton.joints):
        sources = (name,) if name in COCO_KEYPOINTS else MISSING_JOINTS.get(name)
        if sources is None:
            raise ValueError(f"{layout}: no COCO keypoint or neighbours for joint {name!r}")
        for source in sources:
            mix[COCO_KEYPOINTS.index(source), j] = 1.0 / len(sources)
    return mix


def _heatmap_head(kernel: np.ndarray, bias: np.ndarray, mix: np.ndarray, depth_bins: int):
    """MoveNet's (1, 1, C, 17) kernel and (17,) bias -> the block's (1, 1, C, D * J) and
    (D * J,), channel ``d * J + j`` (the order of the block's (D, J) reshape)."""
    joint_kernel = np.tensordot(kernel, mix, axes=([3], [0]))  # (1, 1, C, J)
    joint_bias = bias @ mix
    return (np.tile(joint_kernel, (1, 1, 1, depth_bins)).astype(np.float32),
            np.tile(joint_bias, depth_bins).astype(np.float32))


def initialise_from_movenet(network, graph: GraphModel) -> int:
    """Set ``network`` (a :class:`MobilePoseNetwork`) from MoveNet's ``graph`` in place.

    Raises ``TfjsError`` when the shapes differ (e.g. Thunder's weights for ``mobile_3d``)
    or a layer is missing. Returns the number of layers set.
    """
    layout = _LAYOUTS.get(network.num_joints)
    if layout is None:
        raise ValueError(f"no joint layout with {network.num_joints} joints to map COCO into")
    mix = coco_combination(layout)
    heatmap_head = HEADS["heatmap"][0]
    skipped = {HEADS["offset"][0], f"{HEADS['offset'][0]}_sepconv"}
    count = 0
    for name, values in graph_layer_weights(graph).items():
        if name in skipped:
            continue
        if name == f"{heatmap_head}_sepconv":
            targets = [(f"block{k}_sepconv", values) for k in range(1, network.num_blocks + 1)]
        elif name == heatmap_head:
            values = _heatmap_head(*values, mix, max(network.depth_maps, 1))
            targets = [(f"block{k}_heatmaps", values) for k in range(1, network.num_blocks + 1)]
        else:
            head = name.removesuffix("_sepconv")
            if head in _PERSON_HEADS:
                if not network.person_heads:
                    continue
                name = _PERSON_HEADS[head] + name[len(head):]
            targets = [(name, values)]
        for layer_name, layer_values in targets:
            try:
                layer = network.get_layer(layer_name)
            except ValueError:
                raise TfjsError(f"the network has no layer {layer_name!r} for MoveNet's "
                                f"{name}") from None
            set_layer_weights(layer, list(layer_values))
            count += 1
    return count


def pretrained_network(preset, folder):
    """``(network, graph)``: ``preset`` (name or :class:`Preset` with ``pretrained``)
    built and initialised from the MoveNet variant's TF.js files in ``folder``.

    Raises ``ValueError`` for a preset without a pretrained backbone and ``TfjsError``
    for missing or unfitting files.
    """
    spec = get_preset(preset) if isinstance(preset, str) else preset
    if spec.pretrained is None:
        raise ValueError(f"preset {spec.name} has no pretrained backbone; presets with one: "
                         "mobile_3d (Lightning), mobile_3d_large (Thunder)")
    graph = read_graph_model(source_files(folder, spec.pretrained))
    network = build_model(spec)
    initialise_from_movenet(network, graph)
    return network, graph
