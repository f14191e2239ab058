"""The pose stage: person crops -> the pose network -> joints in image px (and mm).

Each (frame, box) is cropped and resized to the network's S px
(``posenet.engine.inputs.crop_people``), the crops go through the runtime in batches, and
the joints come back to the frame through the inverse crop transform
(``posenet.engine.inputs.to_image``).

Coordinates: 2D joints in image px with the visibility as confidence. 3D joints (3D
models) are root-relative mm under a weak-perspective assumption: the crop's side spans
``crop_side_mm`` (2000 mm by default, the span of the normalised depth axis), so x, y
offsets from the pelvis in the crop scale to mm by that factor, and z comes from
``depth_to_mm`` relative to the pelvis.
"""

from __future__ import annotations

import numpy as np

from posenet.data.augment import DEFAULT_MARGIN
from posenet.data.targets import DEPTH_RANGE_MM, PELVIS, depth_to_mm
from posenet.engine.inputs import batched, crop_people, to_image
from posenet.outputs import PERSON_CENTER, PERSON_REGRESS, pose_output, visibility_output


class PoseStage:
    """The pose network on person crops.

    Args:
        runtime: what runs the network (``predict(uint8 BGR crops) -> {name: array}``;
            ``posenet.engine.runtimes``).
        block: the pose block whose outputs are read.
        size: the network's input side S (px).
        num_joints, dims: joints per pose and coordinates per joint (2 or 3).
        batch_size: crops per network call.
        crop_side_mm: mm spanned by a crop's side (weak perspective; 3D joints).
    """

    def __init__(self, runtime, block, size, num_joints, dims, batch_size,
                 crop_side_mm=DEPTH_RANGE_MM):
        self.runtime, self.block = runtime, int(block)
        self.size, self.num_joints, self.dims = size, num_joints, dims
        self.batch_size, self.crop_side_mm = int(batch_size), crop_side_mm

    @staticmethod
    def outputs_read(block, heads=False) -> list[str]:
        """The names of the outputs the pipeline reads from pose block ``block`` (with
        ``heads``, the person heads too), so that a runtime computes no other: a mobile
        network's person heads cost time."""
        needed = [pose_output(block), visibility_output(block)]
        return needed + [PERSON_CENTER, PERSON_REGRESS] if heads else needed

    def network_outputs(self, crops_bgr, names=None) -> dict:
        """The outputs ``names`` (default: all) of the network, name -> (N, ...) array, on
        uint8 BGR crops."""
        parts: dict[str, list] = {}
        for batch in batched(crops_bgr, self.batch_size):
            out = self.runtime.predict(batch)
            for name in names or out:
                parts.setdefault(name, []).append(np.asarray(out[name]))
        return {name: np.concatenate(v) for name, v in parts.items()}

    def run_network(self, crops_bgr):
        """(pose (N, J, D), visibility (N, J)) of uint8 BGR crops (N, S, S, 3); x, y
        normalised to the crop."""
        pose, vis = pose_output(self.block), visibility_output(self.block)
        out = self.network_outputs(crops_bgr, (pose, vis))
        return out[pose], out[vis][..., 0]

    def estimate(self, frames, boxes, margin=DEFAULT_MARGIN) -> list[dict]:
        """One pose per (frame, box): dicts with ``joints2d`` (J, 3) image px and
        confidence, ``z`` (J,) normalised depth or None, ``score`` (mean confidence),
        ``joints3d`` (J, 3) root-relative mm or None, and ``crop`` (the uint8 crop)."""
        if not len(frames):
            return []
        transforms, crops = crop_people(frames, boxes, self.size, margin=margin)
        poses, vis = self.run_network(crops)
        # scaled to crop px in the network's float32, then inverted (as it always was)
        xys = to_image(poses, transforms, self.size)
        results = []
        for xy, pose, v, crop in zip(xys, poses, vis, crops, strict=True):
            joints2d = np.concatenate([xy, v[:, None]], axis=1)
            joints3d, z = None, None
            if self.dims == 3:
                z = pose[:, 2].astype(np.float64)
                joints3d = np.empty((self.num_joints, 3))
                joints3d[:, :2] = (pose[:, :2] - pose[PELVIS, :2]) * self.crop_side_mm
                joints3d[:, 2] = depth_to_mm(z, 0.0) - depth_to_mm(z[PELVIS], 0.0)
            results.append({"joints2d": joints2d, "joints3d": joints3d, "z": z,
                            "score": float(v.mean()), "crop": crop})
        return results
