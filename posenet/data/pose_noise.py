"""How far a pose network's 2D joints fall from the truth, in the action loader's units.

The pose-only action networks train on ground-truth sequences but read the pose network's
predictions at inference.  :class:`PoseNoise` describes the pose network's error per joint
so that :class:`posenet.data.pose_sequences.PoseSequenceLoader` can make ground-truth
sequences look like predicted ones (``loader_options={"noise_model": ...}``).

Units: the error ``(pred - gt) / side`` where ``side`` is the longer side of the square
that ``pose_sequences.normalised_sequence`` (and ``action_input.normalise_window``)
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
  ``action_input.VISIBLE`` (the action network then reads them as missing).

Joints the measurement set does not annotate (LSP has no pelvis, spine or thorax) take
the mean of their neighbours' figures (``_FILL``); ``measured`` says which were measured.

The figures are plain data: ``weights/pose_noise.json`` (written atomically) holds the
shipped pose network's, measured by ``posenet.evaluation.pose_noise`` (its docstring
gives the command); :func:`summarise_errors` turns measured errors into the figures.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from posenet.paths import WEIGHTS_DIR, project_path

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
                                "posenet tools pose-noise)")
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
