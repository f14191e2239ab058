"""Resolving ``--weights``: a saved network, a manifest bundle, or the shipped default.

Accepted forms (see ``docs/predictions_schema.md``):

- a ``.keras`` file of a :class:`PoseNetwork` (poses only) or of a :class:`MultitaskModel`
  (poses from its nested ``pose_network``, actions from the whole model on clips);
- a bundle: a JSON file ``{"pose": "pose.keras", "actions": {"penn_action": "penn.keras"}}``
  (paths relative to the JSON file) whose action files are pose-only
  :class:`ActionNetwork` s fed with windows of predicted poses; or the same as a dict
  (paths relative to the working folder, or already-built Keras models);
- ``None``: the entry named by ``"default"`` in ``weights/manifest.json`` (the checkout's
  folder, or its copy installed with the package: ``posenet.paths``), whose ``"files"``
  is a bundle as above and whose ``"sha256"`` maps each file to its SHA-256 (checked).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from posenet.engine.errors import WeightsError
from posenet.io import sha256_file
from posenet.paths import WEIGHTS_DIR

#: The manifest of the shipped weights (in a checkout or installed with the package).
DEFAULT_MANIFEST = WEIGHTS_DIR / "manifest.json"
NO_DEFAULT = "no default weights shipped yet: pass --weights FILE (train one with posenet train)"


@dataclasses.dataclass
class LoadedWeights:
    """The networks inference runs.

    ``pose``: the single-frame PoseNetwork (None when only its exports run:
    ``posenet.export.runtime_index``); ``multitask``: the MultitaskModel it came from (or
    None); ``actions``: ``{dataset: ActionNetwork}`` of a bundle (or their exports);
    ``source``: what was loaded (a path, or a description); ``sha256``: hex digest of the
    main file (None for in-memory models); ``info``: the pose network's
    ``weight_files.NetworkInfo`` when ``pose`` is None.
    """

    pose: object
    multitask: object = None
    actions: dict = dataclasses.field(default_factory=dict)
    source: str = "<in-memory>"
    sha256: str | None = None
    info: object = None


def load_keras(item):
    """A Keras model: returned as is, or loaded from a ``.keras`` path."""
    import keras

    import posenet.layers  # noqa: F401  (registers the custom layers for deserialising)
    import posenet.models  # noqa: F401

    if isinstance(item, keras.Model):
        return item
    path = os.fspath(item)
    if not os.path.isfile(path):
        raise WeightsError(f"weights file {path} not found")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds on a foreign or corrupt file
        raise WeightsError(f"cannot load the network from {path}: {error}") from None


def _split_model(model):
    """(pose network, multitask model or None) of a loaded model; WeightsError otherwise."""
    from posenet.models import ActionNetwork, MultitaskModel, SingleFrameNetwork

    if isinstance(model, MultitaskModel):
        return model.pose_network, model
    if isinstance(model, SingleFrameNetwork):
        return model, None
    if isinstance(model, ActionNetwork):
        raise WeightsError("an ActionNetwork alone cannot estimate poses: give a bundle "
                           '{"pose": ..., "actions": {...}} with a pose network')
    raise WeightsError(f"{type(model).__name__} is not a posenet PoseNetwork or MultitaskModel")


def check_action_network(dataset, network, pose):
    """Raise WeightsError when an ActionNetwork cannot read the pose network's output."""
    from posenet.models import ActionNetwork

    if not isinstance(network, ActionNetwork):
        raise WeightsError(f"actions[{dataset!r}] is a {type(network).__name__}, not an "
                           "ActionNetwork")
    if network.num_joints != pose.num_joints:
        raise WeightsError(f"the {dataset} action network reads {network.num_joints} joints "
                           f"but the pose network predicts {pose.num_joints}")
    if network.pose_dims > pose.pose_dims:
        raise WeightsError(f"the {dataset} action network reads {network.pose_dims}D poses "
                           f"but the pose network predicts {pose.pose_dims}D")


def load_bundle(bundle, base=None, sha256=None, source="<bundle>"):
    """LoadedWeights of a bundle dict ``{"pose": ..., "actions": {dataset: ...}}``.

    Paths are taken relative to ``base``; with ``sha256`` (``{relative path: hex}``) each
    file's checksum is verified first.
    """
    if not isinstance(bundle, dict) or "pose" not in bundle:
        raise WeightsError(f'{source}: a bundle needs a "pose" entry, got {bundle!r}')
    actions = bundle.get("actions") or {}
    if not isinstance(actions, dict):
        raise WeightsError(f'{source}: "actions" must map datasets to files')

    digests = {}  # path -> SHA-256: the pose file's is reported, so hash it once

    def resolve(item, report=False):
        if isinstance(item, (str, os.PathLike)):
            path = Path(base or ".") / item
            if not path.is_file():
                raise WeightsError(f"{source}: weights file {path} not found")
            if sha256 is not None or report:
                digests[path] = sha256_file(path)
            if sha256 is not None:
                expected = sha256.get(os.fspath(item))
                if expected is None:
                    raise WeightsError(f"{source}: no sha256 listed for {item}")
                if digests[path] != expected.lower():
                    raise WeightsError(f"{source}: {path} is corrupt (its SHA-256 differs "
                                       "from the manifest's); download it again")
            return path
        return item

    pose_item = resolve(bundle["pose"], report=True)
    pose, multitask = _split_model(load_keras(pose_item))
    networks = {}
    for dataset, item in actions.items():
        networks[dataset] = load_keras(resolve(item))
        check_action_network(dataset, networks[dataset], pose)
    digest = digests.get(pose_item) if isinstance(pose_item, Path) else None
    return LoadedWeights(pose, multitask, networks, source, digest)


def default_entry(manifest=None):
    """``(files, sha256, folder)`` of the manifest's default entry: its bundle dict, its
    ``{file: hex}`` checksums and the folder the files are relative to; WeightsError when
    none is shipped or the manifest is malformed. Reads JSON only (nothing is loaded)."""
    manifest = Path(DEFAULT_MANIFEST if manifest is None else manifest)
    if not manifest.is_file():
        raise WeightsError(NO_DEFAULT)
    try:
        data = json.loads(manifest.read_text())
        entry = data.get("entries", data)[data["default"]]
        files, sums = entry["files"], entry["sha256"]
        if not isinstance(files, dict) or not isinstance(sums, dict):
            raise TypeError("files and sha256 must be objects")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise WeightsError(f"{manifest} is not a valid weights manifest ({error!r}); "
                           "pass --weights FILE") from None
    return files, sums, manifest.parent


def load_default(manifest=None):
    """LoadedWeights of the manifest's default entry; WeightsError when none is shipped."""
    files, sums, folder = default_entry(manifest)
    source = str(Path(DEFAULT_MANIFEST if manifest is None else manifest))
    return load_bundle(files, folder, sums, source=source)


def load_weights(weights=None):
    """LoadedWeights from any accepted form of ``weights`` (see the module docstring)."""
    if weights is None:
        return load_default()
    if isinstance(weights, dict):
        return load_bundle(weights)
    if not isinstance(weights, (str, os.PathLike)):
        pose, multitask = _split_model(load_keras(weights))
        return LoadedWeights(pose, multitask)
    path = Path(weights)
    if not path.is_file():
        raise WeightsError(f"weights file {path} not found")
    if path.suffix.lower() == ".json":
        try:
            bundle = json.loads(path.read_text())
        except ValueError as error:
            raise WeightsError(f"{path} is not a JSON bundle: {error}") from None
        return load_bundle(bundle, path.parent, source=str(path))
    pose, multitask = _split_model(load_keras(path))
    return LoadedWeights(pose, multitask, {}, str(path), sha256_file(path))


def save_for_inference(source, target):
    """Copy the ``.keras`` model at ``source`` to ``target`` without its training state.

    A run's final model carries its optimizer's variables (Adam's two moments triple the
    file); the shipped copy needs only the network. Written atomically.
    """
    import keras

    import posenet.models  # noqa: F401  (registers the classes)
    from posenet.io import save_model_atomic

    save_model_atomic(keras.saving.load_model(source, compile=False), target)
