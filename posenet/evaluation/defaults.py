"""What the commands read before they load a network: the shipped default file for the
datasets asked for, the block counts stored in a ``.keras`` file's config, and the
calibrations' default targets. Imports no Keras."""

from __future__ import annotations

from pathlib import Path

from posenet.io import sha256_file

#: Action calibration target: tracks labelled with a class are right this often
#: (validation; ``action_calibration``).
PRECISION = 0.9
#: Action calibration target: this share of the right tracks keeps its label (validation).
KEEP = 0.95
#: Frames per second of the shared Human3.6M copy (every 5th frame of 50; ``out_of_class``).
H36M_FPS = 10.0


def default_weights_file(datasets, manifest=None) -> Path:
    """The shipped network that evaluates ``datasets`` (dataset names of the prepared
    files): the default bundle's action network when every dataset has one of its own (the
    pose network has no action output), its pose network otherwise. ValueError when no
    weights are shipped, or the file does not match the manifest's SHA-256."""
    from posenet.engine.errors import WeightsError
    from posenet.engine.weights import default_entry

    try:
        files, sums, folder = default_entry(manifest)
    except WeightsError as error:
        raise ValueError(str(error)) from None
    actions = files.get("actions") or {}
    names = set(datasets)
    if names and all(name in actions for name in names) and len(
            {actions[name] for name in names}) == 1:
        item = actions[next(iter(names))]
    else:
        item = files.get("pose")
    expected = sums.get(item) if isinstance(item, str) else None
    if expected is None:
        raise ValueError(f"the weights manifest in {folder} lists no checksum for {item!r}: "
                         "pass --weights FILE")
    path = folder / item
    if not path.is_file():
        raise ValueError(f"the default weights file {path} is missing: pass --weights FILE")
    if sha256_file(path) != str(expected).lower():
        raise ValueError(f"{path} is corrupt (its SHA-256 differs from the manifest's)")
    return path


def stored_blocks(config: dict) -> int | None:
    """The largest block index ``--block`` may name for a model with this saved config
    (``posenet.io.read_keras_config``): pose blocks, or action blocks of an action network,
    the larger of the two for a multitask model; None for a model of another kind."""
    kind, body = config.get("class_name"), config.get("config") or {}
    if kind in ("PoseNetwork", "MobilePoseNetwork", "ActionNetwork"):
        count = body.get("num_blocks")
        return int(count) if isinstance(count, int) else None
    if kind == "MultitaskModel":
        counts = [(body.get("pose") or {}).get("num_blocks"), body.get("action_blocks")]
        counts = [c for c in counts if isinstance(c, int)]
        return max(counts) if counts else None
    return None
