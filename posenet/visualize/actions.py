"""Action probabilities over time, per track and dataset, from a predictions dict.

Windows ``start``/``end`` are frame indices (``end`` exclusive); a window is plotted at
its centre, in seconds when the predictions have an ``fps``, else in frames.
"""

from __future__ import annotations

import cv2
import numpy as np

from posenet.visualize.plots import FONT, line_plot


def window_label(track: dict, dataset: str, frame: int, classes) -> tuple[str, float] | None:
    """(class name, probability) of the window of ``track`` covering ``frame``.

    Falls back to the track's overall ``label`` (with its top probability) when no window
    covers the frame; None when the track has no prediction for ``dataset``.
    """
    action = (track.get("actions") or {}).get(dataset)
    if not action:
        return None
    covering = [w for w in action.get("windows") or [] if w["start"] <= frame < w["end"]]
    if covering:
        # Several windows overlap with a stride: the one centred nearest the frame wins.
        w = min(covering, key=lambda w: abs((w["start"] + w["end"]) / 2 - frame))
        probs = np.asarray(w["probabilities"], float)
        k = int(np.argmax(probs))
        return (classes[k] if k < len(classes) else str(k)), float(probs[k])
    label = action.get("label")
    if label is None:
        return None
    probs = action.get("probabilities")
    return str(label), float(np.max(probs)) if probs else float("nan")


def action_text(predictions: dict, frame: int) -> dict:
    """{track id: "label 0.82" (one per dataset, joined by " | ")} for ``frame``."""
    classes = predictions.get("action_classes") or {}
    texts = {}
    for track in predictions.get("tracks") or []:
        parts = []
        for dataset in sorted(track.get("actions") or {}):
            hit = window_label(track, dataset, frame, classes.get(dataset, []))
            if hit is not None:
                name, p = hit
                parts.append(name if np.isnan(p) else f"{name} {p:.2f}")
        if parts:
            texts[track["id"]] = " | ".join(parts)
    return texts


def _series(action: dict, classes, fps, top_k):
    windows = action.get("windows") or []
    if windows:
        centres = np.array([(w["start"] + w["end"]) / 2.0 for w in windows])
        probs = np.array([w["probabilities"] for w in windows], float)
    elif action.get("probabilities"):
        centres, probs = np.zeros(1), np.asarray([action["probabilities"]], float)
    else:
        return []
    x = centres / fps if fps else centres
    order = np.argsort(-probs.mean(axis=0))[:top_k]  # classes most present over the clip
    return [(classes[k] if k < len(classes) else str(k), x, probs[:, k]) for k in order]


def _message(text, size) -> np.ndarray:
    img = np.full((size[1], size[0], 3), 255, np.uint8)
    cv2.putText(img, text, (20, size[1] // 2), FONT, 0.6, (40, 40, 40), 1, cv2.LINE_AA)
    return img


def action_figure(predictions: dict, top_k: int = 3, panel_size=(800, 280)) -> np.ndarray:
    """Stacked plots (one per track and dataset) of the top-k classes' probabilities.

    Returns a BGR uint8 image of width ``panel_size[0]`` and one ``panel_size[1]`` px
    high panel per plot (a single message panel when there is nothing to plot).
    """
    fps = float(predictions.get("fps") or 0.0)
    classes = predictions.get("action_classes") or {}
    num_frames = predictions.get("num_frames")
    xlim = None
    if num_frames:
        xlim = (0.0, num_frames / fps if fps else float(num_frames))
    panels = []
    for track in predictions.get("tracks") or []:
        for dataset in sorted(track.get("actions") or {}):
            series = _series(track["actions"][dataset], classes.get(dataset, []), fps, top_k)
            if not series:
                continue
            panels.append(line_plot(
                series, panel_size, xlim=xlim, ylim=(0.0, 1.0),
                title=f"track #{track['id']} - {dataset}",
                xlabel="time (s)" if fps else "frame", ylabel="probability"))
    if not panels:
        return _message("no action predictions", panel_size)
    return np.concatenate(panels, axis=0)
