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

    def find(self, frame):
        """The box (px, clipped to ``frame``) of the person of ``frame``, or None when
        nobody scores ``min_score``."""
        (result,), (box,) = self.detect([frame])
        box = P.clip_box(box, frame.shape[1], frame.shape[0])
        if result["person_score"] < self.min_score or box is None:
            return None
        return box

    def redetect(self, frames, results) -> list[tuple[int, dict, np.ndarray]]:
        """Re-detection of the weak poses (score under ``redetect_below``) of ``results``,
        one per frame of ``frames``: ``(position, result, box)`` of those whose new pose is
        surer and whose person scores ``min_score``, in order."""
        weak = [i for i, r in enumerate(results) if r["score"] < self.redetect_below]
        if not weak:
            return []
        again, boxes = self.detect([frames[i] for i in weak])
        return [(i, result, box) for i, result, box in zip(weak, again, boxes, strict=True)
                if result["score"] > results[i]["score"]
                and result["person_score"] >= self.min_score]
