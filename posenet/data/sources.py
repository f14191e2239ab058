"""Training sources and the mixing machinery shared by the loaders (``posenet.data.loader``).

A loader draws every batch from several prepared files in fixed proportions.  Over an epoch
of ``steps`` batches of ``B`` items, source ``s`` of proportion ``p_s`` gets
``floor(B * p_s)`` items in every batch, and the remaining slots are dealt out (shuffled)
so that its epoch total is ``steps * B * p_s`` rounded by largest remainder: exact
proportions whenever that product is an integer.  Each source's items (samples or
sequences) are visited in a fresh random order every epoch, wrapping around when a source
has fewer items than the epoch asks for.

Everything random depends only on ``(seed, epoch, batch index)``, so worker processes
produce the very batches the main process would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import cv2
import keras
import numpy as np

from posenet.data.augment import AugmentConfig, augment_config
from posenet.data.prepared import PreparedDataset
from posenet.outputs import action_dataset, output_kind

# Stream tags above any batch index: the epoch plan's generators never coincide with the
# per-batch generators ``default_rng((seed, epoch, index))``.
_PLAN_STREAM = 2**32


@dataclass(frozen=True)
class Source:
    """One prepared file of a training mix.

    ``path``: the prepared HDF5 file.  ``weight``: its proportion of every batch (relative to
    the other sources' weights).  ``augment``: a preset name of ``AUGMENT_DEFAULTS`` or an
    AugmentConfig.  ``action_dataset``: the dataset of the action outputs its labels train
    (``action_<action_dataset>_k``); None leaves every action target of its items empty.
    ``split``: when given, the file's ``split`` attribute must equal it (guards mix-ups).
    """

    path: str | os.PathLike
    weight: float = 1.0
    augment: str | AugmentConfig = "none"
    action_dataset: str | None = None
    split: str | None = None

    def augment_config(self) -> AugmentConfig:
        if isinstance(self.augment, AugmentConfig):
            return self.augment
        return augment_config(self.augment)


@dataclass(frozen=True)
class OutputSpec:
    """What a loader must produce: supervised output names and target geometry.

    ``pose_dims`` D and ``num_joints`` J of the pose outputs, ``num_classes`` per action
    dataset, ``input_shapes`` (without the batch axis) when known from a model.
    """

    names: tuple[str, ...]
    pose_dims: int | None = None
    num_joints: int | None = None
    num_classes: dict[str, int] = field(default_factory=dict)
    input_shapes: dict[str, tuple] = field(default_factory=dict)

    @property
    def action_datasets(self) -> tuple[str, ...]:
        found = [action_dataset(n) for n in self.names if _kind(n) == "action"]
        return tuple(dict.fromkeys(found))


def _kind(name: str) -> str | None:
    try:
        return output_kind(name)
    except ValueError:
        return None


def output_spec(outputs, pose_dims=None, num_joints=None, num_classes=None) -> OutputSpec:
    """The OutputSpec of a Keras model, or of a list of output names plus explicit geometry.

    With a model, D, J and the class counts are read from its output shapes (explicit
    arguments must agree).  With names, ``pose_dims`` and ``num_joints`` are required when
    a pose output is present; missing class counts may be filled later from the sources.
    """
    classes = dict(num_classes or {})
    if hasattr(outputs, "output"):
        model_out = outputs.output
        if not isinstance(model_out, dict):
            model_out = dict(zip(outputs.output_names, outputs.outputs, strict=True))
        model_in = outputs.input
        if not isinstance(model_in, dict):
            model_in = {t.name: t for t in outputs.inputs}
        shapes = {k: tuple(t.shape[1:]) for k, t in model_in.items()}
        found = {}
        for name, tensor in model_out.items():
            kind = _kind(name)
            if kind == "pose":
                found.update(num_joints=tensor.shape[-2], pose_dims=tensor.shape[-1])
            elif kind == "action":
                classes.setdefault(action_dataset(name), int(tensor.shape[-1]))
        if "poses" in shapes:  # the pose-only action network reads poses as input
            found.setdefault("num_joints", shapes["poses"][-2])
            found.setdefault("pose_dims", shapes["poses"][-1])
        for key, given in (("pose_dims", pose_dims), ("num_joints", num_joints)):
            if given is not None and found.get(key, given) != given:
                raise ValueError(f"{key}={given} disagrees with the model's {found[key]}")
        return OutputSpec(tuple(model_out), found.get("pose_dims", pose_dims),
                          found.get("num_joints", num_joints), classes, shapes)
    names = tuple(outputs)
    if any(_kind(n) == "pose" for n in names) and (pose_dims is None or num_joints is None):
        raise ValueError("pose outputs given by name need pose_dims and num_joints "
                         "(or pass the model instead of its output names)")
    return OutputSpec(names, pose_dims, num_joints, classes)


def _apportion(total: int, shares) -> np.ndarray:
    """Integers summing to ``total`` proportional to ``shares`` (largest remainder)."""
    shares = np.asarray(shares, np.float64)
    if total == 0 or shares.sum() <= 0:
        return np.zeros(len(shares), np.int64)
    exact = total * shares / shares.sum()
    out = np.floor(exact + 1e-9).astype(np.int64)
    # Ties go to the earlier source (stable sort), so the result is reproducible.
    order = np.argsort(-(exact - out), kind="stable")
    out[order[: total - out.sum()]] += 1
    return out


def read_images(dataset: PreparedDataset, indices) -> list[np.ndarray]:
    """Decoded (H, W, 3) uint8 BGR images of samples ``indices`` (repeats decoded once).

    Embedded ``image`` bytes are decoded with OpenCV; samples without them are read through
    their ``frame_ref`` with ``posenet.data.frames.read_frame``.
    """
    indices = np.asarray(indices, np.int64)
    uniq, inverse = np.unique(indices, return_inverse=True)
    has_bytes = "image" in dataset.names
    blobs = dataset.arrays("image", uniq) if has_bytes else [np.zeros(0, np.uint8)] * len(uniq)
    refs = None
    decoded = []
    for k, blob in enumerate(blobs):
        if len(blob):
            image = cv2.imdecode(np.asarray(blob, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise ValueError(f"{dataset.path}: sample {uniq[k]} holds no decodable image")
        else:
            # Imported here: the frame reader is optional for embedded-image files.
            from posenet.data.frames import read_frame

            refs = dataset.arrays("frame_ref", uniq) if refs is None else refs
            if not refs[k]:
                raise ValueError(f"{dataset.path}: sample {uniq[k]} has no image nor frame_ref")
            image = read_frame(refs[k])
        decoded.append(image)
    return [decoded[k] for k in inverse]


class MixedLoader(keras.utils.PyDataset):
    """Base of the loaders: sources, proportions, epochs and the per-batch plan.

    Subclasses implement ``_units(source_index, dataset)`` (the items one batch slot can
    draw: sample indices or sequences) and ``__getitem__``.  ``on_epoch_end`` advances the
    epoch (Keras sends the updated loader to fresh workers each epoch).
    """

    def __init__(self, sources, batch_size: int, steps: int, seed: int = 0, workers: int = 1,
                 use_multiprocessing: bool = False, max_queue_size: int = 10):
        super().__init__(workers=workers, use_multiprocessing=use_multiprocessing,
                         max_queue_size=max_queue_size)
        self.sources = tuple(s if isinstance(s, Source) else Source(s) for s in sources)
        if not self.sources:
            raise ValueError("a loader needs at least one source")
        if batch_size < 1 or steps < 1 or seed < 0:
            raise ValueError(f"need batch_size, steps >= 1 and seed >= 0; got "
                             f"{batch_size}, {steps}, {seed}")
        self.batch_size, self.steps, self.seed, self.epoch = int(batch_size), int(steps), seed, 0
        weights = np.array([s.weight for s in self.sources], np.float64)
        if not (np.isfinite(weights).all() and (weights >= 0).all() and weights.sum() > 0):
            raise ValueError(f"source weights must be >= 0 with a positive sum, got {weights}")
        self.proportions = weights / weights.sum()
        self.datasets = [PreparedDataset(s.path) for s in self.sources]
        for src, ds in zip(self.sources, self.datasets, strict=True):
            if src.split is not None and ds.attrs.get("split") != src.split:
                raise ValueError(f"{ds.path}: split {ds.attrs.get('split')!r}, "
                                 f"expected {src.split!r}")
        self.configs = [s.augment_config() for s in self.sources]
        self.units = [self._units(k, ds) for k, ds in enumerate(self.datasets)]
        for k, units in enumerate(self.units):
            if self.proportions[k] > 0 and not len(units):
                raise ValueError(f"{self.datasets[k].path}: no usable item for this loader")
        self._plan_cache = None

    def _units(self, source_index: int, dataset: PreparedDataset):
        raise NotImplementedError

    def __len__(self) -> int:
        return self.steps

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def batch_rng(self, index: int) -> np.random.Generator:
        """The generator of batch ``index`` of the current epoch."""
        return np.random.default_rng((self.seed, self.epoch, int(index)))

    def _epoch_plan(self):
        """(counts (steps, S), offsets (steps, S), per-source item orders) of this epoch."""
        if self._plan_cache is not None and self._plan_cache[0] == self.epoch:
            return self._plan_cache[1]
        b, n = self.batch_size, len(self.sources)
        base = np.floor(b * self.proportions + 1e-9).astype(np.int64)
        spare = b - int(base.sum())
        extras = _apportion(self.steps * spare, np.maximum(b * self.proportions - base, 0))
        rng = np.random.default_rng((self.seed, self.epoch, _PLAN_STREAM))
        dealt = rng.permutation(np.repeat(np.arange(n), extras)).reshape(self.steps, spare)
        counts = base[None, :] + (dealt[..., None] == np.arange(n)).sum(axis=1)
        offsets = np.cumsum(counts, axis=0) - counts
        orders = [np.random.default_rng((self.seed, self.epoch, _PLAN_STREAM + 1 + k))
                  .permutation(len(units)) for k, units in enumerate(self.units)]
        plan = (counts, offsets, orders)
        self._plan_cache = (self.epoch, plan)
        return plan

    def epoch_counts(self) -> np.ndarray:
        """(steps, S) items of each source in each batch of the current epoch."""
        return self._epoch_plan()[0].copy()

    def plan(self, index: int) -> list[tuple[int, object]]:
        """The (source index, unit) of every slot of batch ``index``, grouped by source."""
        if not 0 <= index < self.steps:
            raise IndexError(f"batch {index} outside 0..{self.steps - 1}")
        counts, offsets, orders = self._epoch_plan()
        slots = []
        for k, units in enumerate(self.units):
            pos = (offsets[index, k] + np.arange(counts[index, k])) % max(len(units), 1)
            slots.extend((k, units[orders[k][p]]) for p in pos)
        return slots

    def action_targets(self, labels, source_ids, num_classes: dict) -> dict:
        """``{action_<ds>: (B, C)}``: one-hot rows for items whose source trains ``ds``."""
        out = {}
        for ds, classes in num_classes.items():
            hot = np.zeros((len(labels), classes), np.float32)
            for row, (label, k) in enumerate(zip(labels, source_ids, strict=True)):
                if self.sources[k].action_dataset == ds and 0 <= label < classes:
                    hot[row, label] = 1.0
                elif self.sources[k].action_dataset == ds and label >= classes:
                    raise ValueError(f"action {label} outside the {classes} classes of {ds}")
            out[f"action_{ds}"] = hot
        return out

    def class_counts(self, spec: OutputSpec) -> dict[str, int]:
        """Classes of every action dataset of ``spec``, filled from the sources' files."""
        classes = dict(spec.num_classes)
        for src, ds in zip(self.sources, self.datasets, strict=True):
            if src.action_dataset in spec.action_datasets:
                classes.setdefault(src.action_dataset, len(ds.attrs.get("action_classes", [])))
        missing = [d for d in spec.action_datasets if not classes.get(d)]
        if missing:
            raise ValueError(f"unknown class counts of action outputs {missing}: pass "
                             "num_classes or a model")
        return {d: classes[d] for d in spec.action_datasets}
