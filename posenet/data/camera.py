"""Calibrated pinhole camera with Brown-Conrady lens distortion, and the Human3.6M cameras.

Convention (Human3.6M): ``X_cam = R @ (X_world - T)``, with ``R`` the world-to-camera
rotation and ``T`` the camera centre in world millimetres.  Camera axes follow OpenCV:
x right, y down, z forward (points in front of the camera have ``z > 0``).

Distortion acts on the normalised coordinates ``(x, y) = (X / Z, Y / Z)``, with
``r2 = x^2 + y^2``::

    radial = 1 + k1 r2 + k2 r2^2 + k3 r2^3
    x_d = x radial + 2 p1 x y + p2 (r2 + 2 x^2)
    y_d = y radial + p1 (r2 + 2 y^2) + 2 p2 x y
    u = f_x x_d + c_x,   v = f_y y_d + c_y

which is exactly ``cv2.projectPoints`` with ``distCoeffs = (k1, k2, p1, p2, k3)`` and
zero skew (tested).  The Human3.6M release's own MATLAB code uses a variant tangential
term, ``x_d = x (radial + p1 y + p2 x) + p2 r2`` (and symmetrically for y), i.e. the
cross terms lack the factor 2; with the released ``|p| < 3e-3`` the two differ by at most
0.3 px on the real sequences, so the standard (OpenCV-compatible) form is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

#: Human3.6M camera ids, in the order of ``camera1`` .. ``camera4`` of ``cameras.h5``.
H36M_CAMERA_NAMES = ("54138969", "55011271", "58860488", "60457274")
#: Video size (width, height) in pixels of each Human3.6M camera.
H36M_CAMERA_SIZES = {
    "54138969": (1000, 1002),
    "55011271": (1000, 1000),
    "58860488": (1000, 1000),
    "60457274": (1000, 1002),
}


def _frozen_array(value, shape: tuple[int, ...], what: str) -> np.ndarray:
    arr = np.array(value, dtype=np.float64).reshape(-1)  # calibration files store columns
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"camera {what} must have {int(np.prod(shape))} values, got {arr.size}")
    arr = arr.reshape(shape)
    arr.setflags(write=False)
    return arr


# eq=False: the fields are arrays, so identity equality (and hashing) is the sane choice.
@dataclass(frozen=True, eq=False)
class Camera:
    """A calibrated camera; all lengths in millimetres, image quantities in pixels.

    ``R`` (3, 3) world-to-camera rotation, ``T`` (3,) camera centre in world mm,
    ``f`` (2,) focal lengths px, ``c`` (2,) principal point px, ``k`` (3,) radial and
    ``p`` (2,) tangential distortion coefficients (dimensionless, on normalised
    coordinates), ``width``/``height`` the image size in px when known.  Arrays are
    stored as read-only float64.
    """

    R: np.ndarray
    T: np.ndarray
    f: np.ndarray
    c: np.ndarray
    k: np.ndarray = field(default_factory=lambda: np.zeros(3))
    p: np.ndarray = field(default_factory=lambda: np.zeros(2))
    name: str = ""
    width: int | None = None
    height: int | None = None

    def __post_init__(self) -> None:
        for attr, shape in (("R", (3, 3)), ("T", (3,)), ("f", (2,)), ("c", (2,)),
                            ("k", (3,)), ("p", (2,))):  # fmt: skip
            object.__setattr__(self, attr, _frozen_array(getattr(self, attr), shape, attr))
        if not np.allclose(self.R @ self.R.T, np.eye(3), atol=1e-5) or np.linalg.det(self.R) < 0:
            raise ValueError(f"camera {self.name!r}: R is not a rotation matrix")

    # -- rigid transforms -------------------------------------------------------------
    def world_to_camera(self, points) -> np.ndarray:
        """(..., 3) world mm -> (..., 3) camera-frame mm."""
        return (np.asarray(points, dtype=np.float64) - self.T) @ self.R.T

    def camera_to_world(self, points) -> np.ndarray:
        """(..., 3) camera-frame mm -> (..., 3) world mm (inverse of ``world_to_camera``)."""
        return np.asarray(points, dtype=np.float64) @ self.R + self.T

    def depth(self, points_world) -> np.ndarray:
        """(..., 3) world mm -> (...,) depth ``Z`` along the optical axis, mm."""
        return self.world_to_camera(points_world)[..., 2]

    # -- projection -------------------------------------------------------------------
    def distort(self, xy) -> np.ndarray:
        """(..., 2) normalised undistorted -> (..., 2) normalised distorted coordinates."""
        xy = np.asarray(xy, dtype=np.float64)
        x, y = xy[..., 0], xy[..., 1]
        k1, k2, k3 = self.k
        p1, p2 = self.p
        r2 = x * x + y * y
        radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
        xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
        yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
        return np.stack([xd, yd], axis=-1)

    def undistort(self, xy_distorted, iterations: int = 20) -> np.ndarray:
        """Invert ``distort`` by fixed-point iteration (as ``cv2.undistortPoints`` does).

        ``x = (x_d - tangential(x)) / radial(x)``, starting from ``x = x_d``; it
        converges for the moderate distortion of real lenses inside the image (the
        Human3.6M cameras reach 1e-6 px within 6 steps on real sequences).
        """
        xd = np.asarray(xy_distorted, dtype=np.float64)
        xy = xd.copy()
        for _ in range(iterations):
            # distort(xy) = xy * radial + tangential, so this isolates the update.
            r2 = np.sum(xy * xy, axis=-1, keepdims=True)
            radial = 1.0 + r2 * (self.k[0] + r2 * (self.k[1] + r2 * self.k[2]))
            tangential = self.distort(xy) - xy * radial
            xy = (xd - tangential) / radial
        return xy

    def project(self, points_cam, distort: bool = True) -> np.ndarray:
        """(..., 3) camera-frame mm -> (..., 2) pixels (u right, v down).

        Applies the distortion model of the module docstring unless ``distort=False``.
        Points with ``Z <= 0`` (on or behind the camera plane) have no image: NaN.
        """
        pts = np.asarray(points_cam, dtype=np.float64)
        z = pts[..., 2:3]
        with np.errstate(divide="ignore", invalid="ignore"):
            xy = np.where(z > 0, pts[..., :2] / z, np.nan)
        if distort:
            xy = self.distort(xy)
        return xy * self.f + self.c

    def project_world(self, points_world, distort: bool = True) -> np.ndarray:
        """(..., 3) world mm -> (..., 2) pixels; ``project(world_to_camera(points))``."""
        return self.project(self.world_to_camera(points_world), distort=distort)

    def unproject(self, pixels, depth, distort: bool = True, iterations: int = 20) -> np.ndarray:
        """(..., 2) pixels and (...,) depth ``Z`` mm -> (..., 3) camera-frame mm.

        Inverts ``project``: the lens distortion is removed by ``undistort`` (fixed-point
        iteration) unless ``distort=False``, in which case it is the plain pinhole
        inverse.  Use ``camera_to_world`` on the result for world coordinates.
        """
        uv = np.asarray(pixels, dtype=np.float64)
        z = np.asarray(depth, dtype=np.float64)[..., None]
        xy = (uv - self.c) / self.f
        if distort:
            xy = self.undistort(xy, iterations=iterations)
        return np.concatenate([xy * z, np.broadcast_to(z, xy.shape[:-1] + (1,))], axis=-1)

    def __repr__(self) -> str:
        size = f", {self.width}x{self.height}" if self.width and self.height else ""
        return f"Camera({self.name!r}, f={self.f.round(1).tolist()}{size})"


def _decode_name(dataset) -> str:
    """Camera names are stored as a column of character codes (MATLAB char arrays)."""
    codes = np.asarray(dataset).reshape(-1)
    if codes.dtype.kind in "SUO":
        return "".join(v.decode() if isinstance(v, bytes) else str(v) for v in codes)
    return "".join(chr(int(v)) for v in codes)


def read_h36m_cameras(path) -> dict[int, list[Camera]]:
    """Read Human3.6M ``cameras.h5``: ``{subject: [4 cameras ordered camera1..camera4]}``.

    Layout: ``subject<k>/camera<c>/{R, T, f, c, k, p, Name}``; other top-level entries
    (e.g. ``3dtest``) are ignored.  The stored ``R`` is the *transpose* of the
    world-to-camera rotation (MATLAB's column-major matrix read row-major), so it is
    transposed here; verified on real sequences: every joint then projects inside the
    image and in front of all four cameras.  ``T`` is the camera centre in world mm.
    Names default to the standard ids ``H36M_CAMERA_NAMES`` when ``Name`` is absent;
    width/height come from ``H36M_CAMERA_SIZES``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: expected the Human3.6M camera calibration 'cameras.h5' "
            "(subject<k>/camera<c>/{R,T,f,c,k,p,Name}) beside the 3D_positions release"
        )
    cameras: dict[int, list[Camera]] = {}
    try:
        with h5py.File(path, "r") as h5:
            for key in h5:
                if not key.startswith("subject"):
                    continue
                group, cams = h5[key], []
                order = sorted(group, key=lambda name: int(name.removeprefix("camera")))
                for i, cam_key in enumerate(order):
                    g = group[cam_key]
                    name = _decode_name(g["Name"]) if "Name" in g else H36M_CAMERA_NAMES[i]
                    width, height = H36M_CAMERA_SIZES.get(name, (None, None))
                    cams.append(Camera(
                        R=np.asarray(g["R"]).T, T=g["T"], f=g["f"], c=g["c"],
                        k=g["k"], p=g["p"], name=name, width=width, height=height,
                    ))  # fmt: skip
                cameras[int(key.removeprefix("subject"))] = cams
    except (KeyError, OSError, ValueError, IndexError) as err:
        raise ValueError(f"{path}: malformed Human3.6M cameras file ({err})") from err
    if not cameras:
        raise ValueError(f"{path}: no subject<k> groups found")
    return dict(sorted(cameras.items()))
