"""Helpers shared by the converters: derived boxes, layout mapping, progress reports.

Box convention (``bbox_from_joints``): the extent of the valid joints, each side moved
out by 10 % of the extent's width (left/right) or height (top/bottom); not clipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from posenet.data.prepared import LAYOUT
from posenet.skeleton import map_joints

Progress = Callable[[int, int], None] | None
BBOX_PAD = 0.10
#: Samples per ``PreparedWriter.append`` for the per-image datasets (bounds memory).
BATCH = 500


def bbox_from_joints(xy, valid, pad: float = BBOX_PAD) -> np.ndarray:
    """(N, J, 2+) joints, (N, J) valid -> (N, 4) float32 x1 y1 x2 y2; NaN if none valid."""
    pts = np.asarray(xy, dtype=np.float64)[..., :2]
    ok = np.asarray(valid, dtype=bool)[..., None]
    with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        lo = np.nanmin(np.where(ok, pts, np.nan), axis=-2)
        hi = np.nanmax(np.where(ok, pts, np.nan), axis=-2)
    margin = (hi - lo) * pad
    return np.concatenate([lo - margin, hi + margin], axis=-1).astype(np.float32)


def to_model(xy, visible, valid, src: str) -> tuple[np.ndarray, np.ndarray]:
    """Map (N, J, 2) joints of layout ``src`` to (N, 17, 3) x, y, visible and (N, 17) valid.

    A derived joint (e.g. pelvis from both hips) is visible only when both sources are.
    """
    stacked = np.concatenate([np.asarray(xy, np.float64),
                              np.asarray(visible, np.float64)[..., None]], axis=-1)  # fmt: skip
    out, ok = map_joints(stacked, src, LAYOUT, valid)
    out = np.asarray(out, dtype=np.float64)
    vis = np.where(ok & (np.nan_to_num(out[..., 2]) >= 1.0), 1.0, 0.0)
    joints = np.concatenate([out[..., :2], vis[..., None]], axis=-1).astype(np.float32)
    joints[~ok, :2] = np.nan
    return joints, np.asarray(ok, dtype=bool)


def tick(progress: Progress, done: int, total: int) -> None:
    """Report ``done`` of ``total`` work units when a progress callback was given."""
    if progress is not None:
        progress(done, total)


def check_split(name: str, split: str, accepted) -> None:
    """ValueError naming the dataset and its splits when ``split`` is not accepted."""
    if split not in accepted:
        raise ValueError(f"{name} split must be one of {list(accepted)}, got {split!r}")


def absolute(path) -> str:
    """``path`` as an absolute str (the ``source`` file attribute)."""
    return os.path.abspath(os.fspath(path))


def read_bytes(path) -> bytes:
    """The bytes of an image file, to embed unchanged (FileNotFoundError names it)."""
    with open(path, "rb") as f:
        return f.read()
