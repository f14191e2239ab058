"""Public entry points of the renderer: cameras looking at a person, clips, demo.

World frame: the one of ``posenet.render.motion`` (mm, z up, floor at ``z = 0``, the
person near the origin facing +y at yaw 0).  Camera frame: OpenCV axes (x right, y down,
z forward), related by ``X_cam = R @ X_world + t``.  (``posenet.data.camera.Camera``
writes ``X_cam = R @ (X_world - T)``; the two agree for ``T = -R.T @ t``.)

Typical use::

    rng = np.random.default_rng(0)
    motion = builtin_motion(50, fps=10, kind="walk")
    f, c = (300.0, 300.0), (128.0, 128.0)
    R, t = look_at_camera(4000, 1500, azimuth_deg=30, f=f, c=c)
    clip = render_clip(motion, R, t, f, c, (256, 256), rng)
"""

from __future__ import annotations

import numpy as np

from posenet.render.background import BACKGROUND_KINDS, random_background
from posenet.render.body import PART_NAMES, BodyStyle, random_style
from posenet.render.draw import project_pinhole, render_person
from posenet.render.motion import MOTION_KINDS, MOTION_PERIODS_S, builtin_motion

__all__ = [
    "BACKGROUND_KINDS",
    "MOTION_KINDS",
    "MOTION_PERIODS_S",
    "PART_NAMES",
    "BodyStyle",
    "builtin_motion",
    "demo_clip",
    "look_at_camera",
    "project_pinhole",
    "random_background",
    "random_light",
    "random_style",
    "render_clip",
    "render_person",
    "to_camera",
]

#: Height (mm) of the point a camera from ``look_at_camera`` aims at: mid-body.
TARGET_HEIGHT_MM = 900.0
#: Height (mm) of the box a person is assumed to fill when fitting the distance.
_PERSON_HEIGHT_MM = 1900.0


def look_at_camera(
    distance_mm: float | None,
    height_mm: float,
    azimuth_deg: float,
    f,
    c,
    target_mm=(0.0, 0.0, TARGET_HEIGHT_MM),
    fill: float = 0.75,
) -> tuple[np.ndarray, np.ndarray]:
    """(R (3, 3), t (3,)) of a camera aimed at ``target_mm`` (world, mm), no roll.

    The camera stands ``distance_mm`` away from the target horizontally, at height
    ``height_mm`` above the floor, at ``azimuth_deg`` counter-clockwise seen from above:
    0 is in front of a person at yaw 0 (on +y), 90 on their left (-x), 180 behind.  The
    target projects to the principal point ``c``.  When ``distance_mm`` is None it is
    chosen so a standing person (1.9 m) spans ``fill`` of the image height, the image
    being taken ``2 * c_y`` px tall (``f`` is in px).
    """
    target = np.asarray(target_mm, dtype=np.float64).reshape(3)
    if distance_mm is None:
        f_y, c_y = float(np.asarray(f).reshape(2)[1]), float(np.asarray(c).reshape(2)[1])
        distance_mm = f_y * _PERSON_HEIGHT_MM / (fill * 2.0 * c_y)
    if not distance_mm > 0:
        raise ValueError(f"distance_mm must be positive, got {distance_mm}")
    az = np.deg2rad(azimuth_deg)
    centre = np.array([target[0] - distance_mm * np.sin(az),
                       target[1] + distance_mm * np.cos(az), float(height_mm)])  # fmt: skip
    forward = target - centre
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-9:
        raise ValueError("the camera looks straight up or down; azimuth is undefined")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)  # x right, y down, z forward: x cross y = z
    R = np.stack([right, down, forward])
    return R, -R @ centre


def to_camera(points_world, R, t) -> np.ndarray:
    """(..., 3) world mm -> (..., 3) camera mm: ``X_cam = R @ X_world + t``."""
    pts = np.asarray(points_world, dtype=np.float64)
    return pts @ np.asarray(R, dtype=np.float64).T + np.asarray(t, dtype=np.float64)


def random_light(rng: np.random.Generator) -> np.ndarray:
    """(3,) unit direction towards a light above the camera's horizon, mostly in front."""
    light = np.array([rng.uniform(-1, 1), rng.uniform(-1, -0.2), rng.uniform(-1, -0.3)])
    return light / np.linalg.norm(light)


def render_clip(
    motion_world,
    R,
    t,
    f,
    c,
    size: tuple[int, int],
    rng: np.random.Generator | int,
    style: BodyStyle | None = None,
    background: np.ndarray | None = None,
    light_dir=None,
    points_2d=None,
    on_frame=None,
) -> dict[str, np.ndarray]:
    """Render a person moving along ``motion_world`` (T, 17, 3) h36m17 world mm.

    ``R``, ``t``: camera pose (``X_cam = R X_world + t``); ``f``, ``c`` (2,) px: pinhole
    intrinsics; ``size`` = (W, H) px; ``rng``: a NumPy generator (or a seed) that draws
    whatever is not given: ``style`` (``random_style``), ``background`` (H, W, 3) uint8
    (``random_background``) and ``light_dir`` (``random_light``) - one of each for the
    whole clip, so the person moves over a fixed background.  ``points_2d`` (T, 17, 2)
    px optionally replaces the pinhole projection (a distorting camera's).

    ``on_frame``: called with each frame as it is drawn, which is then not kept (a long
    clip streams to a writer in constant memory; ``frames`` is None).

    Returns a dict: ``frames`` (T, H, W, 3) uint8 BGR, ``joints_2d`` (T, 17, 2) float64 px
    (pixel ``i`` covers ``[i, i + 1)``), ``joints_cam`` (T, 17, 3) float64 mm,
    ``visible`` (T, 17) bool (see ``posenet.render.draw``).
    """
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    motion = np.asarray(motion_world, dtype=np.float64)
    if motion.ndim != 3 or motion.shape[1:] != (17, 3):
        raise ValueError(f"motion_world must be (T, 17, 3), got {motion.shape}")
    width, height = (int(v) for v in size)
    if style is None:
        style = random_style(rng)
    if background is None:
        background = random_background(rng, height, width)
    background = np.asarray(background, dtype=np.uint8)
    if background.shape != (height, width, 3):
        raise ValueError(f"background must be ({height}, {width}, 3), got {background.shape}")
    if light_dir is None:
        light_dir = random_light(rng)
    joints_cam = to_camera(motion, R, t)
    num = len(motion)
    frames = None if on_frame else np.empty((num, height, width, 3), np.uint8)
    joints_2d = np.empty((num, 17, 2))
    visible = np.empty((num, 17), bool)
    for i in range(num):
        frame, joints_2d[i], visible[i] = render_person(
            background, joints_cam[i], f, c, style,
            points_2d=None if points_2d is None else points_2d[i], light_dir=light_dir)
        if on_frame:
            on_frame(frame)
        else:
            frames[i] = frame
    return {"frames": frames, "joints_2d": joints_2d, "joints_cam": joints_cam,
            "visible": visible}


def demo_clip(
    num_frames: int = 30,
    kind: str = "walk",
    size: tuple[int, int] = (256, 256),
    seed: int = 0,
    fps: float = 10.0,
    on_frame=None,
) -> dict[str, np.ndarray]:
    """A clip of a built-in motion (no data needed) from a random viewpoint.

    The camera has Human3.6M-like intrinsics (``f`` = 1.15 image widths, ``c`` the image
    centre), stands 0.8-2 m high at a random azimuth, at the distance where the person
    fills about 3/4 of the image.  Returns ``render_clip``'s dict plus ``R``, ``t``,
    ``f``, ``c`` of the camera; ``on_frame`` streams the frames (see ``render_clip``).
    """
    rng = np.random.default_rng(seed)
    width, height = (int(v) for v in size)
    f = np.array([1.15 * width, 1.15 * width])
    c = np.array([width / 2.0, height / 2.0])
    R, t = look_at_camera(None, rng.uniform(800.0, 2000.0), rng.uniform(0.0, 360.0), f, c)
    clip = render_clip(builtin_motion(num_frames, fps, kind), R, t, f, c, size, rng,
                       on_frame=on_frame)
    clip.update(R=R, t=t, f=f, c=c)
    return clip
