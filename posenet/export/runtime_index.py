"""Everything a LiteRT or ONNX Predictor runs, exported once and found again by name.

The first Predictor of a set of weight files (``posenet.engine.weight_files``) on ``litert``
or ``onnx`` loads them with Keras, exports the pose network (``posenet.export.cache``) and
each action network (``posenet.export.actions``) into the runtime cache
(``posenet.engine.runtimes.cache_folder``) and writes an index naming those exports and
what the Predictor reads of the pose network (``NetworkInfo``). Later Predictors of the
same files, runtime, precision, block and outputs read the index and the exports only:
they import neither TensorFlow nor Keras, and each action network is loaded the first
time a window reaches it (a photo loads none).

The index, ``<cache>/index-<key>.json`` (the key: a digest of the files' SHA-256, the
runtime, precision, block and the outputs read), holds ``{"schema", "pose": {"file", "block",
"info"}, "actions": {dataset: file}}``; it is written last, atomically, so an index always
names finished exports.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

from posenet.engine.runtimes import cache_folder, sidecar_path
from posenet.engine.weight_files import NetworkInfo
from posenet.engine.weights import LoadedWeights
from posenet.io import write_json_atomic

SCHEMA = "posenet-runtime-index/1"
#: Runtimes whose exports an index names.
INDEXED = ("litert", "onnx")
_SUFFIX = {"litert": ".tflite", "onnx": ".onnx"}


def index_path(kind, files, block, precision, variant) -> str:
    """Where the index of ``files`` (``WeightFiles``) on runtime ``kind`` is kept, for the
    pose network cut at ``block`` (None: its last), at ``precision``, with the outputs of
    ``variant`` (a name the caller gives to the outputs it reads)."""
    text = f"{files.key()}|{kind}|{precision}|{block}|{variant}"
    return os.path.join(cache_folder(), f"index-{hashlib.sha256(text.encode()).hexdigest()[:24]}"
                        ".json")


class ExportedActionNetwork:
    """An exported ActionNetwork that reads, for ``posenet.inference.actions``, as the
    Keras one does: the attributes of its sidecar (``actions``, ``num_frames``,
    ``clip_span``, ``frame_rate``, ``pose_dims``, ``uncertain_below``, ...) and
    :meth:`predict_on_batch`, which creates the runtime on its first call."""

    def __init__(self, kind, path):
        with open(sidecar_path(path)) as f:
            self.info = json.load(f)
        self.kind, self.path = kind, path
        actions = self.info["actions"]
        self.actions = {d: int(a["num_classes"]) for d, a in actions.items()}
        self.uncertain_below = {d: float(a["uncertain_below"]) for d, a in actions.items()}
        self.num_frames, self.clip_span = int(self.info["num_frames"]), self.info["clip_span"]
        self.frame_rate = self.info.get("frame_rate")
        self.num_joints, self.pose_dims = int(self.info["num_joints"]), int(self.info["pose_dims"])
        self.num_blocks = int(self.info["num_blocks"])
        self.output_names = list(self.info["outputs"])
        self._runtime = None

    def predict_on_batch(self, inputs) -> dict:
        """``{output name: (N, classes)}`` of ``inputs`` ``{"poses", "visibility"}``."""
        if self._runtime is None:
            from posenet.export.actions import load_action_runtime

            self._runtime = load_action_runtime(self.kind, self.path)
        return self._runtime.predict(inputs["poses"], inputs["visibility"])


@dataclasses.dataclass
class IndexedExports:
    """What an index gives: ``weights`` (``LoadedWeights`` without Keras networks: ``info``
    set, ``actions`` as :class:`ExportedActionNetwork` s), the pose export's ``pose_file``
    and the ``block`` it was cut at."""

    weights: LoadedWeights
    pose_file: str
    block: int


def load_index(kind, files, block=None, precision="float32", variant="pose"):
    """The :class:`IndexedExports` of ``files`` on ``kind``, or None when no complete index
    is cached (see :func:`index_path` for the other arguments)."""
    if kind not in INDEXED or files is None:
        return None
    path = index_path(kind, files, block, precision, variant)
    try:
        with open(path) as f:
            data = json.load(f)
        if data.get("schema") != SCHEMA:
            return None
        pose = data["pose"]
        exports = [pose["file"], *data["actions"].values()]
        if not all(os.path.isfile(p) and os.path.isfile(sidecar_path(p)) for p in exports):
            return None
        info = NetworkInfo.from_dict(pose["info"])
        actions = {d: ExportedActionNetwork(kind, p) for d, p in data["actions"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or from another version: made again
    weights = LoadedWeights(None, None, actions, files.source, files.pose[1], info)
    return IndexedExports(weights, pose["file"], int(pose["block"]))


def write_index(kind, files, weights, pose_file, block, requested_block=None,
                precision="float32", variant="pose") -> IndexedExports:
    """Export the action networks of ``weights`` (Keras ``LoadedWeights`` of ``files``)
    on ``kind`` into the cache (once per file), write the index beside ``pose_file`` (the
    pose export, cut at ``block``; ``requested_block`` as the caller asked, None for the
    last) and return what it gives (:func:`load_index`)."""
    from posenet.export.actions import write_action_export

    actions = {}
    for dataset, network in weights.actions.items():
        source, digest = files.actions[dataset]
        path = os.path.join(cache_folder(), f"action-{digest[:16]}{_SUFFIX[kind]}")
        if not (os.path.isfile(path) and os.path.isfile(sidecar_path(path))):
            write_action_export(network, kind, path, source=source, sha256=digest)
        actions[dataset] = path
    info = NetworkInfo.of(weights.pose)
    payload = {"schema": SCHEMA, "source": files.source,
               "pose": {"file": os.path.abspath(pose_file), "block": int(block),
                        "info": info.to_dict()},
               "actions": actions}
    path = index_path(kind, files, requested_block, precision, variant)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json_atomic(path, payload)
    return load_index(kind, files, requested_block, precision, variant)
