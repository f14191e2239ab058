"""Triangulation of points seen by several calibrated cameras: weighted DLT, reprojection
errors, and the rule that leaves out a view that disagrees with the others.

A point's views give, through each camera's undistorted ray ``(x, y)`` and its ``[R | t]``
(rows ``P1, P2, P3``), the linear equations ``w (x P3 - P1) X = 0`` and ``w (y P3 - P2) X
= 0`` in the homogeneous point ``X``; the least-squares solution is the last right singular
vector (the DLT). ``w`` is the joint's confidence in that view, so a sure view counts more
and a view of weight 0 not at all. Translations are in metres inside, so the matrix's
columns are of one scale (mm would make the fourth column a thousand times the others).

**Dropping views.** A joint mislabelled in one view (left for right, a neighbour's wrist,
a limb hidden behind the body) pulls the DLT off and shows as reprojection errors. While
the largest error of a point's views exceeds ``max_error`` and at least 3 views remain,
its worst view is left out and the point re-triangulated. The worst view is the one
without which the others agree best (the smallest largest error, each candidate
triangulated without it), not simply the one of largest error: a wrong view drags the
point towards itself, so a right view can show the largest error (on the recording below,
dropping the view of largest error left 6 of the woman's 99 left-thigh lengths off their
median by 0.15-0.9 m; this rule, none by over 10 cm). With 2 views left and an error
still over ``max_error`` the two rays miss each other: the point has no position (NaN).
So every position returned agrees with each of its views within ``max_error``. Two views
can still agree on a wrong point by chance (a point anywhere near both epipolar lines): a
third view is what rules that out.

:data:`MAX_ERROR_PX`, 40 px, was measured on the Pose2Sim multi-person recording (1088 x
1920 px, people 550-1100 px tall, 2.5-4.5 m from four cameras; posenet's predictions,
the two people seen in 3-4 views, 100 frames). Keeping every view, a joint's views have
errors (joints seen in all four) of median 16.8 px, 75th percentile 29.6, 90th 62, 99th
283 (the last decile: swaps and occluded limbs). Per ``max_error``: the joints' mean
error, median / 90th percentile; views per joint; and the share of frames whose thigh
(upper arm) length is off its median by over 10 cm:

    max_error   error, px     views   thighs   upper arms
    none        16.5 / 84.3   3.68    1.8%     6.8%
    80          14.9 / 26.2   3.52    0%       2.8%
    40          13.1 / 19.8   3.38    0%       2.5%
    20           7.9 / 12.8   2.88    0.3%     4.3%

40 px is about twice the 90th percentile of the errors it leaves, and at 3.5 m (focal
length 1680 px) 8 cm. For people of another size in px, scale it (``--max-error``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Reprojection error in px over which a view of a point is left out (module docstring).
MAX_ERROR_PX = 40.0
#: Confidence under which a joint's view is not used.
MIN_CONFIDENCE = 0.3


def projections(cameras) -> np.ndarray:
    """(V, 3, 4) ``[R | t]`` of the cameras, ``t`` in metres: normalised coordinates."""
    return np.stack([np.hstack([c.R, c.t[:, None] / 1000.0]) for c in cameras])


def triangulate(matrices, xy, weights) -> np.ndarray:
    """Weighted DLT of points seen in V views (module docstring).

    Args:
        matrices: (V, 3, 4) :func:`projections`.
        xy: (..., V, 2) undistorted normalised coordinates (NaN where unseen).
        weights: (..., V) weights >= 0; 0 (or a NaN coordinate) leaves the view out.

    Returns:
        (..., 3) world mm; NaN where fewer than 2 views count.
    """
    xy = np.asarray(xy, dtype=np.float64)
    w = np.where(np.all(np.isfinite(xy), axis=-1), np.asarray(weights, dtype=np.float64), 0.0)
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    xy = np.where(w[..., None] > 0, xy, 0.0)
    P = np.asarray(matrices, dtype=np.float64)
    rows_x = xy[..., 0, None] * P[:, 2] - P[:, 0]  # (..., V, 4)
    rows_y = xy[..., 1, None] * P[:, 2] - P[:, 1]
    A = np.concatenate([rows_x, rows_y], axis=-2) * np.concatenate([w, w], axis=-1)[..., None]
    lead = A.shape[:-2]
    flat = A.reshape(-1, *A.shape[-2:])
    homogeneous = np.linalg.svd(flat)[2][:, -1, :] if flat.shape[0] else np.zeros((0, 4))
    homogeneous = homogeneous.reshape(*lead, 4)
    scale = homogeneous[..., 3:]
    with np.errstate(divide="ignore", invalid="ignore"):
        points = homogeneous[..., :3] / scale * 1000.0
    enough = np.sum(w > 0, axis=-1) >= 2
    ok = enough & (np.abs(scale[..., 0]) > 1e-12)
    return np.where(ok[..., None], points, np.nan)


def reprojection_errors(cameras, points, px) -> np.ndarray:
    """(..., V) distance in px between each camera's projection of ``points`` (..., 3) world
    mm and ``px`` (..., V, 2) observed (distorted) px; NaN where ``px`` or the point is NaN,
    inf where the point is behind the camera."""
    points = np.asarray(points, dtype=np.float64)
    px = np.asarray(px, dtype=np.float64)
    errors = []
    for v, camera in enumerate(cameras):
        projected = camera.project(points)
        error = np.linalg.norm(projected - px[..., v, :], axis=-1)
        behind = np.isnan(projected[..., 0]) & np.all(np.isfinite(points), axis=-1)
        errors.append(np.where(behind & np.all(np.isfinite(px[..., v, :]), axis=-1),
                               np.inf, error))
    return np.stack(errors, axis=-1)


@dataclass
class Triangulated:
    """Points triangulated by :func:`triangulate_views`.

    Attributes:
        points: (..., 3) world mm, NaN without a reliable position.
        used: (..., V) bool, the views each point was triangulated from (none for NaN).
        errors: (..., V) reprojection error in px in each used view, NaN in the others.
    """

    points: np.ndarray
    used: np.ndarray
    errors: np.ndarray

    @property
    def mean_error(self) -> np.ndarray:
        """(...,) mean reprojection error over the views used, px (NaN for no point)."""
        with np.errstate(invalid="ignore"):
            counts = self.used.sum(axis=-1)
            total = np.where(self.used, self.errors, 0.0).sum(axis=-1)
            return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def _worst_view(cameras, matrices, xy, px, weights, used) -> np.ndarray:
    """(...,) the view whose removal leaves the others agreeing best: the smallest largest
    error of the remaining views, each point triangulated without it."""
    remaining = []
    for v in range(len(cameras)):
        keep = used.copy()
        keep[..., v] = False
        points = triangulate(matrices, xy, np.where(keep, weights, 0.0))
        errors = np.where(keep, reprojection_errors(cameras, points, px), -np.inf)
        worst = np.max(np.nan_to_num(errors, nan=np.inf), axis=-1)
        remaining.append(np.where(used[..., v], worst, np.inf))
    return np.argmin(np.stack(remaining, axis=-1), axis=-1)


def triangulate_views(cameras, px, confidence, min_confidence=MIN_CONFIDENCE,
                      max_error=MAX_ERROR_PX) -> Triangulated:
    """Points from V views, leaving out the views that disagree (module docstring).

    Args:
        cameras: the V ``Camera``s.
        px: (..., V, 2) observed px (camera convention: the top-left pixel's centre at 0,
            0); NaN where unseen.
        confidence: (..., V) confidence of each observation in [0, 1]: the DLT's weight;
            under ``min_confidence`` the view is not used.
        max_error: px; ``None`` or ``inf`` keeps every view.

    Returns:
        :class:`Triangulated`.
    """
    px = np.asarray(px, dtype=np.float64)
    conf = np.nan_to_num(np.asarray(confidence, dtype=np.float64), nan=0.0)
    if px.shape[-2] != len(cameras) or conf.shape != px.shape[:-1]:
        raise ValueError(f"expected px (..., {len(cameras)}, 2) and confidence (..., "
                         f"{len(cameras)}), got {px.shape} and {conf.shape}")
    limit = np.inf if max_error is None else float(max_error)
    matrices = projections(cameras)
    xy = np.stack([c.undistort_points(px[..., v, :]) for v, c in enumerate(cameras)], axis=-2)
    used = (conf >= min_confidence) & np.all(np.isfinite(xy), axis=-1)
    while True:
        points = triangulate(matrices, xy, np.where(used, conf, 0.0))
        errors = np.where(used, reprojection_errors(cameras, points, px), np.nan)
        worst_error = np.max(np.where(used, np.nan_to_num(errors, nan=np.inf), -np.inf),
                             axis=-1)
        drop = (worst_error > limit) & (used.sum(axis=-1) >= 3)
        if not drop.any():
            break
        worst = _worst_view(cameras, matrices, xy, px, np.where(used, conf, 0.0), used)
        used &= ~(drop[..., None] & (np.arange(len(cameras)) == worst[..., None]))
    reliable = np.isfinite(worst_error) & (worst_error <= limit) & (used.sum(axis=-1) >= 2)
    used &= reliable[..., None]
    return Triangulated(points=np.where(reliable[..., None], points, np.nan), used=used,
                        errors=np.where(used, errors, np.nan))
