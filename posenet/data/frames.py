"""Decoding the pixels a prepared sample points to: images, video frames, embedded bytes.

A frame reference (``frame_ref`` of a prepared file) is either a plain image path or
``<video path>#<frame index>`` (0-based).  Every function returns an (H, W, 3) uint8
array in OpenCV's BGR channel order.  Errors name the file (and frame): a missing file
is a FileNotFoundError; an unreadable or corrupt file, or a frame outside the video, a
ValueError.
"""

from __future__ import annotations

import os
import re

import cv2
import numpy as np

_VIDEO_REF = re.compile(r"^(?P<path>.+)#(?P<frame>\d+)$")


def split_ref(ref: str) -> tuple[str, int | None]:
    """``(path, frame)`` of a frame reference; ``frame`` is None for an image.

    A path that exists as a file is an image even if it contains ``#<digits>``, so odd
    file names still work; otherwise a trailing ``#<digits>`` selects a video frame.
    """
    ref = os.fspath(ref)
    match = _VIDEO_REF.match(ref)
    if match is None or os.path.isfile(ref):
        return ref, None
    return match["path"], int(match["frame"])


def read_frame(ref: str) -> np.ndarray:
    """The (H, W, 3) uint8 BGR pixels of ``ref``: an image path or ``<video>#<frame>``."""
    path, frame = split_ref(ref)
    if frame is None:
        return read_image(path)
    with VideoReader(path) as video:  # releases the capture on every path out
        return video.read(frame)


def read_image(path) -> np.ndarray:
    """An image file as (H, W, 3) uint8 BGR (grey images are expanded to 3 channels)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"image {path} not found")
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:  # OpenCV reports unreadable files by returning None
        raise ValueError(f"{path}: not a readable image")
    return image


def decode_image(data) -> np.ndarray:
    """Encoded image bytes (e.g. a prepared file's ``image``) as (H, W, 3) uint8 BGR."""
    buf = np.frombuffer(bytes(data), dtype=np.uint8)
    image = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    if image is None:
        raise ValueError(f"{buf.size} bytes are not a decodable image")
    return image


class VideoReader:
    """One open video for many reads: ``with VideoReader(path) as v: v.read(i)``.

    Reading frames in increasing order continues from the last one without seeking
    (seeking a compressed video decodes from the previous key frame, so sequential
    reads are much cheaper); any other order seeks.  ``close()`` (or leaving the
    ``with`` block) releases the capture.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"video {self.path} not found")
        self._cap = cv2.VideoCapture(self.path)
        if not self._cap.isOpened():
            self.close()
            raise ValueError(f"{self.path}: not a readable video")
        self._next = 0  # the frame a plain read() returns

    @property
    def num_frames(self) -> int:
        """Frame count from the container (an estimate for some formats); 0 if unknown."""
        self._require_open()
        return max(int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)

    def read(self, frame: int) -> np.ndarray:
        """Frame ``frame`` (0-based) as (H, W, 3) uint8 BGR."""
        self._require_open()
        frame = int(frame)
        if frame < 0:
            raise ValueError(f"{self.path}: frame {frame} is negative")
        if frame != self._next:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, image = self._cap.read()
        if not ok or image is None:
            self._next = -1  # position unknown: seek on the next read
            raise ValueError(
                f"{self.path}: frame {frame} could not be read (the container reports "
                f"{max(int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)} frames)"
            )
        self._next = frame + 1
        return image

    def _require_open(self) -> None:
        if self._cap is None:
            raise ValueError(f"{self.path}: the VideoReader is closed")

    def close(self) -> None:
        """Release the capture (safe to call twice)."""
        if self._cap is not None:
            cap, self._cap = self._cap, None
            cap.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        # A reader dropped without close() must not keep the file handle open.
        if getattr(self, "_cap", None) is not None:
            self.close()
