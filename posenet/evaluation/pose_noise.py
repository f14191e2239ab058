"""Measuring a pose network's per-joint 2D error, the noise model of the action recipes.

The measurement runs the network on a prepared file's crops as ``posenet evaluate`` does
and hands the errors to ``posenet.data.pose_noise.summarise_errors``, which builds the
:class:`~posenet.data.pose_noise.PoseNoise` (units and fields: its module docstring).
``weights/pose_noise.json`` holds the shipped pose network's, measured by::

    posenet tools pose-noise --weights weights/mobile_pose.keras \\
        --data datasets/lspet_validation.h5 --out weights/pose_noise.json
"""

from __future__ import annotations

import os

import numpy as np

from posenet.data.action_input import VISIBLE, extent
from posenet.data.pose_noise import MISS_THRESHOLD, PoseNoise, summarise_errors
from posenet.engine.inputs import crop_batches, to_image, usable_boxes
from posenet.evaluation.model_spec import frame_model, model_spec
from posenet.skeleton import get_skeleton, layout_name


def measure(model, dataset, batch_size=32, miss_threshold=MISS_THRESHOLD, block=None,
            source=None) -> PoseNoise:
    """The :class:`PoseNoise` of the single-frame pose network ``model`` on a prepared
    file with 2D annotations (its last block, or ``block``): each sample cropped around
    its box as ``posenet evaluate`` does, the prediction taken back to image px and its
    error divided by the side of the sample's normalising square."""
    spec = model_spec(model)
    network = frame_model(model, spec)
    block = spec.pose_blocks if block is None else int(block)
    joints2d = dataset.arrays("joints2d").astype(np.float64)
    annotated = dataset.arrays("valid2d") & np.isfinite(joints2d[..., :2]).all(-1)
    boxes = dataset.arrays("bbox")
    indices = np.flatnonzero(usable_boxes(boxes) & annotated.any(1))
    num_joints = spec.num_joints
    errors = np.full((len(indices), num_joints, 2), np.nan)
    hidden = np.zeros((len(indices), num_joints), bool)
    size = spec.input_size
    for rows, transforms, x in crop_batches(dataset, indices, size, batch_size):
        out = network.predict_on_batch(x)
        pose = np.asarray(out[f"pose_{block}"], np.float64)[..., :2]
        vis = np.asarray(out[f"visibility_{block}"], np.float64)[..., 0]
        for row, xy, v in zip(rows, to_image(pose, transforms, size), vis, strict=True):
            i = indices[row]
            gt, ok = joints2d[i, :num_joints], annotated[i, :num_joints]
            x1, y1, x2, y2 = extent(gt[None], ok[None], boxes[i:i + 1])
            side = max(x2 - x1, y2 - y1, 1e-6)
            errors[row] = (xy - gt[:, :2]) / side
            hidden[row] = v < VISIBLE
    joints = get_skeleton(layout_name(num_joints)).joints
    valid = annotated[indices, :num_joints]
    info = {"file": os.path.basename(str(dataset.path)), "samples": int(len(indices)),
            "block": block, **(source or {})}
    return summarise_errors(errors, valid, hidden, joints, miss_threshold, info)


def measure_file(weights, data, batch_size=32, miss_threshold=MISS_THRESHOLD,
                 command=None) -> PoseNoise:
    """:func:`measure` of the pose network of ``weights`` (any form ``--weights`` takes) on
    the prepared file at ``data``; its ``source`` names the weights file, its checksum and
    ``command`` (what reproduces it)."""
    from posenet.data.prepared import open_prepared
    from posenet.engine.weights import load_weights
    from posenet.io import sha256_file

    model = load_weights(weights).pose
    dataset = open_prepared(data)
    try:
        return measure(model, dataset, batch_size, miss_threshold,
                       source={"weights": os.path.basename(weights),
                               "weights_sha256": sha256_file(weights),
                               **({"command": command} if command else {})})
    finally:
        dataset.close()
