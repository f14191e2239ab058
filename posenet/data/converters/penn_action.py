"""Penn Action (2,326 clips, 15 actions) -> prepared file, poses only."""

from __future__ import annotations

import os

import numpy as np

from posenet.data.converters.common import Progress, absolute, tick, to_model
from posenet.data.prepared import PreparedWriter
from posenet.data.readers.penn_action import PENN_ACTION_CLASSES, read_penn_action

SPLITS = ("train", "test")


def prepare_penn_action(source_dir, out_path, split: str = "train",
                        progress: Progress = None) -> int:  # fmt: skip
    """Penn Action official ``train``/``test`` split; poses only, published boxes.

    ``sequence`` is the clip number (0001 -> 1), ``frame`` the 0-based frame;
    ``frame_ref`` is ``frames/NNNN/XXXXXX.jpg`` when the frames folder exists, else "".
    """
    if split not in SPLITS:
        raise ValueError(f"Penn Action split must be 'train' or 'test', got {split!r}")
    clips = [c for c in read_penn_action(source_dir) if c.train == (split == "train")]
    with PreparedWriter(out_path, "penn_action", split, action_classes=PENN_ACTION_CLASSES,
                        source=absolute(source_dir)) as w:  # fmt: skip
        for done, clip in enumerate(clips, 1):
            t = clip.num_frames
            joints, valid = to_model(clip.joints, clip.visible, clip.valid, "penn_action")
            refs = ([os.path.join(clip.frames_dir, f"{i + 1:06d}.jpg") for i in range(t)]
                    if clip.frames_dir else [""] * t)  # fmt: skip
            w.append(joints2d=joints, valid2d=valid, bbox=clip.bbox,
                     action=np.full(t, clip.action_index, np.int16),
                     sequence=np.full(t, int(clip.name), np.int32),
                     frame=np.arange(t, dtype=np.int32), frame_ref=refs)  # fmt: skip
            tick(progress, done, len(clips))
        return w.num_samples
