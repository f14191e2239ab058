"""Exporting networks for other runtimes (floor above ``posenet.engine``; nothing below imports it).

- ``convert``: Keras's ``model.export`` to SavedModel, LiteRT or ONNX, written atomically
  with its sidecar JSON;
- ``quantize``: LiteRT's float16 and int8 (calibrated) precisions;
- ``network``: the pose network of a weights file, cut after a block;
- ``actions``: the action networks, and a runtime that checks their exports;
- ``cache``: :func:`~posenet.export.cache.runtime_for`, an in-memory network exported on
  the fly (cached by its weights' SHA-256) for ``posenet infer --runtime litert|onnx``.
"""

from posenet.engine.errors import ExportError, require
from posenet.engine.runtimes import FOLDER_SIDECAR, sidecar_path
from posenet.export.convert import (
    EXPORT_NEEDS,
    FORMATS,
    SCHEMA,
    check_destination,
    publish,
    resize_network,
)
from posenet.export.network import export_network, write_export

__all__ = ["EXPORT_NEEDS", "FOLDER_SIDECAR", "FORMATS", "SCHEMA", "ExportError",
           "check_destination", "export_network", "publish", "require", "resize_network",
           "sidecar_path", "write_export"]
