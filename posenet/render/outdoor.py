"""Outdoor-like scenes for the composite clips: park and photo backgrounds, and the bright
things near the centre of a frame that draw a whole-frame person finder off (a sun flare
through leaves, a patch of glare, a street lamp).

Every function draws from a NumPy generator only, so a scene is reproducible by seed.
Images are BGR; backgrounds are (H, W, 3) float32 in [0, 255]; lights are (H, W, 3)
float32 *added* to a finished frame (a lens effect lies over everything, people
included), so their cores saturate at 255 and their halos brighten what lies beneath.
"""

from __future__ import annotations

import cv2
import numpy as np

from posenet.render.background import _noise

__all__ = ["BACKDROPS", "LIGHTS", "light", "park", "photo_backdrop", "flicker"]

BACKDROPS: tuple[str, ...] = ("park", "photo")
LIGHTS: tuple[str, ...] = ("flare", "glare", "lamp")


def _grid(height, width, centre):
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return x + 0.5 - np.float32(centre[0]), y + 0.5 - np.float32(centre[1])


def _sky(rng, height, width) -> np.ndarray:
    """A clear or hazy sky: deep blue at the top fading to a pale horizon."""
    top = np.array([rng.uniform(140, 200), rng.uniform(90, 140), rng.uniform(40, 90)])
    low = np.array([rng.uniform(220, 250), rng.uniform(210, 240), rng.uniform(190, 230)])
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None] ** 0.7
    sky = (top + t * (low - top)).astype(np.float32)
    return np.broadcast_to(sky, (height, width, 3)).copy()


def _foliage(rng, height, width, cover=0.5):
    """Leaves: ((H, W, 3) colours, (H, W) alpha in [0, 1]). Fractal noise, thresholded so
    that about ``cover`` of the area is leaves, in greens and browns, dappled with light."""
    shape = _noise(rng, height, width, octaves=5)
    cut = float(np.quantile(shape, 1.0 - cover))
    alpha = np.clip((shape - cut) * 12.0, 0.0, 1.0).astype(np.float32)
    tone = _noise(rng, height, width, octaves=4)[..., None]
    dark = np.array([rng.uniform(20, 45), rng.uniform(50, 90), rng.uniform(25, 60)])
    light = np.array([rng.uniform(40, 80), rng.uniform(120, 170), rng.uniform(80, 130)])
    brown = np.array([rng.uniform(30, 50), rng.uniform(55, 80), rng.uniform(80, 110)])
    colour = dark + tone * (light - dark)
    fine = rng.random((height, width, 1), dtype=np.float32)
    colour = colour * (0.8 + 0.4 * cv2.GaussianBlur(fine, (0, 0), 1.2)[..., None])
    mix = np.clip(_noise(rng, height, width, octaves=3) * 2.0 - 1.2, 0.0, 1.0)[..., None]
    return (colour * (1 - mix) + brown * mix).astype(np.float32), alpha


def _grass(rng, height, width) -> np.ndarray:
    base = np.array([rng.uniform(30, 60), rng.uniform(100, 150), rng.uniform(60, 100)])
    dry = np.array([rng.uniform(60, 90), rng.uniform(120, 150), rng.uniform(130, 170)])
    patches = _noise(rng, height, width, octaves=4)[..., None]
    blades = cv2.GaussianBlur(rng.random((height, width), dtype=np.float32), (0, 0), 0.8)
    img = base + patches * (dry - base)
    return (img * (0.85 + 0.3 * blades[..., None])).astype(np.float32)


def park(rng, size) -> np.ndarray:
    """(H, W, 3) float32: sky above a tree line (fractal foliage with a few trunks) and a
    lawn below a horizon at 40-60 % of the height."""
    width, height = (int(v) for v in size)
    img = _sky(rng, height, width)
    horizon = int(rng.uniform(0.4, 0.6) * height)
    img[horizon:] = _grass(rng, height - horizon, width)
    trees, alpha = _foliage(rng, height, width, cover=rng.uniform(0.35, 0.6))
    # Leaves are densest just above the horizon and thin out towards the top of the sky.
    rows = np.arange(height, dtype=np.float32)[:, None]
    crown = np.clip(1.4 - np.abs(rows - horizon * 0.75) / (0.45 * horizon), 0.0, 1.0)
    alpha = alpha * crown * np.clip((horizon + 0.04 * height - rows) / (0.03 * height), 0, 1)
    trunk = tuple(float(v) for v in rng.uniform(30, 70, 3))
    for _ in range(int(rng.integers(2, 6))):
        x = int(rng.uniform(0.0, 1.0) * width)
        cv2.line(img, (x, int(horizon * rng.uniform(0.45, 0.8))), (x, horizon + 2), trunk,
                 int(rng.integers(3, 3 + width // 120)), cv2.LINE_AA)
    img = img * (1 - alpha[..., None]) + trees * alpha[..., None]
    return img.astype(np.float32)


def photo_backdrop(rng, photo, avoid, size) -> np.ndarray:
    """(H, W, 3) float32: the largest part of ``photo`` (uint8 BGR) beside the box ``avoid``
    (x1, y1, x2, y2: its annotated person, who must not appear unannotated in the clip),
    scaled up to cover the frame, out of focus, with leaves across its top."""
    width, height = (int(v) for v in size)
    ph, pw = photo.shape[:2]
    x1, y1, x2, y2 = (int(np.clip(v, 0, lim)) for v, lim in zip(avoid, (pw, ph, pw, ph),
                                                                 strict=True))
    strips = [(0, 0, x1, ph), (x2, 0, pw, ph), (0, 0, pw, y1), (0, y2, pw, ph)]
    sx1, sy1, sx2, sy2 = max(strips, key=lambda s: (s[2] - s[0]) * (s[3] - s[1]))
    part = photo[sy1:sy2, sx1:sx2] if (sx2 - sx1) * (sy2 - sy1) >= 64 else photo
    ratio = width / height  # crop the part to the frame's aspect ratio, then scale it up
    h, w = part.shape[:2]
    if w / h > ratio:
        cut = int(round(h * ratio))
        start = int(rng.integers(0, w - cut + 1))
        part = part[:, start:start + cut]
    else:
        cut = max(int(round(w / ratio)), 1)
        start = int(rng.integers(0, h - cut + 1))
        part = part[start:start + cut]
    img = cv2.resize(part.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.015, 0.025) * width)
    leaves, alpha = _foliage(rng, height, width, cover=rng.uniform(0.3, 0.5))
    rows = np.arange(height, dtype=np.float32)[:, None]
    alpha = alpha * np.clip(1.0 - rows / (rng.uniform(0.25, 0.45) * height), 0.0, 1.0)
    return (img * (1 - alpha[..., None]) + leaves * alpha[..., None]).astype(np.float32)


def _flare(rng, size, centre, radius):
    """A low sun: a saturated white core, a warm halo, a few streaks and two ghosts on the
    line through the frame centre."""
    width, height = (int(v) for v in size)
    dx, dy = _grid(height, width, centre)
    r = np.sqrt(dx * dx + dy * dy) / np.float32(radius)
    core = np.clip(1.6 - r, 0.0, 1.0) * 2.0  # > 1 x 255: saturated, also under the halo
    halo = np.exp(-r / 2.2) * 0.9 + np.exp(-((r / 9.0) ** 2)) * 0.25
    out = core[..., None] * np.float32(255.0)
    warm = np.array([rng.uniform(150, 200), rng.uniform(220, 245), 255.0], np.float32)
    out = out + halo[..., None] * warm
    streaks = np.zeros((height, width), np.float32)
    for angle in rng.uniform(0.0, np.pi, int(rng.integers(3, 7))):
        length = radius * rng.uniform(6.0, 14.0)
        ex, ey = np.cos(angle) * length, np.sin(angle) * length
        cv2.line(streaks, (int(centre[0] - ex), int(centre[1] - ey)),
                 (int(centre[0] + ex), int(centre[1] + ey)), 1.0, max(int(radius / 6), 1),
                 cv2.LINE_AA)
    fade = np.exp(-r / 8.0)
    streaks = cv2.GaussianBlur(streaks, (0, 0), max(radius / 8.0, 1.0)) * fade
    out = out + streaks[..., None] * np.float32(rng.uniform(120, 200))
    for t in rng.uniform(0.5, 1.6, 2):  # ghosts mirrored through the frame centre
        gx = width / 2 + (width / 2 - centre[0]) * t
        gy = height / 2 + (height / 2 - centre[1]) * t
        gdx, gdy = _grid(height, width, (gx, gy))
        ghost = np.exp(-(gdx * gdx + gdy * gdy) / (2 * (radius * rng.uniform(0.6, 1.5)) ** 2))
        out = out + ghost[..., None] * rng.uniform(20, 50, 3).astype(np.float32)
    return out.astype(np.float32)


def _glare(rng, size, centre, radius):
    """Washed-out light off water or glass: a broad bright ellipse with a hot centre."""
    width, height = (int(v) for v in size)
    dx, dy = _grid(height, width, centre)
    angle = rng.uniform(0.0, np.pi)
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / (radius * rng.uniform(2.5, 4.0))
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / (radius * rng.uniform(1.0, 1.8))
    rr = u * u + v * v
    glow = np.exp(-rr) * 230.0 + np.exp(-rr * 12.0) * 300.0
    return np.repeat(glow[..., None], 3, axis=-1).astype(np.float32)


def _lamp(rng, size, centre, radius, backdrop=None):
    """A street lamp: a small glowing globe (and, drawn into ``backdrop``, its pole)."""
    width, height = (int(v) for v in size)
    if backdrop is not None:
        pole = tuple(float(v) for v in rng.uniform(20, 50, 3))
        cv2.line(backdrop, (int(centre[0]), int(centre[1] + radius)),
                 (int(centre[0]), height), pole, max(int(radius / 3), 2), cv2.LINE_AA)
    dx, dy = _grid(height, width, centre)
    r = np.sqrt(dx * dx + dy * dy) / np.float32(radius)
    glow = np.clip(1.3 - r, 0.0, 1.0) * 600.0 + np.exp(-r / 1.5) * 180.0
    tint = np.array([rng.uniform(150, 200), rng.uniform(220, 245), 255.0], np.float32) / 255
    return (glow[..., None] * tint).astype(np.float32)


def light(kind, rng, size, centre, radius, backdrop=None) -> np.ndarray:
    """(H, W, 3) float32 light of ``kind`` (one of :data:`LIGHTS`) centred on ``centre``
    (x, y px), its core ``radius`` px; a lamp draws its pole into ``backdrop``."""
    if kind == "flare":
        return _flare(rng, size, centre, radius)
    if kind == "glare":
        return _glare(rng, size, centre, radius)
    if kind == "lamp":
        return _lamp(rng, size, centre, radius, backdrop)
    raise ValueError(f"unknown light {kind!r}; known: {', '.join(LIGHTS)}")


def flicker(rng, num_frames, depth=0.15) -> np.ndarray:
    """(T,) gains around 1: light through moving leaves (a smoothed random walk)."""
    steps = rng.normal(0.0, 1.0, num_frames + 8)
    smooth = np.convolve(steps, np.ones(8) / 8.0, mode="valid")[:num_frames]
    return (1.0 + depth * np.tanh(smooth)).astype(np.float32)
