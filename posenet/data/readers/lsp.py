"""Leeds Sports Pose (LSP, 2,000 images) and LSP Extended (LSPet, 10,000 images) reader.

Both publish ``joints.mat`` with one variable ``joints`` and an ``images/`` folder:

- LSPet: ``joints`` is 14 x 3 x N (x, y, flag); images ``im00001.jpg`` (5 digits).  Its
  README only says "visibility flags"; the data shows the flag is 1 = visible,
  0 = not annotated: in the shared copy every one of the 15,181 flag-0 joints carries a
  placeholder position (15,069 with one coordinate 0 and the other negative, 112 at
  exactly (0, 0)) and no flag-0 joint has a real position.
- LSP: ``joints`` is 3 x 14 x N; images ``im0001.jpg`` (4 digits).  All joints are
  annotated, and the third row is an *occlusion* flag (1 = occluded, 0 = visible),
  which is why common conversions of LSP use ``1 - flag`` as visibility and LSPet's
  flag as is.

A joint is absent (NaN, ``valid`` False) when its position is a placeholder
(``x <= 0 and y <= 0``), or, for LSPet, when its flag says not annotated.  A lone
negative coordinate is *not* absent: six LSPet joints flagged visible lie up to 1.2 px
above the image's top edge (e.g. y = -0.14) and are genuine annotations.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from posenet.data.readers._common2d import load_mat, missing, require_dir

LSP_HINT = (
    "download 'Leeds Sports Pose' (lsp_dataset) or 'Leeds Sports Pose Extended' "
    "(lspet_dataset) from Sam Johnson's LSP pages (sam.johnson.io/research/lsp.html, "
    "sam.johnson.io/research/lspet.html) and unpack it there"
)
NUM_JOINTS = 14
# Project convention for LSPet: images 1-8000 train, 8001-9000 validation (the public
# archive's images 9001-10000 are held back as an independent test part).
LSPET_TRAIN_END = 8000
LSPET_VAL_END = 9000


@dataclass(frozen=True)
class LspData:
    """LSP or LSPet annotations in the dataset's own 14-joint ``lsp`` layout.

    ``images``: absolute image paths, one per sample; ``joints`` (N, 14, 2) float32 x, y
    in pixels as published, NaN where absent; ``visible`` (N, 14) bool; ``valid``
    (N, 14) bool, True where the joint position is annotated; ``extended`` True for
    LSPet.  ``indices`` (N,) int64: each sample's 0-based column in ``joints.mat``
    (image ``im{indices + 1}``), which differs from ``arange(N)`` only when samples
    with missing images were dropped.
    """

    images: tuple[str, ...]
    joints: np.ndarray
    visible: np.ndarray
    valid: np.ndarray
    indices: np.ndarray
    extended: bool
    layout: str = "lsp"

    def __len__(self) -> int:
        return len(self.images)


def read_lsp(
    root,
    extended: bool | None = None,
    *,
    occlusion_flag: bool | None = None,
    allow_missing_images: bool = False,
) -> LspData:
    """Read ``root/joints.mat`` and list ``root/images``.

    ``extended``: None detects LSPet (14 x 3 x N) or LSP (3 x 14 x N) from the array's
    shape; True or False demands that orientation (ValueError otherwise).
    ``occlusion_flag``: whether the third coordinate means 1 = occluded; None uses each
    dataset's meaning (LSP: True, LSPet: False, see the module docstring).
    ``allow_missing_images``: drop samples whose image file is absent instead of raising
    ValueError.
    """
    root = require_dir(root, "LSP/LSPet dataset folder", LSP_HINT)
    mat_path = os.path.join(root, "joints.mat")
    if not os.path.isfile(mat_path):
        raise missing(mat_path, "LSP/LSPet annotation file joints.mat", LSP_HINT)
    images_dir = require_dir(os.path.join(root, "images"), "LSP/LSPet images folder", LSP_HINT)

    mat = load_mat(mat_path)
    if "joints" not in mat:
        raise ValueError(f"{mat_path}: no variable 'joints' (found {_names(mat)})")
    raw = np.asarray(mat["joints"])
    if raw.ndim == 2:  # MATLAB drops a trailing singleton dimension (a single image)
        raw = raw[..., None]
    if raw.ndim != 3 or raw.dtype.kind not in "fiu":
        raise ValueError(f"{mat_path}: 'joints' must be a numeric 3D array, got {raw.shape}")
    if raw.shape[:2] == (NUM_JOINTS, 3):
        is_ext, arr = True, raw.transpose(2, 0, 1)  # (N, 14, 3)
    elif raw.shape[:2] == (3, NUM_JOINTS):
        is_ext, arr = False, raw.transpose(2, 1, 0)
    else:
        raise ValueError(
            f"{mat_path}: 'joints' has shape {raw.shape}; expected 14 x 3 x N (LSPet) "
            "or 3 x 14 x N (LSP)"
        )
    if extended is not None and bool(extended) != is_ext:
        want = "14 x 3 x N (LSPet)" if extended else "3 x 14 x N (LSP)"
        raise ValueError(f"{mat_path}: 'joints' has shape {raw.shape}, expected {want}")
    if occlusion_flag is None:
        occlusion_flag = not is_ext

    arr = arr.astype(np.float64)
    x, y, flag = arr[..., 0], arr[..., 1], arr[..., 2]
    flag_visible = (flag == 0) if occlusion_flag else (flag > 0)
    valid = np.isfinite(x) & np.isfinite(y) & ~((x <= 0) & (y <= 0))
    if is_ext and not occlusion_flag:
        valid &= flag_visible  # LSPet's flag 0 means "not annotated"
    visible = valid & flag_visible
    joints = np.stack([x, y], axis=-1).astype(np.float32)
    joints[~valid] = np.nan

    n = arr.shape[0]
    pattern = "im{:05d}.jpg" if is_ext else "im{:04d}.jpg"
    present = set(os.listdir(images_dir))
    names = [pattern.format(i + 1) for i in range(n)]
    keep = np.array([name in present for name in names], dtype=bool)
    if not keep.all() and not allow_missing_images:
        absent = [nm for nm, k in zip(names, keep, strict=True) if not k]
        raise ValueError(
            f"{images_dir}: {len(absent)} of {n} images named in {mat_path} are missing "
            f"(first: {absent[0]}); pass allow_missing_images=True to skip them"
        )
    indices = np.flatnonzero(keep)
    images_abs = os.path.abspath(images_dir)
    return LspData(
        images=tuple(os.path.join(images_abs, names[i]) for i in indices),
        joints=joints[indices],
        visible=visible[indices],
        valid=valid[indices],
        indices=indices.astype(np.int64),
        extended=is_ext,
    )


def lspet_split(n: int = LSPET_VAL_END) -> dict[str, np.ndarray]:
    """The project's LSPet split of ``n`` samples as 0-based index arrays (int64).

    ``train``: images 1-8000 (indices 0-7999); ``validation``: images 8001-9000
    (indices 8000-8999); ``test``: images 9001-10000 when ``n`` exceeds 9000 (the part
    of the public archive held back from training), otherwise empty.
    """
    n = int(n)
    if n <= LSPET_TRAIN_END:
        raise ValueError(f"LSPet split needs more than {LSPET_TRAIN_END} samples, got {n}")
    return {
        "train": np.arange(0, LSPET_TRAIN_END, dtype=np.int64),
        "validation": np.arange(LSPET_TRAIN_END, min(n, LSPET_VAL_END), dtype=np.int64),
        "test": np.arange(LSPET_VAL_END, max(n, LSPET_VAL_END), dtype=np.int64),
    }


def _names(mat: dict) -> str:
    return ", ".join(k for k in mat if not k.startswith("__")) or "nothing"
