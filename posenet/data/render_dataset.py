"""Prepared datasets of rendered people: Human3.6M motion capture or built-in motions.

Each *clip* is one take seen by one camera.  A clip draws one random ``BodyStyle``, one
background and one light from a generator seeded by a stable hash of (seed, subject,
take, camera) (``clip_rng``), so a clip looks the same whatever else is converted and
the same seed gives byte-identical files.

Geometry.  The joints (h36m17, camera frame, mm) are projected with the camera's lens
distortion (``Camera.project``) into its full image (e.g. 1000 x 1002 px).  Each frame
is then rendered straight into a square crop of ``size`` px: the square of side
``CROP_PAD`` x the longer side of the projected joints' box, centred on that box.  The
crop is chosen *per frame* (not per clip), so the person always fills it, as a person
detector's crop would.  A crop is stored as ``(x0, y0, scale)``::

    crop_px = (image_px - (x0, y0)) * scale

(continuous pixels: pixel ``i`` covers ``[i, i + 1)``).  The renderer gets the distorted
2D joints mapped into the crop and a pinhole ``f * scale``, ``(c - (x0, y0)) * scale`` for
the sizes of body parts.  The background lives in the full camera image, fixed for the
clip (at ``_BG_RES`` crop resolutions), and each frame cuts its crop out of it, so the
background moves consistently behind a person who walks about.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

import cv2
import numpy as np

from posenet.data.camera import Camera
from posenet.data.converters.h36m import select_h36m
from posenet.data.prepared import LAYOUT, PreparedWriter
from posenet.data.readers.h36m import (
    H36M_ACTIONS,
    read_h36m_poses,
    to_h36m17,
)
from posenet.render.motion import MOTION_KINDS, builtin_motion
from posenet.render.scene import (
    look_at_camera,
    random_background,
    random_light,
    random_style,
    render_person,
)
from posenet.skeleton import map_joints

__all__ = ["CROP_PAD", "apply_crop", "clip_rng", "crop_background", "crop_for",
           "prepare_builtin_render", "prepare_h36m_render", "render_crops"]

Progress = Callable[[int, int], None] | None

#: Crop side / the longer side of the projected joints' box (room for head and hands).
CROP_PAD = 1.4
#: Each side of ``bbox`` moves out by this fraction of the joints' extent.
BBOX_PAD = 0.1
#: Background resolution relative to the crop's at a typical person size: a crop of
#: side L image px samples the full-image background at size / L; 2x that keeps it sharp.
_BG_RES = 2.0
#: Built-in clips: a virtual 1000 x 1000 px camera with Human3.6M-like intrinsics.
_BUILTIN_IMAGE = 1000
_BUILTIN_F = 1150.0


def clip_rng(seed: int, *key) -> np.random.Generator:
    """Generator seeded by a stable hash of ``(seed, *key)`` (Python's ``hash`` of str is
    salted per process, so it would break reproducibility)."""
    text = "|".join(str(v) for v in (int(seed), *key)).encode()
    return np.random.default_rng(int.from_bytes(hashlib.blake2b(text, digest_size=16).digest(),
                                                "little"))


def crop_for(points_2d, size: int, pad: float = CROP_PAD) -> np.ndarray:
    """(..., J, 2) image px -> (..., 3) float32 crops ``(x0, y0, scale)``: the square of side
    ``pad`` x the longer side of the points' box (at least 1 px), centred on the box,
    scaled to ``size`` px.  Rounded to float32 first, so stored crops are exact."""
    pts = np.asarray(points_2d, dtype=np.float64)
    lo, hi = np.nanmin(pts, axis=-2), np.nanmax(pts, axis=-2)
    side = np.maximum(pad * (hi - lo).max(axis=-1), 1.0)
    centre = 0.5 * (lo + hi)
    crop = np.concatenate([centre - 0.5 * side[..., None], (size / side)[..., None]], -1)
    return crop.astype(np.float32)


def apply_crop(points_2d, crop) -> np.ndarray:
    """(..., J, 2) image px -> crop px with (..., 3) crops: ``(p - (x0, y0)) * scale``."""
    crop = np.asarray(crop, dtype=np.float64)
    return (np.asarray(points_2d, np.float64) - crop[..., None, :2]) * crop[..., None, 2:3]


def crop_background(background, bg_scale: float, crop, size: int) -> np.ndarray:
    """Cut one (size, size, 3) crop out of a full-image ``background`` stored at
    ``bg_scale`` background px per image px; outside the image it is mirrored."""
    x0, y0, scale = (float(v) for v in crop)
    a = bg_scale / scale  # background px per crop px
    # Continuous coordinates (pixel i covers [i, i + 1)) -> OpenCV's centred indices.
    shift = 0.5 * a - 0.5
    m = np.array([[a, 0.0, bg_scale * x0 + shift], [0.0, a, bg_scale * y0 + shift]])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(background, m, (size, size), flags=flags,
                          borderMode=cv2.BORDER_REFLECT_101)


def render_crops(joints_cam, camera: Camera, size: int, style, background, bg_scale: float,
                 light_dir) -> dict[str, np.ndarray]:  # fmt: skip
    """Render (T, 17, 3) h36m17 camera-frame mm joints into per-frame square crops.

    ``camera``: projection with distortion (``Camera.project``); ``background``: the
    clip's full-image backdrop at ``bg_scale`` px per image px.  Returns ``frames``
    (T, size, size, 3) uint8 BGR, ``joints2d`` (T, 17, 2) float64 crop px, ``visible``
    (T, 17) bool and ``crop`` (T, 3) float32 (see the module docstring).
    """
    joints = np.asarray(joints_cam, dtype=np.float64)
    uv = camera.project(joints)
    if not np.isfinite(uv).all():
        raise ValueError("every joint must be in front of the camera (z > 0)")
    crop = crop_for(uv, size)
    pts = apply_crop(uv, crop)
    num = len(joints)
    frames = np.empty((num, size, size, 3), np.uint8)
    visible = np.empty((num, 17), bool)
    for i in range(num):
        offset, scale = crop[i, :2].astype(np.float64), float(crop[i, 2])
        bg = crop_background(background, bg_scale, crop[i], size)
        frames[i], _, visible[i] = render_person(
            bg, joints[i], camera.f * scale, (camera.c - offset) * scale, style,
            points_2d=pts[i], light_dir=light_dir)
    return {"frames": frames, "joints2d": pts, "visible": visible, "crop": crop}


def _bbox(xy: np.ndarray) -> np.ndarray:
    """(N, J, 2) px -> (N, 4) x1, y1, x2, y2: the points' extent, each side out 10 %."""
    lo, hi = xy.min(axis=1), xy.max(axis=1)
    pad = BBOX_PAD * (hi - lo)
    return np.concatenate([lo - pad, hi + pad], axis=1).astype(np.float32)


def _render_clip(writer: PreparedWriter, joints_cam, camera: Camera, rng, *, size: int,
                 quality: int, frames, action: int, sequence: int, camera_row: int) -> None:
    """Draw the clip's style, background and light from ``rng``, render, append."""
    width = camera.width or int(round(2 * camera.c[0]))
    height = camera.height or int(round(2 * camera.c[1]))
    style = random_style(rng)
    uv = camera.project(joints_cam)
    typical = CROP_PAD * np.nanmedian((np.nanmax(uv, 1) - np.nanmin(uv, 1)).max(-1))
    bg_scale = min(1.0, _BG_RES * size / max(float(typical), 1.0))
    bw, bh = max(1, round(width * bg_scale)), max(1, round(height * bg_scale))
    background = random_background(rng, bh, bw)
    light = random_light(rng)
    out = render_crops(joints_cam, camera, size, style, background, bw / width, light)
    params = [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)]
    images = []
    for frame in out["frames"]:
        ok, buf = cv2.imencode(".jpg", frame, params)
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        images.append(buf.tobytes())
    n = len(joints_cam)
    xyv = np.concatenate([out["joints2d"], out["visible"][..., None]], axis=-1)
    joints2d, valid2d = map_joints(xyv, "h36m17", LAYOUT)
    joints3d, valid3d = map_joints(joints_cam, "h36m17", LAYOUT)
    writer.append(image=images, joints2d=joints2d.astype(np.float32), valid2d=valid2d,
                  joints3d=joints3d.astype(np.float32), valid3d=valid3d,
                  bbox=_bbox(joints2d[..., :2]), crop=out["crop"],
                  action=np.full(n, action, np.int16), sequence=np.full(n, sequence, np.int32),
                  frame=np.asarray(frames, np.int32), camera=np.full(n, camera_row, np.int16))


def _camera_arrays(table: list[Camera]) -> dict[str, np.ndarray]:
    return {key: np.stack([getattr(cam, key) for cam in table]) for key in "fckpRT"}


def _tick(progress: Progress, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def prepare_h36m_render(source_dir, out_path, split: str = "train", progress: Progress = None,
                        *, every: int = 10, cameras=None, subjects=None, size: int = 256,
                        seed: int = 0, quality: int = 90) -> int:  # fmt: skip
    """Render Human3.6M motion capture seen by its calibrated cameras; returns N samples.

    ``split``: "train" (S1, S5-S8) or "test" (S9, S11); ``subjects`` a subset of the
    split's; ``cameras`` camera indices 0-3 (default all); ``every`` keeps every k-th
    pose row; ``size`` px the square crops; ``quality`` the JPEG quality (0-100).
    ``progress(done, total)`` is called after each clip.  Besides the fields of
    ``docs/prepared_format.md`` (``image`` embedded, ``joints2d`` in crop px with the
    renderer's visibility, ``crop``), ``sequence`` numbers clips named by the file attr
    ``sequence_names`` (``S<k>/<take>.<camera>``), ``frame`` is the pose row and the
    ``cameras/`` table has one row per (subject, camera), as ``prepare_h36m``.
    """
    files, cam_ids, every, table, cam_row = select_h36m(source_dir, split, subjects, cameras,
                                                       every)
    names: list[str] = []
    total = len(files) * len(cam_ids)
    with PreparedWriter(out_path, "h36m_render", split, action_classes=H36M_ACTIONS,
                        source=os.path.abspath(os.fspath(source_dir)), embed_images=True,
                        cameras=_camera_arrays(table) if table else None,
                        attrs={"every": every, "size": int(size), "seed": int(seed)}) as w:
        for subject, action, subaction, path in files:
            poses = read_h36m_poses(path)
            rows = np.arange(0, poses.shape[0], every)
            world = to_h36m17(poses[rows]).astype(np.float64)
            for c in cam_ids:
                cam = table[cam_row[(subject, c)]]
                _render_clip(w, cam.world_to_camera(world), cam,
                             clip_rng(seed, subject, subaction, cam.name), size=size,
                             quality=quality, frames=rows, action=H36M_ACTIONS.index(action),
                             sequence=len(names), camera_row=cam_row[(subject, c)])
                names.append(f"S{subject}/{subaction}.{cam.name}")
                _tick(progress, len(names), total)
        w.set_attr("sequence_names", names)
        return w.num_samples


def prepare_builtin_render(out_path, progress: Progress = None, *, num_clips: int = 8,
                           frames: int = 32, kinds=None, size: int = 256, seed: int = 0,
                           quality: int = 90) -> int:  # fmt: skip
    """Render built-in motions (no data needed) for demos and smoke tests; returns N.

    Clip ``i`` plays ``kinds[i % len(kinds)]`` (default ``MOTION_KINDS``) for ``frames``
    frames at 10 Hz, seen by a ``look_at_camera`` camera (1000 x 1000 px virtual image,
    f = 1150 px, 0.8-2 m high, random azimuth, the person filling 3/4 of the image).
    ``action`` indexes ``action_classes`` = the kinds; ``sequence`` = clip ``i``, named
    ``<kind>/<i>`` in ``sequence_names``; the ``cameras/`` table has one row per clip.
    Other fields as ``prepare_h36m_render``.
    """
    kinds = tuple(MOTION_KINDS if kinds is None else kinds)
    if not kinds or int(num_clips) < 1 or int(frames) < 1:
        raise ValueError("need at least one kind, one clip and one frame")
    f = np.full(2, _BUILTIN_F)
    c = np.full(2, _BUILTIN_IMAGE / 2.0)
    names, table, clips = [], [], []
    for i in range(int(num_clips)):
        kind = kinds[i % len(kinds)]
        rng = clip_rng(seed, "builtin", kind, i)
        R, t = look_at_camera(None, rng.uniform(800.0, 2000.0), rng.uniform(0.0, 360.0), f, c)
        table.append(Camera(R=R, T=-R.T @ t, f=f, c=c, name=f"builtin{i}",
                            width=_BUILTIN_IMAGE, height=_BUILTIN_IMAGE))
        clips.append((kind, rng, builtin_motion(int(frames), 10.0, kind)))
        names.append(f"{kind}/{i}")
    with PreparedWriter(out_path, "builtin_render", "train", action_classes=kinds,
                        source="posenet.render.motion", embed_images=True,
                        cameras=_camera_arrays(table),
                        attrs={"size": int(size), "seed": int(seed)}) as w:
        for i, (kind, rng, motion) in enumerate(clips):
            cam = table[i]
            _render_clip(w, cam.world_to_camera(motion), cam, rng, size=size, quality=quality,
                         frames=np.arange(int(frames)), action=kinds.index(kind), sequence=i,
                         camera_row=i)
            _tick(progress, i + 1, len(clips))
        w.set_attr("sequence_names", names)
        return w.num_samples
