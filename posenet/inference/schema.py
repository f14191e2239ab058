"""Writing and reading predictions: JSON, CSV, NPZ and JSON Lines
(``docs/predictions_schema.md``).

Every writer of a whole prediction is atomic (nothing half-written is left on an error)
and every format reads back with :func:`load_predictions` into the same dict as the
JSON's. :class:`JsonLinesWriter` is the exception, on purpose: it appends and flushes one
line per frame as a stream goes, so stopping it keeps every frame done.
"""

from __future__ import annotations

import csv
import io
import json
import os

import numpy as np

from posenet.io import atomic_path

FORMATS = ("json", "csv", "npz", "jsonl")
#: Keys of the header: everything but the per-frame people and the tracks.
HEADER = ("schema", "source", "kind", "width", "height", "fps", "num_frames", "skeleton",
          "model", "action_classes", "warnings")
CSV_MARK = "# posenet "


def write_predictions(predictions, path, fmt=None):
    """Write ``predictions`` to ``path`` as ``fmt`` (default: from the extension)."""
    fmt = fmt or os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
    writers = {"json": _write_json, "csv": _write_csv, "npz": _write_npz,
               "jsonl": _write_jsonl}
    if fmt not in writers:
        raise ValueError(f"unknown predictions format {fmt!r}; known: {', '.join(FORMATS)}")
    with atomic_path(path) as tmp:
        writers[fmt](predictions, tmp)


def _write_json(pred, path):
    """One line per key, and per frame and track: readable and diffable, and written by
    json's C encoder (``indent=`` falls back to the pure-Python one, several times slower)."""
    lines = []
    for key, value in pred.items():
        if key in ("frames", "tracks") and value:
            items = ",\n  ".join(json.dumps(item) for item in value)
            lines.append(f"{json.dumps(key)}: [\n  {items}\n ]")
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value)}")
    with open(path, "w") as f:
        f.write("{\n " + ",\n ".join(lines) + "\n}\n")


def _header(pred) -> dict:
    """The header fields of ``pred``; ``warnings`` [] where a file older than it has none."""
    return {k: pred.get(k, []) if k == "warnings" else pred[k] for k in HEADER}


def _write_jsonl(pred, path):
    writer = JsonLinesWriter(path, _header(pred))
    for frame in pred["frames"]:
        writer.frame(frame)
    writer.close(pred["tracks"], pred.get("warnings", []))


class JsonLinesWriter:
    """Predictions as JSON Lines at ``path``: the header (every field but ``frames`` and
    ``tracks``) on the first line, then one ``{"index", "time", "people"}`` line per
    :meth:`frame`, each flushed at once, and on :meth:`close` a last line ``{"num_frames",
    "tracks", "warnings"}`` (the warnings of the whole input, known at its end). A file
    without that line is a stream that was stopped: it reads back with its frames, no
    tracks and the header's warnings."""

    def __init__(self, path, header):
        self.path, self.count = os.fspath(path), 0
        self._file = open(self.path, "w")  # noqa: SIM115  (open across frames)
        self._line({**header, "num_frames": None})

    def _line(self, item):
        # One write per line: a reader (or a kill) never sees half a line flushed.
        self._file.write(json.dumps(item) + "\n")
        self._file.flush()

    def frame(self, frame):
        """Append one frame's ``{"index", "time", "people"}``."""
        self._line({"index": frame["index"], "time": frame["time"], "people": frame["people"]})
        self.count += 1

    def close(self, tracks=None, warnings=None):
        """Finish the file; ``tracks`` None (an interrupted stream) adds no last line."""
        if self._file.closed:
            return
        if tracks is not None:
            self._line({"num_frames": self.count, "tracks": tracks,
                        "warnings": list(warnings or [])})
        self._file.close()


def _read_jsonl(path):
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    if not lines or "schema" not in lines[0]:
        raise ValueError(f"{path}: not a posenet predictions JSON Lines file (no header)")
    pred = _header({"warnings": [], **lines[0]})
    pred["frames"] = [item for item in lines[1:] if "index" in item]
    pred["num_frames"] = len(pred["frames"])
    ends = [item for item in lines[1:] if "tracks" in item]
    pred["tracks"] = ends[-1]["tracks"] if ends else []
    if ends and "warnings" in ends[-1]:
        pred["warnings"] = ends[-1]["warnings"]
    return pred


def _joint_columns(pred):
    names = pred["skeleton"]["joints"]
    cols = [f"{n}_{c}" for n in names for c in ("x", "y", "conf")]
    if _has_3d(pred):
        cols += [f"{n}_{c}" for n in names for c in ("X", "Y", "Z")]
    return cols


def _has_3d(pred):
    return any(p["joints3d"] is not None for f in pred["frames"] for p in f["people"])


def _write_csv(pred, path):
    labels = {t["id"]: {ds: a["label"] for ds, a in t["actions"].items()}
              for t in pred["tracks"]}
    datasets = list(pred["action_classes"])
    three = _has_3d(pred)
    # the frames' times too: a frame without people has no row to carry its time
    header = _header(pred) | {"tracks": pred["tracks"],
                              "times": [f["time"] for f in pred["frames"]]}
    with open(path, "w", newline="") as f:
        # One comment line carries what rows cannot (metadata and track actions); CSV
        # readers skip it with comment="#".
        f.write(CSV_MARK + json.dumps(header, separators=(",", ":")) + "\n")
        out = csv.writer(f)
        out.writerow(["frame", "time", "track", "x1", "y1", "x2", "y2", "score",
                      *_joint_columns(pred), *(f"action_{ds}" for ds in datasets)])
        for frame in pred["frames"]:
            for p in frame["people"]:
                row = [frame["index"], repr(frame["time"]), p["track"], *map(repr, p["box"]),
                       repr(p["score"]), *(repr(v) for j in p["joints2d"] for v in j)]
                if three:
                    row += [repr(v) for j in p["joints3d"] for v in j]
                row += [labels.get(p["track"], {}).get(ds, "") for ds in datasets]
                out.writerow(row)


def _write_npz(pred, path):
    frames = pred["frames"]
    num_joints = len(pred["skeleton"]["joints"])
    width = max([len(f["people"]) for f in frames] + [0])
    shape = (len(frames), width)
    tracks = np.full(shape, -1, np.int64)
    scores = np.full(shape, np.nan)
    boxes = np.full((*shape, 4), np.nan)
    joints2d = np.full((*shape, num_joints, 3), np.nan)
    joints3d = np.full((*shape, num_joints, 3), np.nan)
    for i, frame in enumerate(frames):
        for k, p in enumerate(frame["people"]):
            tracks[i, k], scores[i, k], boxes[i, k] = p["track"], p["score"], p["box"]
            joints2d[i, k] = p["joints2d"]
            if p["joints3d"] is not None:
                joints3d[i, k] = p["joints3d"]
    header = _header(pred) | {"tracks": pred["tracks"], "has_3d": _has_3d(pred)}
    arrays = {
        "meta": np.array(json.dumps(header)),
        "frames": np.array([f["index"] for f in frames], np.int64),
        "times": np.array([f["time"] for f in frames], np.float64),
        "track_ids": tracks, "scores": scores, "boxes": boxes, "joints2d": joints2d,
        "joints3d": joints3d,
        "track_list": np.array([t["id"] for t in pred["tracks"]], np.int64),
    }
    for ds, names in pred["action_classes"].items():
        probs = np.full((len(pred["tracks"]), len(names)), np.nan)
        for k, t in enumerate(pred["tracks"]):
            if ds in t["actions"]:
                probs[k] = t["actions"][ds]["probabilities"]
        arrays[f"actions_{ds}"] = probs
    with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to a name
        np.savez_compressed(f, **arrays)


def load_predictions(path) -> dict:
    """The predictions dict of a JSON, CSV or NPZ file written by :func:`write_predictions`."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".json":
        with open(path) as f:
            return json.load(f)
    if ext == ".csv":
        return _read_csv(path)
    if ext == ".npz":
        return _read_npz(path)
    if ext == ".jsonl":
        return _read_jsonl(path)
    raise ValueError(f"{path}: unknown predictions format (expected .json, .csv, .npz or "
                     ".jsonl)")


def _empty_frames(header, times=None):
    fps = header["fps"]
    return [{"index": i, "time": times[i] if times is not None else
             round(i / fps if fps else 0.0, 6), "people": []}
            for i in range(header["num_frames"])]


def _read_csv(path):
    with open(path, newline="") as f:
        first = f.readline()
        if not first.startswith(CSV_MARK):
            raise ValueError(f"{path}: not a posenet predictions CSV (no header line)")
        header = json.loads(first[len(CSV_MARK):])
        rows = list(csv.reader(io.StringIO(f.read())))
    columns, rows = rows[0], rows[1:]
    num_joints = len(header["skeleton"]["joints"])
    three = any(c.endswith("_X") for c in columns)
    pred = _header(header)
    frames = _empty_frames(header, header.get("times"))
    for row in rows:
        values = [float(v) for v in row[3:8 + 3 * num_joints * (2 if three else 1)]]
        box, score, rest = values[:4], values[4], values[5:]
        j2 = [rest[3 * j:3 * j + 3] for j in range(num_joints)]
        j3 = None
        if three:
            rest = rest[3 * num_joints:]
            j3 = [rest[3 * j:3 * j + 3] for j in range(num_joints)]
        frame = frames[int(row[0])]
        frame["time"] = float(row[1])
        frame["people"].append({"track": int(row[2]), "box": box, "score": score,
                                "joints2d": j2, "joints3d": j3})
    pred["frames"], pred["tracks"] = frames, header["tracks"]
    return pred


def _read_npz(path):
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(str(data["meta"]))
        arrays = {k: data[k] for k in data.files if k != "meta"}
    pred = _header(header)
    frames = _empty_frames(header, [float(t) for t in arrays["times"]])
    for i, frame in enumerate(frames):
        frame["index"] = int(arrays["frames"][i])
        for k in np.flatnonzero(arrays["track_ids"][i] >= 0):
            frame["people"].append({
                "track": int(arrays["track_ids"][i, k]),
                "box": arrays["boxes"][i, k].tolist(),
                "score": float(arrays["scores"][i, k]),
                "joints2d": arrays["joints2d"][i, k].tolist(),
                "joints3d": arrays["joints3d"][i, k].tolist() if header["has_3d"] else None})
    pred["frames"], pred["tracks"] = frames, header["tracks"]
    return pred
