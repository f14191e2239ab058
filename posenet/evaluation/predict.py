"""Batched pose predictions of a network on a prepared file, in the file's own pixels.

Protocol of a single-frame prediction: the sample's ``bbox`` (source-image px) is cropped
with ``augment.crop_transform`` without augmentation (square of side ``margin`` x the
box's longer side, centred on it, resized to the network's S px), the crop goes through
the network as RGB floats in [0, 1], and every block's ``pose_k`` x, y (normalised to the
crop, pixel centres at (i + 0.5) / S) are taken back to crop px (x S) and through the
inverse crop transform to the source image's px.  z (normalised, pelvis-relative, in
[0, 1] over ``DEPTH_RANGE_MM``) is returned unchanged.

The crops and their inversion are ``posenet.engine.inputs``'s. Flip test: the mirrored
crop is predicted too (in the same call: a batch holds the crops followed by their
mirrors), its x mirrored back (x -> 1 - x) and its joints' left/right labels swapped
back, then the two predictions are averaged (all coordinates).
"""

from __future__ import annotations

import numpy as np

from posenet.data.augment import DEFAULT_MARGIN
from posenet.data.sources import read_images
from posenet.engine.inputs import batched, crop_batches, pose_blocks, to_image, unflip
from posenet.evaluation.model_spec import ModelSpec


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
            pose[:, :, :2] = to_image(pose, transforms, size)
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
    (``Predictor.detect_single``: the person found by ``finder``, then cropped and
    estimated), so no ground-truth box is used. x, y in px of the source image, z as
    predicted; NaN (a wrong joint to every protocol) where the person is not found.
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
            if r is None:  # nobody found: every joint missing
                out.append(np.full((predictor.num_joints, predictor.dims), np.nan))
                continue
            pose = r["joints2d"][:, :2]
            if r["z"] is not None:
                pose = np.concatenate([pose, r["z"][:, None]], axis=1)
            out.append(pose)
    return np.stack(out)
