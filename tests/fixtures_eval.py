"""Fixtures of the evaluation tests: tiny prepared files and stand-in models whose
predictions the tests choose (so the reported numbers are known in advance)."""

from __future__ import annotations

import cv2
import numpy as np

from posenet.data.augment import crop_transform
from posenet.data.prepared import PreparedDataset, PreparedWriter
from posenet.data.targets import depth_to_normalised
from posenet.engine.inputs import unflip, usable_boxes
from posenet.skeleton import map_joints

#: LSP-like samples: every box is (10, 10, 90, 90), so a 64 px crop has 0.64 crop px per
#: image px; shoulders sit ``h`` px above the hips (20 px apart): torso sqrt(400 + h^2).
LSP_BOX = (10.0, 10.0, 90.0, 90.0)
LSP_HEIGHTS = (15.0, 15.0, 10.0, 10.0)  # torso 25 (PCK threshold 5 px), 22.4 (4.47 px)


def _jpeg(rng, size=(100, 100)) -> bytes:
    ok, buf = cv2.imencode(".jpg", rng.integers(0, 255, (*size, 3), dtype=np.uint8))
    assert ok
    return buf.tobytes()


def lsp_joints(h: float) -> np.ndarray:
    """(14, 3) lsp-layout joints (x, y, visible) with hips at y = 60, shoulders at 60 - h."""
    pts = {"r_ankle": (40, 85), "r_knee": (40, 72), "r_hip": (40, 60), "l_hip": (60, 60),
           "l_knee": (60, 72), "l_ankle": (60, 85), "r_wrist": (30, 55), "r_elbow": (32, 48),
           "r_shoulder": (40, 60 - h), "l_shoulder": (60, 60 - h), "l_elbow": (68, 48),
           "l_wrist": (70, 55), "neck": (50, 60 - h - 3), "head_top": (50, 60 - h - 15)}
    order = ("r_ankle r_knee r_hip l_hip l_knee l_ankle r_wrist r_elbow r_shoulder l_shoulder "
             "l_elbow l_wrist neck head_top").split()
    return np.array([[*pts[j], 1.0] for j in order])


def write_lsp_file(path, rng, dataset="lsp", split="test") -> None:
    joints, valid = map_joints(np.stack([lsp_joints(h) for h in LSP_HEIGHTS]), "lsp", "model17")
    n = len(LSP_HEIGHTS)
    with PreparedWriter(path, dataset, split, embed_images=True) as w:
        w.append(joints2d=joints.astype(np.float32), valid2d=valid,
                 bbox=np.tile(np.array(LSP_BOX, np.float32), (n, 1)),
                 image=[_jpeg(rng) for _ in range(n)], sequence=np.arange(n, dtype=np.int32),
                 frame=np.zeros(n, np.int32))


def crop_targets(path, size: int, num_joints: int, dims: int) -> np.ndarray:
    """The ground truth of every croppable sample as a perfect network would predict it:
    x, y normalised to the sample's crop, z normalised pelvis-relative depth."""
    ds = PreparedDataset(path)
    boxes = ds.arrays("bbox")
    keep = np.flatnonzero(usable_boxes(boxes) & ds.arrays("valid2d").any(1))
    joints = ds.arrays("joints2d", keep)[..., :2].astype(np.float64)
    out = np.zeros((len(keep), 17, dims))
    for row, i in enumerate(keep):
        out[row, :, :2] = crop_transform(boxes[i], size).apply_points(joints[row]) / size
    if dims == 3:
        z = ds.arrays("joints3d", keep)[..., 2].astype(np.float64)
        out[..., 2] = depth_to_normalised(z, z[:, :1])
    ds.close()
    return np.nan_to_num(out[:, :num_joints], nan=0.5)


class FakePoseModel:
    """A single-frame 'network' answering its samples' poses in order, batch after batch.

    ``blocks`` is a list of (N, J, D) normalised predictions, one per block.  With
    ``flip_offset`` (normalised x), the mirrored half of each batch gets the mirror of the
    pose shifted by ``-flip_offset``, the direct half the pose shifted by ``+flip_offset``:
    a flip test then averages the offsets away.
    """

    def __init__(self, blocks, size=64, flip_offset=None):
        self.blocks = [np.asarray(b, np.float32) for b in blocks]
        num, joints, dims = self.blocks[0].shape
        self.input_shapes = {"image": (size, size, 3)}
        self.output_shapes = {f"pose_{k}": (joints, dims) for k in range(1, len(blocks) + 1)}
        self.output_shapes.update({f"visibility_{k}": (joints, 1)
                                   for k in range(1, len(blocks) + 1)})
        self.flip_offset, self.next, self.calls = flip_offset, 0, 0

    def predict_on_batch(self, x):
        x = np.asarray(x)
        assert x.shape[1:] == self.input_shapes["image"] and x.dtype == np.float32
        self.calls += 1
        n = len(x) // 2 if self.flip_offset is not None else len(x)
        rows = slice(self.next, self.next + n)
        self.next += n
        out = {}
        for k, poses in enumerate(self.blocks, 1):
            pose = poses[rows].astype(np.float64)
            if self.flip_offset is not None:
                shift = np.zeros(pose.shape[-1])
                shift[0] = self.flip_offset
                pose = np.concatenate([pose + shift, unflip(pose - shift, pose.shape[-2])])
            out[f"pose_{k}"] = pose.astype(np.float32)
            out[f"visibility_{k}"] = np.ones((*pose.shape[:-1], 1), np.float32)
        return out


class FakeActionModel:
    """A pose-only action 'network' answering given per-clip probabilities in order."""

    def __init__(self, probs, dataset="penn_action", num_frames=4, num_joints=16, blocks=1):
        self.probs = np.asarray(probs, np.float32)
        self.dataset, self.next, self.seen = dataset, 0, []
        classes = self.probs.shape[1]
        self.input_shapes = {"poses": (num_frames, num_joints, 2),
                             "visibility": (num_frames, num_joints, 1)}
        self.output_shapes = {f"action_{dataset}_{k}": (classes,) for k in range(1, blocks + 1)}

    def predict_on_batch(self, x):
        assert set(x) == {"poses", "visibility"}
        assert x["poses"].shape[1:] == self.input_shapes["poses"]
        self.seen.append(x["poses"])
        n = len(x["poses"])
        rows = self.probs[self.next:self.next + n]
        self.next += n
        return {name: rows for name in self.output_shapes}


def write_action_file(path, lengths=(10, 4), labels=(0, 1), dataset="penn_action",
                      split="test1") -> None:
    """Pose-only videos (no images) of the given lengths and action labels."""
    rng = np.random.default_rng(0)
    with PreparedWriter(path, dataset, split, action_classes=("a", "b")) as w:
        for seq, (length, label) in enumerate(zip(lengths, labels, strict=True)):
            joints = np.concatenate([rng.uniform(20, 80, (length, 17, 2)),
                                     np.ones((length, 17, 1))], -1)
            joints[:, 16] = np.nan  # a 2D dataset: no spine
            valid = np.ones((length, 17), bool)
            valid[:, 16] = False
            w.append(joints2d=joints.astype(np.float32), valid2d=valid,
                     bbox=np.tile(np.array([15, 15, 85, 85], np.float32), (length, 1)),
                     action=np.full(length, label, np.int16),
                     sequence=np.full(length, seq, np.int32),
                     frame=np.arange(length, dtype=np.int32)[::-1].copy())
