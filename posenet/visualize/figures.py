"""The outputs of ``posenet visualize`` built from a predictions dict (see cli/visualize).

Errors a user can fix (a frame that does not exist, a person missing in it, weights that
are not a pose network) raise ValueError with the reason.
"""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from posenet.skeleton import get_skeleton
from posenet.visualize.skeleton3d import render_skeleton3d
from posenet.visualize.video import annotate, overlay_video, read_frames


def overlay_output(predictions: dict, source, stem: str) -> str:
    """Write ``stem``_overlay.mp4 (or .avi), or .png for an image source; the path."""
    if predictions.get("kind") == "image":
        from posenet.io import atomic_path

        image = cv2.imread(os.fspath(source), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f"cannot read image {source}")
        frames = predictions.get("frames") or [{"index": 0}]
        out = annotate(image, predictions, int(frames[0]["index"]))
        ok, data = cv2.imencode(".png", out)
        path = stem + ".png"
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            f.write(data.tobytes())
        return path
    path, count = overlay_video(predictions, source, stem + ".mp4")
    expected = predictions.get("num_frames")
    if expected and count != expected:  # a different video than the one predicted on?
        print(f"note: {source} has {count} frames, the predictions {expected}", file=sys.stderr)
    return path


def _frame(predictions: dict, index: int) -> dict:
    for f in predictions.get("frames") or []:
        if int(f["index"]) == index:
            return f
    raise ValueError(f"frame {index} is not in the predictions")


def _skeleton_for(predictions: dict, num_joints: int):
    name = (predictions.get("skeleton") or {}).get("name", "model17")
    skel = get_skeleton(name)
    if skel.num_joints == num_joints:
        return skel
    if num_joints == 17:  # 3D joints use the model's 3D layout
        return get_skeleton("model17")
    raise ValueError(f"joints3d have {num_joints} joints; {name} has {skel.num_joints}")


def _has_3d(frame: dict) -> bool:
    return any(p.get("joints3d") is not None for p in frame.get("people") or [])


def default_frame(predictions: dict) -> int:
    """Index of the middle frame with a 3D pose, else with people, else of all frames."""
    frames = predictions.get("frames") or []
    with_people = [f for f in frames if f.get("people")]
    chosen = [f for f in with_people if _has_3d(f)] or with_people or frames or [{"index": 0}]
    return int(chosen[len(chosen) // 2]["index"])


def view3d_image(predictions: dict, frame=None, azimuth=30.0, size=(480, 480)):
    """Side-by-side 3D views of the people of ``frame`` (default: the middle one with a
    3D pose); None when the predictions have no 3D joints at all."""
    any3d = any(_has_3d(f) for f in predictions.get("frames") or [])
    if frame is None:
        if not any3d:
            return None
        frame = default_frame(predictions)
    chosen = _frame(predictions, int(frame))
    people = [p for p in chosen.get("people") or [] if p.get("joints3d") is not None]
    if not people:
        if not any3d:
            return None
        raise ValueError(f"frame {chosen['index']} has no 3D pose")
    views = []
    for p in people:
        joints = np.asarray(p["joints3d"], float)
        skel = _skeleton_for(predictions, len(joints))
        title = f"frame {chosen['index']} track #{p.get('track')} az {azimuth:g}"
        views.append(render_skeleton3d(joints, skel, size, azimuth=azimuth, title=title))
    return np.concatenate(views, axis=1)


def still_image(predictions: dict, video, frame=None, azimuth=30.0, height=480):
    """The annotated video frame ``frame`` (default: the 3D view's) scaled to ``height``
    px, beside its 3D view when there is one: a one-picture summary (e.g. for a README)."""
    frame = default_frame(predictions) if frame is None else int(frame)
    image = annotate(_read_frame(video, frame), predictions, frame)
    width = max(int(round(image.shape[1] * height / image.shape[0])), 1)
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    if _has_3d(_frame(predictions, frame)):
        view = view3d_image(predictions, frame, azimuth, size=(height, height))
        image = np.concatenate([image, view[:, :height]], axis=1)
    return image


def _read_frame(path, index: int) -> np.ndarray:
    for i, frame in enumerate(read_frames(path)):
        if i == index:
            return frame
    raise ValueError(f"frame {index} is past the end of {path}")


def heatmaps_image(predictions: dict, video, index: int, weights, block=None) -> np.ndarray:
    """The heatmap figure of the first person of frame ``index`` (a crop around its box)."""
    import keras

    import posenet.models  # noqa: F401  (registers the custom classes for loading)
    from posenet.visualize.heatmaps import crop_box, heatmap_figure

    people = [p for p in _frame(predictions, index).get("people") or []
              if p.get("box") is not None]
    if not people:
        raise ValueError(f"frame {index} has no person with a box")
    try:
        model = keras.saving.load_model(os.fspath(weights), compile=False)
    except Exception as err:  # Keras raises many types for a file that is not a model
        raise ValueError(f"cannot load {weights}: {err}") from err
    model = getattr(model, "pose_network", model)
    if not hasattr(model, "num_blocks") or not hasattr(model, "input_size"):
        raise ValueError(f"{weights} is not a pose network")
    if block is not None and block > model.num_blocks:
        raise ValueError(f"--block {block}: the network has {model.num_blocks} blocks")
    crop = crop_box(_read_frame(video, index), people[0]["box"], model.input_size)
    return heatmap_figure(model, crop, block)
