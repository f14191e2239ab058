"""Small prepared files and recipes shared by the training tests."""

import numpy as np

from posenet.data.prepared import PreparedWriter
from posenet.data.render_dataset import prepare_builtin_render
from posenet.training import apply_overrides, get_recipe

#: Tiny everything: one training batch per epoch, one validation batch.
FAST = {"steps_per_epoch": 2, "batch_size": 4, "validation.steps": 1}


def render_file(folder):
    """A builtin-render file of 2 clips of 8 frames, 64 px (images, 2D and 3D)."""
    path = folder / "demo.h5"
    prepare_builtin_render(path, num_clips=2, frames=8, size=64)
    return path


def sequence_file(folder, sequences=10, frames=12, classes=("wave", "jump", "sit")):
    """Pose sequences without images: each class moves one wrist its own way."""
    rng = np.random.default_rng(3)
    n = sequences * frames
    seq = np.repeat(np.arange(sequences), frames).astype(np.int32)
    label = (seq % len(classes)).astype(np.int16)
    joints = np.zeros((n, 17, 3), np.float32)
    joints[..., 0] = rng.uniform(40, 160, (n, 17))
    joints[..., 1] = rng.uniform(30, 130, (n, 17))
    joints[..., 2] = 1
    t = np.tile(np.arange(frames), sequences)
    joints[:, 8, 1] += 20 * np.sin(t * (1 + label))
    box = np.concatenate([joints[..., :2].min(1), joints[..., :2].max(1)], 1)
    path = folder / "poses.h5"
    with PreparedWriter(path, "toy", "train", action_classes=classes, compression=None) as w:
        w.append(joints2d=joints, valid2d=np.ones((n, 17), bool), bbox=box, sequence=seq,
                 frame=t.astype(np.int32), action=label)
    return path


def tiny_recipe(**overrides):
    """The ``tiny`` recipe with :data:`FAST` and ``overrides`` (dotted keys)."""
    return apply_overrides(get_recipe("tiny"), {**FAST, **overrides})


def action_recipe(**overrides):
    """cpu_actions_penn shrunk to 4 frames and one block, on ``poses.h5``."""
    return apply_overrides(get_recipe("cpu_actions_penn"), {
        **FAST, "sources": [{"path": "poses.h5", "action_dataset": "toy"}],
        "validation": {"path": "poses.h5", "holdout": 0.3, "action_dataset": "toy",
                       "steps": 1},
        "model": {"actions": {"toy": None}, "num_frames": 4, "num_joints": 16,
                  "pose_dims": 2, "num_blocks": 1, "pose_width": 0.25},
        "tensorboard": False, **overrides})


def diverging_file(folder):
    """``demo.h5`` (as :func:`render_file`) whose 3D depths are ~1e35 mm apart: the depth
    loss overflows float32, so the first training batch's loss is not finite."""
    import h5py

    path = render_file(folder)
    with h5py.File(path, "r+") as f:
        joints3d = f["joints3d"][...]
        joints3d[..., 2] *= 1e33  # still finite in float32
        f["joints3d"][...] = joints3d
    return path
