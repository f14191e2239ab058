"""Exporting the pose-only action networks (``ActionNetwork``) and running the exports.

:func:`export_action_network` writes an ActionNetwork ``.keras`` file (or the one a bundle
lists for a dataset: :func:`resolve_action`) with Keras's ``model.export``, through the
same atomic writing as the pose network's (``posenet.export.publish``), plus a sidecar JSON
(``OUT.json``, ``posenet_export.json`` inside a SavedModel folder) with what inference
needs: the two inputs and what they hold, the outputs, each dataset's classes in order and
the output inference reads (the last block), the window length, the joints' layout, the
pose dimensions, the "uncertain" thresholds and the source file's SHA-256.

The inputs are one window of ``num_frames`` frames of one track (a span network's resampled
from up to ``clip_span`` frames: ``posenet.data.time_sampling``), as
``posenet.inference.actions`` builds it (``normalise_window``): ``poses`` (N, T, J, D)
and ``visibility`` (N, T, J, 1), both float32.

:func:`load_action_runtime` runs an export (or the Keras network) and returns the outputs
as ``predict_on_batch`` does; :meth:`ActionRuntime.probabilities` gives each dataset's
class probabilities (the last block), what ``posenet infer`` averages over a track.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from posenet.engine.errors import ExportError, require
from posenet.export import convert as E

SCHEMA = "posenet-export-action/1"
#: ``--precision`` values an action network takes (int8 calibrates on person crops).
ACTION_PRECISIONS = ("float32", "float16")
POSES_HOLD = ("per frame of the window, each joint's coordinates normalised by "
              "posenet.inference.actions.normalise_window: x, y over the square box (centred "
              "on, and as wide as the larger side of) the extent of the window's joints of "
              "confidence >= 0.5 and its person boxes, so in [0, 1]; with 3 dims, z is the "
              "joint's normalised depth minus the pelvis's plus 0.5; 0 where the joint's "
              "confidence is below 0.5")
VISIBILITY_HOLDS = "1.0 where the joint's confidence is >= 0.5, else 0.0"


def action_config(path) -> dict | None:
    """The config of the ActionNetwork saved in the ``.keras`` file ``path``, None when it
    holds another model; ValueError when it is no ``.keras`` file. Nothing is loaded."""
    from posenet.io import read_keras_config

    config = read_keras_config(path)
    if config.get("class_name") != "ActionNetwork":
        return None
    return config.get("config") or {}


def parse_network(value) -> str | None:
    """The dataset of ``--network action:DATASET``; None for ``pose``; ExportError else."""
    if value in (None, "pose"):
        return None
    kind, _, dataset = str(value).partition(":")
    if kind != "action" or not dataset:
        raise ExportError(f"--network takes pose or action:DATASET, not {value!r}")
    return dataset


def _bundle_actions(weights):
    """(``{dataset: file}``, ``{file: sha256}`` or None, folder) of a bundle or manifest
    JSON, or of the shipped default (``weights`` None or "default")."""
    from posenet.engine.errors import WeightsError
    from posenet.engine.weights import DEFAULT_MANIFEST, default_entry

    if weights in (None, "default"):
        files, sums, folder = default_entry()
        return files.get("actions") or {}, sums, folder
    path = Path(weights)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ExportError(f"{path} is not a JSON weights bundle ({error})") from None
    if isinstance(data, dict) and "default" in data and "pose" not in data:  # a manifest
        try:
            files, sums, folder = default_entry(path)
        except WeightsError as error:
            raise ExportError(str(error)) from None
        return files.get("actions") or {}, sums, folder
    if not isinstance(data, dict) or not isinstance(data.get("actions") or {}, dict):
        raise ExportError(f"{path} is not a weights bundle (see {DEFAULT_MANIFEST.name})")
    return data.get("actions") or {}, None, path.parent


def resolve_action(weights, dataset=None) -> tuple[str, str]:
    """(the ``.keras`` file of the action network to export, its SHA-256).

    ``weights``: an ActionNetwork ``.keras`` file (``dataset``, when given, must be one of
    its datasets), or a bundle JSON, a manifest JSON or "default" (the shipped manifest),
    whose action network of ``dataset`` is taken (its checksum verified when listed)."""
    from posenet.io import sha256_file

    if weights not in (None, "default") and not str(weights).lower().endswith(".json"):
        try:
            config = action_config(weights)
        except ValueError as error:
            raise ExportError(str(error)) from None
        if config is None:
            raise ExportError(f"{weights} is not an ActionNetwork"
                                + (f" (--network action:{dataset})" if dataset else ""))
        known = config.get("actions") or {}
        if dataset is not None and dataset not in known:
            raise ExportError(f"{weights} predicts {', '.join(map(repr, known))} actions, "
                                f"not {dataset!r}")
        return os.fspath(weights), sha256_file(weights)
    if dataset is None:
        raise ExportError(f"{weights} is a bundle: choose its network with --network pose "
                            "or --network action:DATASET")
    actions, sums, folder = _bundle_actions(weights)
    if dataset not in actions:
        raise ExportError(f"{weights} has no action network for {dataset!r} (it has: "
                            f"{', '.join(actions) or 'none'})")
    path = Path(folder) / str(actions[dataset])
    if not path.is_file():
        raise ExportError(f"{weights}: the {dataset} action network {path} is not found")
    digest = sha256_file(path)
    expected = (sums or {}).get(str(actions[dataset]))
    if expected is not None and digest != expected.lower():
        raise ExportError(f"{path} is corrupt (its SHA-256 differs from the manifest's)")
    return os.fspath(path), digest


def action_metadata(network, fmt, batch_size, file, source=None, sha256=None,
                    precision="float32") -> dict:
    """The sidecar dict of an export of the ActionNetwork ``network``."""
    from posenet.data.action_input import VISIBLE
    from posenet.data.action_labels import class_names, uncertain_below
    from posenet.outputs import action_output
    from posenet.skeleton import get_skeleton, layout_name

    T, J, D = int(network.num_frames), int(network.num_joints), int(network.pose_dims)
    span = getattr(network, "clip_span", None)
    skeleton = get_skeleton(layout_name(J))
    actions = {}
    for dataset, count in network.actions.items():
        actions[dataset] = {
            "classes": class_names(dataset, int(count)), "num_classes": int(count),
            "outputs": [action_output(dataset, k) for k in range(1, network.num_blocks + 1)],
            "output": action_output(dataset, network.num_blocks),
            "uncertain_below": uncertain_below(network, dataset),
        }
    return {
        "schema": SCHEMA, "kind": "action", "format": fmt, "file": file,
        "network": type(network).__name__,
        "inputs": [
            {"name": "poses", "shape": [batch_size, T, J, D], "dtype": "float32",
             "holds": POSES_HOLD},
            {"name": "visibility", "shape": [batch_size, T, J, 1], "dtype": "float32",
             "holds": VISIBILITY_HOLDS},
        ],
        "window": {"num_frames": T, "clip_span": span, "stride": max((span or T) // 2, 1),
                   "visible_threshold": VISIBLE,
                   "frames": ("num_frames consecutive frames" if not span else
                              "num_frames frames resampled evenly (nearest) from the last "
                              "clip_span frames, or all of a shorter track"),
                   "short_tracks": ("the last frame repeated up to num_frames" if not span
                                    else "resampled as above"),
                   "track": "mean of the windows' probabilities of each dataset's output; "
                            "'uncertain' when the best is below uncertain_below"},
        "outputs": sorted(network.output_names),
        "datasets": list(actions), "actions": actions,
        "num_frames": T, "clip_span": span,
        "frame_rate": getattr(network, "frame_rate", None), "num_joints": J,
        "layout": skeleton.name,
        "joints": list(skeleton.joints), "pose_dims": D,
        "num_blocks": int(network.num_blocks), "batch_size": batch_size,
        "source": source, "sha256": sha256, "precision": precision,
    }


def write_action_export(network, fmt, path, batch_size=None, source=None, sha256=None,
                        precision="float32") -> dict:
    """Export the in-memory ActionNetwork ``network`` to ``path`` (atomically, with its
    sidecar); returns the sidecar dict."""
    from posenet.export import quantize
    from posenet.models import ActionNetwork

    if not isinstance(network, ActionNetwork):
        raise ExportError(f"{type(network).__name__} is not an ActionNetwork")
    if fmt not in E.FORMATS:
        raise ExportError(f"unknown format {fmt!r}; known: {', '.join(E.FORMATS)}")
    if fmt in E.EXPORT_NEEDS:
        require(*E.EXPORT_NEEDS[fmt])
    quantize.check_precision(fmt, precision)
    if precision not in ACTION_PRECISIONS:
        raise ExportError(f"an action network exports at {' or '.join(ACTION_PRECISIONS)},"
                            f" not {precision} (int8 calibrates on person crops)")
    if batch_size is not None and batch_size < 1:
        raise ExportError(f"--batch-size must be at least 1, got {batch_size}")
    path = os.path.abspath(os.fspath(path))
    E.check_destination(path)
    converter = quantize.converter_options(precision) if fmt == "litert" else None
    info = action_metadata(network, fmt, batch_size, os.path.basename(path), source, sha256,
                           precision)
    E.publish(path, E.FORMATS[fmt][1],
              lambda tmp: E.export_model(network, fmt, tmp, batch_size, converter), info)
    return info


def export_action_network(weights, fmt, path, dataset=None, batch_size=None,
                          precision="float32") -> dict:
    """Export the action network of ``weights`` (see :func:`resolve_action`) to ``path``
    in ``fmt``; returns the sidecar dict. ExportError (or ``WeightsError``) on bad input."""
    from posenet.engine.weights import load_keras

    if fmt in E.EXPORT_NEEDS:  # before anything loads
        require(*E.EXPORT_NEEDS[fmt])
    E.check_destination(path)
    source, digest = resolve_action(weights, dataset)
    return write_action_export(load_keras(source), fmt, path, batch_size, source, digest,
                               precision)


class ActionRuntime:
    """An exported action network (``litert``, ``onnx``) or the Keras one (``keras``: a
    model or a ``.keras`` path): :meth:`predict` gives ``{output name: (N, C)}``."""

    def __init__(self, kind, path_or_model, num_threads=None):
        from posenet.engine.runtimes import RUNTIMES, load_runtime

        self.kind, self.info = kind, {}
        if kind == "keras":
            from posenet.engine.weights import load_keras

            self.model = load_keras(path_or_model)
            self.info = action_metadata(self.model, "keras", None, None)
        elif kind in RUNTIMES:
            self.base = load_runtime(kind, path_or_model, num_threads)
            self.info = self.base.info
        else:
            raise ValueError(f"unknown runtime {kind!r}; known: {', '.join(RUNTIMES)}")
        if self.info and self.info.get("kind") != "action":
            raise ExportError(f"{path_or_model} is not an exported action network (its "
                                "sidecar says kind " f"{self.info.get('kind')!r})")
        self.batch_size = self.info.get("batch_size")

    def _run(self, inputs) -> dict:
        if self.kind == "keras":
            out = self.model.predict_on_batch(inputs)
        elif self.kind == "litert":
            out = self.base.runner(**inputs)
        else:
            names = self.base.output_names
            out = dict(zip(names, self.base.session.run(names, inputs), strict=True))
        return {name: np.array(value) for name, value in out.items()}

    def predict(self, poses, visibility) -> dict:
        """Outputs of windows ``poses`` (N, T, J, D) and ``visibility`` (N, T, J, 1), in
        batches of the export's fixed batch size when it has one (the last one padded)."""
        inputs = {"poses": np.ascontiguousarray(poses, np.float32),
                  "visibility": np.ascontiguousarray(visibility, np.float32)}
        n, size = len(inputs["poses"]), self.batch_size
        if size is None or n == size:
            return self._run(inputs)
        parts: dict[str, list] = {}
        for start in range(0, n, size):
            piece = {k: v[start:start + size] for k, v in inputs.items()}
            count = len(piece["poses"])
            piece = {k: np.concatenate([v, np.zeros((size - count, *v.shape[1:]), v.dtype)])
                     for k, v in piece.items()}
            for name, value in self._run(piece).items():
                parts.setdefault(name, []).append(value[:count])
        return {name: np.concatenate(v) for name, v in parts.items()}

    def probabilities(self, poses, visibility) -> dict:
        """``{dataset: (N, classes)}``: the last block's probabilities, what inference
        reads (needs the sidecar, or the Keras network)."""
        out = self.predict(poses, visibility)
        return {d: out[a["output"]] for d, a in self.info["actions"].items()}


def load_action_runtime(kind, path_or_model, num_threads=None) -> ActionRuntime:
    """An :class:`ActionRuntime` of ``kind`` (``keras``, ``litert`` or ``onnx``)."""
    return ActionRuntime(kind, path_or_model, num_threads)
