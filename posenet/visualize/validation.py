"""Checking a predictions dict against ``docs/predictions_schema.md`` before drawing it, so
that a hand-edited or foreign file is refused with the field at fault, not a traceback
half-way through the drawing."""

from __future__ import annotations

import math
from numbers import Integral, Real

SCHEMA = "posenet-predictions/1"


class PredictionsError(ValueError):
    """The predictions do not follow the schema; the message names the field."""


def _fail(where, what):
    raise PredictionsError(f"{where}: {what}")


def _integer(value, where, minimum=0):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        _fail(where, f"expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _number(value, where, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, Real):
        _fail(where, f"expected a number, got {value!r}")


def _rows(value, where, count, width, allow_none=False):
    """``count`` rows of ``width`` numbers (NaN allowed: a missing joint)."""
    if value is None and allow_none:
        return
    if not hasattr(value, "__len__") or len(value) != count:
        _fail(where, f"expected {count} rows, got {value!r:.60}")
    for i, row in enumerate(value):
        if not hasattr(row, "__len__") or len(row) != width:
            _fail(f"{where}[{i}]", f"expected {width} numbers, got {row!r:.60}")
        for v in row:
            _number(float(v) if isinstance(v, Real) and not isinstance(v, bool) else v,
                    f"{where}[{i}]", allow_none=True)


def check_predictions(data) -> dict:
    """Raise :class:`PredictionsError` unless ``data`` follows the schema; returns it."""
    if not isinstance(data, dict):
        _fail("predictions", f"expected an object, got {type(data).__name__}")
    if data.get("schema") != SCHEMA:
        _fail("schema", f"expected {SCHEMA!r}, got {data.get('schema')!r}")
    if data.get("kind") not in ("video", "image"):
        _fail("kind", f"expected 'video' or 'image', got {data.get('kind')!r}")
    for key in ("width", "height"):
        _integer(data.get(key), key, minimum=1)
    skeleton = data.get("skeleton")
    if not isinstance(skeleton, dict) or not isinstance(skeleton.get("joints"), list):
        _fail("skeleton", "expected an object with a 'joints' list")
    joints = len(skeleton["joints"])
    for i, link in enumerate(skeleton.get("links") or []):
        if (not isinstance(link, list | tuple) or len(link) != 2
                or not all(isinstance(j, Integral) and 0 <= j < joints for j in link)):
            _fail(f"skeleton.links[{i}]", f"expected two joint indices < {joints}, got {link!r}")
    frames = data.get("frames")
    if not isinstance(frames, list):
        _fail("frames", "expected a list")
    for f, frame in enumerate(frames):
        where = f"frames[{f}]"
        if not isinstance(frame, dict):
            _fail(where, "expected an object")
        _integer(frame.get("index"), f"{where}.index")
        _number(frame.get("time"), f"{where}.time")
        people = frame.get("people")
        if not isinstance(people, list):
            _fail(f"{where}.people", "expected a list")
        for p, person in enumerate(people):
            at = f"{where}.people[{p}]"
            if not isinstance(person, dict):
                _fail(at, "expected an object")
            _integer(person.get("track"), f"{at}.track")
            _rows([person.get("box")], f"{at}.box", 1, 4)
            _number(person.get("score"), f"{at}.score")
            _rows(person.get("joints2d"), f"{at}.joints2d", joints, 3)
            _rows(person.get("joints3d"), f"{at}.joints3d", joints, 3, allow_none=True)
    tracks = data.get("tracks", [])
    if not isinstance(tracks, list):
        _fail("tracks", "expected a list")
    classes = data.get("action_classes") or {}
    if not isinstance(classes, dict):
        _fail("action_classes", "expected an object of class lists")
    for t, track in enumerate(tracks):
        if not isinstance(track, dict):
            _fail(f"tracks[{t}]", "expected an object")
        _integer(track.get("id"), f"tracks[{t}].id")
        for dataset, action in (track.get("actions") or {}).items():
            at = f"tracks[{t}].actions.{dataset}"
            names = classes.get(dataset)
            probabilities = action.get("probabilities") if isinstance(action, dict) else None
            if names is None or not hasattr(probabilities, "__len__") or (
                    len(probabilities) != len(names)):
                _fail(at, "expected probabilities for each of its action_classes")
            if any(not isinstance(v, Real) or math.isnan(v) for v in probabilities):
                _fail(f"{at}.probabilities", "expected numbers")
    return data
