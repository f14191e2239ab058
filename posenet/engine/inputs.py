"""Network inputs and outputs in image pixels: the one crop -> network -> image path.

A person crop is the square of side ``margin`` x the box's longer side centred on the box
(``posenet.data.augment.crop_transform``), resized to the network's S px. The network reads
it as RGB floats in [0, 1] (:func:`to_input`) and gives each joint's x, y normalised to the
crop (pixel centres at (i + 0.5) / S); :func:`to_image` takes them back to the image's px
through the inverse crop transform. z (normalised, pelvis-relative) is not touched.

Flip test (:func:`unflip`): a prediction on the mirrored crop has its x mirrored back
(x -> 1 - x) and its joints' left/right labels swapped back.
"""

from __future__ import annotations

import cv2
import numpy as np

from posenet.data.augment import DEFAULT_MARGIN, crop_transform
from posenet.skeleton import get_skeleton, layout_name


def usable_boxes(boxes) -> np.ndarray:
    """(N,) bool: box finite with positive width and height (a crop can be made)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.isfinite(boxes).all(-1) & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])


def batched(items, size: int):
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def to_input(crops_bgr) -> np.ndarray:
    """uint8 BGR crops (..., S, S, 3) -> float32 RGB in [0, 1], as the loaders feed them."""
    crops = np.ascontiguousarray(crops_bgr)
    if crops.dtype != np.uint8 or crops.ndim < 3 or crops.shape[-1] != 3 or not crops.size:
        return crops[..., ::-1].astype(np.float32) / 255.0
    # OpenCV swaps the channels of the whole batch as one tall image, and the scaling is
    # done in place: 15x faster than NumPy's strided copy, the same values.
    rgb = cv2.cvtColor(crops.reshape(-1, crops.shape[-2], 3), cv2.COLOR_BGR2RGB)
    out = rgb.astype(np.float32)
    out /= 255.0
    return out.reshape(crops.shape)


def unflip(poses, num_joints: int) -> np.ndarray:
    """Predictions on mirrored crops (..., J, D), normalised -> the unmirrored crop's."""
    perm = get_skeleton(layout_name(num_joints)).flip_permutation()
    out = np.array(poses, dtype=np.float64)[..., perm, :]  # the permutation is an involution
    out[..., 0] = 1.0 - out[..., 0]
    return out


def pose_blocks(outputs: dict, blocks) -> dict[int, np.ndarray]:
    """``{k: pose_k}`` as float64 arrays from one ``predict_on_batch`` result."""
    return {k: np.asarray(outputs[f"pose_{k}"], dtype=np.float64) for k in blocks}


def crop_batches(dataset, indices, size: int, batch_size: int, margin: float = DEFAULT_MARGIN):
    """Batches of the samples' crops without augmentation: ``(rows, transforms, x)`` with
    ``rows`` positions in ``indices``, their crop transforms and the network input
    (n, S, S, 3) RGB in [0, 1]."""
    from posenet.data.sources import read_images  # imports Keras: only when needed

    indices = np.asarray(indices, np.int64)
    boxes = dataset.arrays("bbox", indices)
    for rows in batched(np.arange(len(indices)), batch_size):
        transforms = [crop_transform(boxes[i], size, margin=margin) for i in rows]
        images = read_images(dataset, indices[rows])
        crops = np.stack([t.apply_image(img) for t, img in zip(transforms, images, strict=True)])
        yield rows, transforms, to_input(crops)


def crop_people(frames, boxes, size: int, margin: float = DEFAULT_MARGIN):
    """The crops of one box per frame: ``(transforms, crops)``, the crop transforms and the
    uint8 BGR crops (N, S, S, 3)."""
    transforms = [crop_transform(b, size, margin=margin) for b in boxes]
    crops = np.stack([t.apply_image(f) for t, f in zip(transforms, frames, strict=True)])
    return transforms, crops


def to_image(poses, transforms, size: int) -> np.ndarray:
    """x, y (N, J, 2) in image px of poses (N, J, D) normalised to their crops, through
    each crop's inverse transform (scaled to crop px in the poses' own dtype first)."""
    poses = np.asarray(poses)
    return np.stack([t.invert_points(pose[:, :2] * size)
                     for t, pose in zip(transforms, poses, strict=True)])
