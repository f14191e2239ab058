"""Measuring a pose network's per-joint 2D error, the noise model of the action recipes.

The measurement runs the network on a prepared file's crops as ``posenet evaluate`` does
and hands the errors to ``posenet.data.pose_noise.summarise_errors``, which builds the
:class:`~posenet.data.pose_noise.PoseNoise` (units and fields: its module docstring).
``weights/pose_noise.json`` holds the shipped pose network's, measured by::

    python -m cli.tools pose-noise --weights weights/mobile_pose.keras \\
        --data datasets/lspet_validation.h5 --out weights/pose_noise.json
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from posenet.data.action_input import VISIBLE, extent
from posenet.data.pose_noise import DEFAULT_NOISE_MODEL, MISS_THRESHOLD, PoseNoise, summarise_errors
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m posenet.data.pose_noise",
        description="Measure a pose network's per-joint 2D error in the action loader's "
                    "units and write it as JSON (see the module docstring).")
    parser.add_argument("--weights", default="weights/mobile_pose.keras")
    parser.add_argument("--data", default="datasets/lspet_validation.h5")
    parser.add_argument("--out", default=str(DEFAULT_NOISE_MODEL))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--miss-threshold", type=float, default=MISS_THRESHOLD)
    args = parser.parse_args(argv)

    from posenet.data.prepared import open_prepared
    from posenet.engine.weights import load_weights
    from posenet.io import sha256_file

    model = load_weights(args.weights).pose
    dataset = open_prepared(args.data)
    try:
        command = ("python -m posenet.data.pose_noise --weights " + args.weights
                   + " --data " + args.data + " --out " + args.out)
        noise = measure(model, dataset, args.batch_size, args.miss_threshold,
                        source={"weights": os.path.basename(args.weights),
                                "weights_sha256": sha256_file(args.weights),
                                "command": command})
    finally:
        dataset.close()
    noise.save(args.out)
    for j, name in enumerate(noise.joints):
        print(f"{name:>11}  sigma {noise.sigma[j]:.4f}  miss {noise.miss_rate[j]:.3f}  "
              f"miss_sigma {noise.miss_sigma[j]:.3f}  hidden {noise.hidden_rate[j]:.3f}"
              + ("" if name in noise.measured else "  (filled)"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
