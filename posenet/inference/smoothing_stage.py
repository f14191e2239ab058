"""The smoothing stage: each track's 2D and 3D joints through its own One Euro filter.

Videos only (a frame's time is the decoder's, else its index over the frame rate);
``posenet.inference.smoothing`` has the filter and how its defaults were chosen.
Confidences are not filtered.
"""

from __future__ import annotations

import numpy as np

from posenet.inference.smoothing import SmoothingConfig, TrackSmoother


class JointSmoothing:
    """One :class:`TrackSmoother` per track id.

    Args:
        config: the filters' :class:`SmoothingConfig`; None: no smoothing.
        fps: the video's frame rate (frames/s); None or 0 (an image): no smoothing.
        clock: ``clock(index)`` -> frame ``index``'s time in s (the decoder's,
            ``InputLog.time``); None: ``index / fps``.
    """

    def __init__(self, config: SmoothingConfig | None, fps, clock=None):
        self.config, self.fps = config, fps
        self.clock = clock if clock is not None else (lambda index: index / fps)
        self.enabled = config is not None and bool(fps)
        self.smoothers: dict[int, TrackSmoother] = {}

    def smooth(self, index, result) -> None:
        """Smooth in place the ``joints2d`` x, y (px) and ``joints3d`` (mm) of ``result``,
        the pose of track ``result["track"]`` in frame ``index`` (frames come in order)."""
        if not self.enabled:
            return
        track_id = result["track"]
        if track_id not in self.smoothers:
            self.smoothers[track_id] = TrackSmoother(self.config)
        smoother = self.smoothers[track_id]
        xy, joints3d = smoother(self.clock(index), result["joints2d"][:, :2], result["joints3d"])
        result["joints2d"] = np.concatenate([xy, result["joints2d"][:, 2:]], axis=1)
        if joints3d is not None:
            result["joints3d"] = joints3d
