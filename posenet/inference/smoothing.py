"""Temporal smoothing of tracked joints: the One Euro filter, per track, and a jitter metric.

The One Euro filter (Casiez, Roussel and Vogel, CHI 2012) is a first-order low-pass filter
whose cutoff rises with the signal's speed: a still joint is smoothed hard (its noise is the
jitter one sees) while a fast joint is followed closely (little lag). For each element::

    dx      = (x - x_hat_prev) / Te                       # raw speed, units/s
    dx_hat  = lowpass(dx, alpha(d_cutoff))                 # smoothed speed
    cutoff  = min_cutoff + beta * |dx_hat|                 # Hz
    x_hat   = lowpass(x, alpha(cutoff))
    alpha(c) = 1 / (1 + tau / Te),  tau = 1 / (2 pi c)     # Te: time step in seconds

``beta`` has units of 1/(signal units), so image pixels and millimetres need different
values; :class:`SmoothingConfig` holds both.

Defaults and how they were chosen
---------------------------------
Defaults: ``min_cutoff`` 0.3 Hz, ``beta`` 0.15 /px (2D) and 0.0375 /mm (3D), ``d_cutoff``
2.5 Hz, ``reset_after`` 0.5 s. Measured with ``measure_defaults()`` (seeded synthetic
tracks, 10 s of 17 joints each, Gaussian noise per coordinate; "error" is the mean
Euclidean distance to the true trajectory), raw -> filtered at 25 / 30 / 60 fps:

case (noise 2.5 px / 10 mm)         25 fps               30 fps               60 fps
still 2D: jitter, px                4.46 -> 2.03 (2.2x)  4.39 -> 1.86 (2.4x)  4.47 -> 1.39 (3.2x)
x = 100 px sin(2 pi t): error, px   3.09 -> 2.95         3.13 -> 2.90         3.14 -> 2.63
circle r 80 px, 1 Hz: error, px     3.12 -> 3.53         3.12 -> 3.48         3.15 -> 3.17
still 3D: jitter, mm                22.8 -> 10.7 (2.1x)  22.5 -> 9.8 (2.3x)   22.5 -> 7.1 (3.2x)
x = 400 mm sin(2 pi t): error, mm   16.1 -> 14.2         16.0 -> 13.9         16.0 -> 12.5

With 2 px (8 mm) noise the still 2D jitter falls 2.4-3.7x and the sinusoid's error
1.01-1.15x; with 3 px (12 mm), 2.0-2.9x (3D: 1.97x at 25 fps) and 1.07-1.21x
(``measure_defaults(noise_px=..., noise_mm=...)``). The trade-off is ``beta`` against the
noise: the noise's own apparent speed raises a still joint's cutoff, so a larger ``beta``
lets more jitter through and a smaller one lags more on real motion. These defaults are
about the strongest smoothing that keeps the 1 Hz sinusoid's error below the raw signal's
at 25-60 fps. When both coordinates move fast (the circle, a wrist at 503 px/s) the lag
costs 0.4 px (13%) over raw at 25 fps, 0.02 px at 60 fps (with 2 px noise: 0.55 px, 22%,
at 25 fps). ``min_cutoff`` matters little (0.1 to 0.5 Hz changes the still ratio by about
5%): the noise-driven part of the cutoff dominates it.

Reproduce with::

    from posenet.inference.smoothing import measure_defaults
    print(measure_defaults())
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "OneEuroFilter",
    "SmoothingConfig",
    "TrackSmoother",
    "jitter",
    "measure_defaults",
    "smooth_track",
]


@dataclass(frozen=True)
class SmoothingConfig:
    """One Euro parameters for a track's 2D joints (image px) and 3D joints (mm).

    Attributes:
        min_cutoff_2d: cutoff of the 2D filter when the joint is still, in Hz.
        beta_2d: cutoff increase per unit of 2D speed, in Hz per (px/s), i.e. 1/px.
        min_cutoff_3d: cutoff of the 3D filter when the joint is still, in Hz.
        beta_3d: cutoff increase per unit of 3D speed, in Hz per (mm/s), i.e. 1/mm.
        d_cutoff: cutoff of the speed estimate's own low-pass, in Hz (both filters).
        reset_after: seconds without a value after which a joint (or, for a gap between
            calls, the whole track) restarts from its next value instead of blending with
            stale state.

    The defaults were measured (see the module docstring and :func:`measure_defaults`):
    2D on a still joint with 2.5 px noise and on moving joints at 500-630 px/s peak; the 3D
    betas are the 2D ones divided by 4 mm/px (a 1.7 m person about 425 px tall), which
    makes the 3D filter on a scaled signal exactly the scaled 2D filter.
    """

    min_cutoff_2d: float = 0.3
    beta_2d: float = 0.15
    min_cutoff_3d: float = 0.3
    beta_3d: float = 0.0375
    d_cutoff: float = 2.5
    reset_after: float = 0.5


class OneEuroFilter:
    """The One Euro filter over an array of any shape, each element filtered independently.

    Args:
        min_cutoff: cutoff when the signal is still, in Hz (> 0). Lower: less jitter, more
            lag on slow motion.
        beta: speed coefficient, in 1/(signal units) (>= 0). Higher: less lag on fast
            motion, more jitter let through while moving.
        d_cutoff: cutoff of the speed estimate's low-pass, in Hz (> 0).
        reset_after: seconds (> 0). An element missing (NaN) for longer restarts from its
            next finite value; a gap between calls longer than this resets every element.

    The defaults (0.3 Hz, 0.15 /px, 2.5 Hz, 0.5 s) are :class:`SmoothingConfig`'s 2D ones,
    for joints in image pixels; for other units scale ``beta`` by 1/(units per px).

    Call with ``filter(value, t)``, ``t`` in seconds. The first call (and the first value
    after a reset) is returned unchanged. Non-finite input elements come out as NaN and
    leave their element's state untouched. If ``t`` does not advance past the previous
    call's time, the previous output is returned again (use :meth:`reset` before feeding a
    new sequence that restarts its clock).
    """

    def __init__(
        self,
        min_cutoff: float = 0.3,
        beta: float = 0.15,
        d_cutoff: float = 2.5,
        reset_after: float = 0.5,
    ) -> None:
        if not min_cutoff > 0 or not d_cutoff > 0:
            raise ValueError(f"cutoffs must be > 0 Hz, got {min_cutoff=} and {d_cutoff=}")
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        if not reset_after > 0:
            raise ValueError(f"reset_after must be > 0 seconds, got {reset_after}")
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.reset_after = float(reset_after)
        self.reset()

    def reset(self) -> None:
        """Forget all state, shape included: the next call's value is returned as is."""
        self._shape: tuple[int, ...] | None = None
        self._x: np.ndarray | None = None  # filtered value per element
        self._dx: np.ndarray | None = None  # filtered speed per element, units/s
        self._t_elem: np.ndarray | None = None  # time of each element's last finite value
        self._t_last: float | None = None  # time of the last call
        self._out: np.ndarray | None = None  # last output, returned when t does not advance

    @staticmethod
    def _alpha(cutoff: np.ndarray | float, te: np.ndarray) -> np.ndarray:
        # alpha = 1 / (1 + tau / Te) with tau = 1 / (2 pi cutoff), written without division
        # by the cutoff.
        k = 2.0 * math.pi * cutoff * te
        return k / (k + 1.0)

    def __call__(self, value, t: float) -> np.ndarray:
        """Filter ``value`` (any shape, fixed across calls) observed at time ``t`` seconds."""
        x = np.asarray(value, dtype=np.float64)
        t = float(t)
        if self._shape is not None and x.shape != self._shape:
            raise ValueError(f"value shape {x.shape} differs from the first call's {self._shape}")
        if self._t_last is not None:
            if t <= self._t_last:
                return self._out.copy()
            if t - self._t_last > self.reset_after:
                self.reset()  # a long gap: the track was lost, its old state is stale
        if self._shape is None:
            self._shape = x.shape
            self._x = np.zeros(x.shape)
            self._dx = np.zeros(x.shape)
            self._t_elem = np.full(x.shape, np.nan)

        finite = np.isfinite(x)
        # NaN comparisons are False, so never-seen elements count as stale, not as updated.
        stale = ~(t - self._t_elem <= self.reset_after)
        fresh = finite & stale
        upd = finite & ~stale

        # Fresh elements start from their value with zero speed.
        self._x[fresh] = x[fresh]
        self._dx[fresh] = 0.0

        if upd.any():
            # Per-element step: an element resuming after a short gap uses the whole gap, so
            # its speed estimate is the mean speed over the gap.
            te = t - self._t_elem[upd]
            x_prev = self._x[upd]
            dx = (x[upd] - x_prev) / te
            a_d = self._alpha(self.d_cutoff, te)
            dx_hat = a_d * dx + (1.0 - a_d) * self._dx[upd]
            cutoff = self.min_cutoff + self.beta * np.abs(dx_hat)
            a = self._alpha(cutoff, te)
            self._x[upd] = a * x[upd] + (1.0 - a) * x_prev
            self._dx[upd] = dx_hat

        self._t_elem[finite] = t
        self._t_last = t
        self._out = np.where(finite, self._x, np.nan)
        return self._out.copy()


def _filter_2d(config: SmoothingConfig) -> OneEuroFilter:
    return OneEuroFilter(config.min_cutoff_2d, config.beta_2d, config.d_cutoff, config.reset_after)


def _filter_3d(config: SmoothingConfig) -> OneEuroFilter:
    return OneEuroFilter(config.min_cutoff_3d, config.beta_3d, config.d_cutoff, config.reset_after)


class TrackSmoother:
    """Smooths one tracked person: a filter for its 2D joints (px) and one for its 3D (mm).

    Confidences are not filtered; the caller keeps them. Set joints that should not be
    trusted (e.g. invisible) to NaN: they come out NaN and do not disturb the state.
    """

    def __init__(self, config: SmoothingConfig | None = None) -> None:
        self.config = config if config is not None else SmoothingConfig()
        self.filter2d = _filter_2d(self.config)
        self.filter3d = _filter_3d(self.config)

    def reset(self) -> None:
        """Forget both filters' state."""
        self.filter2d.reset()
        self.filter3d.reset()

    def __call__(
        self, t: float, joints2d_xy, joints3d=None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Smooth one frame at time ``t`` seconds.

        Args:
            t: frame time in seconds.
            joints2d_xy: (J, 2) image coordinates in px.
            joints3d: (J, 3) in mm, or None when the frame has no 3D (the 3D filter then
                waits; a wait longer than ``reset_after`` restarts it).

        Returns:
            (xy (J, 2), joints3d (J, 3) or None), smoothed.
        """
        xy = np.asarray(joints2d_xy, dtype=np.float64)
        if xy.ndim != 2 or xy.shape[-1] != 2:
            raise ValueError(f"joints2d_xy must be (J, 2), got shape {xy.shape}")
        out_xy = self.filter2d(xy, t)
        if joints3d is None:
            return out_xy, None
        j3 = np.asarray(joints3d, dtype=np.float64)
        if j3.ndim != 2 or j3.shape[-1] != 3:
            raise ValueError(f"joints3d must be (J, 3), got shape {j3.shape}")
        return out_xy, self.filter3d(j3, t)


def smooth_track(
    times,
    joints2d,
    joints3d=None,
    config: SmoothingConfig | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Smooth a whole track.

    Args:
        times: (T,) frame times in seconds, increasing.
        joints2d: (T, J, 2) image coordinates in px (NaN where missing).
        joints3d: (T, J, 3) in mm (NaN where missing), or None.
        config: the parameters; ``SmoothingConfig()`` when None.

    Returns:
        (xy (T, J, 2), joints3d (T, J, 3) or None), smoothed.
    """
    times = np.asarray(times, dtype=np.float64)
    xy = np.asarray(joints2d, dtype=np.float64)
    if times.ndim != 1:
        raise ValueError(f"times must be (T,), got shape {times.shape}")
    if xy.ndim != 3 or xy.shape[0] != times.shape[0]:
        raise ValueError(f"joints2d must be (T, J, 2) with T={times.shape[0]}, got {xy.shape}")
    j3 = None
    if joints3d is not None:
        j3 = np.asarray(joints3d, dtype=np.float64)
        if j3.ndim != 3 or j3.shape[0] != times.shape[0]:
            raise ValueError(f"joints3d must be (T, J, 3) with T={times.shape[0]}, got {j3.shape}")
    smoother = TrackSmoother(config)
    out_xy = np.empty_like(xy)
    out_3d = None if j3 is None else np.empty_like(j3)
    for i, t in enumerate(times):
        a, b = smoother(t, xy[i], None if j3 is None else j3[i])
        out_xy[i] = a
        if out_3d is not None:
            out_3d[i] = b
    return out_xy, out_3d


def jitter(joints, valid=None) -> float:
    """Mean frame-to-frame joint motion: on a still person, all of it is jitter.

    The mean, over joints and consecutive frame pairs, of the Euclidean distance
    ``||p_t - p_{t-1}||``, in the units of the input (px, mm). A pair counts only when both
    of its points are finite and valid.

    Args:
        joints: (T, ..., D) positions: time first, coordinates last, e.g. (T, J, 2).
        valid: optional boolean mask of shape ``joints.shape[:-1]``; False excludes a point.

    Returns:
        The mean motion, or NaN when no pair counts.
    """
    p = np.asarray(joints, dtype=np.float64)
    if p.ndim < 2:
        raise ValueError(f"joints must be (T, ..., D), got shape {p.shape}")
    ok = np.all(np.isfinite(p), axis=-1)
    if valid is not None:
        v = np.asarray(valid, dtype=bool)
        if v.shape != ok.shape:
            raise ValueError(f"valid must have shape {ok.shape}, got {v.shape}")
        ok &= v
    pair = ok[1:] & ok[:-1]
    if not pair.any():
        return float("nan")
    step = np.linalg.norm(p[1:] - p[:-1], axis=-1)
    return float(step[pair].mean())


def _mean_error(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.linalg.norm(pred - truth, axis=-1).mean())


def measure_defaults(
    config: SmoothingConfig | None = None,
    fps_values: tuple[float, ...] = (25.0, 30.0, 60.0),
    noise_px: float = 2.5,
    noise_mm: float = 10.0,
    seed: int = 0,
) -> dict[str, dict[float, dict[str, float]]]:
    """Measure a configuration on synthetic pose-network-like tracks (the module's figures).

    Cases, each 10 s of 17 joints with Gaussian noise per coordinate:

    - ``still_2d``: still joints, noise 2.5 px: jitter raw / filtered and the ratio.
    - ``sine_2d``: x = 100 px * sin(2 pi 1 Hz t) (peak 628 px/s), noise 2.5 px: mean error
      to the truth, raw and filtered.
    - ``circle_2d``: both coordinates moving, radius 80 px at 1 Hz (a wrist at 503 px/s),
      noise 2.5 px: mean error raw and filtered.
    - ``still_3d`` / ``sine_3d``: the same in mm with noise 10 mm and amplitude 400 mm.

    Returns:
        ``{case: {fps: {"raw": ..., "filtered": ..., "ratio": raw / filtered}}}``.
    """
    config = config if config is not None else SmoothingConfig()
    rng = np.random.default_rng(seed)
    n_joints, duration = 17, 10.0
    results: dict[str, dict[float, dict[str, float]]] = {}

    def record(case: str, fps: float, raw: float, filtered: float) -> None:
        results.setdefault(case, {})[fps] = {
            "raw": raw,
            "filtered": filtered,
            "ratio": raw / filtered,
        }

    for fps in fps_values:
        times = np.arange(int(duration * fps)) / fps
        phase = 2.0 * math.pi * times[:, None]  # 1 Hz
        base = rng.uniform(0.0, 500.0, size=(1, n_joints, 2))

        still = np.broadcast_to(base, (times.size, n_joints, 2))
        noisy = still + rng.normal(0.0, noise_px, size=still.shape)
        smooth, _ = smooth_track(times, noisy, config=config)
        record("still_2d", fps, jitter(noisy), jitter(smooth))

        sine = still.copy()
        sine[..., 0] += 100.0 * np.sin(phase)
        noisy = sine + rng.normal(0.0, noise_px, size=sine.shape)
        smooth, _ = smooth_track(times, noisy, config=config)
        record("sine_2d", fps, _mean_error(noisy, sine), _mean_error(smooth, sine))

        circle = still + 80.0 * np.stack([np.cos(phase), np.sin(phase)], axis=-1)
        noisy = circle + rng.normal(0.0, noise_px, size=circle.shape)
        smooth, _ = smooth_track(times, noisy, config=config)
        record("circle_2d", fps, _mean_error(noisy, circle), _mean_error(smooth, circle))

        # 3D rides along with a dummy 2D track; only its output is scored.
        base3 = rng.uniform(-800.0, 800.0, size=(1, n_joints, 3))
        still3 = np.broadcast_to(base3, (times.size, n_joints, 3))
        noisy3 = still3 + rng.normal(0.0, noise_mm, size=still3.shape)
        _, smooth3 = smooth_track(times, still[..., :2], noisy3, config=config)
        record("still_3d", fps, jitter(noisy3), jitter(smooth3))

        sine3 = still3.copy()
        sine3[..., 0] += 400.0 * np.sin(phase)
        noisy3 = sine3 + rng.normal(0.0, noise_mm, size=sine3.shape)
        _, smooth3 = smooth_track(times, still[..., :2], noisy3, config=config)
        record("sine_3d", fps, _mean_error(noisy3, sine3), _mean_error(smooth3, sine3))

    return results
