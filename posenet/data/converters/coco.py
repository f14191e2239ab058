"""COCO person keypoints (2017) -> prepared file.

Source layout: ``<source>/annotations/person_keypoints_{train,val}2017.json`` and, when
downloaded, the images in ``<source>/{train,val}2017/``.  COCO's 17 keypoints map to
model17 shoulders, elbows, wrists, hips, knees and ankles; ``pelvis`` and ``thorax`` are
derived from both hips / shoulders, ``head_top``, ``neck`` and ``spine`` are absent
(the face keypoints have no model17 counterpart).
"""

from __future__ import annotations

import os

import numpy as np

from posenet.data.converters.common import (
    BATCH,
    Progress,
    absolute,
    check_split,
    read_bytes,
    tick,
    to_model,
)
from posenet.data.prepared import PreparedWriter
from posenet.data.readers.coco import read_coco_keypoints

SPLITS = ("train", "val")
YEAR = "2017"


def prepare_coco(source_dir, out_path, split: str = "train", progress: Progress = None, *,
                 min_keypoints: int = 1) -> int:  # fmt: skip
    """COCO ``train`` / ``val``: non-crowd persons with >= ``min_keypoints`` keypoints.

    ``bbox`` is the published box (pixels); images are embedded unchanged when the
    images folder exists, and ``frame_ref`` is always the image's path in that folder.
    ``sequence`` is the COCO ``image_id``, ``frame`` the person's rank in its image.
    """
    check_split("COCO", split, SPLITS)
    root = absolute(source_dir)
    json_path = os.path.join(root, "annotations", f"person_keypoints_{split}{YEAR}.json")
    images_dir = os.path.join(root, f"{split}{YEAR}")
    embed = os.path.isdir(images_dir)
    persons = read_coco_keypoints(json_path, images_dir if embed else None, min_keypoints)
    rank, seen = np.zeros(len(persons), np.int32), {}
    for k, p in enumerate(persons):
        rank[k] = seen.get(p.image_id, 0)
        seen[p.image_id] = rank[k] + 1
    with PreparedWriter(out_path, "coco", split, source=root, embed_images=embed) as w:
        for start in range(0, len(persons), BATCH):
            part = persons[start : start + BATCH]
            joints, valid = to_model(np.stack([p.joints for p in part]),
                                     np.stack([p.visible for p in part]),
                                     np.stack([p.valid for p in part]), "coco")  # fmt: skip
            refs = [os.path.join(images_dir, os.path.basename(p.image)) for p in part]
            extra = {"image": [read_bytes(r) for r in refs]} if embed else {}
            w.append(joints2d=joints, valid2d=valid, bbox=np.stack([p.bbox for p in part]),
                     sequence=np.array([p.image_id for p in part], np.int32),
                     frame=rank[start : start + len(part)], frame_ref=refs, **extra)  # fmt: skip
            tick(progress, start + len(part), len(persons))
        return w.num_samples
