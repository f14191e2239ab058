"""COCO keypoints reader: ``person_keypoints_{train,val}2017.json``.

Each annotation has ``keypoints``, 51 numbers = 17 x (x, y, v) in the ``coco`` layout,
with v = 0 not labelled (then x = y = 0, so the joint is absent: NaN, ``valid`` False),
v = 1 labelled but not visible, v = 2 labelled and visible; ``bbox`` is
[x, y, width, height] in pixels; ``iscrowd`` 1 marks crowd regions, which have no
usable keypoints and are skipped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from posenet.data.readers._common2d import require_dir, require_file

COCO_HINT = (
    "download the 'COCO' keypoint annotations (annotations_trainval2017.zip, "
    "cocodataset.org) and the matching images"
)
NUM_JOINTS = 17


@dataclass(frozen=True)
class CocoPerson:
    """One COCO person annotation in the dataset's own 17-joint ``coco`` layout.

    ``image``: image path (joined to ``images_dir`` when given, else the file name);
    ``image_id``, ``annotation_id``: COCO ids; ``joints`` (17, 2) float32 x, y pixels,
    NaN where not labelled; ``visible`` (17,) bool (v = 2); ``valid`` (17,) bool
    (v > 0); ``bbox`` (4,) float32 x1, y1, x2, y2 pixels; ``size``: image (H, W) in
    pixels.
    """

    image: str
    image_id: int
    annotation_id: int
    joints: np.ndarray
    visible: np.ndarray
    valid: np.ndarray
    bbox: np.ndarray
    size: tuple[int, int]
    layout: str = "coco"


def read_coco_keypoints(json_path, images_dir=None, min_keypoints: int = 1) -> list[CocoPerson]:
    """Non-crowd person annotations with at least ``min_keypoints`` labelled keypoints,
    in the file's annotation order."""
    json_path = require_file(json_path, "COCO keypoints annotation file", COCO_HINT)
    if images_dir is not None:
        images_dir = os.path.abspath(require_dir(images_dir, "COCO images folder", COCO_HINT))
    try:
        with open(json_path, encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{json_path}: not valid JSON ({e})") from e
    if not isinstance(data, dict) or "images" not in data or "annotations" not in data:
        raise ValueError(f"{json_path}: expected an object with 'images' and 'annotations'")
    try:
        images = {int(im["id"]): im for im in data["images"]}
        return [
            person
            for ann in data["annotations"]
            if (person := _person(ann, images, images_dir, min_keypoints)) is not None
        ]
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{json_path}: malformed annotation ({type(e).__name__}: {e})") from e


def _person(ann: dict, images: dict, images_dir, min_keypoints: int) -> CocoPerson | None:
    if ann.get("iscrowd", 0):
        return None
    kp = np.asarray(ann["keypoints"], dtype=np.float64)
    if kp.shape != (NUM_JOINTS * 3,):
        raise ValueError(f"annotation {ann.get('id')}: {kp.size} keypoint numbers, expected 51")
    kp = kp.reshape(NUM_JOINTS, 3)
    flags = kp[:, 2]
    if not np.isin(flags, (0, 1, 2)).all():
        raise ValueError(f"annotation {ann.get('id')}: visibility flags outside 0, 1, 2")
    valid = flags > 0
    if int(ann.get("num_keypoints", valid.sum())) < min_keypoints:
        return None
    image_id = int(ann["image_id"])
    if image_id not in images:
        raise ValueError(f"annotation {ann.get('id')}: unknown image_id {image_id}")
    im = images[image_id]
    joints = kp[:, :2].astype(np.float32)
    joints[~valid] = np.nan
    x, y, w, h = (float(v) for v in ann["bbox"])
    name = im["file_name"]
    return CocoPerson(
        image=os.path.join(images_dir, name) if images_dir else name,
        image_id=image_id,
        annotation_id=int(ann.get("id", -1)),
        joints=joints,
        visible=flags == 2,
        valid=valid,
        bbox=np.array([x, y, x + w, y + h], dtype=np.float32),
        size=(int(im["height"]), int(im["width"])),
    )
