"""Draw people (skeleton, box, track id, action label) over a BGR frame with OpenCV.

Coordinates are continuous pixels: pixel ``i`` covers ``[i, i + 1)``, so a joint at
``x`` lies over the centre of pixel ``x - 0.5``.  Drawing uses sub-pixel (fixed point)
anti-aliased primitives; line widths scale with the image's smaller side so overlays read
the same on a 256 px crop and a 1080p video.
"""

from __future__ import annotations

import cv2
import numpy as np

from posenet.skeleton import CENTER_COLOR, get_skeleton

MIN_CONFIDENCE = 0.1  # joints below this are hidden (and so are their bones)
_SHIFT = 4  # fixed-point fractional bits for cv2 drawing: 1/16 px precision
_SCALE = 1 << _SHIFT
# Distinct BGR colours for track boxes (a track keeps its colour over the whole video).
TRACK_PALETTE = (
    (60, 180, 255), (255, 200, 60), (200, 80, 255), (80, 255, 160), (255, 90, 90),
    (90, 255, 255), (160, 160, 255), (255, 160, 200),
)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def line_width(shape) -> int:
    """Line thickness in px for an image of ``shape`` (H, W, ...): 1 px per 240 px."""
    return max(1, int(round(min(shape[0], shape[1]) / 240.0)))


def font_scale(shape) -> float:
    """cv2.putText scale for an image of ``shape``: ~13 px high text at 480 px."""
    return max(0.35, min(shape[0], shape[1]) / 960.0)


def track_color(track) -> tuple[int, int, int]:
    """The BGR colour of track ``track`` (int id; None gets white)."""
    if track is None:
        return (255, 255, 255)
    return TRACK_PALETTE[int(track) % len(TRACK_PALETTE)]


def _fix(x: float, y: float) -> tuple[int, int]:
    # -0.5: continuous coordinates to pixel-centre coordinates, then fixed point.
    return int(round((x - 0.5) * _SCALE)), int(round((y - 0.5) * _SCALE))


def _joint_colors(skel) -> list[tuple[int, int, int]]:
    """One BGR colour per joint: the colour of the first link that touches it."""
    colors = [CENTER_COLOR] * skel.num_joints
    seen = [False] * skel.num_joints
    for (a, b), color in zip(skel.links, skel.colors, strict=True):
        for j in (a, b):
            if not seen[j]:
                colors[j], seen[j] = tuple(color), True
    return colors


def _as_joints(joints, num_joints: int, skeleton_name: str) -> np.ndarray:
    """(J, 3) float64 x, y px, confidence; a (J, 2) array gets confidence 1."""
    arr = np.asarray(joints, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != num_joints or arr.shape[1] not in (2, 3):
        raise ValueError(
            f"joints2d must be ({num_joints}, 2 or 3) for {skeleton_name}, got {arr.shape}"
        )
    if arr.shape[1] == 2:
        arr = np.concatenate([arr, np.ones((num_joints, 1))], axis=1)
    return arr


def _shown(joints: np.ndarray) -> np.ndarray:
    """(J,) bool: finite coordinates and confidence >= MIN_CONFIDENCE."""
    finite = np.isfinite(joints).all(axis=1)
    conf = np.where(finite, joints[:, 2], 0.0)
    return finite & (conf >= MIN_CONFIDENCE)


def _draw_bones(img, joints, shown, skel, width) -> None:
    for (a, b), color in zip(skel.links, skel.colors, strict=True):
        if shown[a] and shown[b]:
            p, q = _fix(*joints[a, :2]), _fix(*joints[b, :2])
            cv2.line(img, p, q, tuple(int(c) for c in color), width, cv2.LINE_AA, _SHIFT)


def _draw_joints(img, joints, shown, colors, width) -> None:
    """Dots whose radius and opacity grow with confidence (blended one by one)."""
    h, w = img.shape[:2]
    for j in np.flatnonzero(shown):
        x, y, conf = joints[j]
        conf = float(min(conf, 1.0))
        radius = width * (1.5 + 2.0 * conf)
        x0, y0 = int(max(0, np.floor(x - radius - 2))), int(max(0, np.floor(y - radius - 2)))
        x1, y1 = int(min(w, np.ceil(x + radius + 2))), int(min(h, np.ceil(y + radius + 2)))
        if x1 <= x0 or y1 <= y0:
            continue  # entirely outside the image
        roi = img[y0:y1, x0:x1]
        layer = roi.copy()
        centre = _fix(x - x0, y - y0)
        r = int(round(radius * _SCALE))
        cv2.circle(layer, centre, r, tuple(int(c) for c in colors[j]), -1, cv2.LINE_AA, _SHIFT)
        cv2.circle(layer, centre, r, (255, 255, 255), 1, cv2.LINE_AA, _SHIFT)
        alpha = 0.35 + 0.65 * conf  # faint but visible at the threshold, opaque when sure
        cv2.addWeighted(layer, alpha, roi, 1.0 - alpha, 0.0, dst=roi)


def draw_label(img, text: str, org: tuple[int, int], color, scale: float, anchor="bottom"):
    """Draw ``text`` on a filled ``color`` box at ``org`` (x, y px), clipped to the image.

    ``anchor`` "bottom": the box's bottom-left corner is ``org`` (a label above a box);
    "top": its top-left corner is.  Text is black or white, whichever contrasts more.
    """
    thickness = max(1, int(round(scale * 2)))
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    pad = max(2, int(round(3 * scale)))
    h, w = img.shape[:2]
    x = int(np.clip(org[0], 0, max(0, w - tw - 2 * pad)))
    top = org[1] - (th + base + 2 * pad) if anchor == "bottom" else org[1]
    top = int(np.clip(top, 0, max(0, h - th - base - 2 * pad)))
    cv2.rectangle(img, (x, top), (x + tw + 2 * pad, top + th + base + 2 * pad), color, -1)
    ink = (0, 0, 0) if sum(color) > 3 * 128 else (255, 255, 255)
    cv2.putText(img, text, (x + pad, top + pad + th), FONT, scale, ink, thickness, cv2.LINE_AA)


def _draw_box(img, box, track, action, width, scale) -> None:
    color = track_color(track)
    box = np.asarray(box, dtype=np.float64).reshape(-1)
    if box.shape != (4,) or not np.isfinite(box).all():
        return
    p, q = _fix(box[0], box[1]), _fix(box[2], box[3])
    cv2.rectangle(img, p, q, color, width, cv2.LINE_AA, _SHIFT)
    text = "#?" if track is None else f"#{int(track)}"
    if action:
        text = f"{text} {action}"
    draw_label(img, text, (int(box[0]), int(box[1])), color, scale)


def draw_people(frame_bgr, people, skeleton="model17", action=None) -> np.ndarray:
    """A copy of ``frame_bgr`` (H, W, 3) uint8 with every person of ``people`` drawn.

    Each person is a dict with ``joints2d`` ((J, 3) x, y px, confidence in [0, 1]; (J, 2)
    means confidence 1), optionally ``box`` ((4,) x1, y1, x2, y2 px) and ``track`` (int).
    Bones take the skeleton's link colours; joints are dots whose size and opacity follow
    the confidence; joints below ``MIN_CONFIDENCE`` or with NaN coordinates are hidden with
    their bones.  ``action`` is a text drawn at the bottom left of the frame, or a dict
    {track id: text} drawn beside each track's id.  The input is not modified.
    """
    frame = np.asarray(frame_bgr)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"frame_bgr must be (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
    skel = get_skeleton(skeleton)
    img = frame.copy()
    width, scale = line_width(img.shape), font_scale(img.shape)
    colors = _joint_colors(skel)
    per_track = action if isinstance(action, dict) else {}
    for person in people:
        track = person.get("track")
        if person.get("box") is not None:
            _draw_box(img, person["box"], track, per_track.get(track), width, scale)
        if person.get("joints2d") is None:
            continue
        joints = _as_joints(person["joints2d"], skel.num_joints, skel.name)
        shown = _shown(joints)
        _draw_bones(img, joints, shown, skel, width)
        _draw_joints(img, joints, shown, colors, width)
    if action and not isinstance(action, dict):
        # Bottom-left: the top edge is where labels of boxes near the border get clipped.
        draw_label(img, str(action), (0, img.shape[0]), (40, 40, 40), scale)
    return img
