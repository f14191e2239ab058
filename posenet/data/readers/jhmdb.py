"""J-HMDB readers: the ground-truth ``.npz`` release and the official release.

``read_jhmdb_npz`` reads ``GT_{train,test}_{k}.npz`` (k = 1, 2, 3): ``poses`` float32
(sum of T, 15, 2), ``lengths`` int32 (T of each clip), ``labels`` strings.  Its
coordinates are *normalised*, unit-free, neither pixels nor [0, 1]: in the shared copy
clips are roughly centred near the origin, a person's first frame is about 0.9 units
tall, values span about [-2.8, 1.8] and are rounded to 3 decimals.  They are returned
as published; clip names and frames are not part of this release.

``read_jhmdb_official`` reads the official release: ``joint_positions/<class>/<clip>/
joint_positions.mat`` (``pos_img`` 2 x 15 x T, pixels), split lists ``splits/<class>_
test_split<k>.txt`` (lines ``<clip>.avi 1`` for train, ``2`` for test) and the frames
``Frames/<class>/<clip>/NNNNN.png`` (the archive calls that folder ``Rename_Images``;
both names are accepted).

The J-HMDB puppet is complete in every frame (joints may lie outside the image), so
``valid`` is False only for non-finite coordinates; neither release has any.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from posenet.data.readers._common2d import load_mat, missing, require_dir

JHMDB_HINT = (
    "download the 'J-HMDB dataset' (Jhuang et al., jhmdb.is.tue.mpg.de): joint_positions, "
    "splits and Rename_Images (or the GT_{train,test}_k.npz ground-truth release)"
)
#: The 14 classes of the shared ground-truth release, spelled and sorted as its labels.
JHMDB_CLASSES: tuple[str, ...] = (
    "catch", "clap", "golf", "jump", "pick", "pour", "pullup", "push", "run", "sit",
    "stand", "throw", "walk", "wave",
)  # fmt: skip
#: The 21 classes of the official release (folder names).
JHMDB_OFFICIAL_CLASSES: tuple[str, ...] = tuple(sorted(JHMDB_CLASSES + (
    "brush_hair", "climb_stairs", "kick_ball", "shoot_ball", "shoot_bow", "shoot_gun",
    "swing_baseball",
)))  # fmt: skip
NUM_JOINTS = 15
SPLITS = (1, 2, 3)


@dataclass(frozen=True)
class JhmdbClip:
    """One J-HMDB clip in the dataset's own 15-joint ``jhmdb`` (puppet) layout.

    ``label``: action class; ``joints`` (T, 15, 2) float32 x, y; ``valid`` (T, 15) bool;
    ``coords``: "normalised" (npz release, unit-free) or "pixels" (official release);
    ``name``: clip name (None in the npz release); ``frames_dir``: folder of the clip's
    frames when known and present, else None.
    """

    label: str
    joints: np.ndarray
    valid: np.ndarray
    coords: str
    name: str | None = None
    frames_dir: str | None = None
    layout: str = "jhmdb"

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])


def _check_split(split) -> int:
    if split not in SPLITS:
        raise ValueError(f"J-HMDB split must be one of {SPLITS}, got {split!r}")
    return int(split)


def read_jhmdb_npz(root, split: int = 1) -> dict[str, list[JhmdbClip]]:
    """Read ``root/GT_train_{split}.npz`` and ``root/GT_test_{split}.npz``.

    Returns ``{"train": [...], "test": [...]}`` in file order, coordinates normalised.
    """
    split = _check_split(split)
    root = require_dir(root, "J-HMDB ground-truth folder", JHMDB_HINT)
    out = {}
    for part in ("train", "test"):
        path = os.path.join(root, f"GT_{part}_{split}.npz")
        if not os.path.isfile(path):
            raise missing(path, f"J-HMDB {part} file for split {split}", JHMDB_HINT)
        out[part] = _read_npz(path)
    return out


def _read_npz(path: str) -> list[JhmdbClip]:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("poses", "lengths", "labels")}
    except KeyError as e:
        raise ValueError(f"{path}: missing array {e}") from e
    except Exception as e:  # truncated zip, not a zip, pickled objects, ...
        raise ValueError(f"{path}: not a readable .npz file ({e})") from e
    poses, lengths, labels = arrays["poses"], arrays["lengths"], arrays["labels"]
    if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS, 2):
        raise ValueError(f"{path}: poses must be (sum T, {NUM_JOINTS}, 2), got {poses.shape}")
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu" or (lengths <= 0).any():
        raise ValueError(f"{path}: lengths must be positive integers")
    if labels.shape != lengths.shape or labels.dtype.kind not in "US":
        raise ValueError(f"{path}: labels must be {lengths.shape[0]} strings")
    if int(lengths.sum()) != poses.shape[0]:
        raise ValueError(
            f"{path}: lengths sum to {int(lengths.sum())} but poses has {poses.shape[0]} rows"
        )
    clips = []
    for label, seq in zip(labels, np.split(poses, np.cumsum(lengths)[:-1]), strict=True):
        joints = np.ascontiguousarray(seq, dtype=np.float32)
        clips.append(
            JhmdbClip(str(label), joints, np.isfinite(joints).all(-1), coords="normalised")
        )
    return clips


def read_jhmdb_official(root, split: int = 1, classes=None) -> dict[str, list[JhmdbClip]]:
    """Read the official release under ``root`` for ``split`` (1, 2 or 3).

    ``classes``: the classes to read (default: every folder in ``joint_positions``).
    Returns ``{"train": [...], "test": [...]}`` sorted by class then split-file order,
    coordinates in pixels as published.
    """
    split = _check_split(split)
    root = os.path.abspath(require_dir(root, "J-HMDB dataset folder", JHMDB_HINT))
    joints_root = require_dir(
        os.path.join(root, "joint_positions"), "J-HMDB joint_positions folder", JHMDB_HINT
    )
    splits_root = require_dir(os.path.join(root, "splits"), "J-HMDB splits folder", JHMDB_HINT)
    frames_root = next(
        (p for p in (os.path.join(root, d) for d in ("Frames", "Rename_Images"))
         if os.path.isdir(p)),
        None,
    )  # fmt: skip
    if classes is None:
        classes = sorted(
            d for d in os.listdir(joints_root) if os.path.isdir(os.path.join(joints_root, d))
        )
    out: dict[str, list[JhmdbClip]] = {"train": [], "test": []}
    for cls in classes:
        list_path = os.path.join(splits_root, f"{cls}_test_split{split}.txt")
        if not os.path.isfile(list_path):
            raise missing(list_path, f"J-HMDB split list of class {cls}", JHMDB_HINT)
        for clip, part in _read_split_list(list_path):
            mat_path = os.path.join(joints_root, cls, clip, "joint_positions.mat")
            if not os.path.isfile(mat_path):
                raise missing(mat_path, f"joint positions of clip {clip}", JHMDB_HINT)
            joints = _read_pos_img(mat_path)
            frames = os.path.join(frames_root, cls, clip) if frames_root else None
            out[part].append(
                JhmdbClip(
                    label=cls,
                    joints=joints,
                    valid=np.isfinite(joints).all(-1),
                    coords="pixels",
                    name=clip,
                    frames_dir=frames if frames and os.path.isdir(frames) else None,
                )
            )
    return out


def _read_split_list(path: str) -> list[tuple[str, str]]:
    """(clip name, "train" | "test") per line of an official split list."""
    entries = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or fields[1] not in ("1", "2"):
                raise ValueError(f"{path}:{number}: expected '<clip>.avi <1|2>', got {line!r}")
            name = fields[0][:-4] if fields[0].endswith(".avi") else fields[0]
            entries.append((name, "train" if fields[1] == "1" else "test"))
    return entries


def _read_pos_img(path: str) -> np.ndarray:
    """(T, 15, 2) float32 pixel coordinates from ``pos_img`` (2 x 15 x T)."""
    mat = load_mat(path, variable_names=("pos_img",))
    if "pos_img" not in mat:
        raise ValueError(f"{path}: no variable 'pos_img'")
    pos = np.asarray(mat["pos_img"])
    if pos.ndim == 2:  # MATLAB drops the trailing T = 1
        pos = pos[..., None]
    if pos.ndim != 3 or pos.shape[:2] != (2, NUM_JOINTS) or pos.dtype.kind not in "fiu":
        raise ValueError(f"{path}: pos_img must be numeric 2 x {NUM_JOINTS} x T, got {pos.shape}")
    return np.ascontiguousarray(pos.transpose(2, 1, 0), dtype=np.float32)
