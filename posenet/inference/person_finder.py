"""Finding the person in a whole frame with the network's person heads (MoveNet's way).

A :class:`~posenet.models.MobilePoseNetwork` carries MoveNet's ``person_center`` (the
probability that a person's centre lies at each heatmap pixel) and ``person_regress``
(each pixel's guess of the 17 COCO keypoints, (dy, dx) in heatmap px). On the whole frame
letterboxed to the network's input, the centre's peak, weighted towards the middle as
MoveNet does, picks the person; the keypoints regressed from it bound the person's box.

``posenet tools person-score --data ../shared/data`` measures the Predictor's person score
on people and on images without anyone (``posenet.evaluation.person_score``: the
calibration of ``min_score``, :data:`posenet.inference.people.MIN_SCORE`).
"""

from __future__ import annotations

import numpy as np

from posenet.inference.people import box_from_joints
from posenet.outputs import PERSON_CENTER, PERSON_REGRESS
from posenet.pretrained.movenet import centre_weights

#: Padding of the regressed keypoints' extent (total, fraction of width and height): the
#: regression is coarse, so the box is padded more than a box of predicted joints.
REGRESS_PADDING = 0.3


def has_person_heads(outputs) -> bool:
    """Whether a network's outputs (names or a dict) include the person heads."""
    return PERSON_CENTER in outputs and PERSON_REGRESS in outputs


def person_in_heads(center, regress, prior=True):
    """The person picked in one image's heads -> ((17, 2) x, y of the regressed keypoints
    normalised to the input (x S gives px); the centre's probability).

    ``center`` (h, w, 1) probabilities, ``regress`` (h, w, 34). With ``prior``, the
    centre map is weighted by MoveNet's preference for the middle of the input.
    """
    prob = np.asarray(center, np.float64)[..., 0]
    rows, cols = prob.shape
    weighted = prob * centre_weights(rows, cols) if prior else prob
    cy, cx = np.unravel_index(np.argmax(weighted), weighted.shape)
    offsets = np.asarray(regress, np.float64)[cy, cx].reshape(-1, 2)  # (17, (dy, dx))
    y = (cy + offsets[:, 0]) / rows  # as MoveNet's own decoding (``decode_single``)
    x = (cx + offsets[:, 1]) / cols
    return np.stack([x, y], axis=-1), float(prob[cy, cx])


def keypoints_box(points, padding=REGRESS_PADDING, min_side=8.0) -> np.ndarray:
    """(4,) box (x1, y1, x2, y2) of the points' extent padded by ``padding``."""
    points = np.asarray(points, np.float64)
    confident = np.concatenate([points, np.ones((len(points), 1))], axis=1)
    return box_from_joints(confident, padding=padding, min_side=min_side)


def find_people(outputs, transforms, size) -> list[tuple[np.ndarray, float]]:
    """(box in source px, centre probability) per image, from the person heads of a
    batch of letterboxed whole frames. ``transforms`` are the letterbox crops'
    ``crop_transform`` s; ``size`` the network's input side [px]."""
    centers = np.asarray(outputs[PERSON_CENTER])
    regress = np.asarray(outputs[PERSON_REGRESS])
    found = []
    for i, t in enumerate(transforms):
        points, score = person_in_heads(centers[i], regress[i])
        found.append((keypoints_box(t.invert_points(points * size)), score))
    return found
