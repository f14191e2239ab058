"""Clips of a video for action recognition, and the network inputs made from them.

A video is one ``sequence`` of a prepared file (its samples ordered by ``frame``).  Its
clips are T consecutive frames starting at 0, ``stride`` apart (T // 2 by default), plus
one ending on the last frame when the stride does not reach it; a video shorter than T
gives one clip padded by repeating its last frame (as the training loaders pad).  The
single-clip protocol uses the middle clip of that list (index ``len // 2``); the
multi-clip protocol all of them (their softmaxes multiplied).  A network with a
``clip_span`` reads spans resampled instead (``posenet.data.time_sampling``).
"""

from __future__ import annotations

import numpy as np

from posenet.data.augment import DEFAULT_MARGIN, crop_transform
from posenet.data.pose_sequences import normalised_sequence
from posenet.data.sources import read_images
from posenet.data.targets import select_joints
from posenet.data.time_sampling import sliding_spans
from posenet.engine.inputs import to_input


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


def model_clips(frames, model_like, stride: int | None = None) -> list[np.ndarray]:
    """The evaluation clips of one video for a network (or spec) with ``num_frames`` and
    optional ``clip_span``: ``time_sampling.sliding_spans`` for a span network, else
    :func:`sliding_clips` (consecutive frames ``stride`` apart)."""
    span = getattr(model_like, "clip_span", None)
    if span:
        return sliding_spans(frames, model_like.num_frames, span)
    return sliding_clips(frames, model_like.num_frames, stride)


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
    """Inputs of the pose-only ActionNetwork from ground-truth joints of one clip: the
    normalisation of ``PoseSequenceLoader`` (``normalised_sequence``) without its
    augmentation (noise, drops, flips); unannotated joints 0 with visibility 0. Returns
    ``poses`` (T, J, D) and ``visibility`` (T, J, 1) float32.
    """
    coords, valid, visible = normalised_sequence(dataset, clip, pose_dims)
    coords = np.where(valid[..., None], coords, 0.0)
    return {"poses": select_joints(coords, num_joints).astype(np.float32),
            "visibility": select_joints(visible[..., None].astype(np.float32), num_joints)}
