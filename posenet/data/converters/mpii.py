"""MPII Human Pose (single-person split) -> prepared file, with head boxes for PCKh.

Source layout: ``<source>/mpii_human_pose_v1_u12_1.mat`` (also accepted inside
``<source>/mpii_human_pose_v1_u12_2/``, as the annotation zip unpacks) and the images in
``<source>/images/``.  ``bbox`` is the box MPII's ``objpos``/``scale`` describe: the
scale is the person's height / 200 px, so the box is the square ``objpos ± 100 * scale``
pixels (a person without them falls back to the joints' box, ``bbox_from_joints``).
"""

from __future__ import annotations

import os

import numpy as np

from posenet.data.converters.common import (
    BATCH,
    Progress,
    absolute,
    bbox_from_joints,
    check_split,
    read_bytes,
    tick,
    to_model,
)
from posenet.data.prepared import PreparedWriter
from posenet.data.readers._common2d import missing
from posenet.data.readers.mpii import MPII_HINT, mpii_single_person_split, read_mpii

SPLITS = ("train", "validation")
MAT_NAME = "mpii_human_pose_v1_u12_1.mat"
#: MPII's ``scale`` is relative to a 200 px tall person, so half the box side is 100 px.
HALF_BOX_PER_SCALE = 100.0


def find_annotations(source_dir) -> str:
    """Path of the release ``.mat`` in ``source_dir`` (FileNotFoundError with a hint)."""
    root = os.fspath(source_dir)
    for path in (os.path.join(root, MAT_NAME),
                 os.path.join(root, "mpii_human_pose_v1_u12_2", MAT_NAME)):  # fmt: skip
        if os.path.isfile(path):
            return path
    raise missing(os.path.join(root, MAT_NAME), "MPII annotation file", MPII_HINT)


def scale_boxes(center, scale) -> np.ndarray:
    """(N, 2) ``objpos`` px and (N,) ``scale`` -> (N, 4) float32 x1 y1 x2 y2 pixels."""
    half = HALF_BOX_PER_SCALE * np.asarray(scale, np.float64)[:, None]
    c = np.asarray(center, np.float64)
    return np.concatenate([c - half, c + half], axis=1).astype(np.float32)


def prepare_mpii(source_dir, out_path, split: str = "train", progress: Progress = None, *,
                 num_val: int = 3000, seed: int = 0) -> int:  # fmt: skip
    """MPII ``train`` / ``validation`` of ``mpii_single_person_split(num_val, seed)``.

    When ``<source>/images`` exists each JPEG is embedded unchanged (a listed image
    missing there is a FileNotFoundError); ``frame_ref`` is always the image's path in
    that folder.  ``head_box`` holds the published head rectangle (pixels), ``sequence``
    the 0-based image index in the release and ``frame`` the person's ``annorect`` index.
    """
    check_split("MPII", split, SPLITS)
    mat_path = find_annotations(source_dir)
    images_dir = os.path.join(absolute(source_dir), "images")
    embed = os.path.isdir(images_dir)
    persons = read_mpii(mat_path, images_dir if embed else None)
    rows = mpii_single_person_split(persons, num_val=num_val, seed=seed)[split]
    with PreparedWriter(out_path, "mpii", split, source=absolute(source_dir),
                        embed_images=embed,
                        attrs={"num_val": num_val, "seed": seed}) as w:  # fmt: skip
        for start in range(0, len(rows), BATCH):
            part = [persons[k] for k in rows[start : start + BATCH]]
            joints, valid = to_model(np.stack([p.joints for p in part]),
                                     np.stack([p.visible for p in part]),
                                     np.stack([p.valid for p in part]), "mpii")  # fmt: skip
            bbox = scale_boxes([p.center for p in part], [p.scale for p in part])
            unknown = ~np.isfinite(bbox).all(axis=1)
            bbox[unknown] = bbox_from_joints(joints[unknown], valid[unknown])
            refs = [os.path.join(images_dir, os.path.basename(p.image)) for p in part]
            extra = {"image": [read_bytes(r) for r in refs]} if embed else {}
            w.append(joints2d=joints, valid2d=valid, bbox=bbox,
                     head_box=np.stack([p.head_box for p in part]),
                     sequence=np.array([p.image_index for p in part], np.int32),
                     frame=np.array([p.rect for p in part], np.int32),
                     frame_ref=refs, **extra)  # fmt: skip
            tick(progress, start + len(part), len(rows))
        return w.num_samples
