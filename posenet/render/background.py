"""Procedural backgrounds: gradients, clutter, noise textures, stripes and rooms.

Every background is drawn from a NumPy generator only, so it is reproducible by seed.
Sizes are in pixels; colours are BGR uint8.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["BACKGROUND_KINDS", "random_background"]

BACKGROUND_KINDS: tuple[str, ...] = ("gradient", "clutter", "noise", "stripes", "room")


def _colour(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> np.ndarray:
    return rng.integers(lo, hi, size=3).astype(np.float32)


def _ramp(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """(H, W) float32 in [0, 1] varying linearly along a random direction."""
    angle = rng.uniform(0.0, 2.0 * np.pi)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    t = x * np.float32(np.cos(angle)) + y * np.float32(np.sin(angle))
    return (t - t.min()) / max(float(t.max() - t.min()), 1.0)


def _noise(rng: np.random.Generator, height: int, width: int, octaves: int = 4) -> np.ndarray:
    """(H, W) float32 fractal value noise in [0, 1]: random grids of growing resolution,
    smoothly upsampled, with halving amplitudes."""
    out = np.zeros((height, width), np.float32)
    cells = int(rng.integers(2, 6))
    amp, total = 1.0, 0.0
    for _ in range(octaves):
        grid = rng.random((cells + 1, cells + 1), dtype=np.float32)
        out += amp * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
        cells *= 2
    out /= total
    return (out - out.min()) / max(float(out.max() - out.min()), 1e-6)


def _mix(t: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Blend colours a -> b with weights t (H, W) -> (H, W, 3) float32."""
    return a + t[..., None] * (b - a)


def _gradient(rng, height, width):
    return _mix(_ramp(rng, height, width), _colour(rng), _colour(rng))


def _shapes(rng, img: np.ndarray, count: int) -> None:
    """Random filled or outlined rectangles, ellipses and lines on ``img`` (in place)."""
    height, width = img.shape[:2]
    size = max(height, width)
    for _ in range(count):
        colour = tuple(float(v) for v in _colour(rng))
        thickness = -1 if rng.random() < 0.7 else int(rng.integers(1, 6))
        x, y = int(rng.integers(-width // 4, width)), int(rng.integers(-height // 4, height))
        w, h = (int(v) for v in rng.integers(size // 20 + 1, size // 2 + 2, size=2))
        kind = rng.integers(3)
        if kind == 0:
            cv2.rectangle(img, (x, y), (x + w, y + h), colour, thickness, cv2.LINE_AA)
        elif kind == 1:
            cv2.ellipse(img, (x, y), (w // 2, h // 2), float(rng.uniform(0, 180)), 0, 360,
                        colour, thickness, cv2.LINE_AA)
        else:
            cv2.line(img, (x, y), (x + w, y + h), colour, max(thickness, 2), cv2.LINE_AA)


def _clutter(rng, height, width):
    img = _gradient(rng, height, width)
    _shapes(rng, img, int(rng.integers(5, 25)))
    return img


def _noise_texture(rng, height, width):
    t = _noise(rng, height, width, octaves=int(rng.integers(2, 6)))
    a, b, c = _colour(rng), _colour(rng), _colour(rng)
    # Two blends so the texture has three colours, like marble, foliage or carpet.
    return _mix(np.clip(2.0 * t - 1.0, 0.0, 1.0), _mix(np.clip(2.0 * t, 0.0, 1.0), a, b), c)


def _stripes(rng, height, width):
    period = rng.uniform(4.0, max(8.0, max(height, width) / 3.0))
    t = _ramp(rng, height, width) * (max(height, width) / period)
    if rng.random() < 0.5:  # sharp stripes (fabric, blinds) or a soft wave
        wave = (np.floor(t) % 2).astype(np.float32)
        if rng.random() < 0.5:  # checkerboard: a second set of stripes across the first
            wave = np.abs(wave - (np.floor(_ramp(rng, height, width) * (max(height, width)
                                                                        / period)) % 2))
    else:
        wave = 0.5 + 0.5 * np.sin(2.0 * np.pi * t)
    return _mix(wave.astype(np.float32), _colour(rng), _colour(rng))


def _room(rng, height, width):
    """A wall above a floor seen in perspective: tiles or boards converge to a vanishing
    point on the horizon, rows get closer towards it."""
    horizon = int(rng.uniform(0.25, 0.7) * height)
    img = np.empty((height, width, 3), np.float32)
    wall = _mix(_ramp(rng, height, width), _colour(rng, 60), _colour(rng, 60))
    img[:] = wall
    _shapes(rng, img, int(rng.integers(0, 6)))  # doors, windows, pictures
    floor_a, floor_b = _colour(rng), _colour(rng)
    floor = _mix(_noise(rng, height, width, 3) * 0.5, floor_a, floor_b)
    img[horizon:] = floor[horizon:]
    line = tuple(float(v) for v in 0.6 * floor_a)
    vx = rng.uniform(-0.5, 1.5) * width
    for x in np.linspace(-12.0 * width, 13.0 * width, int(rng.integers(15, 60))):
        cv2.line(img, (int(vx), horizon), (int(x), 4 * height), line, 1, cv2.LINE_AA)
    if rng.random() < 0.7:  # tiles: rows spaced as 1 / distance
        depth = 1.0
        while True:
            y = horizon + (height - horizon) * 0.7 / depth
            if y - horizon < 2:
                break
            cv2.line(img, (0, int(y)), (width, int(y)), line, 1, cv2.LINE_AA)
            depth *= 1.35
    # A skirting board at the foot of the wall.
    cv2.line(img, (0, horizon), (width, horizon), tuple(float(v) for v in _colour(rng)),
             int(rng.integers(1, 5)), cv2.LINE_AA)
    return img


_KINDS = {
    "gradient": _gradient,
    "clutter": _clutter,
    "noise": _noise_texture,
    "stripes": _stripes,
    "room": _room,
}


def random_background(
    rng: np.random.Generator, height: int, width: int, kind: str | None = None
) -> np.ndarray:
    """(height, width, 3) uint8 BGR background of a random ``kind`` (one of
    ``BACKGROUND_KINDS``, drawn uniformly when None), then randomly blurred, lit and
    grained so no two look alike."""
    if kind is None:
        kind = BACKGROUND_KINDS[int(rng.integers(len(BACKGROUND_KINDS)))]
    if kind not in _KINDS:
        raise ValueError(f"unknown background kind {kind!r}; known: {', '.join(_KINDS)}")
    if height < 1 or width < 1:
        raise ValueError(f"background size must be positive, got {height}x{width}")
    img = _KINDS[kind](rng, height, width).astype(np.float32)
    if rng.random() < 0.4:  # out of focus, as behind a subject in focus
        sigma = rng.uniform(0.5, 3.0)
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    # Uneven lighting: a soft brightness ramp, then sensor grain.
    img *= (0.75 + 0.5 * _ramp(rng, height, width))[..., None] * rng.uniform(0.7, 1.15)
    img += rng.normal(0.0, rng.uniform(0.0, 6.0), size=(height, width, 1)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)
