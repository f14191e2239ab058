"""Joint probability maps of a PoseNetwork block, tiled over the input crop.

Needs Keras (imported with the model's module); the rest of ``posenet.visualize`` does not.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from posenet.skeleton import SKELETON_NAMES, get_skeleton


def joint_names(num_joints: int) -> tuple[str, ...]:
    """Names for ``num_joints`` joints: the model layouts' (16, 17), else ``j0, j1, ...``."""
    for name in ("model16", "model17", *SKELETON_NAMES):
        skel = get_skeleton(name)
        if skel.num_joints == num_joints:
            return skel.joints
    return tuple(f"j{i}" for i in range(num_joints))


def block_probabilities(model, crop_rgb, block=None) -> np.ndarray:
    """(h, w, J) float probability maps of block ``block`` (default: the last) for a crop.

    ``crop_rgb`` (S, S, 3) RGB, uint8 or float in [0, 1], is resized to the model's input
    size.  Each map sums to 1 over its h x w cells (S/8 per side).
    """
    import keras

    block = model.num_blocks if block is None else int(block)
    if not 1 <= block <= model.num_blocks:
        raise ValueError(f"block must be in 1..{model.num_blocks}, got {block}")
    sub = keras.Model(model.inputs[0], _probs_tensor(model, block))
    x = _as_input(crop_rgb, model.input_size)
    return np.asarray(keras.ops.convert_to_numpy(sub(x[None], training=False)))[0]


def _probs_tensor(model, block: int):
    """The symbolic ``block{k}_probs`` output, rebuilt when Keras pruned it.

    The SpatialSoftmax layer only stays in the graph when it feeds an output (the last
    block with ``export_features``); otherwise the same softmax is applied here to the
    block's regressed heatmaps (its volume for the 3D head, averaged over depth).
    """
    from posenet.layers import SpatialSoftmax

    names = {layer.name for layer in model.layers}
    if f"block{block}_probs" in names:
        return model.get_layer(f"block{block}_probs").output
    if f"block{block}_volume" in names:
        volume = model.get_layer(f"block{block}_volume").output
        return SpatialSoftmax(average_depth=True, name=f"view{block}_probs")(volume)
    heatmaps = model.get_layer(f"block{block}_heatmaps").output
    return SpatialSoftmax(name=f"view{block}_probs")(heatmaps)


def _as_input(crop_rgb, size: int) -> np.ndarray:
    crop = np.asarray(crop_rgb)
    if crop.ndim != 3 or crop.shape[2] != 3:
        raise ValueError(f"crop_rgb must be (S, S, 3), got {crop.shape}")
    crop = crop.astype(np.float32) / 255.0 if crop.dtype == np.uint8 else crop.astype(np.float32)
    if crop.shape[:2] != (size, size):
        crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    return np.clip(crop, 0.0, 1.0)


def _tile(crop_bgr, prob, name, tile) -> np.ndarray:
    """The crop darkened under the colour-mapped map (scaled to its own maximum)."""
    peak = float(prob.max())
    norm = prob / peak if peak > 0 else prob
    heat = cv2.resize(norm.astype(np.float32), (tile, tile), interpolation=cv2.INTER_LINEAR)
    heat = cv2.applyColorMap(np.uint8(np.clip(heat, 0, 1) * 255), cv2.COLORMAP_JET)
    img = cv2.addWeighted(crop_bgr, 0.4, heat, 0.6, 0.0)
    _caption(img, f"{name} {peak:.2f}")
    return img


def _caption(img, text) -> None:
    cv2.rectangle(img, (0, 0), (img.shape[1], 16), (0, 0, 0), -1)
    cv2.putText(img, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (255, 255, 255), 1,
                cv2.LINE_AA)


def heatmap_figure(model, crop_rgb, block=None, tile: int = 128, names=None) -> np.ndarray:
    """A BGR uint8 grid: the crop, then one tile per joint with its probability map.

    Each joint tile shows the block's map (``block{k}_probs``, default the last block),
    upsampled to ``tile`` px, coloured with the JET colour map relative to its peak, over
    the crop, captioned with the joint name and the peak probability.  The grid has
    ``ceil(sqrt(J + 1))`` columns; empty cells stay black.
    """
    probs = block_probabilities(model, crop_rgb, block)
    num = probs.shape[-1]
    names = tuple(names) if names is not None else joint_names(num)
    crop = _as_input(crop_rgb, model.input_size)
    crop_bgr = cv2.cvtColor(np.uint8(np.round(crop * 255)), cv2.COLOR_RGB2BGR)
    crop_bgr = cv2.resize(crop_bgr, (tile, tile), interpolation=cv2.INTER_AREA)
    first = crop_bgr.copy()
    _caption(first, f"input (block {block or model.num_blocks})")
    tiles = [first] + [_tile(crop_bgr, probs[..., j], names[j], tile) for j in range(num)]
    cols = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / cols)
    grid = np.zeros((rows * tile, cols * tile, 3), np.uint8)
    for i, img in enumerate(tiles):
        r, c = divmod(i, cols)
        grid[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile] = img
    return grid


def crop_box(frame_bgr, box, size: int, margin: float = 1.2) -> np.ndarray:
    """A (size, size, 3) RGB crop of the square around ``box`` (x1, y1, x2, y2 px).

    The square's side is ``margin`` times the box's longer side, centred on the box;
    outside the frame is filled with black.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1, 1.0) * margin
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    scale = size / side
    # Affine map from continuous frame px to crop px: (x - (cx - side / 2)) * scale.
    m = np.array([[scale, 0, -(cx - side / 2) * scale], [0, scale, -(cy - side / 2) * scale]])
    m[:, 2] += 0.5 * scale - 0.5  # cv2.warpAffine maps pixel centres, not corners
    crop = cv2.warpAffine(frame_bgr, m, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
