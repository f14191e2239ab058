"""A calibrated camera of a multi-view rig: projection, undistortion, epipolar geometry.

Conventions (OpenCV's): ``X_cam = R @ X_world + t`` with ``R`` the world-to-camera rotation
and ``t`` in world millimetres; camera axes x right, y down, z forward (a point in front of
the camera has ``z > 0``); pixel coordinates with the centre of the top-left pixel at
``(0, 0)``. (posenet's predictions put that centre at ``(0.5, 0.5)``: pixel ``i`` covers
``[i, i + 1)``; ``pipeline`` shifts them.) Distortion, on normalised coordinates
``(x, y) = (X / Z, Y / Z)`` with ``r2 = x^2 + y^2`` and ``dist = (k1, k2, p1, p2, k3)``::

    x_d = x (1 + k1 r2 + k2 r2^2 + k3 r2^3) + 2 p1 x y + p2 (r2 + 2 x^2)
    y_d = y (1 + k1 r2 + k2 r2^2 + k3 r2^3) + p1 (r2 + 2 y^2) + 2 p2 x y
    u = fx x_d + skew y_d + cx,   v = fy y_d + cy

which is ``cv2.projectPoints`` (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Fixed-point steps of :meth:`Camera.undistort_points` (a lens's moderate distortion
#: converges to 1e-6 px in well under this).
UNDISTORT_STEPS = 20


def _array(value, shape, what, name) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"camera {name!r}: {what} is not numbers") from None
    if arr.shape != shape:
        raise ValueError(f"camera {name!r}: {what} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"camera {name!r}: {what} has non-finite values")
    arr.setflags(write=False)
    return arr


# eq=False: the fields are arrays, so identity equality is the sane one.
@dataclass(frozen=True, eq=False)
class Camera:
    """One calibrated camera (module docstring: conventions).

    Attributes:
        name: the camera's name (a video named ``<name>.mp4`` is matched to it).
        size: image (width, height) in px.
        K: (3, 3) intrinsic matrix in px.
        dist: (5,) distortion ``k1, k2, p1, p2, k3`` (OpenCV order, dimensionless).
        R: (3, 3) world-to-camera rotation.
        t: (3,) world-to-camera translation in mm.
    """

    name: str
    size: tuple[int, int]
    K: np.ndarray
    dist: np.ndarray
    R: np.ndarray
    t: np.ndarray

    def __post_init__(self):
        name = self.name
        try:
            width, height = (int(v) for v in self.size)
        except (TypeError, ValueError):
            raise ValueError(f"camera {name!r}: size must be [width, height]") from None
        if width <= 0 or height <= 0:
            raise ValueError(f"camera {name!r}: size must be positive, got {self.size}")
        object.__setattr__(self, "size", (width, height))
        for attr, shape in (("K", (3, 3)), ("dist", (5,)), ("R", (3, 3)), ("t", (3,))):
            object.__setattr__(self, attr, _array(getattr(self, attr), shape, attr, name))
        K = self.K
        if K[0, 0] <= 0 or K[1, 1] <= 0 or K[1, 0] or K[2, 0] or K[2, 1] or K[2, 2] != 1:
            raise ValueError(f"camera {name!r}: K must be [[fx, s, cx], [0, fy, cy], "
                             f"[0, 0, 1]] with fx, fy > 0, got {K.tolist()}")
        # calibration files print a rotation to ~16 digits, some to 6: 1e-4 accepts both
        if (not np.allclose(self.R @ self.R.T, np.eye(3), atol=1e-4)
                or np.linalg.det(self.R) < 0):
            raise ValueError(f"camera {name!r}: R is not a rotation matrix")

    @property
    def centre(self) -> np.ndarray:
        """(3,) the camera's optical centre in world mm."""
        return -self.R.T @ self.t

    def to_camera(self, points_world) -> np.ndarray:
        """(..., 3) world mm -> (..., 3) camera-frame mm."""
        return np.asarray(points_world, dtype=np.float64) @ self.R.T + self.t

    def distort(self, xy) -> np.ndarray:
        """(..., 2) normalised undistorted -> (..., 2) normalised distorted coordinates."""
        xy = np.asarray(xy, dtype=np.float64)
        x, y = xy[..., 0], xy[..., 1]
        k1, k2, p1, p2, k3 = self.dist
        r2 = x * x + y * y
        radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
        return np.stack([x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x),
                         y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y], axis=-1)

    def project(self, points_world) -> np.ndarray:
        """(..., 3) world mm -> (..., 2) px, distortion included; NaN for a point on or
        behind the camera's plane (it has no image)."""
        cam = self.to_camera(points_world)
        z = cam[..., 2:3]
        with np.errstate(divide="ignore", invalid="ignore"):
            xy = np.where(z > 0, cam[..., :2] / z, np.nan)
        return self.to_pixels(self.distort(xy))

    def to_pixels(self, xy) -> np.ndarray:
        """(..., 2) normalised (distorted) coordinates -> (..., 2) px."""
        xy = np.asarray(xy, dtype=np.float64)
        return xy @ self.K[:2, :2].T + self.K[:2, 2]

    def undistort_points(self, px, pixels=False) -> np.ndarray:
        """(..., 2) observed px -> (..., 2) undistorted normalised coordinates (the ray
        ``(x, y, 1)`` in the camera frame), or with ``pixels=True`` undistorted px (where a
        distortion-free camera of the same ``K`` would see the point). NaN stays NaN.

        Inverts :meth:`distort` by fixed-point iteration, ``x = (x_d - tangential(x)) /
        radial(x)`` from ``x = x_d`` (as ``cv2.undistortPoints`` does)."""
        px = np.asarray(px, dtype=np.float64)
        xd = (px - self.K[:2, 2]) @ np.linalg.inv(self.K[:2, :2]).T
        xy = xd.copy()
        k1, k2, _, _, k3 = self.dist
        for _ in range(UNDISTORT_STEPS):
            r2 = np.sum(xy * xy, axis=-1, keepdims=True)
            radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
            tangential = self.distort(xy) - xy * radial
            xy = (xd - tangential) / radial
        return self.to_pixels(xy) if pixels else xy

    def to_dict(self) -> dict:
        """The camera as an entry of posenet's calibration JSON."""
        return {"name": self.name, "size": list(self.size), "K": self.K.tolist(),
                "dist": self.dist.tolist(), "R": self.R.tolist(), "t": self.t.tolist()}


def fundamental_matrix(a: Camera, b: Camera) -> np.ndarray:
    """(3, 3) ``F`` with ``x_b^T F x_a = 0`` for the undistorted px (homogeneous) of one
    world point in cameras ``a`` and ``b``."""
    rotation = b.R @ a.R.T  # a's frame to b's
    shift = b.t - rotation @ a.t
    cross = np.array([[0.0, -shift[2], shift[1]], [shift[2], 0.0, -shift[0]],
                      [-shift[1], shift[0], 0.0]])
    return np.linalg.inv(b.K).T @ (cross @ rotation) @ np.linalg.inv(a.K)


