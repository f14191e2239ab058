"""Inference inputs: expanding files and folders, probing them, decoding frames.

An input is a video (any container OpenCV reads: mp4, avi, mov, mkv, ...) or an image
(jpg, png, bmp, ...); a folder stands for its images and videos (not its sub-folders),
sorted by name. Frames are (H, W, 3) uint8 BGR as OpenCV decodes them.
"""

from __future__ import annotations

import dataclasses
import math
import os
import queue
import threading

import cv2

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
#: Frame rate assumed when a video's container does not tell (frames/s).
FALLBACK_FPS = 30.0


class InputError(Exception):
    """An input that cannot be read; the message names the file and why."""


@dataclasses.dataclass(frozen=True)
class MediaInfo:
    """What an input holds: ``kind`` "video" or "image", size in px, ``fps`` (None for an
    image) and ``frame_count`` as the container reports it (an estimate; 1 for an image)."""

    path: str
    kind: str
    width: int
    height: int
    fps: float | None
    frame_count: int


def media_kind(path) -> str | None:
    """"video" or "image" from a file's extension; None for anything else."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext in VIDEO_EXTENSIONS:
        return "video"
    if ext in IMAGE_EXTENSIONS:
        return "image"
    return None


def expand_inputs(paths) -> list[tuple[str, str | None]]:
    """``(path, error or None)`` per input file: folders become their media files, sorted.

    A missing path, an empty folder or a file of an unknown type yields an error entry
    rather than raising, so the other inputs can still be processed.
    """
    out = []
    for item in paths:
        path = os.fspath(item)
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path)
                           if os.path.isfile(os.path.join(path, n)) and media_kind(n))
            if not names:
                out.append((path, f"{path}: the folder holds no images or videos"))
            out += [(os.path.join(path, n), None) for n in names]
        elif not os.path.exists(path):
            out.append((path, f"{path}: no such file or folder"))
        elif media_kind(path) is None:
            out.append((path, f"{path}: not a video or image (known extensions: "
                              f"{' '.join(VIDEO_EXTENSIONS + IMAGE_EXTENSIONS)})"))
        else:
            out.append((path, None))
    return out


def probe(path) -> MediaInfo:
    """MediaInfo of an image or video; InputError when it cannot be decoded."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise InputError(f"{path}: the file is empty (0 bytes)")
    kind = media_kind(path)
    if kind == "image":
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise InputError(f"{path}: not a readable image (corrupt or unsupported)")
        return MediaInfo(path, "image", image.shape[1], image.shape[0], None, 1)
    if kind != "video":
        raise InputError(f"{path}: not a video or image")
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise InputError(f"{path}: not a readable video (corrupt or unsupported codec)")
        ok, frame = cap.read()
        if not ok or frame is None:
            raise InputError(f"{path}: the video has no decodable frames")
        fps = cap.get(cv2.CAP_PROP_FPS)
        # Some containers report 0, NaN or absurd rates: fall back to a common rate.
        fps = float(fps) if math.isfinite(fps) and 0 < fps < 1000 else FALLBACK_FPS
        count = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 1)
        return MediaInfo(path, "video", frame.shape[1], frame.shape[0], fps, count)
    finally:
        cap.release()


def iter_frames(path, kind="video", prefetch=32):
    """Yield ``(index, frame)`` of a video (or the single image), decoded in a background
    thread into a queue of at most ``prefetch`` frames, so decoding overlaps the model.

    A decoding error after the first frame ends the video there (what was read is kept).
    Stopping early (closing the generator) stops the thread.
    """
    if kind == "image":
        image = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
        if image is None:
            raise InputError(f"{path}: not a readable image")
        yield 0, image
        return
    frames = queue.Queue(maxsize=max(int(prefetch), 1))
    stop = threading.Event()
    done = object()

    def decode():
        cap = cv2.VideoCapture(os.fspath(path))
        try:
            index = 0
            while not stop.is_set():
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                while not stop.is_set():  # a bounded put that still notices a stop
                    try:
                        frames.put((index, frame), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                index += 1
        finally:
            cap.release()
            while not stop.is_set():
                try:
                    frames.put(done, timeout=0.1)
                    break
                except queue.Full:
                    continue

    thread = threading.Thread(target=decode, name="posenet-decode", daemon=True)
    thread.start()
    try:
        while (item := frames.get()) is not done:
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
