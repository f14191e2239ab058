"""The finding stage: the single person of a whole frame, found, cropped and estimated.

This follows the method's refinement: the whole frame letterboxed to a square crop gives a
first pose, whose confident joints' box padded by 20% is cropped and estimated, and the
crop re-centred once more on those joints (``refine_passes``). ``finder="heads"`` takes
the first box from MoveNet's person heads instead (mobile presets; ``person_finder``);
weights/README.md compares the two on whole LSPet photos.

A newly found person's score is :func:`~posenet.inference.people.person_score`, the mean
joint confidence weighted by how well the whole-frame pose and the refined pose agree (the
confidence alone is high on noise and textured backgrounds), so a flat picture, a 1x1 image
or an empty room has no person at ``min_score``. Boxes are clipped to the frame; a box
under :data:`~posenet.inference.people.MIN_BOX_SIDE` px after clipping is no person.

Boxes are ``(x1, y1, x2, y2)`` in image px.
"""

from __future__ import annotations

import numpy as np

from posenet.engine.inputs import crop_people
from posenet.inference import people as P
from posenet.inference.detector import as_detections
from posenet.inference.person_finder import find_people
from posenet.outputs import PERSON_CENTER, PERSON_REGRESS


class SinglePersonFinder:
    """Finds the one person of whole frames with a :class:`PoseStage`.

    Args:
        pose: the :class:`~posenet.inference.pose_stage.PoseStage` (its network has person
            heads with ``finder="heads"``).
        finder: ``pose`` (the pose network on the letterboxed frame) or ``heads``.
        refine_passes: times the crop is re-centred on the joints estimated in it.
        redetect_below: mean joint confidence under which a tracked pose is re-detected.
        min_score: person score under which nobody is found.
    """

    def __init__(self, pose, finder="pose", refine_passes=1, redetect_below=0.4,
                 min_score=P.MIN_SCORE):
        self.pose, self.finder, self.refine_passes = pose, finder, int(refine_passes)
        self.redetect_below, self.min_score = float(redetect_below), float(min_score)

    def detect(self, frames):
        """``(results, boxes)``: per frame the pose of its person (``PoseStage.estimate``'s
        dict plus ``person_score``) and the box (px) it was estimated in."""
        size = self.pose.size
        whole = [np.array([0.0, 0.0, f.shape[1], f.shape[0]]) for f in frames]
        first = None
        if self.finder == "heads":
            transforms, crops = crop_people(frames, whole, size, margin=1.0)
            heads = self.pose.network_outputs(crops, (PERSON_CENTER, PERSON_REGRESS))
            boxes = [box for box, _ in find_people(heads, transforms, size)]
        else:
            first = self.pose.estimate(frames, whole, margin=1.0)
            boxes = [P.box_from_joints(r["joints2d"]) for r in first]
            boxes = [b if b is not None else w for b, w in zip(boxes, whole, strict=True)]
        results = self.pose.estimate(frames, boxes)
        for _ in range(self.refine_passes):  # re-crop around the estimated joints
            refined = [P.box_from_joints(r["joints2d"]) for r in results]
            boxes = [b if r is None else r for b, r in zip(boxes, refined, strict=True)]
            first = first or results  # heads: the first crop's pose is the other estimate
            results = self.pose.estimate(frames, boxes)
        for i, result in enumerate(results):
            result["person_score"] = result["score"] if first is None else P.person_score(
                result["score"], first[i]["joints2d"], result["joints2d"], boxes[i])
        return results, boxes

    def find(self, frame, previous=None):
        """The box (px, clipped to ``frame``) of the person of ``frame``, or None when
        nobody scores ``min_score`` (``previous``, the last person's box, is not used)."""
        (result,), (box,) = self.detect([frame])
        box = P.clip_box(box, frame.shape[1], frame.shape[0])
        if result["person_score"] < self.min_score or box is None:
            return None
        return box

    #: Finding nobody here does not mean that nobody is there (see ``following``).
    confirms = False

    def redetect(self, frames, results, previous=None) -> list[tuple[int, dict, np.ndarray]]:
        """Re-detection of the weak poses (score under ``redetect_below``) of ``results``,
        one per frame of ``frames``: ``(position, result, box)`` of those whose new pose is
        surer and whose person scores ``min_score``, in order (``previous`` is not used)."""
        weak = [i for i, r in enumerate(results) if r["score"] < self.redetect_below]
        if not weak:
            return []
        again, boxes = self.detect([frames[i] for i in weak])
        return [(i, result, box) for i, result, box in zip(weak, again, boxes, strict=True)
                if result["score"] > results[i]["score"]
                and result["person_score"] >= self.min_score]


#: Ways of choosing the main person among a frame's detections (:func:`main_person`).
CHOICES = ("largest", "central")
#: IoU with the last box of the person followed until then above which a detection is
#: taken as that person again, whatever :data:`CHOICES` would pick.
CONTINUES = 0.1
#: Detector score, and mean score of the detector's 17 keypoints, under which a detection
#: is not taken for the single person, nor starts a track in multi-person mode
#: (``following.FollowMany``). On 500 LSPet training photos (every 16th; the detector at
#: ``detector.FINDING_SIDES``) the annotated person's detection scores 0.40 or more in 99 %
#: of them and passes both in 96 %; the detector's own threshold (0.25) let the edge of a
#: tree pass for a person on the composite clips of ``posenet bench --wild`` (score
#: 0.48-0.53, keypoints 0.19-0.20; the people there: 0.77-0.89 and 0.44-0.59).
FIND_MIN_SCORE = 0.4
FIND_MIN_KEYPOINTS = 0.25


def main_person(boxes, scores, width, height, choose="largest", previous=None) -> int | None:
    """Index of the main person among detected ``boxes`` (N, 4) px with ``scores`` (N,) in
    a ``width`` x ``height`` frame, None when there is none.

    The main person is the one who continues the person followed until then (the box of
    highest IoU with ``previous``, when above :data:`CONTINUES`); else by ``choose``:
    ``largest``, the largest box (area; equal areas by score), or ``central``, the box whose
    centre lies nearest the frame's centre (in units of the frame's sides).
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if not len(boxes):
        return None
    if previous is not None:
        overlap = P.iou(previous, boxes)[0]
        if overlap.max() > CONTINUES:
            return int(np.argmax(overlap))
    if choose == "largest":
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        return int(np.lexsort((-np.asarray(scores, np.float64), -area))[0])
    if choose == "central":
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2 / [width, height]
        return int(np.argmin(np.hypot(*(centre - 0.5).T)))
    raise ValueError(f"choose must be one of {', '.join(CHOICES)}, got {choose!r}")


class DetectorFinder:
    """Finds the main person of whole frames with a person detector, then the pose stage.

    The detector (MoveNet MultiPose by default) runs on the whole frame; the main person's
    box (:func:`main_person`, among the detections scoring :data:`FIND_MIN_SCORE` and
    :data:`FIND_MIN_KEYPOINTS`) is
    cropped and estimated, and the crop re-centred
    ``refine_passes`` times on the joints estimated in it. The person's score is the pose's
    mean joint confidence: the detector has already said that a person is there.

    Args:
        pose: the :class:`~posenet.inference.pose_stage.PoseStage`.
        detector: ``frame -> Detections`` (or boxes, or (boxes, scores)); called only when
            a person must be found, so a lazily built one costs nothing until then.
        choose: ``largest`` or ``central`` (:func:`main_person`).
        refine_passes, redetect_below, min_score: as :class:`SinglePersonFinder`'s.
        glance: ``(frame, box) -> Detections``, a cheaper look for the person in ``box``
            (:meth:`still_there`; the default detector at one small scale when the person is
            large); default ``detector``.
    """

    def __init__(self, pose, detector, choose="largest", refine_passes=1, redetect_below=0.4,
                 min_score=P.MIN_SCORE, glance=None):
        if choose not in CHOICES:
            raise ValueError(f"choose must be one of {', '.join(CHOICES)}, got {choose!r}")
        self.pose, self.detector, self.choose = pose, detector, choose
        self.glance = glance if glance is not None else (lambda frame, box: detector(frame))
        self.refine_passes = int(refine_passes)
        self.redetect_below, self.min_score = float(redetect_below), float(min_score)

    def detect(self, frames, previous=None):
        """``(results, boxes)``: per frame the pose of its main person (``PoseStage.
        estimate``'s dict plus ``person_score``) and the box (px) it was estimated in, or
        None and None where the detector finds nobody. ``previous``: per frame, the box of
        the person followed until then, or None (:func:`main_person`)."""
        previous = [None] * len(frames) if previous is None else previous
        boxes = []
        for frame, last in zip(frames, previous, strict=True):
            found = _sure(as_detections(self.detector(frame)))
            pick = main_person(found.boxes, found.scores, frame.shape[1], frame.shape[0],
                               self.choose, last)
            boxes.append(None if pick is None else found.boxes[pick])
        seen = [i for i, box in enumerate(boxes) if box is not None]
        crops, kept = [frames[i] for i in seen], [boxes[i] for i in seen]
        estimated = self.pose.estimate(crops, kept)
        for _ in range(self.refine_passes):  # re-crop around the estimated joints
            refined = [P.box_from_joints(r["joints2d"]) for r in estimated]
            kept = [b if r is None else r for b, r in zip(kept, refined, strict=True)]
            estimated = self.pose.estimate(crops, kept)
        results = [None] * len(frames)
        for i, result, box in zip(seen, estimated, kept, strict=True):
            result["person_score"] = result["score"]
            results[i], boxes[i] = result, box
        return results, boxes

    def find(self, frame, previous=None):
        """The box (px, clipped to ``frame``) of the main person of ``frame``, or None when
        the detector finds nobody or the pose scores under ``min_score``."""
        (result,), (box,) = self.detect([frame], [previous])
        if result is None or result["person_score"] < self.min_score:
            return None
        return P.clip_box(box, frame.shape[1], frame.shape[0])

    #: The detector can say that nobody is there: the follower then ends the track.
    confirms = True

    def still_there(self, frame, box) -> bool:
        """Whether a glance of the detector (``glance``) sees, among the people it is sure
        of, one who continues the person followed in ``box`` (IoU over :data:`CONTINUES`,
        as :func:`main_person` prefers them): a confirmation without a pose. False sends
        the follower to :meth:`find`, which looks again in full."""
        found = _sure(as_detections(self.glance(frame, box)))
        return bool(len(found)) and P.iou(np.asarray(box)[None], found.boxes).max() > CONTINUES

    def redetect(self, frames, results, previous=None) -> list[tuple[int, dict, np.ndarray]]:
        """As :meth:`SinglePersonFinder.redetect`, the person found by the detector (the
        one who continues ``previous``, the boxes the weak poses were cropped in); a weak
        pose where the detector finds nobody gives ``(position, None, None)``."""
        weak = [i for i, r in enumerate(results) if r["score"] < self.redetect_below]
        if not weak:
            return []
        last = None if previous is None else [previous[i] for i in weak]
        again, boxes = self.detect([frames[i] for i in weak], last)
        return [(i, result, box) for i, result, box in zip(weak, again, boxes, strict=True)
                if result is None or (result["score"] > results[i]["score"]
                                      and result["person_score"] >= self.min_score)]


def _sure(found):
    """The detections scoring :data:`FIND_MIN_SCORE` with a mean keypoint confidence of
    :data:`FIND_MIN_KEYPOINTS` (when they have keypoints)."""
    sure = found.scores >= FIND_MIN_SCORE
    if found.keypoints is not None:
        sure &= found.keypoints[..., 2].mean(-1) >= FIND_MIN_KEYPOINTS
    return found.select(np.flatnonzero(sure))


def make_finder(pose, finder, detector, person="largest", refine_passes=1, redetect_below=0.4,
                min_score=P.MIN_SCORE, glance=None):
    """The finding stage ``finder`` (``detector``, ``pose`` or ``heads``) over the pose
    stage ``pose``: a :class:`DetectorFinder` with ``detector``, ``person`` and ``glance``,
    else a :class:`SinglePersonFinder`."""
    if finder == "detector":
        return DetectorFinder(pose, detector, person, refine_passes, redetect_below, min_score,
                              glance)
    return SinglePersonFinder(pose, finder, refine_passes, redetect_below, min_score)
