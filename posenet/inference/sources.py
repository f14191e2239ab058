"""Inference inputs: expanding files and folders, probing them, decoding frames.

An input is a video (any container OpenCV reads: mp4, avi, mov, mkv, ...) or an image
(jpg, png, bmp, ...); a folder stands for its images and videos (not its sub-folders),
sorted by name. Frames are (H, W, 3) uint8 BGR as OpenCV decodes them.

A stream (``infer --source``) is a camera index (``0``), a URL OpenCV's FFmpeg reads
(``rtsp://``, ``http://``, ...) or a video file read the same way: :func:`open_stream`
keeps the capture it opened, since a camera or a live URL cannot be re-opened at frame 0.

:func:`check_weights` looks into a ``--weights`` file without Keras (a ``.keras`` file is a
zip holding ``config.json``), so a wrong file or ``--block`` is refused in well under a
second instead of after the model loads.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import queue
import re
import threading

import cv2

from posenet.inference.input_log import image_notes
from posenet.io import read_keras_config

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
#: Frame rate assumed when a video's container does not tell (frames/s).
FALLBACK_FPS = 30.0


class InputError(Exception):
    """An input that cannot be read; the message names the file and why."""


@dataclasses.dataclass(frozen=True)
class MediaInfo:
    """What an input holds: ``kind`` "video", "image" or "stream" (a camera or URL), size
    in px, ``fps`` (None for an image) and ``frame_count`` as the container reports it (an
    estimate; 1 for an image; None for a stream); ``rate_declared``: False when the container
    gives no usable rate and ``fps`` is :data:`FALLBACK_FPS`."""

    path: str
    kind: str
    width: int
    height: int
    fps: float | None
    frame_count: int | None
    rate_declared: bool = True


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
        count = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 1)
        return MediaInfo(path, "video", frame.shape[1], frame.shape[0], *_rate(cap, count))
    finally:
        cap.release()


def _rate(cap, count):
    """(fps, ``count``, whether the container declared the rate) of an open capture."""
    fps = cap.get(cv2.CAP_PROP_FPS)
    # Some containers report 0, NaN or absurd rates: fall back to a common rate.
    declared = math.isfinite(fps) and 0 < fps < 1000
    return (float(fps) if declared else FALLBACK_FPS), count, declared


def is_stream(source) -> bool:
    """Whether ``source`` names a camera (a decimal index) or a URL (``scheme://...``)."""
    text = os.fspath(source) if isinstance(source, os.PathLike) else str(source)
    return text.isdigit() or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) is not None


def stream_stem(source) -> str:
    """An output stem for a stream: ``camera<N>``, the file's stem, or the URL's last path
    part (else its host), with characters other than letters, digits, ``-`` and ``_``
    replaced."""
    text = str(source)
    if text.isdigit():
        return f"camera{int(text)}"
    if "://" in text:
        rest = text.split("://", 1)[1].split("?", 1)[0].rstrip("/")
        host, _, tail = rest.partition("/")
        name = os.path.splitext(tail.rsplit("/", 1)[-1])[0] if tail else host.split("@")[-1]
    else:
        name = os.path.splitext(os.path.basename(text))[0]
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "stream"


def open_stream(source, prefetch=32, log=None):
    """``(MediaInfo, frames)`` of a camera index, URL or video file read as a stream;
    ``frames`` yields ``(index, frame)`` from the first frame on (see :func:`iter_frames`;
    ``log``, an ``input_log.InputLog``, gets the rate and each frame's timestamp).
    InputError when it cannot be opened or gives no frame."""
    text = str(source)
    if not is_stream(text):
        if not os.path.isfile(text):
            raise InputError(f"{text}: no such file, camera index or stream URL")
        if os.path.getsize(text) == 0:
            raise InputError(f"{text}: the file is empty (0 bytes)")
    cap = cv2.VideoCapture(int(text) if text.isdigit() else text)
    if not cap.isOpened():
        cap.release()
        raise InputError(f"{text}: cannot open the camera or stream")
    ok, first = cap.read()
    if not ok or first is None:
        cap.release()
        raise InputError(f"{text}: the stream gives no frames")
    kind = "stream" if is_stream(text) else "video"
    info = MediaInfo(text, kind, first.shape[1], first.shape[0], *_rate(cap, None))
    if log is not None:
        log.describe(info)
        log.record(0, cap.get(cv2.CAP_PROP_POS_MSEC))
    return info, iter_frames(text, "video", prefetch, capture=cap, first=first, log=log)


def check_weights(weights) -> int | None:
    """Check a ``--weights`` value without loading it: a ``.keras`` file must be a zip
    holding ``config.json``; a bundle JSON must parse (its ``pose`` file is checked the
    same way, and its action files must predict the datasets they are listed under); None
    stands for the shipped default (its manifest's pose file). Returns the
    pose network's block count when the files tell (else None, and the loader reports what
    is wrong); ValueError with the reason for a file that cannot be weights."""
    if weights is None:
        from posenet.engine.errors import WeightsError
        from posenet.engine.weights import default_entry

        try:
            files, _, folder = default_entry()
        except WeightsError:
            return None  # the loader says so
        pose = folder / str(files.get("pose"))
        return check_weights(pose) if pose.is_file() else None
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such file")
    if path.lower().endswith(".json"):
        try:
            with open(path) as f:
                bundle = json.load(f)
        except (OSError, ValueError) as error:
            raise ValueError(f"{path} is not a JSON weights bundle ({error})") from None
        if not isinstance(bundle, dict):
            return None
        actions = bundle.get("actions")
        for dataset, item in (actions.items() if isinstance(actions, dict) else ()):
            known = _keras_config(os.path.join(os.path.dirname(path), str(item)))
            known = known.get("actions") if isinstance(known, dict) else None
            if isinstance(known, dict) and dataset not in known:
                raise ValueError(f"{path}: the action network given for {dataset!r} "
                                 f"predicts {', '.join(map(repr, known))} actions, not "
                                 f"{dataset!r}")
        pose = bundle.get("pose")
        if not isinstance(pose, str):
            return None
        pose = os.path.join(os.path.dirname(path), pose)
        return check_weights(pose) if os.path.isfile(pose) else None
    inner = _keras_config(path)
    if isinstance(inner, dict) and isinstance(inner.get("pose"), dict):
        inner = inner["pose"]  # a MultitaskModel's pose network
    blocks = inner.get("num_blocks") if isinstance(inner, dict) else None
    return blocks if isinstance(blocks, int) else None


def _keras_config(path):
    """The ``config`` of a ``.keras`` file's ``config.json`` (None when it has none);
    ValueError when ``path`` is no .keras file. Nothing is loaded."""
    if not os.path.isfile(path):
        return None  # the loader names the missing file
    config = read_keras_config(path)
    return config.get("config")


def iter_frames(path, kind="video", prefetch=32, capture=None, first=None, log=None):
    """Yield ``(index, frame)`` of a video (or the single image), decoded in a background
    thread into a queue of at most ``prefetch`` frames, so decoding overlaps the model.

    A decoding error after the first frame ends the video there (what was read is kept).
    Stopping early (closing the generator) stops the thread. ``capture``: an opened
    ``cv2.VideoCapture`` to read from instead of opening ``path`` (released at the end),
    whose already-read ``first`` frame is yielded first (its timestamp already logged).
    ``log`` (an ``input_log.InputLog``) gets each frame's decoder timestamp before the
    frame is yielded, the end of the video, and an image's warnings.
    """
    if kind == "image":
        image = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
        if image is None:
            raise InputError(f"{path}: not a readable image")
        if log is not None:
            log.notes += image_notes(path)
        yield 0, image
        return
    frames = queue.Queue(maxsize=max(int(prefetch), 1))
    stop = threading.Event()
    done = object()

    def decode():
        cap = capture if capture is not None else cv2.VideoCapture(os.fspath(path))
        try:
            index = 0
            pending = first
            while not stop.is_set():
                if pending is not None:
                    ok, frame, pending = True, pending, None
                else:
                    ok, frame = cap.read()
                    if ok and frame is not None and log is not None:
                        log.record(index, cap.get(cv2.CAP_PROP_POS_MSEC))
                if not ok or frame is None:
                    if log is not None:
                        log.end()
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
