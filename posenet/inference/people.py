"""People's boxes: from joints, smoothed, compared (IoU).

Boxes are ``(x1, y1, x2, y2)`` in continuous image px (pixel ``i`` covers ``[i, i + 1)``).
"""

from __future__ import annotations

import numpy as np

#: A joint whose visibility is at least this counts as confident when boxing a person.
CONFIDENT = 0.5
#: Padding of the confident joints' extent (total, fraction of its width and height).
BOX_PADDING = 0.2
#: Weight of the newest box in the exponential smoothing of a track's box.
SMOOTHING = 0.6


def box_from_joints(joints2d, padding=BOX_PADDING, min_side=8.0) -> np.ndarray | None:
    """(4,) box of the confident joints of (J, 3) ``x, y, conf``, padded by ``padding``.

    Falls back to every finite joint when fewer than 2 are confident; None when fewer than
    2 joints are finite. Sides are at least ``min_side`` px.
    """
    joints = np.asarray(joints2d, np.float64)
    finite = np.isfinite(joints[:, :2]).all(-1)
    pick = finite & (joints[:, 2] >= CONFIDENT)
    if pick.sum() < 2:
        pick = finite
    if pick.sum() < 2:
        return None
    lo, hi = joints[pick, :2].min(0), joints[pick, :2].max(0)
    centre = (lo + hi) / 2
    half = np.maximum((hi - lo) * (1 + padding), min_side) / 2
    return np.concatenate([centre - half, centre + half])


def smooth_box(old, new, weight=SMOOTHING) -> np.ndarray:
    """Exponential smoothing of a track's box (``new`` weighs ``weight``)."""
    if old is None:
        return np.asarray(new, np.float64)
    return weight * np.asarray(new, np.float64) + (1 - weight) * np.asarray(old, np.float64)


def iou(a, b) -> np.ndarray:
    """(N, M) intersection over union of boxes (N, 4) and (M, 4)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)[:, None]
    b = np.asarray(b, np.float64).reshape(-1, 4)[None]
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)
