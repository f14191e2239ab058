"""The frame-quality check: frames in which the network cannot see a person.

The pose network and the person detector were trained on ordinary photos; on a frame that
is nearly black, washed out to white, flat or a few px wide they still return a pose, often
a confident one (a 64x48 clip scored 0.73-0.99, a transparent PNG 0.994). :func:`check`
says why a frame is such a frame, from its luma (BT.601 grey) fitted within
:data:`SIDE` px (what the network sees of a whole frame; fitting also averages sensor
noise away). No person is reported in a flagged frame: :class:`FrameQuality` keeps it
away from the finding and following stages (a track survives it as it survives a missed
frame, ``max_missed``), and the predictions' ``warnings`` say, once per input, how many
frames were flagged and why. Withholding rather than lowering the score: a lowered score
would still be a pose the network could not have seen.

The thresholds, each far outside what ordinary photos give: on 900 LSPet photos (every
10th), fitted within 192 px, the brightest 1 % of a photo's px is never under 74 (0.5th
percentile 134), the darkest 1 % never over 88, and the spread between them never under 67
(0.5th percentile 127).
"""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np

from posenet.inference.input_log import MIN_SIDE

#: Px: a frame is fitted within this side (the shipped network's input) before its luma is
#: read.
SIDE = 192
#: A frame is too dark when its brightest 1 % of px is under this (of 255): nearly black,
#: under night-time noise; ordinary photos: 74 at the least, under half of that is flagged.
DARK = 36
#: A frame is washed out when its darkest 1 % of px is over this (of 255): overexposed to
#: near white everywhere; ordinary photos: 88 at the most, and a dark garment or shadow
#: in any real scene stays under 170.
BRIGHT = 170
#: A frame has no contrast when its brightest and darkest 1 % of px are less than this
#: apart (of 255): a flat colour, a plain wall, fog; ordinary photos: 67 at the least.
FLAT = 24
#: The reasons of :func:`check`, in the order they are tested, with their sentences.
REASONS = {
    "small": f"under {MIN_SIDE} px a side",
    "dark": f"too dark (the brightest 1 % of the frame under {DARK} of 255)",
    "bright": f"washed out (the darkest 1 % of the frame over {BRIGHT} of 255)",
    "flat": f"without contrast (its brightest and darkest 1 % under {FLAT} of 255 apart)",
}


def luma_range(frame) -> tuple[float, float]:
    """(1st, 99th) percentile of the luma of (H, W, 3) uint8 BGR ``frame`` fitted within
    :data:`SIDE` px (sampled, then averaged over 2 x 2 samples)."""
    # every (k // 2)-th px, then averaged over 2 x 2 of them: k x k blocks (k: the whole
    # factor that fits the frame within SIDE) cost 4 ms a 1920x1088 frame, as much as the
    # network's crop; this costs 1 ms and still averages sensor noise
    factor = -(-max(frame.shape[:2]) // SIDE)
    if factor > 1:
        frame = frame[::max(factor // 2, 1), ::max(factor // 2, 1)]
        rest = -(-max(frame.shape[:2]) // SIDE)
        if rest > 1:
            frame = cv2.resize(frame, None, fx=1 / rest, fy=1 / rest,
                               interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_BGR2GRAY)
    counts = np.cumsum(np.bincount(grey.ravel(), minlength=256))
    low = int(np.searchsorted(counts, 0.01 * counts[-1]))
    high = int(np.searchsorted(counts, 0.99 * counts[-1]))
    return float(low), float(high)


def check(frame) -> str | None:
    """Why no person can be seen in (H, W, 3) uint8 BGR ``frame``: a key of
    :data:`REASONS`, or None for a frame fit to look at."""
    if min(frame.shape[:2]) < MIN_SIDE:
        return "small"
    low, high = luma_range(frame)
    if high < DARK:
        return "dark"
    if low > BRIGHT:
        return "bright"
    if high - low < FLAT:
        return "flat"
    return None


class FrameQuality:
    """The check over one input's frames, chunk by chunk: :meth:`keep` the frames fit to
    look at, :meth:`spread` their people back over the chunk, :meth:`warnings` at the end.
    ``enabled=False`` keeps every frame."""

    def __init__(self, enabled=True):
        self.enabled = bool(enabled)
        self.frames = 0
        self.flagged: Counter = Counter()

    def keep(self, chunk) -> list:
        """The ``(index, frame)`` items of ``chunk`` whose frame passes :func:`check`."""
        self.frames += len(chunk)
        if not self.enabled:
            return list(chunk)
        kept = []
        for item in chunk:
            reason = check(item[1])
            if reason is None:
                kept.append(item)
            else:
                self.flagged[reason] += 1
        return kept

    @staticmethod
    def spread(chunk, kept, found) -> list[list]:
        """Per frame of ``chunk``, its people: ``found`` (per frame of ``kept``), none in
        the frames left out."""
        by_index = {index: people for (index, _), people in zip(kept, found, strict=True)}
        return [by_index.get(index, []) for index, _ in chunk]

    def warnings(self) -> list[str]:
        """One sentence per reason that flagged frames (a frame too small is said by
        ``input_log.size_warnings``, with its size)."""
        out = []
        for reason, sentence in REASONS.items():
            count = self.flagged[reason]
            if count and reason != "small":
                frames = "the frame is" if self.frames == 1 else \
                    f"{count} of {self.frames} frames are"
                out.append(f"{frames} {sentence}: no person is reported in "
                           f"{'it' if self.frames == 1 else 'them'}")
        return out
