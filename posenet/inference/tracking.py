"""Following several people: optimal assignment of detections to tracks, tracks that are
confirmed before they are reported and that end.

A track's life is driven by the detector, not by its own poses (a pose network finds a
"person" in any crop, so poses alone would keep ghosts alive forever):

- a detection no track takes starts a *tentative* track; it is *confirmed* once matched by
  ``confirm_hits`` detector runs in a row (or at once when its score reaches
  ``confident_score``); a tentative track missed by the detector is dropped;
- a confirmed track missed by a detector run is *lost*: it is neither estimated nor
  reported, and its box moves on with its last velocity, so that the person can be taken
  back under the same id after a short occlusion; a track lost for more than
  ``max_missed`` frames ends;
- between detector runs, the tracks are followed by the boxes of their estimated joints
  (``Tracker.seen``).

Assignment: ``scipy.optimize.linear_sum_assignment`` on a cost of ``1 - IoU`` between
the detections and the tracks' predicted boxes, lowered by the agreement of the detection's
keypoints with the track's last joints when the detector gives keypoints (people who cross
keep their ids: their boxes overlap, their joints do not). Pairs under ``match_iou`` (and
without agreeing joints) are never matched.

Boxes are ``(x1, y1, x2, y2)`` in continuous image px.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import linear_sum_assignment

from posenet.inference.detector import Detections, as_detections
from posenet.inference.people import iou, smooth_box
from posenet.skeleton import map_joints

#: A cost that forbids a pair.
_FORBIDDEN = 1e6


@dataclasses.dataclass
class Track:
    """One followed person.

    ``box`` the current box (px), ``velocity`` the change of its centre per frame, as
    (dx, dy, dx, dy) (from detection to detection: a detector's boxes and boxes of joints
    are framed differently), ``detected`` the last
    detection's box and ``detected_frame`` its frame, ``joints`` its last
    2D joints (J, 3) in the pose layout or None, ``hits`` consecutive detector matches,
    ``confirmed``, ``lost`` (missed by the last detector run), ``first_frame`` and
    ``last_frame`` (the last frame with a detection or a confident pose), ``box_frame``
    (the frame ``box`` belongs to).
    """

    id: int
    box: np.ndarray
    first_frame: int
    last_frame: int
    box_frame: int
    detected: np.ndarray | None = None
    detected_frame: int = 0
    velocity: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(4))
    joints: np.ndarray | None = None
    hits: int = 1
    confirmed: bool = False
    lost: bool = False

    def predicted(self, frame) -> np.ndarray:
        """The box moved on to ``frame`` with the track's velocity."""
        return self.box + self.velocity * (frame - self.box_frame)

    @property
    def active(self) -> bool:
        """Estimated and reported: confirmed and seen by the last detector run."""
        return self.confirmed and not self.lost


def _centre(box) -> np.ndarray:
    return (np.asarray(box[:2]) + np.asarray(box[2:])) / 2


def joint_agreement(track_joints, keypoints, box, min_conf=0.3) -> float:
    """In [0, 1]: how well a detection's COCO ``keypoints`` (17, 3) agree with a track's
    ``track_joints`` (J, 3) in ``layout``: exp(-d^2 / (2 s^2)) averaged over the joints
    confident in both, d the distance and s a tenth of the box's diagonal (an OKS-like
    similarity); 0 with fewer than 3 common joints."""
    layout = "model17" if track_joints.shape[0] == 17 else "model16"
    mapped, valid = map_joints(np.asarray(keypoints, np.float64), "coco", layout,
                               np.asarray(keypoints)[:, 2] >= min_conf)
    ok = valid & (track_joints[:, 2] >= min_conf) & np.isfinite(track_joints[:, :2]).all(1)
    if ok.sum() < 3:
        return 0.0
    scale = 0.1 * np.hypot(box[2] - box[0], box[3] - box[1]) + 1e-9
    d2 = ((mapped[ok, :2] - track_joints[ok, :2]) ** 2).sum(1)
    return float(np.exp(-d2 / (2 * scale ** 2)).mean())


class Tracker:
    """Tracks of people across frames (see the module docstring).

    Args:
        max_missed: frames a confirmed track survives without a detection (occlusions).
        match_iou: least IoU of a detection with a track's predicted box for a match
            (unless their joints agree).
        confirm_hits: consecutive detector matches that confirm a track.
        confident_score: a detection this sure starts a confirmed track.
        min_detection: detections scored below this start no track (they may continue one).
        min_keypoints: nor do detections whose keypoints' mean confidence is below this
            (a detector's box on foliage or glare rarely has a body's keypoints).
    """

    def __init__(self, max_missed=30, match_iou=0.1, confirm_hits=2, confident_score=0.6,
                 min_detection=0.3, min_keypoints=0.0):
        self.max_missed, self.match_iou = int(max_missed), float(match_iou)
        self.confirm_hits, self.confident_score = int(confirm_hits), float(confident_score)
        self.min_detection, self.min_keypoints = float(min_detection), float(min_keypoints)
        self.tracks: list[Track] = []
        self.finished: list[Track] = []
        self._next_id = 0

    @property
    def active(self) -> list[Track]:
        """The tracks to estimate and report in the coming frames."""
        return [t for t in self.tracks if t.active]

    def crowded(self, frame, threshold=0.1) -> bool:
        """Whether two active tracks' predicted boxes overlap by more than ``threshold``
        IoU in ``frame``: there a crop holds two people, and the pose network may follow
        the wrong one until the next detection."""
        boxes = np.array([t.predicted(frame) for t in self.active]).reshape(-1, 4)
        if len(boxes) < 2:
            return False
        overlap = iou(boxes, boxes)
        np.fill_diagonal(overlap, 0.0)
        return bool(overlap.max() > threshold)

    def start(self, box, frame, confirmed=True) -> Track:
        """A new track at ``box`` from ``frame`` on (single-person mode starts confirmed)."""
        box = np.asarray(box, np.float64)
        track = Track(self._next_id, box, frame, frame, frame, box.copy(), frame,
                      confirmed=confirmed)
        self._next_id += 1
        self.tracks.append(track)
        return track

    def _cost(self, found: Detections, frame) -> np.ndarray:
        predicted = np.array([t.predicted(frame) for t in self.tracks]).reshape(-1, 4)
        overlap = iou(found.boxes, predicted)
        cost = 1.0 - overlap
        allowed = overlap >= self.match_iou
        if found.keypoints is not None:
            for c, track in enumerate(self.tracks):
                if track.joints is None:
                    continue
                for r in range(len(found)):
                    agree = joint_agreement(track.joints, found.keypoints[r], found.boxes[r])
                    cost[r, c] -= agree
                    allowed[r, c] |= agree >= 0.5
        return np.where(allowed, cost, _FORBIDDEN)

    def update(self, detections, frame) -> None:
        """One detector run on ``frame``: match, confirm, lose, start and end tracks."""
        found = as_detections(detections)
        pairs = []
        if len(found) and self.tracks:
            cost = self._cost(found, frame)
            rows, cols = linear_sum_assignment(cost)
            pairs = [(r, c) for r, c in zip(rows, cols, strict=True) if cost[r, c] < _FORBIDDEN]
        matched = {c for _, c in pairs}
        for r, c in pairs:
            track = self.tracks[c]
            box = found.boxes[r]
            if track.detected is not None and frame > track.detected_frame:
                # the centre's motion only: a detector's box widths jump with the arms
                step = (_centre(box) - _centre(track.detected)) / (frame - track.detected_frame)
                track.velocity = 0.5 * track.velocity + 0.5 * np.tile(step, 2)
            track.detected, track.detected_frame = box.copy(), frame
            track.box, track.box_frame, track.last_frame = box.copy(), frame, frame
            track.hits = track.hits + 1 if not track.lost else 1
            track.lost = False
            track.confirmed |= track.hits >= self.confirm_hits
        kept = []
        for c, track in enumerate(self.tracks):
            if c in matched:
                kept.append(track)
            elif track.confirmed and frame - track.last_frame <= self.max_missed:
                track.lost, track.hits = True, 0
                kept.append(track)
            elif track.confirmed:
                self.finished.append(track)
            # a tentative track the detector missed was a false alarm: dropped
        self.tracks = kept
        used = {r for r, _ in pairs}
        starts = found.scores >= self.min_detection
        if found.keypoints is not None and len(found):
            starts &= found.keypoints[..., 2].mean(-1) >= self.min_keypoints
        for r in range(len(found)):
            if r not in used and starts[r]:
                self.start(found.boxes[r], frame,
                           confirmed=found.scores[r] >= self.confident_score
                           or self.confirm_hits <= 1)

    def seen(self, track, box, frame, joints=None) -> None:
        """A confident pose of ``track`` in ``frame``: its joints' box and joints."""
        track.box = smooth_box(track.predicted(frame), box)
        track.box_frame = frame
        track.last_frame = max(track.last_frame, frame)
        if joints is not None:
            track.joints = np.asarray(joints, np.float64)

    def lose(self, track) -> None:
        """``track``'s pose is not confident: stop reporting it until a detection."""
        track.lost = True

    def end(self, track) -> None:
        """End ``track`` now (single-person mode, when the person is lost)."""
        if track in self.tracks:
            self.tracks.remove(track)
            self.finished.append(track)

    def prune(self, frame) -> None:
        """End the tracks lost for more than ``max_missed`` frames."""
        for track in [t for t in self.tracks if frame - t.last_frame > self.max_missed]:
            self.end(track)

    def end_all(self) -> None:
        self.finished += [t for t in self.tracks if t.confirmed]
        self.tracks = []


def suppress_duplicates(results, tracks, threshold=0.6) -> list[bool]:
    """Which of one frame's (result, track) pairs to keep: when two tracks' joint boxes
    overlap by more than ``threshold`` IoU they follow the same person, and the younger
    track (higher id) is dropped for this frame."""
    keep = [True] * len(results)
    boxes = [r.get("box") for r in results]
    order = sorted(range(len(results)), key=lambda i: tracks[i].id)
    for a_pos, a in enumerate(order):
        if not keep[a] or boxes[a] is None:
            continue
        for b in order[a_pos + 1:]:
            if keep[b] and boxes[b] is not None and iou(boxes[a], boxes[b])[0, 0] > threshold:
                keep[b] = False
    return keep
