"""Finding the person in a whole frame with the network's person heads (MoveNet's way).

A :class:`~posenet.models.MobilePoseNetwork` carries MoveNet's ``person_center`` (the
probability that a person's centre lies at each heatmap pixel) and ``person_regress``
(each pixel's guess of the 17 COCO keypoints, (dy, dx) in heatmap px). On the whole frame
letterboxed to the network's input, the centre's peak, weighted towards the middle as
MoveNet does, picks the person; the keypoints regressed from it bound the person's box.

``python -m posenet.inference.person_finder --data ../shared/data`` measures the
Predictor's person score on people and on images without anyone (``min_score``'s
calibration, :data:`posenet.inference.predictor.MIN_SCORE`).
"""

from __future__ import annotations

import os

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


# -- calibrating the Predictor's ``min_score`` ---------------------------------------------
def empty_images(data, seed=0):
    """``{kind: [images]}`` of (H, W, 3) uint8 BGR images without anyone: flat colours,
    uniform noise, procedural backgrounds and, when ``data`` (the shared data folder) holds
    the Pose2Sim lab videos, crops of their ceiling (all four cameras) and floor (cameras 2
    and 3, where nobody walks) every 33rd frame."""
    import cv2

    from posenet.render.background import random_background

    rng = np.random.default_rng(seed)
    size = lambda: (int(rng.integers(100, 800)), int(rng.integers(100, 800)))  # noqa: E731
    found = {
        "flat": [np.full((*size(), 3), rng.integers(0, 256, 3), np.uint8) for _ in range(50)],
        "noise": [rng.integers(0, 256, (*size(), 3)).astype(np.uint8) for _ in range(50)],
        "background": [random_background(rng, *size()) for _ in range(150)],
        "video": []}
    folder = os.path.join(os.fspath(data), "videos", "pose2sim_multiperson")
    for cam in (1, 2, 3, 4):
        cap = cv2.VideoCapture(os.path.join(folder, f"cam0{cam}.mp4"))
        index = 0
        while (frame := cap.read()[1]) is not None:
            if index % 33 == 0:  # 1920 x 1088 portrait: rows 0-220 are the ceiling
                bands = [frame[:220]] + ([frame[1640:]] if cam in (2, 3) else [])
                found["video"] += [b[:, x:x + 362] for b in bands for x in (0, 363, 726)]
            index += 1
        cap.release()
    return found


def person_scores(predictor, images, batch=16) -> np.ndarray:
    """The person score (``predictor.detect_single``'s) of each whole image."""
    scores = []
    for start in range(0, len(images), batch):
        results, _ = predictor.detect_single(images[start:start + batch])
        scores += [r["person_score"] for r in results]
    return np.asarray(scores)


def main(argv=None):
    """Print the person scores' rates on LSPet validation photos and empty images."""
    import argparse

    import cv2

    from posenet.data.readers.lsp import LSPET_TRAIN_END, LSPET_VAL_END
    from posenet.inference.people import MIN_SCORE
    from posenet.inference.predictor import Predictor

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--data", default="../shared/data", help="the shared data folder")
    parser.add_argument("--weights", default=None, help="default: the shipped weights")
    parser.add_argument("--every", type=int, default=1, help="use every n-th LSPet photo")
    args = parser.parse_args(argv)
    predictor = Predictor(args.weights)
    names = [os.path.join(args.data, "lspet", "images", f"im{i:05d}.jpg")
             for i in range(LSPET_TRAIN_END + 1, LSPET_VAL_END + 1, args.every)]
    people = person_scores(predictor, [cv2.imread(n) for n in names])
    empty = {k: person_scores(predictor, v) for k, v in empty_images(args.data).items() if v}
    every = np.concatenate(list(empty.values()))
    print(f"people: {len(people)} LSPet validation photos; empty: "
          + ", ".join(f"{len(v)} {k}" for k, v in empty.items()))
    print("people's score percentiles 0.5/1/2/5%: "
          + " ".join(f"{np.percentile(people, q):.3f}" for q in (0.5, 1, 2, 5)))
    for threshold in sorted({MIN_SCORE, *np.round(np.percentile(people, (0.5, 1, 2, 5)), 2)}):
        rejected = " ".join(f"{k} {np.mean(v < threshold):.1%}" for k, v in empty.items())
        print(f"min_score {threshold:.2f}: people kept {np.mean(people >= threshold):.1%}, "
              f"empty rejected {np.mean(every < threshold):.1%} ({rejected})")


if __name__ == "__main__":
    main()
