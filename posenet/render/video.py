"""Short videos of the renderer's built-in motions: demos, tests and benchmarks, no data.

The clip goes through :class:`posenet.video_writer.OverlayWriter` (a temporary
file renamed into place; 'mp4v' in .mp4, else Motion-JPEG in .avi), and its ground truth
(2D joints in px of the written size, 3D joints in camera mm, h36m17 order) is returned.
"""

from __future__ import annotations

import os

import numpy as np

from posenet.render.motion import BUILTIN_KINDS


def write_motion_video(base, kind="walk", num_frames=96, size=(1280, 720), fps=25.0,
                       seed=0, render_scale=1.0):
    """Render ``num_frames`` of the built-in motion ``kind`` and write them as a video.

    Args:
        base: output path without its extension (``.mp4`` or ``.avi`` is added).
        size: (width, height) of the video, px.
        fps: frame rate of the video and of the motion, frames/s.
        render_scale: render at this fraction of ``size`` and upscale (faster; a decoder
            still sees a full-size video).
    Returns:
        ``{"path", "joints2d" (T, 17, 3) px and visibility (1/0), "joints3d" (T, 17, 3)
        camera mm}``, joints in h36m17 order.
    """
    import cv2

    from posenet.render.scene import demo_clip
    from posenet.video_writer import OverlayWriter

    if kind not in BUILTIN_KINDS:
        raise ValueError(f"unknown motion {kind!r}; known: {', '.join(BUILTIN_KINDS)}")
    width, height = (int(v) for v in size)
    if num_frames < 1 or width < 16 or height < 16 or not 0 < render_scale <= 1 or fps <= 0:
        raise ValueError("need num_frames >= 1, a size of at least 16x16 px, fps > 0 and "
                         "0 < render_scale <= 1")
    small = (max(int(round(width * render_scale)), 16), max(int(round(height * render_scale)), 16))
    writer = OverlayWriter(os.fspath(base), fps, (width, height))

    def write(frame):
        if small != (width, height):
            frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
        writer.write(frame)

    try:  # frames go to the writer as they are drawn: memory does not grow with the clip
        clip = demo_clip(num_frames, kind, small, seed=seed, fps=fps, on_frame=write)
        path = writer.close()
    except BaseException:
        writer.abort()
        raise
    scale = np.array([width / small[0], height / small[1]])
    joints2d = np.concatenate([clip["joints_2d"] * scale, clip["visible"][..., None]], -1)
    return {"path": path, "joints2d": joints2d, "joints3d": np.asarray(clip["joints_cam"])}
