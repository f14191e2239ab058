"""How far people's limb joints move between two frames: the gating stage's threshold.

Measured on ground truth, the Penn Action training clips (30 frames/s): per clip, the torso
is the median distance from the shoulders' midpoint to the hips' over the frames where all
four are visible; each limb joint visible in two consecutive frames gives one move, in
torso lengths. ``posenet.inference.gating.MAX_JUMP`` is the 99.9th percentile::

    posenet tools joint-speed --data ../shared/data/penn_action
"""

from __future__ import annotations

import numpy as np

#: Penn Action's limb joints (its layout: head, then l/r shoulder, elbow, wrist, hip,
#: knee, ankle) and the shoulders' and hips' indices.
PENN_LIMBS = tuple(range(1, 13))
PENN_SHOULDERS, PENN_HIPS = (1, 2), (7, 8)


def clip_moves(joints, visible, limbs=PENN_LIMBS, shoulders=PENN_SHOULDERS,
               hips=PENN_HIPS) -> np.ndarray:
    """The moves (torso lengths) of the ``limbs`` joints between consecutive frames of one
    clip: ``joints`` (T, J, 2) px, ``visible`` (T, J) bool. Empty when the clip has fewer
    than 3 frames with both shoulders and hips visible."""
    joints = np.asarray(joints, np.float64)
    visible = np.asarray(visible, bool) & np.isfinite(joints).all(-1)
    trunk = visible[:, list(shoulders) + list(hips)].all(1)
    if trunk.sum() < 3:
        return np.zeros(0)
    centre = joints[:, list(shoulders)].mean(1) - joints[:, list(hips)].mean(1)
    torso = float(np.median(np.linalg.norm(centre, axis=1)[trunk]))
    if not torso > 0:
        return np.zeros(0)
    limbs = list(limbs)
    moves = np.linalg.norm(joints[1:, limbs] - joints[:-1, limbs], axis=-1) / torso
    both = visible[1:, limbs] & visible[:-1, limbs]
    return moves[both]


def penn_moves(root, split="train") -> np.ndarray:
    """Every limb joint move of the Penn Action clips of ``split`` (``train``, ``test``)
    under ``root`` (the dataset's folder with ``labels/``)."""
    from posenet.data.readers.penn_action import read_penn_action

    clips = [c for c in read_penn_action(root) if c.train == (split == "train")]
    parts = [clip_moves(c.joints, c.visible & c.valid) for c in clips]
    return np.concatenate(parts) if parts else np.zeros(0)


def percentiles(moves, levels=(50, 90, 99, 99.9, 99.99)) -> dict[float, float]:
    """``{level: the moves' percentile}`` (torso lengths per frame)."""
    moves = np.asarray(moves, np.float64)
    if not len(moves):
        raise ValueError("no joint moves to measure")
    return {float(p): float(np.percentile(moves, p)) for p in levels}
