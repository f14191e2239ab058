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
OPTIMIZERS = ("rmsprop", "sgd", "adam")
#: The model of a pose-only action recipe: ``ActionNetwork(**model)`` instead of a preset.
ACTION_NETWORK = "action_network"
SOURCE_KEYS = ("path", "weight", "augment", "action_dataset", "split")
VALIDATION_KEYS = ("path", "holdout", "split", "action_dataset", "steps")


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
      on them, so no test split is ever used to choose a model. ``metric``: ``pckh``,
      ``pck``, ``mpjpe`` or ``accuracy`` (see ``posenet.training.validation``).
    - ``loader``: ``frames``, ``clips`` or ``pose_sequences``; ``loader_options``: extra
      loader arguments (``noise``, ``drop``, ``stride``...); ``workers``: loader workers.
    - ``batch_size`` [items], ``steps_per_epoch`` [batches], ``epochs``.
    - ``optimizer`` (``rmsprop``, ``sgd``, ``adam``), ``lr``, ``momentum`` and ``nesterov``
      (SGD); ``lr_drops`` [epochs, 0-based] where the rate is multiplied by ``lr_factor``.
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


def check(recipe: Recipe) -> None:
    """ValueError naming the first field of ``recipe`` that is out of range."""
    for field, allowed in (("loader", LOADERS), ("metric", METRICS),
                           ("optimizer", OPTIMIZERS)):
        if getattr(recipe, field) not in allowed:
            _fail(recipe, f"{field} must be one of {', '.join(allowed)}, "
                          f"got {getattr(recipe, field)!r}")
    for field in ("batch_size", "steps_per_epoch", "epochs", "workers"):
        value = getattr(recipe, field)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            _fail(recipe, f"{field} must be an integer >= 1, got {value!r}")
    if not isinstance(recipe.seed, int) or recipe.seed < 0:
        _fail(recipe, f"seed must be an integer >= 0, got {recipe.seed!r}")
    if not (isinstance(recipe.lr, int | float) and recipe.lr > 0):
        _fail(recipe, f"lr must be a positive number, got {recipe.lr!r}")
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
    if holdout is not None and not 0 < holdout < 1:
        _fail(recipe, f"validation holdout must be a fraction in (0, 1), got {holdout!r}")


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
