"""Calibration files: posenet's JSON (read and written) and, through ``qualisys``, QTM's
``.qca.txt``; :func:`read_calibration` picks the reader from the file.

posenet's calibration JSON (:func:`write_json_calibration`, :func:`read_json_calibration`)::

    {"units": "mm",
     "cameras": [{"name": "cam01", "size": [1088, 1920],
                  "K": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]],
                  "dist": [k1, k2, p1, p2, k3],
                  "R": [[...], [...], [...]], "t": [tx, ty, tz]}]}

``size`` is (width, height) in px, ``K`` in px, ``R`` and ``t`` world to camera with ``t``
in mm.
"""

from __future__ import annotations

import json
import os

from posenet.io import write_json_atomic
from posenet.triangulation.camera import Camera
from posenet.triangulation.qualisys import read_qualisys


def _camera(entry, index) -> Camera:
    if not isinstance(entry, dict):
        raise ValueError(f"camera {index}: expected an object, got {type(entry).__name__}")
    missing = [k for k in ("size", "K", "R", "t") if k not in entry]
    if missing:
        raise ValueError(f"camera {index}: missing {', '.join(missing)}")
    return Camera(name=str(entry.get("name", f"cam{index + 1:02d}")), size=entry["size"],
                  K=entry["K"], dist=entry.get("dist", [0.0] * 5), R=entry["R"], t=entry["t"])


def cameras_from_dict(payload) -> list[Camera]:
    """The cameras of a parsed calibration JSON (module docstring); ValueError when
    malformed."""
    if not isinstance(payload, dict) or not isinstance(payload.get("cameras"), list):
        raise ValueError('expected {"cameras": [...]}')
    if payload.get("units", "mm") != "mm":
        raise ValueError(f"units must be mm, got {payload['units']!r}")
    cameras = [_camera(entry, i) for i, entry in enumerate(payload["cameras"])]
    if not cameras:
        raise ValueError("no cameras")
    names = [c.name for c in cameras]
    if len(set(names)) != len(names):
        raise ValueError(f"camera names repeat: {names}")
    return cameras


def read_json_calibration(path) -> list[Camera]:
    """The cameras of posenet's calibration JSON at ``path``; ValueError when malformed."""
    try:
        with open(path) as f:
            payload = json.load(f)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error})") from None
    try:
        return cameras_from_dict(payload)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def write_json_calibration(cameras, path) -> None:
    """Write ``cameras`` as posenet's calibration JSON at ``path`` (atomically)."""
    write_json_atomic(path, {"units": "mm", "cameras": [c.to_dict() for c in cameras]})


def read_calibration(path) -> list[Camera]:
    """The cameras of a calibration file: posenet's JSON (``.json``) or a Qualisys
    ``.qca.txt`` (XML); ValueError for anything else or a malformed file."""
    path = os.fspath(path)
    if path.lower().endswith(".json"):
        return read_json_calibration(path)
    with open(path, "rb") as f:
        head = f.read(256).lstrip()
    if head.startswith(b"<?xml") or head.startswith(b"<calibration"):
        return read_qualisys(path)
    raise ValueError(f"{path}: unknown calibration format (expected posenet's .json or a "
                     "Qualisys .qca.txt)")
