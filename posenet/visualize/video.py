"""Reading and atomically writing videos with OpenCV, and the overlay video of predictions.

A video is written to a hidden temporary file beside the destination (keeping the
extension, which OpenCV uses to pick the container) and renamed once complete, so a failed
or interrupted run leaves no partial file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import cv2
import numpy as np

from posenet.visualize.actions import action_text
from posenet.visualize.overlay import draw_people


def read_frames(path) -> Iterator[np.ndarray]:
    """Yield the (H, W, 3) uint8 BGR frames of the video ``path``; IOError if unreadable."""
    cap = cv2.VideoCapture(os.fspath(path))
    try:
        if not cap.isOpened():
            raise OSError(f"cannot open video {path}")
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            yield frame
    finally:
        cap.release()


def _open_writer(path: str, fps: float, size) -> tuple[cv2.VideoWriter, str, str]:
    """A VideoWriter on a temporary file: 'mp4v' .mp4, else MJPG .avi.

    Returns (writer, temporary path, final path); the final path's extension follows the
    codec that opened.
    """
    stem = os.path.splitext(path)[0]
    for fourcc, ext in (("mp4v", ".mp4"), ("MJPG", ".avi")):
        final = stem + ext
        folder, name = os.path.split(os.path.abspath(final))
        tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp{ext}")
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*fourcc), fps, tuple(size))
        if writer.isOpened():
            return writer, tmp, final
        writer.release()
        if os.path.exists(tmp):
            os.remove(tmp)
    raise OSError(f"no video codec could write {path} (tried mp4v .mp4 and MJPG .avi)")


def write_video(path, frames: Iterable[np.ndarray], fps: float) -> tuple[str, int]:
    """Write BGR uint8 ``frames`` (all of one size) at ``fps``; returns (path, frame count).

    The written path ends in .avi when the mp4v codec is unavailable.  Nothing is left at
    the destination if writing fails or no frame is given.
    """
    writer = tmp = final = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                h, w = frame.shape[:2]
                writer, tmp, final = _open_writer(os.fspath(path), fps or 25.0, (w, h))
            writer.write(np.ascontiguousarray(frame))
            count += 1
        if writer is None:
            raise ValueError(f"no frames to write to {path}")
        writer.release()
        writer = None
        os.replace(tmp, final)
        return final, count
    finally:
        if writer is not None:
            writer.release()
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


def people_by_frame(predictions: dict) -> dict[int, list]:
    """{frame index: people} of a predictions dict."""
    return {int(f["index"]): f.get("people") or [] for f in predictions.get("frames") or []}


def annotate(frame, predictions: dict, index: int, people=None) -> np.ndarray:
    """``frame`` with the people of frame ``index`` and their current action labels."""
    if people is None:
        people = people_by_frame(predictions).get(index, [])
    skeleton = (predictions.get("skeleton") or {}).get("name", "model17")
    return draw_people(frame, people, skeleton, action=action_text(predictions, index))


def overlay_video(predictions: dict, video_path, out_path) -> tuple[str, int]:
    """Write the video of ``video_path`` with its predictions drawn; (path, frames)."""
    by_frame = people_by_frame(predictions)
    fps = float(predictions.get("fps") or 0.0)
    if not fps:
        cap = cv2.VideoCapture(os.fspath(video_path))
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        cap.release()
    frames = (annotate(f, predictions, i, by_frame.get(i, []))
              for i, f in enumerate(read_frames(video_path)))
    return write_video(out_path, frames, fps)
