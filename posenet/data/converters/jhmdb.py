"""J-HMDB (ground-truth ``.npz`` release, 21 actions) -> prepared file, poses only."""

from __future__ import annotations

import numpy as np

from posenet.data.converters.common import Progress, absolute, bbox_from_joints, tick, to_model
from posenet.data.prepared import PreparedWriter
from posenet.data.readers.jhmdb import JHMDB_CLASSES, read_jhmdb_npz
from posenet.data.readers.jhmdb import SPLITS as JHMDB_SPLIT_IDS

SPLITS = tuple(f"{part}{k}" for k in JHMDB_SPLIT_IDS for part in ("train", "test"))


def prepare_jhmdb(source_dir, out_path, split: str = "train1", progress: Progress = None) -> int:
    """J-HMDB ``train<k>``/``test<k>`` (k = 1, 2, 3) from the ground-truth npz release.

    Coordinates are stored as published (normalised, file attr ``coords``); ``bbox`` is
    in the same units; ``sequence`` is the clip's position in its npz file.
    """
    part, k = split.rstrip("0123456789"), split[len(split.rstrip("0123456789")) :]
    if part not in ("train", "test") or not k.isdigit() or int(k) not in JHMDB_SPLIT_IDS:
        raise ValueError(
            f"J-HMDB split must be train<k> or test<k>, k in {JHMDB_SPLIT_IDS}; got {split!r}"
        )
    clips = read_jhmdb_npz(source_dir, int(k))[part]
    with PreparedWriter(out_path, "jhmdb", split, action_classes=JHMDB_CLASSES,
                        source=absolute(source_dir),
                        attrs={"coords": "normalised"}) as w:  # fmt: skip
        for done, clip in enumerate(clips):
            t = clip.num_frames
            joints, valid = to_model(clip.joints, clip.valid, clip.valid, "jhmdb")
            w.append(
                joints2d=joints,
                valid2d=valid,
                bbox=bbox_from_joints(joints, valid),
                action=np.full(t, JHMDB_CLASSES.index(clip.label), np.int16),
                sequence=np.full(t, done, np.int32),
                frame=np.arange(t, dtype=np.int32),
            )
            tick(progress, done + 1, len(clips))
        return w.num_samples
