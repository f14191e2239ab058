"""Calibrating the Predictor's ``min_score``: its person score on people and on images
without anyone.

``Predictor.detect_single`` finds the single person of a whole frame and scores it (the
network's person-centre probability, or its pose's confidence); a frame whose score is
under ``min_score`` (:data:`posenet.inference.people.MIN_SCORE`) reports nobody.
:func:`measure` scores LSPet's validation photos (one person each) and
:func:`empty_images` (nobody), and :func:`rate_lines` says which share of each a threshold
keeps or rejects::

    posenet tools person-score --data ../shared/data

The caller builds the Predictor (``posenet.inference.Predictor(weights)``).
"""

from __future__ import annotations

import os

import numpy as np


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


def lspet_validation_photos(data, every=1) -> list[str]:
    """The paths of every ``every``-th LSPet validation photo under the shared data folder
    ``data`` (``lspet/images/imNNNNN.jpg``)."""
    from posenet.data.readers.lsp import LSPET_TRAIN_END, LSPET_VAL_END

    return [os.path.join(os.fspath(data), "lspet", "images", f"im{i:05d}.jpg")
            for i in range(LSPET_TRAIN_END + 1, LSPET_VAL_END + 1, every)]


def measure(predictor, data, every=1) -> tuple[np.ndarray, dict]:
    """(the person scores of every ``every``-th LSPet validation photo, ``{kind: scores}``
    of :func:`empty_images`) of ``predictor``; ``data`` is the shared data folder.
    FileNotFoundError when a photo is missing."""
    import cv2

    images = []
    for name in lspet_validation_photos(data, every):
        image = cv2.imread(name)
        if image is None:
            raise FileNotFoundError(f"{name}: no such image (expected the LSPet photos "
                                    "under <data>/lspet/images)")
        images.append(image)
    people = person_scores(predictor, images)
    empty = {k: person_scores(predictor, v) for k, v in empty_images(data).items() if v}
    return people, empty


def rate_lines(people, empty, min_score=None) -> list[str]:
    """The report of :func:`measure`'s scores: how many images, the people's low
    percentiles, and for ``min_score`` (default :data:`~posenet.inference.people.MIN_SCORE`)
    and each of those percentiles the share of people kept and of empty images rejected."""
    from posenet.inference.people import MIN_SCORE

    min_score = MIN_SCORE if min_score is None else min_score
    every = np.concatenate(list(empty.values()))
    lines = [f"people: {len(people)} LSPet validation photos; empty: "
             + ", ".join(f"{len(v)} {k}" for k, v in empty.items()),
             "people's score percentiles 0.5/1/2/5%: "
             + " ".join(f"{np.percentile(people, q):.3f}" for q in (0.5, 1, 2, 5))]
    for threshold in sorted({min_score, *np.round(np.percentile(people, (0.5, 1, 2, 5)), 2)}):
        rejected = " ".join(f"{k} {np.mean(v < threshold):.1%}" for k, v in empty.items())
        lines.append(f"min_score {threshold:.2f}: people kept {np.mean(people >= threshold):.1%}, "
                     f"empty rejected {np.mean(every < threshold):.1%} ({rejected})")
    return lines
