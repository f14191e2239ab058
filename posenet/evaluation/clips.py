"""Clips of a video for action recognition, and the network inputs made from them.

A video is one ``sequence`` of a prepared file (its samples ordered by ``frame``).  Its
clips are T consecutive frames starting at 0, ``stride`` apart (T // 2 by default), plus
one ending on the last frame when the stride does not reach it; a video shorter than T
gives one clip padded by repeating its last frame (as the training loaders pad).  The
single-clip protocol uses the middle clip of that list (index ``len // 2``); the
multi-clip protocol all of them (their softmaxes multiplied).
"""

from __future__ import annotations

import numpy as np

from posenet.data.augment import DEFAULT_MARGIN, crop_transform
from posenet.data.sources import read_images
from posenet.data.targets import depth_to_normalised, select_joints
from posenet.evaluation.predict import to_input

_PELVIS = 0


def sliding_clips(frames, num_frames: int, stride: int | None = None) -> list[np.ndarray]:
    """Clips (each ``num_frames`` sample indices) sliding over ``frames`` (see module doc)."""
    frames = np.asarray(frames)
    if len(frames) == 0:
        raise ValueError("a video needs at least one frame")
    stride = max(1, num_frames // 2) if stride is None else int(stride)
    if stride < 1:
        raise ValueError(f"clip stride must be >= 1, got {stride}")
    last = max(len(frames) - num_frames, 0)
    starts = list(range(0, last + 1, stride))
    if starts[-1] != last:
        starts.append(last)
    return [frames[np.minimum(s + np.arange(num_frames), len(frames) - 1)] for s in starts]


def middle_clip(clips: list) -> int:
    """Index of the single-clip protocol's clip among a video's sliding clips."""
    return len(clips) // 2


def video_label(dataset, frames) -> int:
    """The video's action: the first labelled frame's, -1 when none is labelled."""
    labels = dataset.arrays("action", frames)
    labelled = labels[labels >= 0]
    return int(labelled[0]) if len(labelled) else -1


def _union(boxes) -> np.ndarray:
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    ok = np.isfinite(boxes).all(-1) & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    if not ok.any():
        return np.full(4, np.nan)
    return np.concatenate([boxes[ok, :2].min(0), boxes[ok, 2:].max(0)])


def clip_images(dataset, clip, video, size: int, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """(T, S, S, 3) float32 RGB input of a clip model: one crop, around the union of the
    clip's boxes (the video's when the clip has none), for all its frames."""
    box = _union(dataset.arrays("bbox", clip))
    if not np.isfinite(box).all():
        box = _union(dataset.arrays("bbox", video))
    if not np.isfinite(box).all():
        raise ValueError(f"{dataset.path}: a video has no usable bbox to crop")
    t = crop_transform(box, size, margin=margin)
    return to_input(np.stack([t.apply_image(img) for img in read_images(dataset, clip)]))


def clip_poses(dataset, clip, num_joints: int, pose_dims: int) -> dict[str, np.ndarray]:
    """Inputs of the pose-only ActionNetwork from ground-truth joints of one clip.

    The normalisation of ``PoseSequenceLoader`` without its augmentation (noise, drops,
    flips), replicated here because the loader keeps it inside a method: x, y relative to
    the square around the union of the clip's valid joints and finite boxes (its longer
    side, centred), in [0, 1]; z (D = 3) the pelvis-relative depth of
    ``targets.depth_to_normalised``; unannotated joints 0 with visibility 0.  Returns
    ``poses`` (T, J, D) and ``visibility`` (T, J, 1) float32.
    """
    joints2d = dataset.arrays("joints2d", clip).astype(np.float64)
    valid = dataset.arrays("valid2d", clip) & np.isfinite(joints2d[..., :2]).all(-1)
    visible = valid & (joints2d[..., 2] > 0)
    boxes = np.asarray(dataset.arrays("bbox", clip), np.float64)
    pts = np.concatenate([joints2d[..., :2][valid], boxes[np.isfinite(boxes).all(-1)]
                          .reshape(-1, 2)])
    lo, hi = (pts.min(0), pts.max(0)) if len(pts) else (np.zeros(2), np.ones(2))
    side = max(float((hi - lo).max()), 0.0) or 1.0  # one point: any scale centres it
    origin = (lo + hi - side) / 2
    coords = np.zeros((*valid.shape, pose_dims))
    coords[..., :2] = (joints2d[..., :2] - origin) / side
    if pose_dims == 3:
        z = dataset.arrays("joints3d", clip)[..., 2].astype(np.float64)
        known = dataset.arrays("valid3d", clip) & np.isfinite(z)
        known &= known[:, _PELVIS:_PELVIS + 1]
        z = np.where(known, z, 0.0)
        coords[..., 2] = np.where(known, depth_to_normalised(z, z[:, _PELVIS:_PELVIS + 1]), 0)
    coords = np.where(valid[..., None], coords, 0.0)
    return {"poses": select_joints(coords, num_joints).astype(np.float32),
            "visibility": select_joints(visible[..., None].astype(np.float32), num_joints)}
