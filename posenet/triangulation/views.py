"""The views of a triangulation: which camera each input is, whether they fit together,
and their 2D predictions (read from files, or estimated on videos).

An input is a video (estimated with ``posenet.inference.Predictor``) or a predictions file
of ``posenet infer`` (``.json``, ``.csv``, ``.npz``, ``.jsonl``). Inputs are matched to
the calibration's cameras (:func:`match_cameras`): by the names given (``--cameras``);
else by name when every input's file stem is a camera's name (``cam01.mp4`` is camera
``cam01``); else, when no stem is a camera name, in order (the first input is the first
camera). Some stems naming cameras and others not is refused as ambiguous.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from posenet.inference.schema import load_predictions
from posenet.inference.sources import InputError, probe

PREDICTION_EXTENSIONS = (".json", ".csv", ".npz", ".jsonl")


def is_predictions(path) -> bool:
    """Whether ``path`` is a predictions file (by its extension) rather than a video."""
    return os.path.splitext(os.fspath(path))[1].lower() in PREDICTION_EXTENSIONS


def stem(path) -> str:
    """The file name without its extension."""
    return os.path.splitext(os.path.basename(os.fspath(path)))[0]


def match_cameras(inputs, cameras, names=None):
    """``(cameras of the inputs in order, how: "names" | "stems" | "order")``; ValueError
    when they cannot be matched (module docstring)."""
    by_name = {c.name: c for c in cameras}
    if len(inputs) > len(cameras):
        raise ValueError(f"{len(inputs)} inputs but the calibration has only "
                         f"{len(cameras)} cameras ({', '.join(by_name)})")
    if names is not None:
        if len(names) != len(inputs):
            raise ValueError(f"{len(names)} camera names for {len(inputs)} inputs")
        how, chosen = "names", list(names)
    else:
        stems = [stem(p) for p in inputs]
        known = [s in by_name for s in stems]
        if all(known):
            how, chosen = "stems", stems
        elif any(known):
            unknown = [s for s, k in zip(stems, known, strict=True) if not k]
            raise ValueError(f"some inputs are named after cameras and some are not "
                             f"({', '.join(unknown)}): name every input after its camera, or "
                             f"give the cameras' names in order (known: {', '.join(by_name)})")
        else:
            return list(cameras[:len(inputs)]), "order"
    unknown = [n for n in chosen if n not in by_name]
    if unknown:
        raise ValueError(f"unknown camera names {', '.join(unknown)} (known: "
                         f"{', '.join(by_name)})")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"a camera is given to two inputs: {', '.join(chosen)}")
    return [by_name[n] for n in chosen], how


@dataclass
class ViewInput:
    """What one input holds: ``kind`` "video" or "predictions", size in px, frames, fps;
    ``predictions`` already read for a predictions file (None for a video)."""

    path: str
    kind: str
    width: int
    height: int
    num_frames: int
    fps: float | None
    predictions: dict | None = None


def describe(path) -> ViewInput:
    """Read a predictions file, or probe a video; ValueError when neither can be read."""
    path = os.fspath(path)
    if is_predictions(path):
        try:
            pred = load_predictions(path)
            return ViewInput(path, "predictions", int(pred["width"]), int(pred["height"]),
                             len(pred["frames"]), pred.get("fps"), pred)
        except (OSError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: not a readable posenet predictions file ({error})") from None
    try:
        info = probe(path)
    except InputError as error:
        raise ValueError(str(error)) from None
    if info.kind != "video":
        raise ValueError(f"{path}: not a video or a predictions file")
    return ViewInput(path, "video", info.width, info.height, info.frame_count, info.fps)


def check_views(views, cameras):
    """``(frames to use, warnings)`` for the inputs ``views`` (``ViewInput``) seen by
    ``cameras``: ValueError when an input's frame size is not its camera's; a warning
    when the inputs' frame counts or rates differ (the shortest is used)."""
    for view, camera in zip(views, cameras, strict=True):
        if (view.width, view.height) != camera.size:
            raise ValueError(f"{view.path}: frames of {view.width}x{view.height} px, but "
                             f"camera {camera.name} is calibrated for "
                             f"{camera.size[0]}x{camera.size[1]} px")
    counts = [v.num_frames for v in views]
    warnings = []
    if len(set(counts)) > 1:
        warnings.append(f"the inputs have different frame counts ({', '.join(map(str, counts))}"
                        f"): the first {min(counts)} frames of each are used")
    rates = {round(float(v.fps), 3) for v in views if v.fps}
    if len(rates) > 1:
        listed = ", ".join(map(str, sorted(rates)))
        warnings.append(f"the inputs have different frame rates ({listed} frames/s): frames "
                        "are paired by index, at the first input's rate")
    return min(counts), warnings


def predict_views(views, predictor, max_frames=None, progress=None) -> list[dict]:
    """Each view's predictions dict: read, or estimated by ``predictor`` (a
    ``posenet.inference.Predictor``) on its first ``max_frames`` frames; ``progress(path,
    n)`` after each chunk of ``n`` frames."""
    out = []
    for view in views:
        if view.predictions is not None:
            out.append(view.predictions)
            continue

        def update(n, path=view.path):
            if progress is not None:
                progress(path, n)

        out.append(predictor.predict_video(view.path, progress=update, max_frames=max_frames,
                                           stream=False))
    return out
