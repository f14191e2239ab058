"""The output stage: the predictions dict (``docs/predictions_schema.md``) of the poses.

Values are rounded as the schema says: 2D joints and boxes to 0.01 px, confidences and
scores to 1e-4, 3D joints to 0.1 mm, times to 1 us.
"""

from __future__ import annotations

import numpy as np


def header(schema, kind, source, fps, width, height, skeleton, model, action_classes,
           warnings=()) -> dict:
    """The predictions' fields other than ``frames`` and ``tracks``, ``num_frames`` None:
    ``width``, ``height`` in px, ``fps`` frames/s (None for an image), ``skeleton`` a
    ``posenet.skeleton.Skeleton``, ``model`` the weights' description, ``warnings`` the
    input's (sentences; ``input_log``)."""
    return {
        "schema": schema, "source": source, "kind": kind, "width": int(width),
        "height": int(height), "fps": fps, "num_frames": None,
        "skeleton": {"name": skeleton.name, "joints": list(skeleton.joints),
                     "links": [list(link) for link in skeleton.links]},
        "model": model, "action_classes": action_classes, "warnings": list(warnings),
    }


def person(result) -> dict:
    """One person of a frame from a pose ``result`` with its ``track`` and ``box``."""
    # Rounded by NumPy, whole arrays at once: per-value round() cost 0.17 ms a frame, 5x this.
    joints2d = np.asarray(result["joints2d"], np.float64)
    joints2d = np.concatenate([np.round(joints2d[:, :2], 2), np.round(joints2d[:, 2:], 4)],
                              axis=1)
    return {"track": int(result["track"]),
            "box": np.round(np.asarray(result["box"], np.float64), 2).tolist(),
            "score": round(float(result["score"]), 4), "joints2d": joints2d.tolist(),
            "joints3d": None if result["joints3d"] is None
            else np.round(np.asarray(result["joints3d"], np.float64), 1).tolist()}


def frame_entry(index, fps, people, time=None) -> dict:
    """One frame's entry: its ``index``, ``time`` (s: ``time``, else ``index / fps``; 0
    without ``fps``) and ``people``."""
    if time is None:
        time = index / fps if fps else 0.0
    return {"index": int(index), "time": round(time, 6), "people": people}


def predictions(head, frames, tracks, warnings=None) -> dict:
    """The whole predictions dict: the ``head`` (:func:`header`), ``frames``, ``tracks``
    and, when given, the input's ``warnings`` (else the head's)."""
    done = {**head, "num_frames": len(frames), "frames": frames, "tracks": tracks}
    if warnings is not None:
        done["warnings"] = list(warnings)
    return done


class Frames:
    """The predictions' ``frames`` as they come, chunk by chunk.

    Args:
        fps: the video's frame rate (frames/s; None for an image).
        on_frame: called ``on_frame(index, frame, people)`` after each frame, or None.
        clock: ``clock(index)`` -> the frame's time in s (the decoder's,
            ``InputLog.time``); None: ``index / fps``.
    """

    def __init__(self, fps, on_frame=None, clock=None):
        self.fps, self.on_frame, self.clock = fps, on_frame, clock
        self.frames: list[dict] = []
        self.width = self.height = None  # px, of the last frame

    def add(self, chunk, found) -> None:
        """The frames of ``chunk`` (``(index, frame)``) with their people ``found`` (per
        frame, pose results with ``track`` and ``box``)."""
        for (index, frame), results in zip(chunk, found, strict=True):
            self.height, self.width = frame.shape[:2]
            people = [person(r) for r in results]
            time = self.clock(index) if self.clock is not None else None
            self.frames.append(frame_entry(index, self.fps, people, time))
            if self.on_frame is not None:
                self.on_frame(index, frame, people)
