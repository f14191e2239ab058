"""The training configuration (:class:`Recipe`) and how it is overridden and written.

A recipe is a frozen dataclass of plain values (str, numbers, lists, dicts), so it goes
to and from JSON unchanged: ``RUN_DIR/config.json`` holds the resolved recipe of a run.
Overrides are ``{dotted.key: value}`` pairs (``--set model.input_size=64``,
``--set sources.0.weight=2``); a value is parsed as JSON when it can be, else kept as a
string.
"""

from __future__ import annotations

import copy
import dataclasses
import json

LOADERS = ("frames", "clips", "pose_sequences")
METRICS = ("pckh", "pck", "mpjpe", "accuracy")
OPTIMIZERS = ("rmsprop", "sgd", "adam", "adamw")
LR_SCHEDULES = ("step", "cosine")
#: The model of a pose-only action recipe: ``ActionNetwork(**model)`` instead of a preset.
ACTION_NETWORK = "action_network"
SOURCE_KEYS = ("path", "weight", "augment", "action_dataset", "split")
VALIDATION_KEYS = ("path", "holdout", "holdout_seed", "split", "action_dataset", "steps")


def source(path, augment="none", weight=1.0, action_dataset=None, split=None) -> dict:
    """One entry of ``Recipe.sources`` (keys :data:`SOURCE_KEYS`; the optional ones only
    when given)."""
    out = {"path": path, "weight": weight, "augment": augment}
    if action_dataset:
        out["action_dataset"] = action_dataset
    if split:
        out["split"] = split
    return out


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything a training run needs, in plain values.

    Fields (units in brackets):

    - ``name``, ``description``: what it trains, the command and the result to expect.
    - ``preset``: a ``posenet.models`` preset, or ``"action_network"`` for the pose-only
      ActionNetwork; ``model``: the preset's overrides (``build_model(preset, **model)``),
      or the ActionNetwork's arguments (an ``actions`` class count of ``null`` is read
      from the first source's ``action_classes``).
    - ``sources``: training files, each ``{path, weight, augment, action_dataset, split}``
      (a ``posenet.data.loader.Source``); relative paths are under the data folder.
    - ``validation``: ``{path, holdout, split, action_dataset, steps}``; ``holdout`` (a
      fraction) keeps a seeded part of the file's sequences out of training and validates
      on them, so no test split is ever used to choose a model; ``holdout_seed`` draws
      that part (default: ``seed``), so runs of several seeds can share one held-out part
      (an ensemble's members). ``metric``: ``pckh``,
      ``pck``, ``mpjpe`` or ``accuracy`` (see ``posenet.training.validation``).
    - ``loader``: ``frames``, ``clips`` or ``pose_sequences``; ``loader_options``: extra
      loader arguments (``noise``, ``drop``, ``stride``...); ``workers``: loader workers.
    - ``batch_size`` [items], ``steps_per_epoch`` [batches], ``epochs``.
    - ``optimizer`` (``rmsprop``, ``sgd``, ``adam``, ``adamw``), ``lr``, ``momentum`` and
      ``nesterov`` (SGD), ``weight_decay`` (AdamW's decoupled decay); ``lr_schedule``:
      ``step`` (``lr_drops`` [epochs, 0-based] where the rate is multiplied by
      ``lr_factor``) or ``cosine`` (from ``lr`` at epoch 0 towards 0 after ``epochs``).
    - ``frozen``: layer-name prefixes made non-trainable (``pose_network`` freezes the
      pose part of a multitask model). ``init_weights``: a ``.keras`` model whose
      same-named layers initialise this one (earlier stages); relative to the working
      folder. ``action_weights`` ``{dataset: weight}`` and ``loss_weights``
      ``{pose|visibility: weight}`` override the method's loss weights.
    - ``seed``: model initialisation and every loader draw. ``tensorboard``: also log there.
    """

    name: str
    description: str
    preset: str
    sources: list
    validation: dict
    metric: str
    loader: str = "frames"
    model: dict = dataclasses.field(default_factory=dict)
    loader_options: dict = dataclasses.field(default_factory=dict)
    batch_size: int = 32
    steps_per_epoch: int = 1000
    epochs: int = 10
    optimizer: str = "rmsprop"
    lr: float = 1e-3
    momentum: float = 0.0
    nesterov: bool = False
    lr_drops: list = dataclasses.field(default_factory=list)
    lr_factor: float = 0.2
    lr_schedule: str = "step"
    weight_decay: float = 0.0
    frozen: list = dataclasses.field(default_factory=list)
    init_weights: str | None = None
    action_weights: dict = dataclasses.field(default_factory=dict)
    loss_weights: dict = dataclasses.field(default_factory=dict)
    seed: int = 0
    workers: int = 1
    tensorboard: bool = True

    def __post_init__(self):
        check(self)

    def to_dict(self) -> dict:
        """A JSON-ready deep copy of the fields."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(Recipe))


def _fail(recipe, message):
    raise ValueError(f"recipe {recipe.name!r}: {message}")


#: Allowed ranges of the numeric recipe fields: (integer?, low, high, low is exclusive).
#: Wide enough for any real run, narrow enough to refuse a typo before a model is built
#: (``model.num_blocks=99`` used to build for many minutes).
RANGES = {
    "batch_size": (True, 1, 4096, False),
    "steps_per_epoch": (True, 1, 1_000_000, False),
    "epochs": (True, 1, 10_000, False),
    "workers": (True, 1, 64, False),
    "seed": (True, 0, 2**32 - 1, False),
    "lr": (False, 0.0, 1.0, True),
    "lr_factor": (False, 0.0, 1.0, True),
    "momentum": (False, 0.0, 0.999, False),
    "weight_decay": (False, 0.0, 1.0, False),
}
#: Ranges of the ``model`` keys: pose network presets (``build_model``) and ActionNetwork.
MODEL_RANGES = {
    "input_size": (True, 32, 512, False),
    "num_blocks": (True, 1, 8, False),
    "num_joints": (True, 1, 32, False),
    "kernel_size": (True, 1, 9, False),
    "num_features": (True, 1, 2048, False),
    "depth_maps": (True, 0, 64, False),
    "context_maps": (True, 0, 8, False),
    "num_frames": (True, 1, 64, False),
    "filters": (True, 1, 512, False),
    "clip_span": (True, 1, 4096, False),
    "frame_rate": (False, 0.0, 1000.0, True),
    "pose_dims": (True, 2, 3, False),
    "stem_width": (False, 0.0, 4.0, True),
    "pose_width": (False, 0.0, 4.0, True),
    "alpha": (False, 0.0, 4.0, True),
    "bn_momentum": (False, 0.0, 1.0, True),
}
VALIDATION_STEPS = (True, 1, 10_000, False)


def _range_error(key, value, rule) -> str | None:
    """The message for ``value`` of ``key`` outside ``rule`` (see RANGES), else None."""
    integer, low, high, open_low = rule
    kind = int if integer else (int, float)
    ok = (isinstance(value, kind) and not isinstance(value, bool)
          and (value > low if open_low else value >= low) and value <= high)
    if ok:
        return None
    interval = f"{'(' if open_low else '['}{low}, {high}]"
    what = "an integer" if integer else "a number"
    return f"{key} must be {what} in {interval}, got {value!r}"


def _check_model(recipe) -> None:
    if not isinstance(recipe.model, dict):
        _fail(recipe, f"model must be a dict of network arguments, got {recipe.model!r}")
    for key, rule in MODEL_RANGES.items():
        if key in recipe.model:
            message = _range_error(f"model.{key}", recipe.model[key], rule)
            if message:
                _fail(recipe, message)
    size = recipe.model.get("input_size")
    if size is not None and size % 32:
        _fail(recipe, f"model.input_size must be a multiple of 32 in [32, 512], got {size!r}")


def _check_weights(recipe, field) -> None:
    weights = getattr(recipe, field)
    if not isinstance(weights, dict):
        _fail(recipe, f"{field} must be a dict of weights, got {weights!r}")
    for key, value in weights.items():
        message = _range_error(f"{field}.{key}", value, (False, 0.0, 1e6, False))
        if message:
            _fail(recipe, message)


def check(recipe: Recipe) -> None:
    """ValueError naming the first field of ``recipe`` that is out of range.

    The message names the key, its value and the allowed range (:data:`RANGES`,
    :data:`MODEL_RANGES`).
    """
    for field, allowed in (("loader", LOADERS), ("metric", METRICS),
                           ("optimizer", OPTIMIZERS), ("lr_schedule", LR_SCHEDULES)):
        if getattr(recipe, field) not in allowed:
            _fail(recipe, f"{field} must be one of {', '.join(allowed)}, "
                          f"got {getattr(recipe, field)!r}")
    for field, rule in RANGES.items():
        message = _range_error(field, getattr(recipe, field), rule)
        if message:
            _fail(recipe, message)
    if not isinstance(recipe.lr_drops, list | tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0
            for d in recipe.lr_drops):
        _fail(recipe, f"lr_drops must be a list of epochs (integers >= 0), "
                      f"got {recipe.lr_drops!r}")
    _check_model(recipe)
    _check_weights(recipe, "loss_weights")
    _check_weights(recipe, "action_weights")
    if not isinstance(recipe.sources, list | tuple) or not recipe.sources:
        _fail(recipe, "sources must be a non-empty list of {path, weight, ...}")
    for source in recipe.sources:
        if not isinstance(source, dict) or "path" not in source:
            _fail(recipe, f"a source must be a dict with a path, got {source!r}")
        unknown = set(source) - set(SOURCE_KEYS)
        if unknown:
            _fail(recipe, f"unknown source keys {sorted(unknown)}; valid: {SOURCE_KEYS}")
    unknown = set(recipe.validation) - set(VALIDATION_KEYS)
    if unknown or "path" not in recipe.validation:
        _fail(recipe, f"validation needs a path and takes {VALIDATION_KEYS}, "
                      f"got {recipe.validation!r}")
    holdout = recipe.validation.get("holdout")
    if holdout is not None and not (isinstance(holdout, int | float) and 0 < holdout < 1):
        _fail(recipe, f"validation holdout must be a fraction in (0, 1), got {holdout!r}")
    holdout_seed = recipe.validation.get("holdout_seed")
    if holdout_seed is not None and (isinstance(holdout_seed, bool)
                                     or not isinstance(holdout_seed, int)):
        _fail(recipe, f"validation holdout_seed must be an integer, got {holdout_seed!r}")
    if "steps" in recipe.validation:
        message = _range_error("validation.steps", recipe.validation["steps"],
                               VALIDATION_STEPS)
        if message:
            _fail(recipe, message)


def parse_value(text: str):
    """``text`` as JSON (numbers, true, null, lists...) when it parses, else the string."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text


def parse_assignments(pairs) -> dict:
    """``["a.b=1", ...]`` -> ``{"a.b": 1}``; ValueError on an item without ``=``."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"expected key=value, got {pair!r}")
        out[key.strip()] = parse_value(value)
    return out


def _assign(container, keys, value, dotted):
    """Set ``container[k0][k1]...`` = value; lists take integer indices."""
    key = keys[0]
    if isinstance(container, list):
        if not key.isdigit() or int(key) >= len(container):
            raise ValueError(f"{dotted}: index {key!r} outside the {len(container)} items")
        key = int(key)
    elif not isinstance(container, dict):
        raise ValueError(f"{dotted}: {keys[0]!r} indexes a {type(container).__name__}")
    if len(keys) == 1:
        container[key] = value
    else:
        if isinstance(container, dict) and key not in container:
            container[key] = {}
        _assign(container[key], keys[1:], value, dotted)


def apply_overrides(recipe: Recipe, overrides: dict) -> Recipe:
    """A new Recipe with ``{dotted.key: value}`` applied in order.

    ValueError for a first key that is not a field (the message lists the valid ones) or
    a resulting recipe that fails :func:`check`.
    """
    config = copy.deepcopy(recipe.to_dict())
    valid = field_names()
    for dotted, value in dict(overrides).items():
        keys = dotted.split(".")
        if keys[0] not in valid:
            raise ValueError(f"unknown recipe key {dotted!r}; valid keys: {', '.join(valid)}")
        _assign(config, keys, value, dotted)
    return Recipe(**config)


def recipe_from_dict(config: dict) -> Recipe:
    """The Recipe of a ``config.json`` mapping; ValueError names unknown or missing keys."""
    valid = field_names()
    unknown = sorted(set(config) - set(valid))
    if unknown:
        raise ValueError(f"unknown recipe keys {unknown}; valid keys: {', '.join(valid)}")
    try:
        return Recipe(**config)
    except TypeError as error:
        raise ValueError(f"incomplete recipe: {error}") from None
