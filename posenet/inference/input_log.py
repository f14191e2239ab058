"""What the decoder says about an input: each frame's time, how many frames it gave of those
the container declares, and the warnings of the predictions (``docs/predictions_schema.md``).

Times are the decoder's: OpenCV's ``CAP_PROP_POS_MSEC`` after each frame is read (the
frame's presentation timestamp in the container), in seconds since the first frame. A
frame without a usable timestamp (none, or not after the previous frame's) is placed one
``1 / fps`` after the last frame that had one, so a source that gives no timestamps at all
(an array, some cameras) gets ``index / fps``.

Warnings (each one sentence, in the predictions' ``warnings``):

- the frame rate varies: an interval between two frames differs from the median interval
  by more than :data:`RATE_TOLERANCE` of it;
- fewer frames decoded than the container declares (a truncated or damaged file): at least
  :data:`MISSING_FRAMES` fewer, once the decoder has reached the end. When the rate varies
  the container's count is an estimate (its duration times a guessed rate), so the
  decoded span must also fall short of the declared duration by more than
  :data:`MISSING_FRAMES` - 0.5 frame intervals;
- frames without a usable timestamp;
- a container that declares no usable frame rate (``fps`` is then ``sources.FALLBACK_FPS``);
- an image with an alpha channel (fully transparent, or transparent in parts: the alpha is
  dropped) or 16 bits per channel (scaled to 8);
- a frame too small for the network to see a person in: under :data:`MIN_SIDE` px a side,
  or a panorama longer than :data:`MAX_ASPECT` times its height (or width): fitted whole
  into the network's input to find the person, its short side becomes under a quarter of
  the input's (48 px of the shipped network's 192), and a person in it smaller still.
"""

from __future__ import annotations

import math
import os
import statistics

import cv2
import numpy as np

#: A frame rate "varies" when an interval between frames differs from the median interval
#: by more than this fraction of it (ms-rounded timestamps of 29.97 frames/s stay within
#: 0.04; one dropped frame doubles an interval).
RATE_TOLERANCE = 0.5
#: Frames that may be missing before a video is said to be truncated (containers that
#: estimate their count may be one off).
MISSING_FRAMES = 2
#: Px: the smallest side of a frame in which the network can see a person.
MIN_SIDE = 64
#: The longest side over the shortest beyond which a person is too small to be found in
#: the whole frame fitted into the network's input.
MAX_ASPECT = 4.0
#: Image formats that can hold an alpha channel or 16 bits per channel.
DEEP_IMAGE_EXTENSIONS = (".png", ".tif", ".tiff", ".webp")


class InputLog:
    """The timestamps and warnings of one input, filled while its frames are decoded.

    ``fps``: the container's frame rate (None for an image); ``declared``: its frame count
    (None when unknown, as for a stream). The decoding thread calls :meth:`record` per
    frame before handing the frame on, and :meth:`end` when the decoder has no more
    frames (not when decoding is stopped early); :meth:`time` and :meth:`warnings` are
    read by the consumer of the frames.
    """

    def __init__(self, fps=None, declared=None):
        self.fps, self.declared = fps, declared
        self.notes: list[str] = []  # warnings found while reading (an image's alpha, ...)
        self.decoded = 0
        self.ended = False
        self._raw: dict[int, float] = {}
        self._times: list[float] = []
        self._from_decoder: list[bool] = []
        self._origin = None  # the decoder's ms of time 0
        self._anchor = (0, 0.0)  # the last frame with a decoder time: (index, s)

    def describe(self, info) -> None:
        """Take the frame rate and the declared frame count of ``info``
        (``sources.MediaInfo``)."""
        self.fps, self.declared = info.fps, info.frame_count if info.kind == "video" else None
        if not info.rate_declared:
            self.notes.append(f"the container declares no usable frame rate: {info.fps:g} "
                              "frames/s is assumed for 'fps' and for frames without a "
                              "decoder timestamp")

    def record(self, index, msec) -> None:
        """Frame ``index`` was decoded; ``msec`` is the decoder's timestamp (ms; None or
        NaN when it has none)."""
        self._raw[int(index)] = msec
        self.decoded = max(self.decoded, int(index) + 1)

    def end(self) -> None:
        """The decoder has given its last frame."""
        self.ended = True

    def time(self, index) -> float:
        """Seconds of frame ``index`` since the first frame (see the module doc)."""
        while len(self._times) <= index:
            i = len(self._times)
            raw = self._raw.get(i)
            usable = raw is not None and math.isfinite(raw) and raw >= 0
            guess = self._anchor[1] + ((i - self._anchor[0]) / self.fps if self.fps else 0.0)
            if usable and self._origin is None:
                self._origin = raw - 1000.0 * guess
            seconds = (raw - self._origin) / 1000.0 if usable else None
            if seconds is not None and (i == 0 or seconds > self._times[-1]):
                self._anchor = (i, seconds)
                self._times.append(seconds)
                self._from_decoder.append(True)
            else:
                self._times.append(guess)
                self._from_decoder.append(False)
        return self._times[index]

    def warnings(self) -> list[str]:
        """The warnings of this input so far (see the module doc)."""
        out = list(self.notes)
        if not self._raw:  # not decoded here (an array, frames given by the caller)
            return out
        count = max(self.decoded, len(self._times))
        self.time(count - 1)
        lacking = sum(not ok for i, ok in enumerate(self._from_decoder[:count])
                      if i in self._raw and i > 0)
        varies = self._rate_warning(count)
        if varies:
            out.append(varies)
        if lacking == count - 1 and count > 1:
            out.append("the decoder gives no timestamps: each frame's time is index / fps")
        elif lacking:
            out.append(f"{lacking} of {count} frames had no usable decoder timestamp: each "
                       "is placed 1 / fps after the frame before it")
        missing = self._missing(count, varies is not None)
        if missing:
            out.append(missing)
        return out

    def _rate_warning(self, count):
        times, known = self._times[:count], self._from_decoder[:count]
        gaps = [times[i] - times[i - 1] for i in range(1, count) if known[i] and known[i - 1]]
        if len(gaps) < 2:
            return None
        median = statistics.median(gaps)
        if median <= 0 or max(abs(g - median) for g in gaps) <= RATE_TOLERANCE * median:
            return None
        said = f"the container says {self.fps:g} frames/s" if self.fps else "no rate declared"
        return (f"the frame rate varies: frames are {1000 * min(gaps):.1f} to "
                f"{1000 * max(gaps):.1f} ms apart ({said}); each frame's time is its "
                "decoder timestamp, not index / fps")

    def _missing(self, count, varies):
        if not (self.ended and self.declared and self.fps) or count > self.declared - \
                MISSING_FRAMES:
            return None
        if varies:
            decoded_span = self._times[count - 1] + 1.0 / self.fps
            if self.declared / self.fps - decoded_span <= (MISSING_FRAMES - 0.5) / self.fps:
                return None
        return (f"{count} frames decoded of the {self.declared} the container declares: the "
                "file may be truncated or damaged (the frames that follow are missing)")


def image_notes(path) -> list[str]:
    """Warnings about how an image file was read: an alpha channel (fully transparent, or
    transparent in parts: OpenCV drops it) or 16 bits per channel (scaled to 8)."""
    if os.path.splitext(os.fspath(path))[1].lower() not in DEEP_IMAGE_EXTENSIONS:
        return []
    raw = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        return []
    notes = []
    if raw.ndim == 3 and raw.shape[2] == 4:
        alpha = raw[..., 3]
        opaque = np.iinfo(raw.dtype).max if raw.dtype.kind in "ui" else 1.0
        if not alpha.any():
            notes.append("the image is fully transparent (alpha 0 everywhere): nothing in it "
                         "is meant to be seen; its colour channels were read as they are")
        elif alpha.min() < opaque:
            notes.append("the image is transparent in parts: its alpha channel was dropped, "
                         "so transparent pixels show whatever colour they store")
    if raw.dtype == np.uint16:
        notes.append("the image has 16 bits per channel: read scaled to 8 bits")
    return notes


def size_warnings(width, height, network_size) -> list[str]:
    """Warnings for a frame of ``width`` x ``height`` px too small for a network of
    ``network_size`` px input to see a person in (see :data:`MIN_SIDE`)."""
    if not width or not height:
        return []
    short, long = sorted((int(width), int(height)))
    if short < MIN_SIDE:
        return [f"the frame is {width}x{height} px, under {MIN_SIDE} px a side: too small for "
                "the network to see a person in: no person is reported in it"]
    if long > MAX_ASPECT * short:
        fitted = short * network_size / long
        return [f"the frame is {width}x{height} px: fitted whole into the network's "
                f"{network_size} px input to find people, its {short} px side becomes "
                f"{fitted:.0f} px: people in it may be too small to be found; crop it into "
                "parts (tiles) and give them as inputs"]
    return []
