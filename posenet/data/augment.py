"""Crops and data augmentation for pose/action samples (pure NumPy + OpenCV).

Coordinates are continuous pixels, as in ``posenet.skeleton``: pixel ``i`` covers
``[i, i + 1)`` (centre ``i + 0.5``) and a crop of side ``S`` spans ``[0, S)``.  A
:class:`Transform` is one random draw: an affine map from source-image pixels to crop
pixels (rotation, scale, translation and the optional mirror folded into one matrix),
per-channel colour gains and occlusion boxes.  A clip reuses one Transform for all frames.

Default ranges (``AUGMENT_DEFAULTS``); rotation is a max absolute angle in degrees, scale a
zoom factor (> 1 enlarges the person), translation a max shift of the crop centre as a
fraction of the crop side, flip a probability and gain a per-channel factor range:

    preset        rotation  scale    translation  flip  gain     source
    mpii          40        0.7-1.3  0            0.5   0.9-1.1  paper (rot/scale/flip), A
    lsp           40        0.7-1.3  0            0.5   0.9-1.1  ours (as mpii)
    h36m          10        0.8-1.2  0.1          0.5   0.9-1.1  A; translation ours
    penn_action   30        0.7-1.3  0.15         0.5   0.9-1.1  A
    ntu           15        0.8-1.2  0.15         0.5   0.9-1.1  A (pose config)
    jhmdb         30        0.7-1.3  0.15         0.5   0.9-1.1  ours (as penn_action)
    none          0         1        0            0     1        no augmentation

"A" marks values from the configuration of the authors' public release: it samples from
grids (5 degree steps, a few scales, +-40 px shifts of a 256 px crop, i.e. ~0.15, and
0.9-1.1 gains); we sample uniformly in the same ranges and drop its rare strong zoom-outs
(scales 2.0/2.5).  H36M's shifts there are +-30 px in x and +-5 px in y; we use 0.1 on both
axes.  Occlusion boxes are an opt-in extra of ours: off in every preset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from posenet.skeleton import Skeleton, get_skeleton

#: Crop side = max(box w, box h) * margin: 25% context (ours) so limbs at the box edge stay
#: inside the crop under moderate rotation/scale.
DEFAULT_MARGIN = 1.25


def _range(value, name: str, strict: bool = False, top: float = math.inf) -> tuple:
    """Validated (min, max) float pair with 0 <= min (0 < min when strict), max <= top."""
    pair = tuple(float(v) for v in value)
    if len(pair) != 2 or not (0 <= pair[0] <= pair[1] <= top) or (strict and pair[0] == 0):
        raise ValueError(f"{name} must be a (min, max) pair with {'0 <' if strict else '0 <='}"
                         f" min <= max <= {top}, got {value}")
    return pair


@dataclass(frozen=True)
class AugmentConfig:
    """Random augmentation ranges; the defaults switch everything off.

    ``rotation_deg``: max |angle| in degrees.  ``scale_range``: zoom factors (> 0).
    ``translation``: max shift of the crop centre per axis, fraction of the crop side.
    ``flip``: probability of a horizontal mirror.  ``color_gain``: per-channel multiplicative
    range.  ``occlusion``: probability of adding 1..``occlusion_max_boxes`` filled boxes whose
    sides are ``occlusion_size`` fractions of the crop side.
    """

    rotation_deg: float = 0.0
    scale_range: tuple[float, float] = (1.0, 1.0)
    translation: float = 0.0
    flip: float = 0.0
    color_gain: tuple[float, float] = (1.0, 1.0)
    occlusion: float = 0.0
    occlusion_max_boxes: int = 3
    occlusion_size: tuple[float, float] = (0.1, 0.3)

    def __post_init__(self) -> None:
        # Coerce numbers/lists (e.g. from JSON) to floats/tuples so the config stays hashable.
        put = object.__setattr__
        for name, top in (("rotation_deg", 180.0), ("translation", math.inf), ("flip", 1.0),
                          ("occlusion", 1.0)):
            value = float(getattr(self, name))
            if not 0.0 <= value <= top or math.isinf(value):  # also rejects NaN
                raise ValueError(f"{name} must be in [0, {top}], got {value}")
            put(self, name, value)
        put(self, "scale_range", _range(self.scale_range, "scale_range", strict=True))
        put(self, "color_gain", _range(self.color_gain, "color_gain"))
        put(self, "occlusion_size", _range(self.occlusion_size, "occlusion_size", True, 1.0))
        n = self.occlusion_max_boxes
        if int(n) != n or n < 1:
            raise ValueError(f"occlusion_max_boxes must be an int >= 1, got {n}")
        put(self, "occlusion_max_boxes", int(n))

    @property
    def is_identity(self) -> bool:
        """True when every augmentation is off (no random draw is needed)."""
        return (self.rotation_deg == self.translation == self.flip == self.occlusion == 0.0
                and self.scale_range == self.color_gain == (1.0, 1.0))


def _preset(rotation: float, scale: tuple, translation: float) -> AugmentConfig:
    return AugmentConfig(rotation_deg=rotation, scale_range=scale, translation=translation,
                         flip=0.5, color_gain=(0.9, 1.1))


NO_AUGMENT = AugmentConfig()
#: Per-dataset defaults; see the module docstring for where each range comes from.
AUGMENT_DEFAULTS: dict[str, AugmentConfig] = {
    "mpii": _preset(40.0, (0.7, 1.3), 0.0),
    "lsp": _preset(40.0, (0.7, 1.3), 0.0),
    "h36m": _preset(10.0, (0.8, 1.2), 0.1),
    "penn_action": _preset(30.0, (0.7, 1.3), 0.15),
    "ntu": _preset(15.0, (0.8, 1.2), 0.15),
    "jhmdb": _preset(30.0, (0.7, 1.3), 0.15),
    "none": NO_AUGMENT,
}


def augment_config(dataset: str) -> AugmentConfig:
    """The default AugmentConfig of ``dataset`` (a key of ``AUGMENT_DEFAULTS``)."""
    try:
        return AUGMENT_DEFAULTS[dataset]
    except KeyError:
        raise ValueError(f"no augmentation preset {dataset!r}; known: "
                         f"{', '.join(AUGMENT_DEFAULTS)}") from None


def _permutation(spec, num_joints: int | None = None) -> np.ndarray:
    """Flip permutation from a Skeleton, a skeleton name or an index array."""
    if spec is None:
        raise ValueError("a flipped transform needs a skeleton (or flip permutation) so "
                         "left/right joint labels follow the mirror")
    if isinstance(spec, (str, Skeleton)):
        perm = get_skeleton(spec).flip_permutation()
    else:
        perm = np.asarray(spec, dtype=np.int64)
    n = perm.size if num_joints is None else num_joints
    if perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
        raise ValueError(f"flip permutation {perm} does not fit {n} joints")
    return perm


def _points(points) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[-1] != 2:
        raise ValueError(f"expected points of shape (..., J, 2), got {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class Transform:
    """One drawn augmentation.

    ``matrix`` (2, 3) float64 maps continuous source-image pixels to crop pixels and already
    contains the mirror when ``flipped``.  ``color_gain`` (3,) multiplies the crop's channels
    (in the image's own channel order).  ``occlusions`` are integer ``(x1, y1, x2, y2)`` crop
    pixel boxes (pixels ``x1 <= i < x2``) filled with ``occlusion_colors``.  ``flip_perm``
    (a Skeleton, name or index sequence; stored as a tuple) is the default joint flip
    permutation of ``apply_points``/``invert_points``.
    """

    matrix: np.ndarray
    crop_size: int
    flipped: bool = False
    color_gain: np.ndarray | None = None
    occlusions: tuple[tuple[int, int, int, int], ...] = ()
    occlusion_colors: tuple[tuple[int, int, int], ...] = ()
    flip_perm: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        m = np.array(self.matrix, dtype=np.float64)
        if m.shape != (2, 3) or not np.isfinite(m).all() or abs(np.linalg.det(m[:, :2])) < 1e-12:
            raise ValueError(f"matrix must be a finite invertible (2, 3) affine, got {m}")
        gain = np.ones(3) if self.color_gain is None else np.array(self.color_gain, np.float64)
        if gain.shape != (3,) or not np.isfinite(gain).all() or (gain < 0).any():
            raise ValueError(f"color_gain must be 3 finite gains >= 0, got {gain}")
        if int(self.crop_size) != self.crop_size or self.crop_size < 1:
            raise ValueError(f"crop_size must be a positive int, got {self.crop_size}")
        boxes = tuple(tuple(int(v) for v in b) for b in self.occlusions)
        colors = tuple(tuple(int(v) for v in c) for c in self.occlusion_colors)
        if len(colors) != len(boxes) or any(len(b) != 4 for b in boxes):
            raise ValueError("need one (x1, y1, x2, y2) box per occlusion colour")
        m.setflags(write=False)
        gain.setflags(write=False)
        perm = self.flip_perm
        perm = None if perm is None else tuple(int(i) for i in _permutation(perm))
        for name, value in (("matrix", m), ("color_gain", gain), ("flip_perm", perm),
                            ("crop_size", int(self.crop_size)), ("flipped", bool(self.flipped)),
                            ("occlusions", boxes), ("occlusion_colors", colors)):
            object.__setattr__(self, name, value)

    def _key(self) -> tuple:
        return (tuple(map(tuple, self.matrix.tolist())), self.crop_size, self.flipped,
                tuple(self.color_gain.tolist()), self.occlusions, self.occlusion_colors,
                self.flip_perm)

    def __eq__(self, other) -> bool:
        return isinstance(other, Transform) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def inverse_matrix(self) -> np.ndarray:
        """(2, 3) affine mapping crop pixels back to source-image pixels."""
        return np.linalg.inv(np.vstack([self.matrix, [0.0, 0.0, 1.0]]))[:2]

    def _perm(self, skeleton, num_joints: int) -> np.ndarray:
        return _permutation(self.flip_perm if skeleton is None else skeleton, num_joints)

    def map_coords(self, points) -> np.ndarray:
        """Source px -> crop px for plain points (..., 2); no joint relabelling."""
        p = np.asarray(points, dtype=np.float64)
        return p @ self.matrix[:, :2].T + self.matrix[:, 2]

    def apply_points(self, points, skeleton=None) -> np.ndarray:
        """Joints (..., J, 2) source px -> crop px (..., J, 2).

        A point with any NaN coordinate comes out all-NaN (the rotation mixes the axes).
        When flipped the joint axis is permuted by the flip permutation of ``skeleton``
        (a Skeleton, name or index array; defaults to ``self.flip_perm``) so that, e.g., the
        mirrored left wrist is stored as the right wrist.
        """
        p = _points(points)
        out = self.map_coords(p)
        if self.flipped:
            out = out[..., self._perm(skeleton, p.shape[-2]), :]
        return out

    def invert_points(self, points, skeleton=None) -> np.ndarray:
        """Crop px (..., J, 2) -> source px, undoing the flip relabelling; NaN stays NaN."""
        p = _points(points)
        if self.flipped:
            perm = self._perm(skeleton, p.shape[-2])
            p = p[..., np.argsort(perm), :]
        inv = self.inverse_matrix
        return p @ inv[:, :2].T + inv[:, 2]

    def apply_image(self, image) -> np.ndarray:
        """Warp an (H, W, 3) uint8 image to the (S, S, 3) uint8 crop, then gain and occlude.

        Bilinear sampling; outside the image is black (border constant 0, rather than
        replicated edges whose smeared stripes a network could latch onto).
        """
        img = np.ascontiguousarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 image, got {img.shape} {img.dtype}")
        m = self.matrix.copy()
        # OpenCV puts pixel centres at integer indices; ours sit at i + 0.5.
        m[:, 2] += m[:, :2].sum(axis=1) * 0.5 - 0.5
        s = self.crop_size
        crop = cv2.warpAffine(img, m, (s, s), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        if not np.all(self.color_gain == 1.0):
            scaled = np.rint(crop.astype(np.float32) * self.color_gain.astype(np.float32))
            crop = np.clip(scaled, 0, 255).astype(np.uint8)
        for (x1, y1, x2, y2), color in zip(self.occlusions, self.occlusion_colors, strict=True):
            crop[max(y1, 0):y2, max(x1, 0):x2] = color
        return crop


def crop_transform(box, crop_size: int, rng: np.random.Generator | None = None,
                   config: AugmentConfig = NO_AUGMENT, skeleton=None,
                   margin: float = DEFAULT_MARGIN) -> Transform:
    """Draw the Transform cropping ``box`` (x1, y1, x2, y2 source px) to ``crop_size`` px.

    The base crop is the square of side ``max(w, h) * margin`` centred on the box; then the
    crop is rotated about its centre (degrees), zoomed, shifted (fraction of its side),
    mirrored and colour/occlusion parameters are drawn, all from ``rng`` (required unless
    ``config`` is the identity) in a fixed order, so a seed fixes the result.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    if not all(map(math.isfinite, (x1, y1, x2, y2))) or x2 <= x1 or y2 <= y1:
        raise ValueError(f"box must be finite (x1, y1, x2, y2) with x2 > x1, y2 > y1: {box}")
    if int(crop_size) != crop_size or crop_size < 1 or not margin > 0:
        raise ValueError(f"need an int crop_size >= 1 and margin > 0, got {crop_size}, {margin}")
    if rng is None and not config.is_identity:
        raise ValueError("augmentation is on: pass a numpy Generator as rng")
    s = int(crop_size)
    side = max(x2 - x1, y2 - y1) * float(margin)
    angle, scale, shift, flipped, gain = 0.0, 1.0, np.zeros(2), False, np.ones(3)
    boxes, colors = [], []
    if not config.is_identity:
        angle = rng.uniform(-config.rotation_deg, config.rotation_deg)
        scale = rng.uniform(*config.scale_range)
        shift = rng.uniform(-config.translation, config.translation, size=2) * side
        flipped = bool(rng.random() < config.flip)
        gain = rng.uniform(*config.color_gain, size=3)
        if config.occlusion > 0 and rng.random() < config.occlusion:
            for _ in range(int(rng.integers(1, config.occlusion_max_boxes + 1))):
                w, h = (max(1, round(v * s)) for v in rng.uniform(*config.occlusion_size, 2))
                bx, by = int(rng.integers(0, s - w + 1)), int(rng.integers(0, s - h + 1))
                boxes.append((bx, by, bx + w, by + h))
                colors.append(tuple(int(v) for v in rng.integers(0, 256, size=3)))
    centre = np.array([(x1 + x2) / 2, (y1 + y2) / 2]) + shift
    k = s * scale / side  # crop px per source px
    cos, sin = k * math.cos(math.radians(angle)), k * math.sin(math.radians(angle))
    # OpenCV's rotation convention: positive angles turn the content anticlockwise on screen.
    lin = np.array([[cos, sin], [-sin, cos]])
    matrix = np.hstack([lin, (s / 2 - lin @ centre)[:, None]])
    if flipped:
        matrix = np.array([[-1.0, 0.0, s], [0.0, 1.0, 0.0]]) @ np.vstack([matrix, [0, 0, 1]])
    return Transform(matrix, s, flipped, gain, tuple(boxes), tuple(colors), skeleton)


def warp_joints(joints, visible, transform: Transform, skeleton=None):
    """Warp joints (..., J, 2) source px into the crop.

    Returns ``(joints_crop, visible_crop, inside)``: crop px (..., J, 2) relabelled on flips,
    ``visible_crop`` = visible and inside, ``inside`` (..., J) bool = finite and in
    ``[0, S)`` on both axes.  Joints leaving the crop keep their (outside) coordinate so
    callers may still use it; NaN joints stay NaN and are never visible or inside.
    ``visible`` None means "every finite joint".
    """
    pts = transform.apply_points(joints, skeleton)
    vis = np.ones(pts.shape[:-1], bool) if visible is None else np.asarray(visible, bool)
    if vis.shape != pts.shape[:-1]:
        raise ValueError(f"visible has shape {vis.shape}, expected {pts.shape[:-1]}")
    if transform.flipped:
        vis = vis[..., transform._perm(skeleton, pts.shape[-2])]
    s = transform.crop_size
    inside = np.isfinite(pts).all(-1) & (pts >= 0).all(-1) & (pts < s).all(-1)
    return pts, vis & inside, inside


def normalise(points_crop, crop_size: int) -> np.ndarray:
    """Crop px -> [0, 1] crop coordinates (divide by S); NaN stays NaN."""
    return np.asarray(points_crop, dtype=np.float64) / float(crop_size)


def denormalise(points_norm, crop_size: int) -> np.ndarray:
    """[0, 1] crop coordinates -> crop px (multiply by S); NaN stays NaN."""
    return np.asarray(points_norm, dtype=np.float64) * float(crop_size)


def augment_sample(image, joints, visible, box, crop_size: int, rng=None,
                   config: AugmentConfig = NO_AUGMENT, skeleton=None,
                   margin: float = DEFAULT_MARGIN):
    """One image: returns ``(crop (S, S, 3) uint8, joints_crop px, visible_crop, transform)``."""
    t = crop_transform(box, crop_size, rng, config, skeleton, margin)
    joints_crop, visible_crop, _ = warp_joints(joints, visible, t)
    return t.apply_image(image), joints_crop, visible_crop, t


def augment_clip(frames, joints, visible, box, crop_size: int, rng=None,
                 config: AugmentConfig = NO_AUGMENT, skeleton=None,
                 margin: float = DEFAULT_MARGIN):
    """A clip (T, H, W, 3) with joints (T, J, 2) px and visible (T, J), one box for all.

    One Transform is drawn and applied to every frame so the clip stays temporally
    consistent.  Returns ``(crops (T, S, S, 3) uint8, joints_crop, visible_crop, transform)``.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or len(frames) == 0:
        raise ValueError(f"expected frames of shape (T >= 1, H, W, 3), got {frames.shape}")
    t = crop_transform(box, crop_size, rng, config, skeleton, margin)
    joints_crop, visible_crop, _ = warp_joints(joints, visible, t)
    if joints_crop.shape[0] != frames.shape[0]:
        raise ValueError(f"{frames.shape[0]} frames but joints for {joints_crop.shape[0]}")
    return np.stack([t.apply_image(f) for f in frames]), joints_crop, visible_crop, t
