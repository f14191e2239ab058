"""People's boxes: from joints, smoothed, compared (IoU), clipped; a found person's score.

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
#: Drift (mean joint distance between two estimates over the box side) that divides the
#: person score by e (:func:`person_score`).
DRIFT_SCALE = 0.5
#: Side (px) under which a box clipped to the frame holds no person.
MIN_BOX_SIDE = 4.0


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


def person_score(confidence, first_joints, final_joints, box) -> float:
    """Score in [0, 1] of a person found in a whole frame: the mean joint ``confidence``
    times ``exp(-drift / DRIFT_SCALE)``, where the drift is the mean distance (px) between
    the joints of two estimates of the same person (``first_joints``, ``final_joints``:
    (J, >=2) px) over the longer side of their ``box`` (px). A real person is found at the
    same place twice; on an empty frame the joints wander between the two crops."""
    first = np.asarray(first_joints, np.float64)[:, :2]
    final = np.asarray(final_joints, np.float64)[:, :2]
    side = max(float(box[2] - box[0]), float(box[3] - box[1]), 1e-9)
    distances = np.linalg.norm(first - final, axis=1)
    if not np.isfinite(distances).any():
        return 0.0
    drift = float(np.nanmean(distances)) / side
    return float(confidence) * float(np.exp(-drift / DRIFT_SCALE))


def clip_box(box, width, height, min_side=MIN_BOX_SIDE):
    """``box`` (x1, y1, x2, y2) px clipped to a ``width`` x ``height`` frame; None when a
    side of the clipped box is under ``min_side`` px (or ``box`` is None)."""
    if box is None:
        return None
    clipped = np.clip(np.asarray(box, np.float64), 0.0, [width, height, width, height])
    if min(clipped[2] - clipped[0], clipped[3] - clipped[1]) < min_side:
        return None
    return clipped


#: Default ``min_score``. Measured with the shipped default weights (``posenet tools
#: person-score --data ../shared/data``) on the 1,000 LSPet validation
#: photos (images 8001-9000, one person each) and 322 images without anyone (50 flat
#: colours, 50 uniform noise, 150 procedural backgrounds of ``posenet.render.background``,
#: 72 ceiling and floor crops of the Pose2Sim lab videos): at 0.28 it keeps 97.9% of the
#: people and rejects 91.3% of the empty images (flat 100%, noise 92%, backgrounds 92%,
#: video crops 83%); 0.22 keeps 98.9% and rejects 88.8%, 0.36 keeps 95.1% and rejects
#: 93.5%. The people's scores' 1st percentile is 0.215, their 5th 0.361.
MIN_SCORE = 0.28
