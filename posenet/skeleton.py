"""Skeleton layouts, horizontal flipping and joint mapping between datasets (pure NumPy).

Coordinates are continuous: pixel ``i`` covers ``[i, i + 1)``, so normalised ``[0, 1]``
coordinates flip with ``width=1`` and pixel coordinates with the image width in pixels.

Joints are matched across layouts through canonical names, the joint names of the model's
3D layout ``model17``.  Every layout joint gets a *key*: its canonical name when it
denotes the same point (by name, or through ``_EQUIVALENCE``), otherwise a name scoped
to its layout, so it only ever matches itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

# BGR (OpenCV order).  Left limbs blue, right limbs red, centre (or mixed) links green.
LEFT_COLOR = (255, 128, 0)
RIGHT_COLOR = (0, 0, 255)
CENTER_COLOR = (0, 200, 0)


@dataclass(frozen=True)
class Skeleton:
    """An immutable joint layout.

    ``links`` are joint index pairs drawn as bones, ``flip_pairs`` are ``(left, right)``
    index pairs swapped by a horizontal flip and ``colors`` holds one BGR colour per link.
    """

    name: str
    joints: tuple[str, ...]
    links: tuple[tuple[int, int], ...]
    flip_pairs: tuple[tuple[int, int], ...]
    colors: tuple[tuple[int, int, int], ...]

    def __post_init__(self) -> None:
        n = len(self.joints)
        if not self.name or n == 0:
            raise ValueError("a skeleton needs a name and at least one joint")
        if len(set(self.joints)) != n:
            dup = sorted({j for j in self.joints if self.joints.count(j) > 1})
            raise ValueError(f"{self.name}: duplicate joint names {dup}")
        for kind, pairs in (("link", self.links), ("flip pair", self.flip_pairs)):
            for a, b in pairs:
                if not (0 <= a < n and 0 <= b < n) or a == b:
                    raise ValueError(f"{self.name}: bad {kind} {(a, b)} for {n} joints")
        flipped = [j for pair in self.flip_pairs for j in pair]
        if len(set(flipped)) != len(flipped):
            raise ValueError(f"{self.name}: a joint appears in more than one flip pair")
        if len(self.colors) != len(self.links):
            raise ValueError(
                f"{self.name}: {len(self.colors)} colours for {len(self.links)} links"
            )
        for c in self.colors:
            if len(c) != 3 or not all(0 <= v <= 255 for v in c):
                raise ValueError(f"{self.name}: colour {c} is not a BGR triple in [0, 255]")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, name: str) -> int:
        """Index of joint ``name``; KeyError listing the known names otherwise."""
        try:
            return self.joints.index(name)
        except ValueError:
            raise KeyError(
                f"{self.name} has no joint {name!r}; known: {', '.join(self.joints)}"
            ) from None

    def flip_permutation(self) -> np.ndarray:
        """(J,) int permutation swapping each left/right pair (an involution)."""
        perm = np.arange(self.num_joints)
        for left, right in self.flip_pairs:
            perm[left], perm[right] = right, left
        return perm

    def flip(self, joints, width=1.0) -> np.ndarray:
        """Mirror ``joints`` (..., J, D) horizontally: ``x' = width - x``.

        The joint axis is permuted by ``flip_permutation`` so left/right labels follow the
        mirrored body.  Other channels (y, z, visibility, ...) are only permuted.  ``width``
        is 1 for normalised coordinates or the image width in pixels; an array must
        broadcast against ``joints[..., 0]``.  Returns a new float array; NaN stays NaN.
        """
        arr = _as_float(joints)
        if arr.ndim < 2 or arr.shape[-2] != self.num_joints or arr.shape[-1] < 1:
            raise ValueError(f"{self.name}: expected (..., {self.num_joints}, D), got {arr.shape}")
        out = arr[..., self.flip_permutation(), :]  # fancy indexing copies
        out[..., 0] = np.asarray(width, dtype=out.dtype) - out[..., 0]
        return out


def _as_float(x) -> np.ndarray:
    arr = np.asarray(x)
    return arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(np.float64)


def _side(name: str) -> int:
    return 1 if name.startswith("l_") else 2 if name.startswith("r_") else 0


def _build(name: str, joints: str, links: str) -> Skeleton:
    """Build a skeleton from space-separated joint names and ``a-b`` link names.

    Flip pairs are every ``l_X``/``r_X`` pair; a link is coloured by the side of its
    joints (left or right when no joint is on the other side, centre otherwise).
    """
    names = tuple(joints.split())
    idx = {j: i for i, j in enumerate(names)}
    link_names = [tuple(link.split("-")) for link in links.split()]
    pairs = tuple(
        (i, idx["r_" + j[2:]]) for i, j in enumerate(names) if _side(j) == 1 and "r_" + j[2:] in idx
    )
    colors = []
    for a, b in link_names:
        sides = {_side(a), _side(b)} - {0}
        colors.append(
            LEFT_COLOR if sides == {1} else RIGHT_COLOR if sides == {2} else CENTER_COLOR
        )
    return Skeleton(
        name=name,
        joints=names,
        links=tuple((idx[a], idx[b]) for a, b in link_names),
        flip_pairs=pairs,
        colors=tuple(colors),
    )


_MODEL16 = (
    "pelvis thorax neck head_top r_shoulder l_shoulder r_elbow l_elbow r_wrist l_wrist "
    "r_hip l_hip r_knee l_knee r_ankle l_ankle"
)
_LIMBS = (
    "neck-head_top thorax-neck thorax-r_shoulder r_shoulder-r_elbow r_elbow-r_wrist "
    "thorax-l_shoulder l_shoulder-l_elbow l_elbow-l_wrist pelvis-r_hip r_hip-r_knee "
    "r_knee-r_ankle pelvis-l_hip l_hip-l_knee l_knee-l_ankle"
)
H36M17_FROM_32 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
# Human3.6M parent of joints 1..31 (joint 0 is the root); sites duplicate their parent.
_H36M32_PARENTS = (0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 12, 16, 17, 18, 19, 20,
                   19, 22, 12, 24, 25, 26, 27, 28, 27, 30)  # fmt: skip
_H36M32_JOINTS = (
    "pelvis r_hip r_knee r_ankle r_foot r_toe l_hip l_knee l_ankle l_foot l_toe pelvis_dup "
    "spine thorax neck head_top thorax_dup l_shoulder l_elbow l_wrist l_wrist_dup l_thumb "
    "l_hand l_hand_site thorax_dup2 r_shoulder r_elbow r_wrist r_wrist_dup r_thumb r_hand "
    "r_hand_site"
)
_H36M32 = _H36M32_JOINTS.split()
_ARMS_LEGS = (
    "r_shoulder-r_elbow r_elbow-r_wrist l_shoulder-l_elbow l_elbow-l_wrist "
    "r_hip-r_knee r_knee-r_ankle l_hip-l_knee l_knee-l_ankle"
)

_REGISTRY: dict[str, Skeleton] = {
    s.name: s
    for s in (
        _build("model16", _MODEL16, "pelvis-thorax " + _LIMBS),
        _build("model17", _MODEL16 + " spine", "pelvis-spine spine-thorax " + _LIMBS),
        _build(
            "lsp",
            "r_ankle r_knee r_hip l_hip l_knee l_ankle r_wrist r_elbow r_shoulder l_shoulder "
            "l_elbow l_wrist neck head_top",
            _ARMS_LEGS + " r_hip-l_hip r_hip-r_shoulder l_hip-l_shoulder r_shoulder-neck "
            "l_shoulder-neck neck-head_top",
        ),
        _build(
            "mpii",
            "r_ankle r_knee r_hip l_hip l_knee l_ankle pelvis thorax neck head_top r_wrist "
            "r_elbow r_shoulder l_shoulder l_elbow l_wrist",
            "pelvis-thorax " + _LIMBS,
        ),
        _build(
            "penn_action",
            "head l_shoulder r_shoulder l_elbow r_elbow l_wrist r_wrist l_hip r_hip l_knee "
            "r_knee l_ankle r_ankle",
            _ARMS_LEGS + " head-l_shoulder head-r_shoulder l_shoulder-r_shoulder l_hip-r_hip "
            "l_shoulder-l_hip r_shoulder-r_hip",
        ),
        _build(
            "jhmdb",
            "neck belly face r_shoulder l_shoulder r_hip l_hip r_elbow l_elbow r_knee l_knee "
            "r_wrist l_wrist r_ankle l_ankle",
            _ARMS_LEGS + " face-neck neck-belly neck-r_shoulder neck-l_shoulder belly-r_hip "
            "belly-l_hip",
        ),
        _build(
            "h36m32",
            _H36M32_JOINTS,
            " ".join(f"{_H36M32[p]}-{_H36M32[c]}" for c, p in enumerate(_H36M32_PARENTS, 1)),
        ),
        _build(
            "h36m17",
            " ".join(_H36M32[i] for i in H36M17_FROM_32),
            "pelvis-spine spine-thorax " + _LIMBS,
        ),
        _build(
            "coco",
            "nose l_eye r_eye l_ear r_ear l_shoulder r_shoulder l_elbow r_elbow l_wrist "
            "r_wrist l_hip r_hip l_knee r_knee l_ankle r_ankle",
            _ARMS_LEGS + " l_hip-r_hip l_shoulder-l_hip r_shoulder-r_hip l_shoulder-r_shoulder "
            "nose-l_eye nose-r_eye l_eye-r_eye l_eye-l_ear r_eye-r_ear l_ear-l_shoulder "
            "r_ear-r_shoulder",
        ),
        _build(
            "ntu",
            "spine_base spine_mid neck head l_shoulder l_elbow l_wrist l_hand r_shoulder "
            "r_elbow r_wrist r_hand l_hip l_knee l_ankle l_foot r_hip r_knee r_ankle r_foot "
            "spine_shoulder l_handtip l_thumb r_handtip r_thumb",
            _ARMS_LEGS + " spine_base-spine_mid spine_mid-spine_shoulder spine_shoulder-neck "
            "neck-head spine_shoulder-l_shoulder spine_shoulder-r_shoulder l_wrist-l_hand "
            "l_hand-l_handtip l_wrist-l_thumb r_wrist-r_hand r_hand-r_handtip r_wrist-r_thumb "
            "spine_base-l_hip spine_base-r_hip l_ankle-l_foot r_ankle-r_foot",
        ),
    )
}
SKELETON_NAMES: tuple[str, ...] = tuple(_REGISTRY)
CANONICAL_JOINTS: tuple[str, ...] = _REGISTRY["model17"].joints

# The single equivalence table: layout -> {own joint name: canonical name or None}.
# A joint named like a canonical joint is that joint unless listed here; None marks a
# deliberate non-equivalence.  Choices:
# - lsp/mpii ``neck`` is the upper neck, the model's ``neck`` (its 2D layout is MPII's).
# - penn_action ``head`` ~ head_top: an approximation, as used when training on Penn Action.
# - jhmdb ``face`` (face centre) and ntu ``head`` (head centre) are NOT head_top.
# - jhmdb ``belly`` ~ spine; ntu spine_base/spine_mid/spine_shoulder = pelvis/spine/thorax.
# - h36m32 site/duplicate joints (pelvis_dup, thorax_dup, ...) are not canonical.
_EQUIVALENCE: dict[str, dict[str, str | None]] = {
    "penn_action": {"head": "head_top"},
    "jhmdb": {"belly": "spine", "face": None},
    "ntu": {"spine_base": "pelvis", "spine_mid": "spine", "spine_shoulder": "thorax",
            "head": None},
}
# Joints synthesised as the mean of two others when dst wants them and src lacks them.
DERIVED_JOINTS: dict[str, tuple[str, str]] = {
    "pelvis": ("l_hip", "r_hip"),
    "thorax": ("l_shoulder", "r_shoulder"),
}


def get_skeleton(name: str | Skeleton) -> Skeleton:
    """The registered skeleton ``name`` (a Skeleton is returned as is)."""
    if isinstance(name, Skeleton):
        return name
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown skeleton {name!r}; known: {', '.join(SKELETON_NAMES)}"
        ) from None


def _keys(skel: Skeleton) -> tuple[str, ...]:
    """Matching key of each joint: canonical name, or a layout-scoped name."""
    table = _EQUIVALENCE.get(skel.name, {})
    keys = []
    for j in skel.joints:
        canon = table.get(j, j if j in CANONICAL_JOINTS else None)
        keys.append(canon if canon is not None else f"{skel.name}:{j}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"{skel.name}: several joints are equivalent to the same joint")
    return tuple(keys)


@functools.lru_cache(maxsize=256)
def _plan(src: Skeleton, dst: Skeleton) -> tuple[np.ndarray, tuple[tuple[int, int, int], ...]]:
    """(dst -> src index or -1, ((dst, src_a, src_b), ...) derivations) for a layout pair."""
    src_idx = {k: i for i, k in enumerate(_keys(src))}
    index = np.array([src_idx.get(k, -1) for k in _keys(dst)], dtype=np.int64)
    derived = []
    for d, key in enumerate(_keys(dst)):
        if index[d] < 0 and key in DERIVED_JOINTS:
            a, b = (src_idx.get(k, -1) for k in DERIVED_JOINTS[key])
            if a >= 0 and b >= 0:
                derived.append((d, a, b))
    index.setflags(write=False)
    return index, tuple(derived)


def joint_mapping(src: str | Skeleton, dst: str | Skeleton) -> np.ndarray:
    """(J_dst,) int: src index of each dst joint by equivalence, -1 where absent.

    Derived joints (see ``map_joints``) are not included.
    """
    return _plan(get_skeleton(src), get_skeleton(dst))[0].copy()


def map_joints(joints, src: str | Skeleton, dst: str | Skeleton, valid=None):
    """Re-express ``joints`` (..., J_src, D) of layout ``src`` in layout ``dst``.

    ``valid`` (..., J_src) bool defaults to "all D coordinates finite"; a joint with a
    non-finite coordinate is invalid even when ``valid`` says otherwise.  A dst joint is
    copied from the src joint that denotes the same point (see ``_EQUIVALENCE``).  When src
    lacks it, ``pelvis`` = mean(l_hip, r_hip) and ``thorax`` = mean(l_shoulder, r_shoulder),
    valid only where both sources are valid.  Units are unchanged.

    Returns ``(out, out_valid)``: ``out`` (..., J_dst, D) float, NaN wherever ``out_valid``
    (..., J_dst) bool is False (absent or invalid joints).
    """
    src_s, dst_s = get_skeleton(src), get_skeleton(dst)
    arr = _as_float(joints)
    if arr.ndim < 2 or arr.shape[-2] != src_s.num_joints:
        raise ValueError(f"{src_s.name}: expected (..., {src_s.num_joints}, D), got {arr.shape}")
    ok = np.isfinite(arr).all(axis=-1)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != arr.shape[:-1]:
            raise ValueError(f"valid has shape {valid.shape}, expected {arr.shape[:-1]}")
        ok &= valid
    index, derived = _plan(src_s, dst_s)
    present = index >= 0
    safe = np.where(present, index, 0)
    out_valid = ok[..., safe] & present
    out = arr[..., safe, :]  # fancy indexing copies
    for d, a, b in derived:
        out_valid[..., d] = ok[..., a] & ok[..., b]
        out[..., d, :] = 0.5 * (arr[..., a, :] + arr[..., b, :])
    out[~out_valid] = np.nan
    return out, out_valid


def layout_name(num_joints: int) -> str:
    """Skeleton layout of a model's joint axis: model16 or model17."""
    return "model16" if num_joints == 16 else "model17"
