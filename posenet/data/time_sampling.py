"""Which video frames an action network reads: consecutive frames, or a span resampled.

An :class:`~posenet.models.action.ActionNetwork` reads ``num_frames`` (T) frames. By
default they are T consecutive video frames. With ``clip_span`` S it reads T frames spread
evenly over up to S video frames (nearest frame, so joints stay annotated joints): the
whole of a video shorter than S (a J-HMDB clip, resampled to T frames as in DD-Net's
protocol), a window of S frames of a longer one. Training draws a random part of 80-100%
of that span (``min_fraction``), which varies the action's speed; evaluation and inference
slide spans of S frames S // 2 apart, plus one that ends on the last frame. A network's
``frame_rate`` (frames/s of its training clips) lets inference scale S (or T) to a video
at another rate (:func:`video_span`).
"""

from __future__ import annotations

import numpy as np


def frames_read(model) -> int:
    """How many consecutive video frames one input of ``model`` covers at most."""
    return int(getattr(model, "clip_span", None) or model.num_frames)


def video_span(model, fps=None) -> int:
    """The video frames one input of ``model`` covers in a video of ``fps`` frames/s:
    :func:`frames_read`, scaled by ``fps / model.frame_rate`` when both are known, so the
    network reads the same seconds of a 60 frames/s video as of its 30 frames/s training
    clips."""
    span = frames_read(model)
    rate = getattr(model, "frame_rate", None)
    if rate and fps and fps > 0:
        span = max(1, int(round(span * fps / rate)))
    return span


def resample(frames, num_frames: int) -> np.ndarray:
    """``num_frames`` entries of ``frames`` evenly spread from its first to its last
    (nearest entry; a single frame repeats)."""
    frames = np.asarray(frames)
    if len(frames) == 0:
        raise ValueError("cannot resample an empty sequence")
    picks = np.rint(np.linspace(0, len(frames) - 1, num_frames)).astype(int)
    return frames[picks]


def random_span(frames, num_frames: int, span: int, rng: np.random.Generator,
                min_fraction: float = 0.8) -> np.ndarray:
    """T entries of ``frames`` resampled from a random part of it: its length is a uniform
    fraction in [``min_fraction``, 1] of ``min(span, len(frames))`` (at least 1 frame), its
    start uniform. Two ``rng`` draws whatever the lengths, so later draws stay aligned."""
    frames = np.asarray(frames)
    whole = min(int(span), len(frames))
    fraction, where = rng.random(2)
    length = max(1, int(round(whole * (min_fraction + (1 - min_fraction) * fraction))))
    start = int(where * (len(frames) - length + 1))
    return resample(frames[start:start + length], num_frames)


def sliding_spans(frames, num_frames: int, span: int) -> list[np.ndarray]:
    """The evaluation windows of a span network: spans of ``span`` frames ``span // 2``
    apart from the first frame, plus one ending on the last frame if they miss it (a
    shorter video is one span), each resampled to ``num_frames`` entries."""
    frames = np.asarray(frames)
    span = min(int(span), len(frames))
    stride = max(span // 2, 1)
    starts = list(range(0, len(frames) - span + 1, stride))
    if starts[-1] + span < len(frames):
        starts.append(len(frames) - span)
    return [resample(frames[s:s + span], num_frames) for s in starts]
