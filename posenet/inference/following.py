"""The following stage: which person is estimated where in each chunk of frames.

Frames are processed in chunks (one batched network call per chunk): :meth:`plan` gives
each frame's tracks and the box each is cropped in, known when the chunk starts; after the
pose stage, :meth:`settle` turns the poses into the frame's people and moves the tracks on.

Single person (:class:`FollowOne`): when there is no track (first frame, or after the
pose's confidence dropped below ``min_score``) the person is found in the whole frame
(``finding``); later frames are cropped around the track's smoothed box, so a frame costs
one network call, and a frame whose pose is not confident (under ``redetect_below``) is
re-detected. With the person detector (``finding.DetectorFinder``), every
:data:`CONFIRM_EVERY` frames the detector checks that the person is still there, first at
a glance (``DetectorFinder.still_there``: no pose, and a person at least a quarter of the
frame tall looked for at the detector's smallest scale only), then, when the glance does
not see them, with a whole find: a track whose person the detector no longer sees ends (a
pose network finds a pose in an empty background too), and so does a weak pose where the
detector sees nobody.

Several people (:class:`FollowMany`): a person detector (MoveNet MultiPose by default,
``posenet.inference.detector``) runs every ``detect_every`` frames, every
``crowded_every`` frames while tracks overlap, and the people are followed in between with
the boxes of their predicted joints; ``posenet.inference.tracking`` assigns detections to
tracks, confirms new tracks before they are reported and ends the tracks the detector no
longer sees. When two tracks' poses land on the same person in a frame, the younger one is
not reported there.

A pose is reported only when its mean joint confidence reaches ``min_score`` and its box,
clipped to the frame, is at least ``MIN_BOX_SIDE`` px a side. Boxes are ``(x1, y1, x2,
y2)`` in image px; frames are ``(index, frame)`` pairs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from posenet.inference.finding import CONTINUES, FIND_MIN_KEYPOINTS, FIND_MIN_SCORE
from posenet.inference.people import MIN_SCORE, box_from_joints, clip_box, iou
from posenet.inference.tracking import Track, Tracker, suppress_duplicates

#: Frames between the detector's checks that the single person followed is still there
#: (and still the main person): at most this many frames report a person who has left.
CONFIRM_EVERY = 15


class Planned(NamedTuple):
    """One crop of a chunk: the frame's position in the chunk, its track, the box (px) to
    crop and the frame (H, W, 3) uint8 BGR."""

    pos: int
    track: Track
    box: np.ndarray
    frame: np.ndarray


class Following:
    """A :class:`Tracker` driven chunk by chunk: :meth:`plan`, then :meth:`settle`.

    Subclasses say when people are looked for (:meth:`look`), which poses are looked at
    again (:meth:`check`) and what an unsure pose does to its track (:meth:`unsure`).

    Args:
        max_missed: frames a track survives without a detection (``Tracker``).
        min_score: mean joint confidence under which a pose is not reported.
    """

    def __init__(self, max_missed=30, min_score=MIN_SCORE):
        self.tracker = Tracker(max_missed)
        self.min_score = float(min_score)

    def look(self, index, frame) -> None:
        """Update the tracks with the people of frame ``index`` before it is planned."""

    def unsure(self, track) -> None:
        """``track``'s pose is under ``min_score`` or boxless."""

    def check(self, plan, results) -> None:
        """Replace in place the poses of ``results`` (one per ``plan`` entry) that another
        look finds better."""

    def plan(self, chunk) -> list[Planned]:
        """The crops of ``chunk``: each frame's active tracks with their predicted boxes."""
        plan = []
        for pos, (index, frame) in enumerate(chunk):
            self.look(index, frame)
            plan += [Planned(pos, t, t.predicted(index), frame) for t in self.tracker.active]
        return plan

    def settle(self, chunk, plan, results) -> list[list[dict]]:
        """Per frame of ``chunk``, the poses of ``results`` (one per ``plan`` entry) that
        are reported, each given its ``box`` (clipped, px) and ``track`` id; the tracks
        move on to them."""
        self.check(plan, results)
        candidates = [[] for _ in chunk]
        for (pos, track, _, frame), result in zip(plan, results, strict=True):
            height, width = frame.shape[:2]
            result["box"] = clip_box(box_from_joints(result["joints2d"]), width, height)
            if result["score"] >= self.min_score and result["box"] is not None:
                candidates[pos].append((result, track))
            else:
                self.unsure(track)
        found = [[] for _ in chunk]
        for pos, (index, _) in enumerate(chunk):
            pairs = candidates[pos]
            keep = suppress_duplicates([r for r, _ in pairs], [t for _, t in pairs])
            for (result, track), kept in zip(pairs, keep, strict=True):
                if kept:
                    self.tracker.seen(track, result["box"], index, result["joints2d"])
                    result["track"] = track.id
                    found[pos].append(result)
        return found

    def finish(self) -> list[Track]:
        """End every track (the input ended): the finished tracks."""
        self.tracker.end_all()
        return self.tracker.finished


class FollowOne(Following):
    """One person, found by a :class:`~posenet.inference.finding.SinglePersonFinder`
    when there is no track, re-detected where the pose is weak, lost when unsure."""

    def __init__(self, finder, max_missed=30, min_score=MIN_SCORE, confirm_every=CONFIRM_EVERY):
        super().__init__(max_missed, min_score)
        self.finder = finder
        self.last_box = None  # of the person followed until the track was lost
        # only a finder that can tell that nobody is there confirms a track
        self.confirm_every = confirm_every if getattr(finder, "confirms", False) else None

    def look(self, index, frame):
        (track,) = self.tracker.active or (None,)
        if track is not None and self.confirm_every and index % self.confirm_every == 0:
            predicted = track.predicted(index)
            if self.finder.still_there(frame, predicted):
                return  # the detector sees the person at a glance: no pose needed
            box = self.finder.find(frame, predicted)
            if box is not None and iou(box, track.predicted(index))[0, 0] > CONTINUES:
                return  # still there
            self.tracker.end(track)  # gone, or another person is now the main one
            if box is not None:
                self.tracker.start(box, index)
            return
        if track is None:
            box = self.finder.find(frame, self.last_box)
            if box is not None:  # else nobody here: try again on the next frame
                self.tracker.start(box, index)

    def check(self, plan, results):
        redone = self.finder.redetect([p.frame for p in plan], results, [p.box for p in plan])
        for i, result, box in redone:
            if result is None:  # the detector sees nobody: the weak pose is no person
                results[i] = {**results[i], "score": 0.0}
                continue
            results[i] = result
            plan[i].track.box = box  # the track continues from the re-detected box

    def unsure(self, track):
        self.last_box = track.box  # a detector finder prefers this person when it looks again
        self.tracker.end(track)  # lost: re-detected in the next chunk


class FollowMany(Following):
    """Several people, detected by ``detector`` (``frame -> Detections``, or boxes, or
    (boxes, scores)) every ``detect_every`` frames and every ``crowded_every`` frames while
    tracks overlap."""

    def __init__(self, detector, detect_every=4, crowded_every=2, max_missed=30,
                 min_score=MIN_SCORE):
        super().__init__(max_missed, min_score)
        # a new person needs what the single-person finder needs to take someone
        self.tracker.min_detection = FIND_MIN_SCORE
        self.tracker.min_keypoints = FIND_MIN_KEYPOINTS
        self.detector = detector
        self.detect_every, self.crowded_every = int(detect_every), int(crowded_every)

    def look(self, index, frame):
        # more often where people overlap: a crop of two people is ambiguous
        if index % self.detect_every == 0 or (index % self.crowded_every == 0
                                              and self.tracker.crowded(index)):
            self.tracker.update(self.detector(frame), index)

    # unsure: the pose is not reported; the detector decides the rest

    def settle(self, chunk, plan, results):
        found = super().settle(chunk, plan, results)
        self.tracker.prune(chunk[-1][0])
        return found
