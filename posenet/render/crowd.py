"""Videos of several rendered people: crossings, entries and exits, for tracking tests.

One fixed camera sees every person over one shared background: 1.4 m above the floor,
aimed at mid-body height (0.9 m) 5 m ahead, no roll, focal length 1.6 image heights (a
1.9 m person 5 m away spans 0.6 of the image height). Each person (a plain-data
:class:`CrowdPerson`) plays a built-in motion on the spot while being carried along a
straight line at a fixed distance from the camera, so their pelvis goes from ``x_start``
to ``x_end`` (fractions of the frame width) at constant image speed. Walkers face where
they go; their feet slide a little (the stride is not matched to the speed). People are
drawn whole, far to near by the depth of their pelvis, so a nearer person hides a farther
one; at equal depths the later one in the list is drawn on top.

Typical use::

    gt = write_crowd_video("out/crossing", CROSSING_PAIR, num_frames=60, size=(640, 360),
                           render_scale=0.5)
    gt["path"], gt["people"][0]["boxes"]  # the video, person 0's boxes (T, 4) px
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import cv2
import numpy as np

from posenet.render.background import random_background
from posenet.render.body import random_style
from posenet.render.draw import render_person
from posenet.render.motion import BUILTIN_KINDS, MOTION_PERIODS_S, STAND, builtin_motion
from posenet.render.scene import look_at_camera, random_light, to_camera

__all__ = ["CROSSING_PAIR", "SCENES", "THREE_ONE_LEAVES", "CrowdPerson", "render_crowd",
           "write_crowd_video"]

_CAMERA_HEIGHT_MM = 1400.0
_AIM_DISTANCE_MM = 5000.0
_FOCAL_PER_HEIGHT = 1.6  # focal length, in image heights
_MIN_DISTANCE_MM = 500.0  # closer, parts of a standing person would be behind the camera


@dataclass(frozen=True)
class CrowdPerson:
    """One person of a crowd video.

    Attributes:
        kind: built-in motion, one of ``BUILTIN_KINDS`` (``STAND``: standing still).
        x_start, x_end: image x of the pelvis at ``first_frame`` and at ``last_frame``, as
            fractions of the frame width (0 the left edge, 1 the right one; outside [0, 1]
            is outside the frame, to enter or leave it). ``x_end`` None: stays put.
        distance_mm: distance from the camera along its horizontal viewing direction, mm.
        first_frame, last_frame: first and last frame (inclusive) the person is in the
            scene; ``last_frame`` None: to the end of the clip.
        yaw_deg: the way the person faces, degrees counter-clockwise seen from above: 0
            towards the camera, 90 towards the image's right. None: the way they walk,
            or the camera when they do not move.
    """

    kind: str = "walk"
    x_start: float = 0.5
    x_end: float | None = None
    distance_mm: float = 5000.0
    first_frame: int = 0
    last_frame: int | None = None
    yaw_deg: float | None = None

    def __post_init__(self):
        if self.kind not in BUILTIN_KINDS:
            raise ValueError(f"unknown motion {self.kind!r}; known: {', '.join(BUILTIN_KINDS)}")
        xs = (self.x_start, self.x_start if self.x_end is None else self.x_end)
        if not all(math.isfinite(x) for x in xs):
            raise ValueError(f"x_start and x_end must be finite, got {xs}")
        if not self.distance_mm >= _MIN_DISTANCE_MM:
            raise ValueError(f"distance_mm must be at least {_MIN_DISTANCE_MM:g}, "
                             f"got {self.distance_mm}")
        if self.first_frame < 0 or (self.last_frame is not None
                                    and self.last_frame < self.first_frame):
            raise ValueError(f"need 0 <= first_frame <= last_frame, got {self.first_frame}, "
                             f"{self.last_frame}")


#: Two walkers who cross mid-frame, the one starting on the left 2.5 m nearer the camera,
#: so they overlap (the near one in front) halfway through the clip.
CROSSING_PAIR: tuple[CrowdPerson, ...] = (
    CrowdPerson("walk", x_start=0.15, x_end=0.85, distance_mm=4000.0),
    CrowdPerson("walk", x_start=0.85, x_end=0.15, distance_mm=6500.0),
)
#: A far walker, a person standing still mid-frame and a near walker who walks out on the
#: right about halfway through the clip (absent from then on); nobody overlaps.
THREE_ONE_LEAVES: tuple[CrowdPerson, ...] = (
    CrowdPerson("walk", x_start=0.12, x_end=0.38, distance_mm=6000.0),
    CrowdPerson(STAND, x_start=0.55, distance_mm=5000.0),
    CrowdPerson("walk", x_start=0.72, x_end=1.45, distance_mm=4500.0),
)
#: The ready-made scenes by name (``posenet render --crowd``).
SCENES: dict[str, tuple[CrowdPerson, ...]] = {"crossing": CROSSING_PAIR,
                                              "exit": THREE_ONE_LEAVES}


def _yaw_rotation(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


class _Crowd:
    """The prepared scene: camera, background, light, people's camera-frame joints and
    styles; :meth:`frame` renders frame ``t`` and fills the ground truth of that frame."""

    def __init__(self, people, num_frames, size, fps, seed):
        self.width, self.height = (int(v) for v in size)
        self.num = int(num_frames)
        self.people = list(people)
        for p in self.people:
            if not isinstance(p, CrowdPerson):
                raise TypeError(f"people must be CrowdPerson, got {type(p).__name__}")
            if p.first_frame >= self.num or (p.last_frame or 0) >= self.num:
                raise ValueError(f"{p} is outside the clip's {self.num} frames")
        self.f = np.full(2, _FOCAL_PER_HEIGHT * self.height)
        self.c = np.array([self.width / 2.0, self.height / 2.0])
        self.R, self.t = look_at_camera(_AIM_DISTANCE_MM, _CAMERA_HEIGHT_MM, 0.0, self.f, self.c)
        # Child i + 1 belongs to person i whatever the number of people, so adding a
        # person changes neither the background nor the others' looks and phases.
        scene_seed, *person_seeds = np.random.SeedSequence(seed).spawn(1 + len(self.people))
        rng = np.random.default_rng(scene_seed)
        self.background = random_background(rng, self.height, self.width)
        self.light = random_light(rng)
        self.styles, self.joints_cam = [], []
        nan = np.full((self.num, 17, 3), np.nan)
        self.joints2d, self.joints3d = [], []
        self.boxes = [np.full((self.num, 4), np.nan) for _ in self.people]
        for p, child in zip(self.people, person_seeds, strict=True):
            prng = np.random.default_rng(child)
            self.styles.append(random_style(prng))
            cam = np.full((self.num, 17, 3), np.nan)
            last = self.num - 1 if p.last_frame is None else p.last_frame
            cam[p.first_frame:last + 1] = to_camera(self._place(p, last, fps, prng),
                                                    self.R, self.t)
            self.joints_cam.append(cam)
            self.joints3d.append(cam.copy())
            j2d = nan.copy()
            j2d[..., 2] = 0.0
            self.joints2d.append(j2d)

    def _place(self, p: CrowdPerson, last: int, fps: float, rng) -> np.ndarray:
        """(n, 17, 3) world mm joints of ``p`` over its frames ``first_frame..last``."""
        n = last - p.first_frame + 1
        # A random phase, so two people doing the same motion are not in step.
        phase = int(rng.integers(0, max(1, round(MOTION_PERIODS_S.get(p.kind, 1.0) * fps))))
        motion = builtin_motion(n + phase, fps, p.kind)[phase:]
        right = self.R[0]  # the image's x axis in the world: horizontal (no roll)
        ahead = np.array([self.R[2, 0], self.R[2, 1], 0.0])
        ahead /= np.linalg.norm(ahead)
        x_end = p.x_start if p.x_end is None else p.x_end
        if p.yaw_deg is not None:
            facing = _yaw_rotation(math.radians(p.yaw_deg)) @ -ahead
        elif x_end != p.x_start:
            facing = right * math.copysign(1.0, x_end - p.x_start)
        else:
            facing = -ahead
        # Yaw 0 faces +y; turn that to ``facing``.
        joints = motion @ _yaw_rotation(math.atan2(-facing[0], facing[1])).T
        centre = -self.R.T @ self.t
        ground = np.array([*(centre[:2] + p.distance_mm * ahead[:2]), 0.0])
        # Sideways moves along ``right`` shift camera x only, so the pelvis (at its mean
        # height) lands on image x = frac * W where camera x = (u - cx) Z / fx.
        ref = to_camera(ground + [0.0, 0.0, joints[:, 0, 2].mean()], self.R, self.t)
        frac = p.x_start + (x_end - p.x_start) * (np.arange(n) / max(n - 1, 1))
        side = (frac * self.width - self.c[0]) * ref[2] / self.f[0] - ref[0]
        return joints + ground + side[:, None, None] * right

    def frame(self, t: int) -> np.ndarray:
        """(H, W, 3) uint8 BGR frame ``t``; fills the 2D joints and boxes of frame ``t``."""
        here = [i for i, cam in enumerate(self.joints_cam) if np.isfinite(cam[t, 0, 2])]
        here.sort(key=lambda i: (-self.joints_cam[i][t, 0, 2], i))  # far to near
        image = self.background
        owner = np.full((self.height, self.width), -1, np.int16)  # topmost person per pixel
        for i in here:
            image, j2d, visible, ids = render_person(image, self.joints_cam[i][t], self.f,
                                                     self.c, self.styles[i],
                                                     light_dir=self.light, return_ids=True)
            owner[ids > 0] = i
            x, y, w, h = cv2.boundingRect(ids)  # the person's whole silhouette in the image
            if w > 0 and h > 0:
                self.boxes[i][t] = (x, y, x + w, y + h)
            self.joints2d[i][t] = np.concatenate([j2d, visible[:, None]], axis=1)
        for i in here:  # a joint under a nearer person is hidden
            gt = self.joints2d[i][t]
            seen = gt[:, 2] > 0
            cols, rows = gt[seen, 0].astype(int), gt[seen, 1].astype(int)
            gt[np.flatnonzero(seen), 2] = owner[rows, cols] == i
        return image.copy() if image is self.background else image

    def ground_truth(self, scale=(1.0, 1.0)) -> list[dict]:
        """Per person: the ground truth, pixel quantities multiplied by ``scale`` (x, y)."""
        sx, sy = scale
        out = []
        for i, p in enumerate(self.people):
            j2d = self.joints2d[i].copy()
            j2d[..., 0] *= sx
            j2d[..., 1] *= sy
            out.append({"index": i, "spec": p,
                        "present": np.isfinite(self.joints3d[i][:, 0, 2]),
                        "joints2d": j2d, "boxes": self.boxes[i] * [sx, sy, sx, sy],
                        "joints3d": self.joints3d[i].copy()})
        return out


def _check(num_frames, size, fps):
    width, height = (int(v) for v in size)
    if num_frames < 1 or width < 16 or height < 16 or not fps > 0:
        raise ValueError("need num_frames >= 1, a size of at least 16x16 px and fps > 0")
    return width, height


def render_crowd(people=CROSSING_PAIR, num_frames=60, size=(640, 360), fps=25.0, seed=0):
    """Render ``people`` (``CrowdPerson``) together for ``num_frames`` frames, in memory.

    ``size`` (W, H) px; ``fps`` frames/s (the motions' time base); ``seed`` draws the
    background, light, people's looks and motion phases. Returns ``{"frames" (T, H, W, 3)
    uint8 BGR, "people", "R", "t", "f", "c"}`` as :func:`write_crowd_video`'s, at ``size``.
    """
    size = _check(num_frames, size, fps)
    crowd = _Crowd(people, num_frames, size, fps, seed)
    frames = np.stack([crowd.frame(t) for t in range(int(num_frames))])
    return {"frames": frames, "people": crowd.ground_truth(), "R": crowd.R, "t": crowd.t,
            "f": crowd.f, "c": crowd.c}


def write_crowd_video(base, people=CROSSING_PAIR, num_frames=60, size=(1280, 720), fps=25.0,
                      seed=0, render_scale=1.0):
    """Render ``people`` together and write them as a video, atomically.

    Args:
        base: output path without its extension (``.mp4``, or ``.avi`` where OpenCV has
            no mp4 codec; see ``posenet.video_writer``).
        people: sequence of :class:`CrowdPerson` (e.g. ``CROSSING_PAIR``,
            ``THREE_ONE_LEAVES``); person ``i`` is ``people[i]``.
        size: (width, height) of the video, px. fps: frames/s.
        seed: draws the background, light, people's looks and motion phases.
        render_scale: render at this fraction of ``size`` and upscale (faster).
    Returns:
        ``{"path", "size" (W, H), "fps", "R", "t" (camera pose, X_cam = R X_world + t, mm),
        "f", "c" (px, of the written size), "people": [one dict per person]}``, each
        person's dict holding ``index``, ``spec`` (the ``CrowdPerson``), ``present`` (T,)
        bool (in the scene; maybe outside the frame), ``joints2d`` (T, 17, 3): x, y px of
        the written video and visibility 1/0 (0 outside the image or under a nearer
        person; x, y NaN when absent), ``boxes`` (T, 4): x1, y1, x2, y2 px, the bounds of
        the person's whole silhouette (hidden parts included) clipped to the image, NaN
        when absent or out of the frame, and ``joints3d`` (T, 17, 3) camera mm (NaN when
        absent). Joints in h36m17 order; pixel ``i`` covers ``[i, i + 1)``.
    """
    from posenet.video_writer import OverlayWriter

    width, height = _check(num_frames, size, fps)
    if not 0 < render_scale <= 1:
        raise ValueError("need 0 < render_scale <= 1")
    small = (max(int(round(width * render_scale)), 16), max(int(round(height * render_scale)), 16))
    crowd = _Crowd(people, num_frames, small, fps, seed)  # checks people before writing
    writer = OverlayWriter(os.fspath(base), fps, (width, height))
    try:
        for t in range(int(num_frames)):
            frame = crowd.frame(t)
            if small != (width, height):
                frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
            writer.write(frame)
        path = writer.close()
    except BaseException:
        writer.abort()
        raise
    scale = np.array([width / small[0], height / small[1]])
    return {"path": path, "size": (width, height), "fps": float(fps), "R": crowd.R,
            "t": crowd.t, "f": crowd.f * scale, "c": crowd.c * scale,
            "people": crowd.ground_truth(tuple(scale))}
