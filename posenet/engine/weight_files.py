"""The files behind ``--weights`` and what a runtime needs to know of the pose network,
both read without loading any network.

:func:`weight_files` resolves ``--weights`` (``None`` for the shipped default, a bundle
JSON, a ``.keras`` file; see ``posenet.engine.weights``) to its files and their SHA-256,
verifying the manifest's checksums as loading does. With them the exports of a LiteRT or
ONNX runtime are found in the cache (``posenet.export.runtime_index``), so that such a
runtime runs without importing TensorFlow or Keras. :class:`NetworkInfo` is what the
Predictor reads of the pose network itself: sizes, blocks and output names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from posenet.engine.errors import WeightsError
from posenet.engine.weights import DEFAULT_MANIFEST, default_entry
from posenet.io import sha256_file


@dataclasses.dataclass(frozen=True)
class NetworkInfo:
    """What inference reads of a pose network: ``input_size`` (px of the square crop),
    ``num_joints``, ``pose_dims`` (2 or 3), ``num_blocks`` and its ``output_names``."""

    input_size: int
    num_joints: int
    pose_dims: int
    num_blocks: int
    output_names: tuple

    @classmethod
    def of(cls, network) -> NetworkInfo:
        """The info of an in-memory pose network (a Keras ``PoseNetwork``)."""
        return cls(int(network.input_size), int(network.num_joints), int(network.pose_dims),
                   int(network.num_blocks), tuple(network.output_names))

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "output_names": list(self.output_names)}

    @classmethod
    def from_dict(cls, data) -> NetworkInfo:
        return cls(int(data["input_size"]), int(data["num_joints"]), int(data["pose_dims"]),
                   int(data["num_blocks"]), tuple(data["output_names"]))


@dataclasses.dataclass(frozen=True)
class WeightFiles:
    """The files of a ``--weights`` value: ``source`` (what is reported as the weights:
    the manifest, bundle or ``.keras`` path, as loading reports it), ``pose`` and
    ``actions`` (``{dataset: ...}``), each ``(absolute path, SHA-256)``."""

    source: str
    pose: tuple
    actions: dict

    def key(self) -> str:
        """Hex digest naming this set of files (the pose file's and every action file's
        SHA-256, with their datasets)."""
        parts = [self.pose[1]] + [f"{d}={self.actions[d][1]}" for d in sorted(self.actions)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def weight_files(weights=None) -> WeightFiles | None:
    """The :class:`WeightFiles` of ``weights`` (None, a bundle JSON or dict of paths, or a
    ``.keras`` path), or None where they cannot be named without loading: in-memory
    models, a missing or mismatched file, a malformed bundle (loading then says why)."""
    try:
        if weights is None:
            files, sums, folder = default_entry()
            return _bundle(files, folder, sums, str(Path(DEFAULT_MANIFEST)))
        if isinstance(weights, dict):
            return _bundle(weights, None, None, "<bundle>")
        if not isinstance(weights, (str, os.PathLike)):
            return None
        path = Path(weights)
        if path.suffix.lower() == ".json":
            return _bundle(json.loads(path.read_text()), path.parent, None, str(path))
        if not path.is_file():
            return None
        return WeightFiles(str(path), (os.path.abspath(path), sha256_file(path)), {})
    except (OSError, ValueError, TypeError, LookupError, AttributeError, WeightsError):
        return None  # loading the weights says what is wrong


def _bundle(bundle, base, sums, source):
    """WeightFiles of a bundle dict whose entries are all paths; None otherwise."""
    actions = bundle.get("actions") or {}
    items = {"pose": bundle["pose"], **{f"actions/{d}": v for d, v in actions.items()}}
    resolved = {}
    for key, item in items.items():
        if not isinstance(item, (str, os.PathLike)):
            return None
        path = Path(base or ".") / item
        if not path.is_file():
            return None
        digest = sha256_file(path)
        if sums is not None and sums.get(os.fspath(item), "").lower() != digest:
            return None  # unlisted or corrupt: loading raises the error
        resolved[key] = (os.path.abspath(path), digest)
    pose = resolved.pop("pose")
    return WeightFiles(source, pose, {k.split("/", 1)[1]: v for k, v in resolved.items()})
