"""Finding and following people: boxes from joints, a HOG detector, IoU tracking.

Boxes are ``(x1, y1, x2, y2)`` in continuous image px (pixel ``i`` covers ``[i, i + 1)``).
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

#: A joint whose visibility is at least this counts as confident when boxing a person.
CONFIDENT = 0.5
#: Padding of the confident joints' extent (total, fraction of its width and height).
BOX_PADDING = 0.2
#: Weight of the newest box in the exponential smoothing of a track's box.
SMOOTHING = 0.6


def box_from_joints(joints2d, padding=BOX_PADDING, min_side=8.0) -> np.ndarray | None:
    """(4,) box of the confident joints of (J, 3) ``x, y, conf``, padded by ``padding``.

    Falls back to every finite joint when fewer than 2 are confident; None when fewer than
    2 joints are finite. Sides are at least ``min_side`` px.
    """
    joints = np.asarray(joints2d, np.float64)
    finite = np.isfinite(joints[:, :2]).all(-1)
    pick = finite & (joints[:, 2] >= CONFIDENT)
    if pick.sum() < 2:
        pick = finite
    if pick.sum() < 2:
        return None
    lo, hi = joints[pick, :2].min(0), joints[pick, :2].max(0)
    centre = (lo + hi) / 2
    half = np.maximum((hi - lo) * (1 + padding), min_side) / 2
    return np.concatenate([centre - half, centre + half])


def smooth_box(old, new, weight=SMOOTHING) -> np.ndarray:
    """Exponential smoothing of a track's box (``new`` weighs ``weight``)."""
    if old is None:
        return np.asarray(new, np.float64)
    return weight * np.asarray(new, np.float64) + (1 - weight) * np.asarray(old, np.float64)


def iou(a, b) -> np.ndarray:
    """(N, M) intersection over union of boxes (N, 4) and (M, 4)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)[:, None]
    b = np.asarray(b, np.float64).reshape(-1, 4)[None]
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


def greedy_match(ious, threshold=0.3) -> list[tuple[int, int]]:
    """(row, col) pairs taken in decreasing IoU, each row and column once, IoU >= threshold."""
    ious = np.asarray(ious)
    pairs, rows, cols = [], set(), set()
    for flat in np.argsort(-ious, axis=None):
        r, c = np.unravel_index(flat, ious.shape)
        if ious[r, c] < threshold:
            break
        if r not in rows and c not in cols:
            pairs.append((int(r), int(c)))
            rows.add(r)
            cols.add(c)
    return pairs


class HogDetector:
    """OpenCV's HOG + linear SVM people detector, run on the frame downscaled to about
    ``width`` px wide (faster, and the 64x128 window then fits people of common sizes).

    Calling it on an (H, W, 3) BGR frame returns (N, 4) boxes in the frame's px.
    """

    def __init__(self, width=640, min_score=0.3, nms=0.5):
        if not hasattr(cv2, "HOGDescriptor"):
            raise RuntimeError(
                f"multi-person mode needs OpenCV's HOG people detector, which OpenCV "
                f"{cv2.__version__} does not provide (OpenCV 5 dropped it): install "
                "opencv-python-headless<5, or give Predictor a detector= callable")
        self.width, self.min_score, self.nms = int(width), float(min_score), float(nms)
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def __call__(self, frame) -> np.ndarray:
        scale = min(1.0, self.width / frame.shape[1])
        small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) \
            if scale < 1 else frame
        rects, weights = self.hog.detectMultiScale(small, winStride=(8, 8), padding=(8, 8),
                                                   scale=1.05)
        if len(rects) == 0:
            return np.zeros((0, 4))
        rects = np.asarray(rects, np.float64).reshape(-1, 4)
        weights = np.asarray(weights, np.float64).reshape(-1)
        keep = cv2.dnn.NMSBoxes(rects.tolist(), weights.tolist(), self.min_score, self.nms)
        keep = np.asarray(keep, int).reshape(-1)
        boxes = rects[keep].copy()
        boxes[:, 2:] += boxes[:, :2]
        return boxes / scale


@dataclasses.dataclass
class Track:
    """One followed person: ``id``, its current (smoothed) ``box``, consecutive ``missed``
    frames, and the first/last frames it was seen."""

    id: int
    box: np.ndarray
    first_frame: int
    last_frame: int
    missed: int = 0


class Tracker:
    """Greedy IoU association of detections to tracks; a track ends after ``max_missed``
    consecutive frames without a detection or a confident pose."""

    def __init__(self, max_missed=10, match_iou=0.3):
        self.max_missed, self.match_iou = int(max_missed), float(match_iou)
        self.active: list[Track] = []
        self.finished: list[Track] = []
        self._next_id = 0

    def start(self, box, frame) -> Track:
        """A new track at ``box`` from ``frame`` on."""
        track = Track(self._next_id, np.asarray(box, np.float64), frame, frame)
        self._next_id += 1
        self.active.append(track)
        return track

    def update(self, detections, frame) -> None:
        """Match (N, 4) ``detections`` of ``frame`` to the active tracks: matched tracks take
        the detection's box, unmatched detections start tracks, unmatched tracks miss."""
        detections = np.asarray(detections, np.float64).reshape(-1, 4)
        boxes = np.array([t.box for t in self.active]).reshape(-1, 4)
        pairs = greedy_match(iou(detections, boxes), self.match_iou)
        matched = {c for _, c in pairs}
        for r, c in pairs:
            self.active[c].box = smooth_box(self.active[c].box, detections[r])
        for i, track in enumerate(self.active):
            if i not in matched:
                self.miss(track)
        used = {r for r, _ in pairs}
        for r in range(len(detections)):
            if r not in used:
                self.start(detections[r], frame)
        self.prune()

    def seen(self, track, box, frame) -> None:
        """A confident pose of ``track`` in ``frame`` with the box of its joints."""
        track.box = smooth_box(track.box, box)
        track.last_frame = frame
        track.missed = 0

    def miss(self, track) -> None:
        track.missed += 1

    def prune(self) -> None:
        """End the tracks missed for more than ``max_missed`` frames."""
        keep = []
        for track in self.active:
            (self.finished if track.missed > self.max_missed else keep).append(track)
        self.active = keep

    def end_all(self) -> None:
        self.finished += self.active
        self.active = []
