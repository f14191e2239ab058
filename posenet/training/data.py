"""The training and validation loaders of a recipe, with held-out validation sequences.

``validation.holdout = f`` splits the validation file's *sequences* (a sample without a
sequence id counts as its own sequence) with a generator seeded by
``validation.holdout_seed`` (default: the recipe's seed, :func:`holdout_seed`):
``round(f * count)`` of them (at least one) are validated on and never trained on, the
rest are trained on where that file is also a training source.
"""

from __future__ import annotations

import math
import os

import numpy as np

from posenet.data.loader import ClipLoader, FrameLoader, PoseSequenceLoader, Source
from posenet.data.prepared import PreparedDataset

# Keeps the hold-out generator apart from every loader stream of the same seed.
_HOLDOUT_STREAM = 7_919


class DataFileError(ValueError):
    """A dataset file of a recipe is missing or unreadable (the message says how to make it)."""


def resolve(path: str, data_dir) -> str:
    """``path`` under ``data_dir`` unless absolute."""
    return path if os.path.isabs(path) else os.path.join(os.fspath(data_dir), path)


def check_file(path: str) -> None:
    """DataFileError naming ``path`` when it is missing or not a prepared file."""
    hint = "make it with `posenet prepare` (or `make data`), or point --data at its folder"
    if not os.path.isfile(path):
        raise DataFileError(f"dataset file {path} not found; {hint}")
    try:
        ds = PreparedDataset(path)
        len(ds)
        ds.close()
    except Exception as error:  # h5py raises OSError, KeyError... on malformed files
        raise DataFileError(f"dataset file {path} is not a readable prepared file "
                            f"({error}); {hint}") from None


def held_out_keys(path: str, fraction: float, seed: int) -> frozenset:
    """Sequence keys of ``path`` held out for validation (see the module docstring)."""
    ds = PreparedDataset(path)
    keys = np.unique(_keys(ds, np.arange(len(ds))))
    count = min(len(keys), max(1, round(fraction * len(keys))))
    rng = np.random.default_rng((seed, _HOLDOUT_STREAM))
    return frozenset(int(k) for k in rng.choice(keys, count, replace=False))


def _keys(ds: PreparedDataset, samples) -> np.ndarray:
    """Sequence id of each sample; samples without one get ``-1 - index`` (their own)."""
    samples = np.asarray(samples, np.int64)
    seq = ds.arrays("sequence", samples).astype(np.int64)
    return np.where(seq >= 0, seq, -1 - samples)


class _HoldoutMixin:
    """Keeps (``keep_held=True``) or drops the held-out units of the source at ``path``.

    Set by ``holdout = (abs path, keys, keep_held)`` before the loader's ``__init__``
    lists its units; a module-level class, so worker processes can unpickle it.
    """

    holdout = None

    def _units(self, k, ds):
        units = super()._units(k, ds)
        if self.holdout is None or os.path.abspath(ds.path) != self.holdout[0]:
            return units
        _, keys, keep_held = self.holdout
        first = [int(np.atleast_1d(u)[0]) for u in units]
        held = np.isin(_keys(ds, first), list(keys)) if first else np.zeros(0, bool)
        chosen = np.flatnonzero(held == keep_held)
        return units[chosen] if isinstance(units, np.ndarray) else [units[i] for i in chosen]


class HoldoutFrameLoader(_HoldoutMixin, FrameLoader):
    def __init__(self, *args, holdout=None, **kwargs):
        self.holdout = holdout
        super().__init__(*args, **kwargs)


class HoldoutClipLoader(_HoldoutMixin, ClipLoader):
    def __init__(self, *args, holdout=None, **kwargs):
        self.holdout = holdout
        super().__init__(*args, **kwargs)


class HoldoutPoseSequenceLoader(_HoldoutMixin, PoseSequenceLoader):
    def __init__(self, *args, holdout=None, **kwargs):
        self.holdout = holdout
        super().__init__(*args, **kwargs)


LOADER_CLASSES = {"frames": HoldoutFrameLoader, "clips": HoldoutClipLoader,
                  "pose_sequences": HoldoutPoseSequenceLoader}
# Validation draws nothing at random: no augmentation, noise, drops or flips.
_PLAIN_OPTIONS = {"pose_sequences": {"noise": 0.0, "drop": 0.0, "flip": 0.0,
                                      "noise_model": None, "rotate": 0.0, "scale": 0.0,
                                      "span_fraction": 1.0}}


def recipe_files(recipe, data_dir) -> list[str]:
    """Every dataset file a recipe reads, resolved under ``data_dir``."""
    paths = [resolve(s["path"], data_dir) for s in recipe.sources]
    return list(dict.fromkeys([*paths, resolve(recipe.validation["path"], data_dir)]))


def holdout_seed(validation: dict, seed: int) -> int:
    """The seed that draws the held-out part: ``validation["holdout_seed"]``, else the
    run's ``seed``."""
    chosen = validation.get("holdout_seed")
    return int(seed if chosen is None else chosen)


def _holdout(recipe, data_dir, keep_held):
    fraction = recipe.validation.get("holdout")
    if not fraction:
        return None
    path = resolve(recipe.validation["path"], data_dir)
    keys = held_out_keys(path, fraction, holdout_seed(recipe.validation, recipe.seed))
    return os.path.abspath(path), keys, keep_held


def training_loader(recipe, model, data_dir):
    """The recipe's training loader for ``model`` (its held-out part excluded)."""
    sources = [Source(**{**s, "path": resolve(s["path"], data_dir)}) for s in recipe.sources]
    cls = LOADER_CLASSES[recipe.loader]
    multiprocess = recipe.workers > 1
    return cls(sources, model, batch_size=recipe.batch_size, steps=recipe.steps_per_epoch,
               seed=recipe.seed, holdout=_holdout(recipe, data_dir, False),
               workers=recipe.workers, use_multiprocessing=multiprocess,
               **recipe.loader_options)


def validation_loader(recipe, model, data_dir, max_steps=50):
    """A fixed validation loader: epoch 0 of the validation file, nothing random.

    Covers the validation items once (the last batch wraps around) up to
    ``validation.steps`` (default ``max_steps``) batches of ``batch_size``.
    """
    val = recipe.validation
    path = resolve(val["path"], data_dir)
    source = Source(path, action_dataset=val.get("action_dataset"), split=val.get("split"))
    cls = LOADER_CLASSES[recipe.loader]
    options = {**recipe.loader_options, **_PLAIN_OPTIONS.get(recipe.loader, {})}
    loader = cls([source], model, batch_size=recipe.batch_size, steps=1, seed=recipe.seed,
                 holdout=_holdout(recipe, data_dir, True), **options)
    count = len(loader.units[0])
    loader.steps = min(int(val.get("steps", max_steps)),
                       max(1, math.ceil(count / recipe.batch_size)))
    return loader
