"""Tiny fixtures in the published formats of the 2D datasets, written into a test folder."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import scipy.io

EMPTY = np.zeros((0, 0))


def write_images(folder, names, size=(40, 30)) -> None:
    """Write small grey JPEGs (``size`` = (H, W)) named ``names`` into ``folder``."""
    os.makedirs(folder, exist_ok=True)
    for name in names:
        cv2.imwrite(os.path.join(folder, name), np.full((*size, 3), 128, np.uint8))


def write_lsp(root, joints, extended: bool, images: bool = True) -> None:
    """``joints`` (N, 14, 3) x, y, flag written as LSPet (14 x 3 x N) or LSP (3 x 14 x N)."""
    os.makedirs(root, exist_ok=True)
    arr = np.asarray(joints, dtype=np.float64)
    mat = arr.transpose(1, 2, 0) if extended else arr.transpose(2, 1, 0)
    scipy.io.savemat(os.path.join(root, "joints.mat"), {"joints": mat})
    pattern = "im{:05d}.jpg" if extended else "im{:04d}.jpg"
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    if images:
        write_images(os.path.join(root, "images"), [pattern.format(i + 1) for i in range(len(arr))])


def write_penn_clip(
    labels_dir,
    name,
    x,
    y,
    visibility,
    bbox,
    action="bowl",
    view="front",
    train=1,
    size=(360, 480),
    **overrides,
) -> str:
    """One Penn Action label file ``labels_dir/name.mat``; ``overrides`` replace fields."""
    os.makedirs(labels_dir, exist_ok=True)
    t = np.asarray(x).shape[0]
    fields = {
        "action": action,
        "pose": view,
        "x": np.asarray(x, dtype=np.float64),
        "y": np.asarray(y, dtype=np.float64),
        "visibility": np.asarray(visibility, dtype=np.uint8),
        "train": np.array([[train]], dtype=np.int32),
        "bbox": np.asarray(bbox, dtype=np.float64),
        "dimensions": np.array([[size[0], size[1], t]], dtype=np.uint16),
        "nframes": np.array([[t]], dtype=np.uint8),
    }
    fields.update(overrides)
    path = os.path.join(labels_dir, f"{name}.mat")
    scipy.io.savemat(path, fields)
    return path


def write_jhmdb_npz(root, split, part, clips) -> str:
    """``clips``: list of (label, (T, 15, 2) array) written as GT_{part}_{split}.npz."""
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, f"GT_{part}_{split}.npz")
    np.savez(
        path,
        poses=np.concatenate([c[1] for c in clips]).astype(np.float32),
        lengths=np.array([len(c[1]) for c in clips], dtype=np.int32),
        labels=np.array([c[0] for c in clips]),
    )
    return path


def write_jhmdb_official(root, split, entries, frames=()) -> None:
    """``entries``: (class, clip, part 1|2, (T, 15, 2) pixels); ``frames``: clips with frames."""
    lists: dict[str, list[str]] = {}
    for cls, clip, part, joints in entries:
        folder = os.path.join(root, "joint_positions", cls, clip)
        os.makedirs(folder, exist_ok=True)
        pos_img = np.asarray(joints, dtype=np.float64).transpose(2, 1, 0)  # 2 x 15 x T
        scipy.io.savemat(os.path.join(folder, "joint_positions.mat"), {"pos_img": pos_img})
        lists.setdefault(cls, []).append(f"{clip}.avi {part}\n")
        if clip in frames:
            write_images(os.path.join(root, "Frames", cls, clip), ["00001.png"])
    os.makedirs(os.path.join(root, "splits"), exist_ok=True)
    for cls, lines in lists.items():
        with open(os.path.join(root, "splits", f"{cls}_test_split{split}.txt"), "w") as f:
            f.writelines(lines)


def _struct_array(records: list[dict]) -> np.ndarray:
    """A 1 x N MATLAB struct array (fields = union of the records' keys; absent = [])."""
    fields = list(dict.fromkeys(k for r in records for k in r))
    arr = np.empty((1, len(records)), dtype=[(f, object) for f in fields])
    for i, rec in enumerate(records):
        for f in fields:
            arr[0, i][f] = rec.get(f, EMPTY)
    return arr


def mpii_points(points) -> np.ndarray:
    """(id, x, y, is_visible) tuples as an ``annopoints.point`` struct array."""
    return _struct_array(
        [{"x": float(x), "y": float(y), "id": int(j), "is_visible": v} for j, x, y, v in points]
    )


def mpii_rect(points=None, head=None, scale=None, objpos=None) -> dict:
    """One ``annorect`` record; None leaves the field out."""
    rect = {}
    if head is not None:
        rect.update(zip(("x1", "y1", "x2", "y2"), (float(v) for v in head), strict=True))
    if points is not None:
        rect["annopoints"] = {"point": mpii_points(points)}
    if scale is not None:
        rect["scale"] = float(scale)
    if objpos is not None:
        rect["objpos"] = {"x": float(objpos[0]), "y": float(objpos[1])}
    return rect


def write_mpii(path, images) -> None:
    """``images``: (name, rects, train 0|1, single 1-based indices) -> an MPII release .mat.

    ``rects`` is a list of ``mpii_rect`` records, or one record (a scalar struct, as the
    release stores an image with one person).
    """
    annolist = []
    for name, rects, _, _ in images:
        annorect = rects if isinstance(rects, dict) else _struct_array(rects) if rects else EMPTY
        annolist.append({"image": {"name": name}, "annorect": annorect})
    single = np.empty((len(images), 1), dtype=object)
    for i, (_, _, _, idx) in enumerate(images):
        single[i, 0] = np.array(idx, dtype=np.float64).reshape(-1, 1) if len(idx) else EMPTY
    release = {
        "annolist": _struct_array(annolist),
        "img_train": np.array([[im[2] for im in images]], dtype=np.float64),
        "single_person": single,
    }
    scipy.io.savemat(path, {"RELEASE": release})


def write_coco(path, images, annotations) -> None:
    """A person_keypoints JSON with the given ``images`` and ``annotations`` lists."""
    payload = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": "person", "supercategory": "person"}],
    }
    with open(path, "w") as f:
        json.dump(payload, f)
