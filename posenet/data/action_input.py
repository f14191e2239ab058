"""What an action network reads: windows of poses normalised as the training sequences are.

x, y are taken over the square box spanning the window's confident joints and person boxes
(:func:`extent`), z re-centred on the pelvis at 0.5; joints under :data:`VISIBLE` get
coordinates 0 and visibility 0. :func:`fit_window` picks a window's frames as the network
reads them (padded or resampled to its T frames).
"""

from __future__ import annotations

import numpy as np

from posenet.data.targets import PELVIS
from posenet.data.time_sampling import resample

#: Joints at least this visible count as visible in an action network's input.
VISIBLE = 0.5


def normalise_window(joints2d, z, boxes, pose_dims):
    """ActionNetwork inputs of one window: (poses (T, J, D), visibility (T, J, 1)).

    ``joints2d`` (T, J, 3) image px and confidence; ``z`` (T, J) normalised depth or None;
    ``boxes`` (T, 4) the person boxes (px).
    """
    joints2d = np.asarray(joints2d, np.float64)
    visible = joints2d[..., 2] >= VISIBLE
    x1, y1, x2, y2 = extent(joints2d, visible, boxes)
    side = max(x2 - x1, y2 - y1)
    side = side if side > 0 else 1.0
    origin = np.array([(x1 + x2 - side) / 2, (y1 + y2 - side) / 2])
    poses = np.zeros((*visible.shape, pose_dims))
    poses[..., :2] = (joints2d[..., :2] - origin) / side
    if pose_dims == 3:
        # Training sequences put the pelvis exactly at 0.5 (pelvis-relative depth).
        poses[..., 2] = z - z[:, PELVIS:PELVIS + 1] + 0.5
    poses = np.where(visible[..., None], poses, 0.0)
    return poses.astype(np.float32), visible[..., None].astype(np.float32)


def fit_window(items, num_frames, clip_span=None):
    """A window's frames as a network reads them: the last ``num_frames``, a short
    track's padded by repeating its last frame, as training pads a short sequence; with
    ``clip_span``, the last ``clip_span`` frames (all of a shorter window) resampled to
    ``num_frames`` (``posenet.data.time_sampling``)."""
    items = list(items)
    if clip_span:
        items = items[-int(clip_span):]
        return [items[i] for i in resample(np.arange(len(items)), num_frames)]
    items = items[-num_frames:]
    return items + [items[-1]] * (num_frames - len(items))


def extent(joints2d, valid, boxes) -> np.ndarray:
    """(x1, y1, x2, y2) spanning the valid joints and the finite boxes of a clip."""
    pts = [joints2d[..., :2][valid]]
    boxes = np.asarray(boxes, np.float64)
    boxes = boxes[np.isfinite(boxes).all(-1)]
    pts += [boxes[:, :2], boxes[:, 2:]]
    pts = np.concatenate(pts)
    if not len(pts):  # nothing annotated in this window: every joint is masked anyway
        return np.array([0.0, 0.0, 1.0, 1.0])
    return np.concatenate([pts.min(0), pts.max(0)])
