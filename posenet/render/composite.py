"""Composite clips of real annotated people on outdoor-like scenes, with known joints.

Test material that resembles video from the wild (issue 27): a real person photo (LSPet,
annotated in the 14-joint ``lsp`` layout) is cut out as the box around its joints padded
by ``pad`` of its size, with a feathered (super)elliptical alpha, so the person comes with a
little of their own background blended in (there are no segmentation masks). The cutout
is scaled so the person's joint box is 1/8 to 1/2 of the frame height and slides along a
path over a wide park or photo backdrop (:mod:`posenet.render.outdoor`): off centre,
entering late, leaving and coming back, small and far, or two people. A bright light (a
sun flare, glare, a lamp) sits near the frame centre, where a whole-frame person finder
looks first.

Geometry: coordinates are continuous (pixel ``i`` covers ``[i, i + 1)``). A cutout is
placed by a scale and a translation only (no rotation, no mirroring), and the truth joints
are the annotated joints through the same map, so they land on the pasted pixels exactly.

Truth per frame ``t`` and person ``p`` (``model17`` layout, :data:`LAYOUT`; ``spine`` is
never annotated, ``pelvis`` and ``thorax`` are the means of the hips and shoulders):

- ``joints`` (T, P, 17, 2) px, NaN where not annotated (kept where outside the frame);
- ``valid`` (T, P, 17): annotated *and* inside the frame;
- ``present`` (T, P): some of the cutout is drawn in the frame;
- ``visible`` (T, P): at least :data:`VISIBLE_LIMBS` of the 12 limb joints
  (:data:`LIMB_JOINTS`) are valid, so that the person can be scored;
- ``torso`` (T, P) px: the LSP torso size of the annotated joints (left shoulder to right
  hip, the other diagonal where that one is missing; ``posenet.metrics.torso_normaliser``).

Everything is drawn from ``numpy.random.default_rng(seed)``: the same arguments give the
same frames and truth.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from posenet.metrics import torso_normaliser
from posenet.render import outdoor
from posenet.skeleton import get_skeleton, map_joints

LAYOUT = "model17"
LIMB_JOINTS: tuple[str, ...] = ("l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist",
                                "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle",
                                "r_ankle")
VISIBLE_LIMBS = 10
#: Clip kinds and the people each one needs.
KINDS: dict[str, int] = {"offcentre_flare": 1, "enters_late": 1, "leaves_and_returns": 1,
                         "small_far": 1, "two_people": 2}


@dataclass(frozen=True)
class Cutout:
    """A person cut from a photo: ``image`` (h, w, 3) uint8 BGR, ``alpha`` (h, w) float32
    in [0, 1], ``joints`` (14, 2) px in the cutout (``lsp`` layout, NaN where absent),
    ``valid`` (14,) bool, ``box`` the joints' extent (x1, y1, x2, y2) in the cutout."""

    image: np.ndarray
    alpha: np.ndarray
    joints: np.ndarray
    valid: np.ndarray
    box: tuple[float, float, float, float]

    @property
    def centre(self) -> np.ndarray:
        return np.array([(self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2])

    @property
    def height(self) -> float:
        return max(self.box[3] - self.box[1], 1.0)


def cut_person(image, joints, valid=None, pad=0.3, feather=0.35, power=3.0) -> Cutout:
    """Cut the person whose ``lsp`` joints (14, 2) px are ``joints`` out of ``image``.

    The cut is the joints' box padded on every side by ``pad`` x its longer side; its
    alpha is 1 inside the superellipse ``|u|^power + |v|^power = (1 - feather)^power``
    inscribed in the cut and falls smoothly to 0 at its edge (and is 0 beyond the photo).
    """
    image = np.asarray(image)
    joints = np.asarray(joints, dtype=np.float64).reshape(-1, 2)
    ok = np.isfinite(joints).all(-1) & (True if valid is None else np.asarray(valid, bool))
    if ok.sum() < 2:
        raise ValueError("a cutout needs at least two annotated joints")
    lo, hi = joints[ok].min(0), joints[ok].max(0)
    margin = pad * max(float((hi - lo).max()), 1.0)
    x1, y1 = (int(np.floor(v - margin)) for v in lo)
    x2, y2 = (int(np.ceil(v + margin)) for v in hi)
    crop = np.zeros((y2 - y1, x2 - x1, 3), np.uint8)
    inside = np.zeros(crop.shape[:2], np.float32)
    h, w = image.shape[:2]
    sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
    if sx2 > sx1 and sy2 > sy1:
        crop[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = image[sy1:sy2, sx1:sx2]
        inside[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = 1.0
    ch, cw = crop.shape[:2]
    v, u = np.mgrid[0:ch, 0:cw].astype(np.float32)
    u = (u + 0.5) / (cw / 2) - 1
    v = (v + 0.5) / (ch / 2) - 1
    r = (np.abs(u) ** power + np.abs(v) ** power) ** (1 / power)
    t = np.clip((1 - r) / feather, 0, 1)
    alpha = (t * t * (3 - 2 * t)) * inside  # smoothstep
    local = joints - [x1, y1]
    local[~ok] = np.nan
    box = (*(lo - [x1, y1]), *(hi - [x1, y1]))
    return Cutout(crop, alpha.astype(np.float32), local, ok, tuple(float(b) for b in box))


def placement(cutout: Cutout, centre, height) -> np.ndarray:
    """(2, 3) map from cutout px to frame px that puts the joint box's centre at
    ``centre`` (x, y px) and makes it ``height`` px tall."""
    s = float(height) / cutout.height
    c = cutout.centre
    return np.array([[s, 0.0, centre[0] - s * c[0]], [0.0, s, centre[1] - s * c[1]]])


def apply(matrix, points) -> np.ndarray:
    """``points`` (..., 2) through the (2, 3) map ``matrix``."""
    points = np.asarray(points, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def paste(canvas, cutout: Cutout, matrix) -> bool:
    """Blend ``cutout`` into ``canvas`` ((H, W, 3) float32, in place) through ``matrix``;
    returns whether any of it lies in the frame."""
    height, width = canvas.shape[:2]
    ch, cw = cutout.alpha.shape
    corners = apply(matrix, [[0, 0], [cw, ch]])
    x0, y0 = (max(int(np.floor(v)), 0) for v in corners[0])
    x1, y1 = min(int(np.ceil(corners[1][0])), width), min(int(np.ceil(corners[1][1])), height)
    if x1 <= x0 or y1 <= y0:
        return False
    s = matrix[0, 0]
    # OpenCV's pixel centres are integers: continuous x = cv2 x + 0.5 on both sides.
    m = matrix.copy()
    m[:, 2] += 0.5 * s - 0.5 - np.array([x0, y0])
    size = (x1 - x0, y1 - y0)
    img = cv2.warpAffine(cutout.image.astype(np.float32), m, size, flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(cutout.alpha, m, size, flags=cv2.INTER_LINEAR)[..., None]
    region = canvas[y0:y1, x0:x1]
    region *= 1 - alpha
    region += img * alpha
    return bool(alpha.max() > 0)


@dataclass(frozen=True)
class Path:
    """Where a person's joint box is at clip fractions ``times`` (0 = first frame, 1 =
    last): centre ``xs`` (fractions of the width), bottom ``feet`` (fractions of the
    height), height ``heights`` (fractions of the height); linear between keyframes,
    plus a walking bob of ``bob`` x the height at 2 steps/s."""

    times: tuple[float, ...]
    xs: tuple[float, ...]
    feet: tuple[float, ...]
    heights: tuple[float, ...]
    bob: float = 0.012

    def at(self, u, seconds, size):
        width, height = size
        h = np.interp(u, self.times, self.heights) * height
        x = np.interp(u, self.times, self.xs) * width
        y = np.interp(u, self.times, self.feet) * height - h / 2
        return (x, y + self.bob * h * np.sin(2 * np.pi * 2.0 * seconds)), h


def _offscreen(cut: Cutout, height_frac, side, size) -> float:
    """The x (fraction of the width) at which ``cut``, ``height_frac`` of the frame tall,
    lies just beyond the left (side -1) or right (side 1) edge."""
    width, height = size
    s = height_frac * height / cut.height
    c = cut.centre[0]
    if side < 0:
        return (-4 - s * (cut.image.shape[1] - c)) / width
    return (width + 4 + s * c) / width


def _x(side, frac) -> float:
    """``frac`` of the width in from the left (side -1) or right (side 1) edge."""
    return frac if side < 0 else 1 - frac


def _scene(kind, rng, cuts, size):
    """(paths, backdrop, light kind, light centre as fractions, light radius as a
    fraction of the height) of a clip ``kind``."""
    side = -1 if rng.random() < 0.5 else 1
    light_at = (0.5 + rng.uniform(-0.05, 0.09), 0.5 + rng.uniform(-0.14, 0.02))
    if kind in ("offcentre_flare", "small_far"):
        far = kind == "small_far"
        h = rng.uniform(0.125, 0.17) if far else rng.uniform(0.3, 0.45)
        x0 = rng.uniform(0.12, 0.28 if far else 0.2)
        x1 = x0 + rng.uniform(0.05, 0.14)
        foot = rng.uniform(0.6, 0.75) if far else rng.uniform(0.78, 0.92)
        path = Path((0, 0.5, 1), (_x(side, x0), _x(side, (x0 + x1) / 2 + 0.01), _x(side, x1)),
                    (foot, foot - rng.uniform(0, 0.03), foot), (h, h * 1.04, h * 1.08))
        return [path], ("photo" if far else "park"), "flare", light_at, rng.uniform(0.025, 0.04)
    if kind == "enters_late":
        h = rng.uniform(0.28, 0.42)
        x = rng.uniform(0.2, 0.3)
        foot = rng.uniform(0.78, 0.92)
        off = _offscreen(cuts[0], h, side, size)
        path = Path((0, 1 / 3, 0.62, 1), (off, off, _x(side, x), _x(side, x + 0.06)),
                    (foot,) * 4, (h,) * 4)
        return [path], "photo", "glare", light_at, rng.uniform(0.04, 0.06)
    if kind == "leaves_and_returns":
        h = rng.uniform(0.28, 0.4)
        x = rng.uniform(0.2, 0.3)
        foot = rng.uniform(0.78, 0.92)
        off = _offscreen(cuts[0], h, side, size)
        path = Path((0, 0.3, 0.52, 0.8, 1), (_x(side, x), off, off, _x(side, x - 0.02),
                                             _x(side, x + 0.03)), (foot,) * 5, (h,) * 5)
        return [path], "park", "lamp", light_at, rng.uniform(0.02, 0.03)
    if kind == "two_people":
        h_a, h_b = rng.uniform(0.3, 0.42), rng.uniform(0.22, 0.34)
        x_a, x_b = rng.uniform(0.12, 0.2), rng.uniform(0.15, 0.25)
        foot_a, foot_b = rng.uniform(0.82, 0.94), rng.uniform(0.7, 0.8)
        off = _offscreen(cuts[1], h_b, -side, size)
        first = Path((0, 1), (_x(side, x_a), _x(side, x_a + 0.1)), (foot_a,) * 2, (h_a,) * 2)
        second = Path((0, 1 / 3, 0.65, 1), (off, off, _x(-side, x_b), _x(-side, x_b + 0.05)),
                      (foot_b,) * 4, (h_b,) * 4)
        return [first, second], "park", "flare", light_at, rng.uniform(0.025, 0.04)
    raise ValueError(f"unknown clip kind {kind!r}; known: {', '.join(KINDS)}")


def composite_clip(kind, people, seed=0, num_frames=90, size=(960, 540), fps=30.0,
                   photo=None, keep_frames=True, on_frame=None, noise=2.0) -> dict:
    """Render a composite clip of ``kind`` (one of :data:`KINDS`).

    ``people``: at least ``KINDS[kind]`` persons, each ``(image, joints, valid)``: a uint8
    BGR photo and its ``lsp`` joints (14, 2) px and (14,) bool. ``photo``: ``(image,
    person box)`` for the backdrop of the kinds that use a photo (else a park is drawn).
    ``on_frame(index, frame)`` gets each (H, W, 3) uint8 frame as it is drawn;
    ``keep_frames`` also returns them all. Returns the truth (module docstring) with
    ``kind``, ``seed``, ``fps``, ``size``, ``layout``, ``light`` and ``frames``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown clip kind {kind!r}; known: {', '.join(KINDS)}")
    if len(people) < KINDS[kind]:
        raise ValueError(f"{kind} needs {KINDS[kind]} people, got {len(people)}")
    width, height = (int(v) for v in size)
    if num_frames < 1 or width < 32 or height < 32 or fps <= 0:
        raise ValueError("need num_frames >= 1, a size of at least 32x32 px and fps > 0")
    rng = np.random.default_rng(seed)
    cuts = [cut_person(*person) for person in people[:KINDS[kind]]]
    paths, backdrop, light_kind, light_at, radius = _scene(kind, rng, cuts, (width, height))
    if backdrop == "photo" and photo is not None:
        back = outdoor.photo_backdrop(rng, photo[0], photo[1], (width, height))
    else:
        back = outdoor.park(rng, (width, height))
    centre = (light_at[0] * width, light_at[1] * height)
    lit = outdoor.light(light_kind, rng, (width, height), centre, radius * height, back)
    gains = outdoor.flicker(rng, num_frames)
    order = np.argsort([p.heights[0] for p in paths])  # the farther (smaller) first
    count = len(paths)
    joints = np.full((num_frames, count, 17, 2), np.nan)
    annotated = np.zeros((num_frames, count, 17), bool)
    present = np.zeros((num_frames, count), bool)
    frames = []
    for t in range(num_frames):
        u = t / (num_frames - 1) if num_frames > 1 else 0.0
        canvas = back.copy()
        for p in order:
            centre_p, h = paths[p].at(u, t / fps, (width, height))
            matrix = placement(cuts[p], centre_p, h)
            present[t, p] = paste(canvas, cuts[p], matrix)
            mapped, ok = map_joints(apply(matrix, cuts[p].joints), "lsp", LAYOUT,
                                    cuts[p].valid)
            joints[t, p], annotated[t, p] = mapped, ok
        canvas += lit * gains[t]
        canvas += rng.normal(0.0, noise, (height, width, 1)).astype(np.float32)
        frame = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
        if on_frame is not None:
            on_frame(t, frame)
        if keep_frames:
            frames.append(frame)
    return {"kind": kind, "seed": int(seed), "fps": float(fps), "size": (width, height),
            "layout": LAYOUT, "frames": frames if keep_frames else None,
            "light": {"kind": light_kind, "centre": centre, "radius": radius * height},
            **truth_arrays(joints, annotated, present, (width, height))}


def truth_arrays(joints, annotated, present, size) -> dict:
    """``joints``, ``annotated``, ``valid``, ``present``, ``visible`` and ``torso`` (module
    docstring) from the mapped joints (T, P, 17, 2), ``annotated`` (T, P, 17) and
    ``present`` (T, P)."""
    width, height = size
    skel = get_skeleton(LAYOUT)
    with np.errstate(invalid="ignore"):
        inside = ((joints[..., 0] >= 0) & (joints[..., 0] < width)
                  & (joints[..., 1] >= 0) & (joints[..., 1] < height))
    valid = annotated & inside & present[..., None]
    limbs = [skel.index(name) for name in LIMB_JOINTS]
    visible = valid[..., limbs].sum(-1) >= VISIBLE_LIMBS
    flat = joints.reshape(-1, 17, 2)
    torso = torso_normaliser(flat, annotated.reshape(-1, 17), skel.index("l_shoulder"),
                             skel.index("r_hip"), skel.index("r_shoulder"), skel.index("l_hip"))
    return {"joints": joints.astype(np.float32), "annotated": annotated, "valid": valid,
            "present": present, "visible": visible, "torso": torso.reshape(present.shape)}


def write_clip(base, kind, people, seed=0, num_frames=90, size=(960, 540), fps=30.0,
               photo=None) -> dict:
    """Render a clip (:func:`composite_clip`) into ``<base>.mp4`` (or ``.avi``) and its
    truth into ``<base>_truth.npz``, both written atomically; returns the truth with
    ``path`` and ``truth_path`` (without the frames)."""
    from posenet.io import atomic_path
    from posenet.video_writer import OverlayWriter

    writer = OverlayWriter(os.fspath(base), fps, size)
    try:
        clip = composite_clip(kind, people, seed, num_frames, size, fps, photo,
                              keep_frames=False, on_frame=lambda _, f: writer.write(f))
        path = writer.close()
    except BaseException:
        writer.abort()
        raise
    truth_path = os.fspath(base) + "_truth.npz"
    arrays = {k: clip[k] for k in ("joints", "annotated", "valid", "present", "visible",
                                   "torso")}
    with atomic_path(truth_path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, kind=kind, seed=seed, fps=fps, size=np.asarray(size),
                            layout=LAYOUT, **arrays)
    return {**clip, "path": path, "truth_path": truth_path}
