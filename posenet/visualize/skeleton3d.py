"""A 3D skeleton drawn with OpenCV: a perspective view turned by an azimuth and elevation.

Input joints are root-relative millimetres in camera axes (X right, Y down, Z forward).
The view keeps Y as "down", turns the body about the vertical axis by ``azimuth`` degrees,
then looks down on it from ``elevation`` degrees.  A ground grid is drawn under the lowest
joint (the feet), with a small X/Y/Z axis triad at the root.
"""

from __future__ import annotations

import cv2
import numpy as np

from posenet.skeleton import get_skeleton

_GRID = (200, 200, 200)
_AXES = ((0, 0, 220), (0, 170, 0), (220, 0, 0))  # X red, Y green, Z blue (BGR)
_SHIFT = 4


def _rotation(azimuth: float, elevation: float) -> np.ndarray:
    """(3, 3) view rotation: about Y (vertical) by azimuth, then about X by elevation."""
    a, e = np.radians(azimuth), np.radians(elevation)
    turn = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    # Looking down: farther points (larger z) rise on screen (smaller y, Y pointing down).
    tilt = np.array([[1, 0, 0], [0, np.cos(e), -np.sin(e)], [0, np.sin(e), np.cos(e)]])
    return tilt @ turn


class _View:
    """Projects mm points to pixels of a (W, H) image through a pinhole at ``distance``."""

    def __init__(self, size, azimuth, elevation, centre, extent, distance):
        self.w, self.h = size
        self.R = _rotation(azimuth, elevation)
        self.centre = np.asarray(centre, float)
        self.distance = distance
        # Focal length such that ``extent`` mm fills ~85% of the smaller side at the centre.
        self.f = 0.85 * min(self.w, self.h) * distance / extent

    def project(self, pts) -> tuple[np.ndarray, np.ndarray]:
        """(N, 2) px and (N,) depth mm of (N, 3) points."""
        v = (np.asarray(pts, float) - self.centre) @ self.R.T
        z = v[:, 2] + self.distance
        uv = np.stack([self.w / 2 + self.f * v[:, 0] / z, self.h / 2 + self.f * v[:, 1] / z], 1)
        return uv, z


def _pt(p) -> tuple[int, int]:
    return int(round(p[0] * (1 << _SHIFT))), int(round(p[1] * (1 << _SHIFT)))


def _segment(img, a, b, color, width) -> None:
    if np.isfinite(a).all() and np.isfinite(b).all():
        cv2.line(img, _pt(a), _pt(b), color, width, cv2.LINE_AA, _SHIFT)


def render_skeleton3d(
    joints3d,
    skeleton="model17",
    size=(480, 480),
    azimuth: float = 30.0,
    elevation: float = 15.0,
    extent: float | None = None,
    title: str = "",
) -> np.ndarray:
    """A (H, W, 3) uint8 BGR image of ``joints3d`` (J, 3) root-relative mm.

    ``size`` = (W, H) px; ``azimuth``/``elevation`` in degrees; ``extent`` the mm span that
    fills the view (default: the skeleton's, at least 1800 mm, so a person keeps the same
    scale across frames).  NaN joints and their bones are skipped.
    """
    skel = get_skeleton(skeleton)
    pts = np.asarray(joints3d, float)
    if pts.shape != (skel.num_joints, 3):
        raise ValueError(f"joints3d must be ({skel.num_joints}, 3), got {pts.shape}")
    w, h = (int(v) for v in size)
    img = np.full((h, w, 3), 255, np.uint8)
    ok = np.isfinite(pts).all(axis=1)
    if not ok.any():
        cv2.putText(img, "no 3D pose", (10, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (40, 40, 40), 1, cv2.LINE_AA)
        return img
    good = pts[ok]
    ground = good[:, 1].max()  # Y points down: the lowest joint has the largest Y
    top = good[:, 1].min()
    span = float(np.ptp(good, axis=0).max())
    extent = float(extent) if extent else max(1800.0, 1.2 * span)
    centre = np.array([0.0, (top + ground) / 2.0, 0.0])
    view = _View((w, h), azimuth, elevation, centre, extent, distance=4.0 * extent)
    width = max(1, int(round(min(w, h) / 160)))

    half = 0.4 * extent  # the grid stays inside the view at moderate elevations
    ticks = np.linspace(-half, half, 9)
    for t in ticks:  # ground grid: lines along X and along Z on the plane y = ground
        for a, b in (([t, ground, -half], [t, ground, half]),
                     ([-half, ground, t], [half, ground, t])):
            uv, _ = view.project([a, b])
            _segment(img, uv[0], uv[1], _GRID, 1)
    axis_len = extent / 6.0
    uv, _ = view.project(np.array([[0, 0, 0], [axis_len, 0, 0], [0, axis_len, 0],
                                   [0, 0, axis_len]]))
    for k, color in enumerate(_AXES):
        _segment(img, uv[0], uv[k + 1], color, 1)
        cv2.putText(img, "XYZ"[k], (int(uv[k + 1][0]) + 3, int(uv[k + 1][1]) + 3),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, color, 1, cv2.LINE_AA)

    uv, depth = view.project(np.where(ok[:, None], pts, 0.0))
    uv[~ok] = np.nan
    # Painter's algorithm: far bones first, so near limbs are drawn on top.
    order = sorted(range(len(skel.links)), key=lambda i: -depth[list(skel.links[i])].mean())
    for i in order:
        a, b = skel.links[i]
        color = tuple(int(c) for c in skel.colors[i])
        _segment(img, uv[a], uv[b], color, 2 * width)
    for j in np.flatnonzero(ok):
        cv2.circle(img, _pt(uv[j]), (2 * width + 1) << _SHIFT, (60, 60, 60), -1, cv2.LINE_AA,
                   _SHIFT)
    label = title or f"azimuth {azimuth:g} deg, elevation {elevation:g} deg"
    cv2.putText(img, label, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (40, 40, 40), 1,
                cv2.LINE_AA)
    return img
