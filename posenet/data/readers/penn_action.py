"""Penn Action reader: one MATLAB v5 file ``labels/NNNN.mat`` per clip (2,326 clips).

Each file holds ``action`` and ``pose`` (camera view) strings, ``x``, ``y`` and
``visibility`` (T x 13), ``bbox`` (T x 4: x1 y1 x2 y2), ``train`` (1 train, -1 test),
``dimensions`` (H, W, T) and ``nframes``.  Coordinates are pixels as published.

Missing and occluded joints, from the shared labels (2,129,933 joint entries):

- ``visibility`` 0 marks 469,501 entries, almost all with a real position: Penn Action
  annotates occluded joints' positions, so they are kept (``valid`` True, ``visible``
  False).
- Exactly (0, 0) occurs 26 times: every joint of one frame in each of clips 0449 and
  2173, all flagged invisible; these frames are unannotated, so (0, 0) is absent
  (NaN, ``valid`` False).  Negative coordinates, which never occur, are treated as
  absent too.  Coordinates past the right or bottom edge (1,013 entries) are kept.
- ``bbox`` has one row fewer than the frames in clips 1154 and 1865; the missing final
  rows are padded with NaN rather than guessed.
- Numeric arrays come in several dtypes (float64, uint16, uint8); all are read as
  numbers and returned as float32.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from posenet.data.readers._common2d import load_mat, mat_scalar, mat_str, require_dir

PENN_HINT = (
    "download the 'Penn Action dataset' (upenn, dreamdragon.github.io/PennAction) and "
    "unpack it so that labels/0001.mat ... exist there"
)
#: The 15 actions, spelled and sorted as the dataset's ``action`` strings.
PENN_ACTION_CLASSES: tuple[str, ...] = (
    "baseball_pitch", "baseball_swing", "bench_press", "bowl", "clean_and_jerk",
    "golf_swing", "jump_rope", "jumping_jacks", "pullup", "pushup", "situp", "squat",
    "strum_guitar", "tennis_forehand", "tennis_serve",
)  # fmt: skip
NUM_JOINTS = 13
_LABEL_RE = re.compile(r"^\d{4}\.mat$")
_FIELDS = ("action", "pose", "x", "y", "visibility", "bbox", "train", "dimensions", "nframes")


@dataclass(frozen=True)
class PennClip:
    """One Penn Action clip in the dataset's own 13-joint ``penn_action`` layout.

    ``name``: clip id ("0001"); ``action``: one of ``PENN_ACTION_CLASSES``; ``view``:
    camera view ("front", "back", "left", "right"); ``joints`` (T, 13, 2) float32 x, y in
    pixels, NaN where absent; ``visible`` (T, 13) bool; ``valid`` (T, 13) bool, True
    where the position is annotated; ``bbox`` (T, 4) float32 x1, y1, x2, y2 in pixels,
    NaN where not published; ``train``: official split; ``size``: (H, W) in pixels;
    ``frames_dir``: ``root/frames/NNNN`` when that folder exists, else None.
    """

    name: str
    action: str
    view: str
    joints: np.ndarray
    visible: np.ndarray
    valid: np.ndarray
    bbox: np.ndarray
    train: bool
    size: tuple[int, int]
    frames_dir: str | None
    layout: str = "penn_action"

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def action_index(self) -> int:
        return action_index(self.action)


def action_index(name: str) -> int:
    """Index of action ``name`` in ``PENN_ACTION_CLASSES``; KeyError listing them otherwise."""
    try:
        return PENN_ACTION_CLASSES.index(name)
    except ValueError:
        raise KeyError(
            f"unknown Penn Action action {name!r}; known: {', '.join(PENN_ACTION_CLASSES)}"
        ) from None


def read_penn_action(root, progress: Callable[[int, int], None] | None = None) -> list[PennClip]:
    """Read every ``root/labels/NNNN.mat``, sorted by clip id.

    ``progress``, when given, is called as ``progress(done, total)`` after each file.
    Raises FileNotFoundError when ``root/labels`` is missing or holds no label file, and
    ValueError naming the file when one is unreadable or inconsistent.
    """
    root = os.path.abspath(root)
    labels_dir = require_dir(os.path.join(root, "labels"), "Penn Action labels folder", PENN_HINT)
    files = sorted(f for f in os.listdir(labels_dir) if _LABEL_RE.match(f))
    if not files:
        raise FileNotFoundError(f"no NNNN.mat label files in {labels_dir}: {PENN_HINT}")
    frames_root = os.path.join(root, "frames")
    clips = []
    for done, fname in enumerate(files, 1):
        clips.append(read_penn_clip(os.path.join(labels_dir, fname), frames_root))
        if progress is not None:
            progress(done, len(files))
    return clips


def read_penn_clip(path, frames_root=None) -> PennClip:
    """Read one Penn Action label file; ``frames_root/NNNN`` becomes ``frames_dir``."""
    path = os.fspath(path)
    mat = load_mat(path, variable_names=_FIELDS)
    lacking = [k for k in _FIELDS if k not in mat]
    if lacking:
        raise ValueError(f"{path}: missing variable(s) {', '.join(lacking)}")
    try:
        return _clip(path, mat, frames_root)
    except (ValueError, TypeError, IndexError) as e:
        raise ValueError(f"{path}: {e}") from e


def _clip(path: str, mat: dict, frames_root) -> PennClip:
    x = np.asarray(mat["x"], dtype=np.float64)
    y = np.asarray(mat["y"], dtype=np.float64)
    vis = np.asarray(mat["visibility"])
    if x.ndim != 2 or x.shape[1] != NUM_JOINTS or y.shape != x.shape or vis.shape != x.shape:
        raise ValueError(
            f"x, y, visibility must all be T x {NUM_JOINTS}; got {x.shape}, {y.shape}, {vis.shape}"
        )
    t = x.shape[0]
    dims = np.asarray(mat["dimensions"]).reshape(-1)
    if dims.size != 3:
        raise ValueError(f"dimensions must be (H, W, T), got {dims.tolist()}")
    if int(dims[2]) != t or int(mat_scalar(mat["nframes"])) != t:
        raise ValueError(
            f"{t} annotated frames but dimensions say {int(dims[2])} and nframes "
            f"{int(mat_scalar(mat['nframes']))}"
        )
    action = mat_str(mat["action"])
    if action not in PENN_ACTION_CLASSES:
        raise ValueError(f"unknown action {action!r}")
    split = int(mat_scalar(mat["train"]))
    if split not in (1, -1):
        raise ValueError(f"train must be 1 or -1, got {split}")

    valid = np.isfinite(x) & np.isfinite(y) & (x >= 0) & (y >= 0) & ~((x == 0) & (y == 0))
    joints = np.stack([x, y], axis=-1).astype(np.float32)
    joints[~valid] = np.nan

    box = np.asarray(mat["bbox"], dtype=np.float64)
    if box.ndim == 1 and box.size == 4:  # a one-frame clip loses its row dimension
        box = box[None]
    if box.ndim != 2 or box.shape[1] != 4 or box.shape[0] > t:
        raise ValueError(f"bbox must be at most T x 4 with T = {t}, got {box.shape}")
    bbox = np.full((t, 4), np.nan, dtype=np.float32)
    bbox[: box.shape[0]] = box  # some clips publish fewer boxes than frames

    name = os.path.splitext(os.path.basename(path))[0]
    frames_dir = None
    if frames_root is not None and os.path.isdir(os.path.join(frames_root, name)):
        frames_dir = os.path.join(frames_root, name)
    return PennClip(
        name=name,
        action=action,
        view=mat_str(mat["pose"]),
        joints=joints,
        visible=valid & (vis > 0),
        valid=valid,
        bbox=bbox,
        train=split == 1,
        size=(int(dims[0]), int(dims[1])),
        frames_dir=frames_dir,
    )
