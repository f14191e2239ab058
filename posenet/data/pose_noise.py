"""How far a pose network's 2D joints fall from the truth, in the action loader's units.

The pose-only action networks train on ground-truth sequences but read the pose network's
predictions at inference.  :class:`PoseNoise` describes the pose network's error per joint
so that :class:`posenet.data.pose_sequences.PoseSequenceLoader` can make ground-truth
sequences look like predicted ones (``loader_options={"noise_model": ...}``).

Units: the error ``(pred - gt) / side`` where ``side`` is the longer side of the square
that ``pose_sequences.normalised_sequence`` (and ``inference.actions.normalise_window``)
normalises by: the box spanning the person's annotated joints and box.  Measured on single
photos, so ``side`` is one frame's person; a window of T frames is normalised by the box
spanning all T, at least as large, so the figures are an upper bound of the error an
action network sees (in its units) when the person moves.

Per joint of the ``model17`` layout:

- ``sigma``: standard deviation of each coordinate's error (x and y pooled) over the
  joints that are not gross misses;
- ``miss_rate``: fraction of annotated joints further than ``miss_threshold`` (in units
  of ``side``) from the truth: the network put the joint somewhere else (the other leg,
  the background);
- ``miss_sigma``: standard deviation of each coordinate's error of those misses;
- ``hidden_rate``: fraction of annotated joints whose predicted visibility is below
  ``inference.actions.VISIBLE`` (the action network then reads them as missing).

Joints the measurement set does not annotate (LSP has no pelvis, spine or thorax) take
the mean of their neighbours' figures (``_FILL``); ``measured`` says which were measured.

The figures are plain data: ``weights/pose_noise.json`` (written atomically) holds the
shipped pose network's, measured by::

    python -m posenet.data.pose_noise --weights weights/mobile_pose.keras \\
        --data datasets/lspet_validation.h5 --out weights/pose_noise.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from posenet.paths import WEIGHTS_DIR, project_path
from posenet.skeleton import get_skeleton

#: The noise model of the shipped default pose network (see the module docstring).
DEFAULT_NOISE_MODEL = WEIGHTS_DIR / "pose_noise.json"
#: Errors beyond this fraction of the person's box side count as gross misses.
MISS_THRESHOLD = 0.15
#: Joints without annotation in the measurement set: the joints whose figures they take.
_FILL = {"pelvis": ("r_hip", "l_hip"), "thorax": ("r_shoulder", "l_shoulder"),
         "spine": ("r_hip", "l_hip", "r_shoulder", "l_shoulder"),
         "neck": ("r_shoulder", "l_shoulder"), "head_top": ("neck",)}


@dataclasses.dataclass(frozen=True)
class PoseNoise:
    """Per-joint 2D error of a pose network (see the module docstring); tuples in the
    order of ``joints``."""

    joints: tuple[str, ...]
    sigma: tuple[float, ...]
    miss_rate: tuple[float, ...]
    miss_sigma: tuple[float, ...]
    hidden_rate: tuple[float, ...]
    miss_threshold: float = MISS_THRESHOLD
    measured: tuple[str, ...] = ()
    source: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        n = len(self.joints)
        for name in ("sigma", "miss_rate", "miss_sigma", "hidden_rate"):
            values = tuple(float(v) for v in getattr(self, name))
            if len(values) != n:
                raise ValueError(f"PoseNoise.{name} has {len(values)} values for {n} joints")
            if not all(np.isfinite(v) and v >= 0 for v in values):
                raise ValueError(f"PoseNoise.{name} must be finite and >= 0, got {values}")
            if name.endswith("rate") and max(values, default=0) > 1:
                raise ValueError(f"PoseNoise.{name} must lie in [0, 1], got {values}")
            object.__setattr__(self, name, values)
        object.__setattr__(self, "joints", tuple(self.joints))
        object.__setattr__(self, "measured", tuple(self.measured))

    def array(self, name, num_joints=None) -> np.ndarray:
        """One figure as a float array over the joints, the first ``num_joints`` of them
        (``model16`` is ``model17`` without ``spine``, its last joint)."""
        values = np.asarray(getattr(self, name), np.float64)
        if num_joints is not None:
            if num_joints > len(values):
                raise ValueError(f"the noise model has {len(values)} joints, not {num_joints}")
            values = values[:num_joints]
        return values

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path) -> None:
        """Write the model as JSON, atomically."""
        from posenet.io import write_json_atomic

        write_json_atomic(path, self.to_json())

    @classmethod
    def from_json(cls, data: dict) -> PoseNoise:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})


def load_noise_model(item=None) -> PoseNoise:
    """A :class:`PoseNoise` from a PoseNoise, a dict, or a JSON path (default: the shipped
    ``weights/pose_noise.json``; a relative path not found from the working folder is
    looked up from the project root)."""
    if isinstance(item, PoseNoise):
        return item
    if isinstance(item, dict):
        return PoseNoise.from_json(item)
    path = Path(DEFAULT_NOISE_MODEL if item is None else os.fspath(item))
    if not path.is_file() and not path.is_absolute():
        path = project_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pose noise model {path} not found (measure it with "
                                "python -m posenet.data.pose_noise)")
    return PoseNoise.from_json(json.loads(path.read_text()))


def summarise_errors(errors, valid, hidden, joints, miss_threshold=MISS_THRESHOLD,
                     source=None) -> PoseNoise:
    """A :class:`PoseNoise` from normalised errors ``errors`` (N, J, 2), the annotated
    joints ``valid`` (N, J) and the predicted-hidden ones ``hidden`` (N, J)."""
    errors = np.asarray(errors, np.float64)
    valid = np.asarray(valid, bool) & np.isfinite(errors).all(-1)
    hidden = np.asarray(hidden, bool)
    dist = np.linalg.norm(np.where(valid[..., None], errors, 0.0), axis=-1)
    miss = valid & (dist > miss_threshold)
    inlier = valid & ~miss
    figures = {k: [] for k in ("sigma", "miss_rate", "miss_sigma", "hidden_rate")}
    measured = []
    for j, name in enumerate(joints):
        n = int(valid[:, j].sum())
        if n < 10:
            for values in figures.values():
                values.append(np.nan)
            continue
        measured.append(name)
        ins, outs = errors[inlier[:, j], j], errors[miss[:, j], j]
        figures["sigma"].append(float(np.sqrt(np.mean(ins ** 2))) if len(ins) else 0.0)
        figures["miss_rate"].append(float(miss[:, j].sum() / n))
        figures["miss_sigma"].append(float(np.sqrt(np.mean(outs ** 2))) if len(outs) else 0.0)
        figures["hidden_rate"].append(float((hidden[:, j] & valid[:, j]).sum() / n))
    index = {name: j for j, name in enumerate(joints)}
    for name in joints:  # fill the unmeasured joints from their neighbours
        if name in measured:
            continue
        fill = [index[n] for n in _FILL.get(name, ()) if n in index and n in measured]
        if not fill:
            fill = [index[n] for n in measured]
        if not fill:
            raise ValueError("no joint has enough annotated samples to measure")
        for values in figures.values():
            values[index[name]] = float(np.mean([values[k] for k in fill]))
    rounded = {k: tuple(round(v, 5) for v in values) for k, values in figures.items()}
    return PoseNoise(tuple(joints), **rounded, miss_threshold=miss_threshold,
                     measured=tuple(measured), source=dict(source or {}))


def measure(model, dataset, batch_size=32, miss_threshold=MISS_THRESHOLD, block=None,
            source=None) -> PoseNoise:
    """The :class:`PoseNoise` of the single-frame pose network ``model`` on a prepared
    file with 2D annotations (its last block, or ``block``): each sample cropped around
    its box as ``posenet evaluate`` does, the prediction taken back to image px and its
    error divided by the side of the sample's normalising square."""
    from posenet.data.pose_sequences import _extent
    from posenet.evaluation.model_spec import frame_model, model_spec
    from posenet.evaluation.predict import crop_batches, layout_name, usable_boxes
    from posenet.inference.actions import VISIBLE

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
        for row, t, p, v in zip(rows, transforms, pose, vis, strict=True):
            i = indices[row]
            gt, ok = joints2d[i, :num_joints], annotated[i, :num_joints]
            x1, y1, x2, y2 = _extent(gt[None], ok[None], boxes[i:i + 1])
            side = max(x2 - x1, y2 - y1, 1e-6)
            errors[row] = (t.invert_points(p * size) - gt[:, :2]) / side
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

    from posenet.evaluation.runner import open_prepared
    from posenet.inference.weights import load_weights
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
