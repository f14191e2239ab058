"""Batched pose predictions of a network on a prepared file, in the file's own pixels.

Protocol of a single-frame prediction: the sample's ``bbox`` (source-image px) is cropped
with ``augment.crop_transform`` without augmentation (square of side ``margin`` x the
box's longer side, centred on it, resized to the network's S px), the crop goes through
the network as RGB floats in [0, 1], and every block's ``pose_k`` x, y (normalised to the
crop, pixel centres at (i + 0.5) / S) are taken back to crop px (x S) and through the
inverse crop transform to the source image's px.  z (normalised, pelvis-relative, in
[0, 1] over ``DEPTH_RANGE_MM``) is returned unchanged.

Flip test: the mirrored crop is predicted too (in the same call: a batch holds the crops
followed by their mirrors), its x mirrored back (x -> 1 - x) and its joints' left/right
labels swapped back, then the two predictions are averaged (all coordinates).
"""

from __future__ import annotations

import cv2
import numpy as np

from posenet.data.augment import DEFAULT_MARGIN, crop_transform
from posenet.data.sources import read_images
from posenet.evaluation.model_spec import ModelSpec
from posenet.skeleton import get_skeleton


def layout_name(num_joints: int) -> str:
    """Skeleton layout of a model's joint axis: model16 or model17."""
    return "model16" if num_joints == 16 else "model17"


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
    indices = np.asarray(indices, np.int64)
    boxes = dataset.arrays("bbox", indices)
    for rows in batched(np.arange(len(indices)), batch_size):
        transforms = [crop_transform(boxes[i], size, margin=margin) for i in rows]
        images = read_images(dataset, indices[rows])
        crops = np.stack([t.apply_image(img) for t, img in zip(transforms, images, strict=True)])
        yield rows, transforms, to_input(crops)


def predict_frames(model, spec: ModelSpec, dataset, indices, blocks, batch_size: int = 16,
                   flip: bool = False, margin: float = DEFAULT_MARGIN) -> dict[int, np.ndarray]:
    """Poses of samples ``indices`` of a PreparedDataset by blocks ``blocks``.

    ``model`` is a single-frame network (``predict_on_batch`` of (B, S, S, 3) floats ->
    dict with ``pose_k`` (B, J, D)); every index must have a usable ``bbox``.  Returns
    ``{k: (n, J, D)}``: x, y in px of the file's source image, z as predicted.
    """
    size, joints = spec.input_size, spec.num_joints
    out: dict[int, list] = {k: [] for k in blocks}
    for part, transforms, x in crop_batches(dataset, indices, size, batch_size, margin):
        if flip:
            x = np.concatenate([x, x[:, :, ::-1]])
        preds = pose_blocks(model.predict_on_batch(x), blocks)
        for k, pose in preds.items():
            if flip:
                pose = 0.5 * (pose[: len(part)] + unflip(pose[len(part):], joints))
            pose = pose.copy()
            for row, t in enumerate(transforms):
                pose[row, :, :2] = t.invert_points(pose[row, :, :2] * size)
            out[k].append(pose)
    return {k: np.concatenate(v) for k, v in out.items()}


def crop_to_image(points, crop) -> np.ndarray:
    """Rendered sets: px of a stored crop (..., J, 2) -> px of the full camera image.

    Inverts the file's ``crop`` (n, 3) ``(x0, y0, scale)``, ``crop_px = (image_px -
    (x0, y0)) * scale``; rows whose crop is NaN (converted sets) are returned unchanged.
    """
    pts = np.array(points, dtype=np.float64)
    crop = np.asarray(crop, dtype=np.float64)
    has = np.isfinite(crop).all(-1)
    pts[has] = pts[has] / crop[has, None, 2:3] + crop[has, None, :2]
    return pts


def predict_found(model, dataset, indices, block: int, batch_size: int = 16,
                  finder: str = "pose") -> np.ndarray:
    """Poses (n, J, D) of samples ``indices`` when the person must be found first.

    Each whole source image goes through ``posenet infer``'s single-person path
    (``Predictor.detect_single``: the person found on the letterboxed image by
    ``finder``, then cropped and estimated), so no ground-truth box is used. x, y in px
    of the source image, z as predicted.
    """
    from posenet.inference.predictor import Predictor

    # a RuntimeModel (evaluation.runtime_model) hands its runtime to the Predictor
    predictor = Predictor(weights=getattr(model, "network", model), block=block,
                          batch_size=batch_size, finder=finder,
                          runtime=getattr(model, "runtime", "keras"))
    out = []
    for part in batched(np.asarray(indices, np.int64), batch_size):
        results, _ = predictor.detect_single(read_images(dataset, part))
        for r in results:
            pose = r["joints2d"][:, :2]
            if r["z"] is not None:
                pose = np.concatenate([pose, r["z"][:, None]], axis=1)
            out.append(pose)
    return np.stack(out)
