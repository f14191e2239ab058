"""Files of a triangulation: one JSON of every person and frame, one TRC per person.

JSON (schema ``posenet-triangulation/1``)::

    {"schema": "posenet-triangulation/1", "units": "mm", "fps": 60.0, "num_frames": 100,
     "skeleton": {"name": "model17", "joints": [...], "links": [[0, 16], ...]},
     "views": [{"camera": "cam01", "source": "cam01.mp4"}, ...],
     "settings": {"multi_person": true, "max_error_px": 40.0, ...},
     "people": [{"id": 0, "first_frame": 0, "last_frame": 99, "frames": 100,
                 "tracks": {"cam01": 0, ...}, "median_error_px": 11.2}],
     "frames": [{"index": 0, "time": 0.0, "people": [
         {"id": 0, "joints3d": [[X, Y, Z] or null, ...], "error_px": [e or null, ...],
          "views": [[0, 1, 3], ...]}]}]}

``joints3d`` in world mm (the calibration's frame; null: no reliable position),
``error_px`` each joint's mean reprojection error over the views it was triangulated from,
``views`` those views' indices into ``views``. A person is listed in a frame when at least
one joint has a position.

TRC (OpenSim's marker file, tab-separated, one per person): the ``PathFileType`` line, the
names and values of ``DataRate CameraRate NumFrames NumMarkers Units OrigDataRate
OrigDataStartFrame OrigNumFrames``, then ``Frame#  Time  <joint>...`` (each name over its
three columns), ``X1 Y1 Z1 X2 ...``, a blank line, and one row per frame of the whole
sequence (``Frame#`` from 1), in mm in the world frame; a missing joint is ``NaN``. The
world's axes are the calibration's (Qualisys: Z up; OpenSim expects Y up: rotate before
scaling a model).
"""

from __future__ import annotations

import json
import os

import numpy as np

from posenet.io import atomic_path

SCHEMA = "posenet-triangulation/1"


def _rounded(values, digits):
    """Nested lists of ``values`` rounded, NaN as None."""
    return [None if not np.isfinite(v) else round(float(v), digits) for v in values]


def to_dict(result) -> dict:
    """The JSON payload of a ``pipeline.Triangulation`` (module docstring)."""
    names = [c.name for c in result.cameras]
    present = result.present()
    mean_errors = result.mean_errors()
    people = []
    for k, ident in enumerate(result.ids):
        frames = np.flatnonzero(present[k])
        if not frames.size:
            continue
        errors = mean_errors[k][np.isfinite(mean_errors[k])]
        people.append({"id": int(ident), "first_frame": int(frames[0]),
                       "last_frame": int(frames[-1]), "frames": int(frames.size),
                       "tracks": {names[v]: int(t) for v, t in result.tracks[k].items()},
                       "median_error_px": round(float(np.median(errors)), 2)})
    frames = []
    for f in range(result.num_frames):
        entries = []
        for k, ident in enumerate(result.ids):
            if not present[k, f]:
                continue
            entries.append({
                "id": int(ident),
                "joints3d": [None if not np.all(np.isfinite(p)) else _rounded(p, 1)
                             for p in result.points[k, f]],
                "error_px": _rounded(mean_errors[k, f], 2),
                "views": [np.flatnonzero(u).tolist() for u in result.used[k, f]]})
        frames.append({"index": f, "time": round(f / result.fps, 6), "people": entries})
    skeleton = result.skeleton
    return {"schema": SCHEMA, "units": "mm", "fps": result.fps,
            "num_frames": result.num_frames,
            "skeleton": {"name": skeleton.name, "joints": list(skeleton.joints),
                         "links": [list(link) for link in skeleton.links]},
            "views": [{"camera": n, "source": s}
                      for n, s in zip(names, result.sources, strict=True)],
            "settings": result.settings, "people": people, "frames": frames}


def write_json(result, path) -> None:
    """Write :func:`to_dict` of ``result`` to ``path`` atomically (one line per frame)."""
    payload = to_dict(result)
    head = {k: v for k, v in payload.items() if k != "frames"}
    lines = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
    frames = ",\n  ".join(json.dumps(f) for f in payload["frames"])
    lines.append(f' "frames": [\n  {frames}\n ]' if payload["frames"] else ' "frames": []')
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


def trc_text(points, joint_names, fps, name) -> str:
    """The TRC file of one person's ``points`` (T, J, 3) mm (module docstring)."""
    points = np.asarray(points, dtype=np.float64)
    frames, joints = points.shape[:2]
    rate = f"{fps:.6g}"
    lines = [f"PathFileType\t4\t(X/Y/Z)\t{name}",
             "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
             "OrigDataStartFrame\tOrigNumFrames",
             f"{rate}\t{rate}\t{frames}\t{joints}\tmm\t{rate}\t1\t{frames}",
             "Frame#\tTime\t" + "\t\t\t".join(joint_names) + "\t\t",
             "\t\t" + "\t".join(f"{axis}{j + 1}" for j in range(joints) for axis in "XYZ"),
             ""]
    for f in range(frames):
        values = "\t".join("NaN" if not np.isfinite(v) else f"{v:.2f}"
                           for v in points[f].reshape(-1))
        lines.append(f"{f + 1}\t{f / fps:.6f}\t{values}")
    return "\n".join(lines) + "\n"


def write_trc(points, joint_names, fps, path) -> None:
    """Write one person's TRC file (:func:`trc_text`) to ``path`` atomically."""
    text = trc_text(points, joint_names, fps, os.path.basename(os.fspath(path)))
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write(text)


def write_outputs(result, folder, name="triangulation") -> list[str]:
    """``<folder>/<name>.json`` and ``<folder>/<name>_person<id>.trc`` per person seen;
    returns the paths written."""
    os.makedirs(folder, exist_ok=True)
    written = [os.path.join(folder, f"{name}.json")]
    write_json(result, written[0])
    present = result.present()
    for k, ident in enumerate(result.ids):
        if present[k].any():
            path = os.path.join(folder, f"{name}_person{ident}.trc")
            write_trc(result.points[k], result.skeleton.joints, result.fps, path)
            written.append(path)
    return written
