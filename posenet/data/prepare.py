"""Converters from the datasets' published formats to prepared files (``prepared.py``).

Each ``prepare_<name>(source_dir, out_path, split, progress=None) -> int`` writes one
split and returns the number of samples.  ``progress(done, total)`` is called as work
advances.  A missing source raises the readers' FileNotFoundError unchanged.
Box convention (``bbox_from_joints``): the extent of the valid joints, each side moved
out by 10 % of the extent's width (left/right) or height (top/bottom); not clipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from posenet.data.camera import read_h36m_cameras
from posenet.data.prepared import LAYOUT, PreparedWriter
from posenet.data.readers.h36m import H36M_ACTIONS, list_h36m_files, read_h36m_poses, to_h36m17
from posenet.data.readers.h36m import video_path as h36m_video_path
from posenet.data.readers.jhmdb import JHMDB_CLASSES, SPLITS, read_jhmdb_npz
from posenet.data.readers.lsp import lspet_split, read_lsp
from posenet.data.readers.penn_action import PENN_ACTION_CLASSES, read_penn_action
from posenet.skeleton import map_joints

Progress = Callable[[int, int], None] | None
BBOX_PAD = 0.10
H36M_SPLITS = {"train": (1, 5, 6, 7, 8), "test": (9, 11)}
_BATCH = 500


def bbox_from_joints(xy, valid, pad: float = BBOX_PAD) -> np.ndarray:
    """(N, J, 2+) joints, (N, J) valid -> (N, 4) float32 x1 y1 x2 y2; NaN if none valid."""
    pts = np.asarray(xy, dtype=np.float64)[..., :2]
    ok = np.asarray(valid, dtype=bool)[..., None]
    with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        lo = np.nanmin(np.where(ok, pts, np.nan), axis=-2)
        hi = np.nanmax(np.where(ok, pts, np.nan), axis=-2)
    margin = (hi - lo) * pad
    return np.concatenate([lo - margin, hi + margin], axis=-1).astype(np.float32)


def to_model(xy, visible, valid, src: str) -> tuple[np.ndarray, np.ndarray]:
    """Map (N, J, 2) joints of layout ``src`` to (N, 17, 3) x, y, visible and (N, 17) valid.

    A derived joint (e.g. pelvis from both hips) is visible only when both sources are.
    """
    stacked = np.concatenate([np.asarray(xy, np.float64),
                              np.asarray(visible, np.float64)[..., None]], axis=-1)  # fmt: skip
    out, ok = map_joints(stacked, src, LAYOUT, valid)
    out = np.asarray(out, dtype=np.float64)
    vis = np.where(ok & (np.nan_to_num(out[..., 2]) >= 1.0), 1.0, 0.0)
    joints = np.concatenate([out[..., :2], vis[..., None]], axis=-1).astype(np.float32)
    joints[~ok, :2] = np.nan
    return joints, np.asarray(ok, dtype=bool)


def _tick(progress: Progress, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def prepare_lspet(source_dir, out_path, split: str = "train", progress: Progress = None) -> int:
    """LSPet ``train`` (images 1-8000), ``validation`` (8001-9000) or ``test`` (9001-).

    JPEG bytes are embedded unchanged; ``frame_ref`` holds the image path, ``sequence``
    the 0-based image column in joints.mat and ``frame`` 0.
    """
    data = read_lsp(source_dir, extended=True)
    splits = lspet_split(int(data.indices.max()) + 1 if len(data) else 0)
    if split not in splits:
        raise ValueError(f"LSPet split must be one of {sorted(splits)}, got {split!r}")
    wanted = set(splits[split].tolist())
    rows = np.array([i for i, col in enumerate(data.indices) if int(col) in wanted], np.int64)
    with PreparedWriter(out_path, "lspet", split, embed_images=True,
                        source=os.path.abspath(os.fspath(source_dir))) as w:  # fmt: skip
        for start in range(0, len(rows), _BATCH):
            part = rows[start : start + _BATCH]
            joints, valid = to_model(data.joints[part], data.visible[part], data.valid[part], "lsp")
            images = []
            for r in part:
                with open(data.images[r], "rb") as f:
                    images.append(f.read())
            w.append(joints2d=joints, valid2d=valid, bbox=bbox_from_joints(joints, valid),
                     sequence=data.indices[part], frame=np.zeros(len(part), np.int32),
                     image=images, frame_ref=[data.images[r] for r in part])  # fmt: skip
            _tick(progress, start + len(part), len(rows))
        return w.num_samples


def prepare_penn_action(source_dir, out_path, split: str = "train",
                        progress: Progress = None) -> int:  # fmt: skip
    """Penn Action official ``train``/``test`` split; poses only, published boxes.

    ``sequence`` is the clip number (0001 -> 1), ``frame`` the 0-based frame;
    ``frame_ref`` is ``frames/NNNN/XXXXXX.jpg`` when the frames folder exists, else "".
    """
    if split not in ("train", "test"):
        raise ValueError(f"Penn Action split must be 'train' or 'test', got {split!r}")
    clips = [c for c in read_penn_action(source_dir) if c.train == (split == "train")]
    with PreparedWriter(out_path, "penn_action", split, action_classes=PENN_ACTION_CLASSES,
                        source=os.path.abspath(os.fspath(source_dir))) as w:  # fmt: skip
        for done, clip in enumerate(clips, 1):
            t = clip.num_frames
            joints, valid = to_model(clip.joints, clip.visible, clip.valid, "penn_action")
            refs = ([os.path.join(clip.frames_dir, f"{i + 1:06d}.jpg") for i in range(t)]
                    if clip.frames_dir else [""] * t)  # fmt: skip
            w.append(joints2d=joints, valid2d=valid, bbox=clip.bbox,
                     action=np.full(t, clip.action_index, np.int16),
                     sequence=np.full(t, int(clip.name), np.int32),
                     frame=np.arange(t, dtype=np.int32), frame_ref=refs)  # fmt: skip
            _tick(progress, done, len(clips))
        return w.num_samples


def prepare_jhmdb(source_dir, out_path, split: str = "train1", progress: Progress = None) -> int:
    """J-HMDB ``train<k>``/``test<k>`` (k = 1, 2, 3) from the ground-truth npz release.

    Coordinates are stored as published (normalised, file attr ``coords``); ``bbox`` is
    in the same units; ``sequence`` is the clip's position in its npz file.
    """
    part, k = split.rstrip("0123456789"), split[len(split.rstrip("0123456789")) :]
    if part not in ("train", "test") or not k.isdigit() or int(k) not in SPLITS:
        raise ValueError(f"J-HMDB split must be train<k> or test<k>, k in {SPLITS}; got {split!r}")
    clips = read_jhmdb_npz(source_dir, int(k))[part]
    with PreparedWriter(out_path, "jhmdb", split, action_classes=JHMDB_CLASSES,
                        source=os.path.abspath(os.fspath(source_dir)),
                        attrs={"coords": "normalised"}) as w:  # fmt: skip
        for done, clip in enumerate(clips):
            t = clip.num_frames
            joints, valid = to_model(clip.joints, clip.valid, clip.valid, "jhmdb")
            w.append(
                joints2d=joints,
                valid2d=valid,
                bbox=bbox_from_joints(joints, valid),
                action=np.full(t, JHMDB_CLASSES.index(clip.label), np.int16),
                sequence=np.full(t, done, np.int32),
                frame=np.arange(t, dtype=np.int32),
            )
            _tick(progress, done + 1, len(clips))
        return w.num_samples


def prepare_h36m(source_dir, out_path, split: str = "train", progress: Progress = None, *,
                 every: int = 1, cameras=None, subjects=None) -> int:  # fmt: skip
    """Human3.6M poses: ``train`` (S1, S5-S8) or ``test`` (S9, S11), one sample per
    frame and camera (camera indices 0-3 in ``cameras``, default all; ``subjects`` a
    subset of the split's).  Keeps every ``every``-th pose row; ``frame`` is the row in
    the source file.  ``sequence`` numbers (take, camera) pairs, named by the file attr
    ``sequence_names``; the ``cameras/`` table has one row per (subject, camera).
    """
    if split not in H36M_SPLITS:
        raise ValueError(f"Human3.6M split must be one of {sorted(H36M_SPLITS)}, got {split!r}")
    subs = tuple(H36M_SPLITS[split]) if subjects is None else tuple(int(s) for s in subjects)
    if set(subs) - set(H36M_SPLITS[split]):
        raise ValueError(f"subjects {subs} are not all in the {split} split")
    cam_ids = (0, 1, 2, 3) if cameras is None else tuple(int(c) for c in cameras)
    every = int(every)
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    files = list_h36m_files(source_dir, subs)
    all_cams = read_h36m_cameras(os.path.join(os.fspath(source_dir), "cameras.h5"))
    table, cam_index = [], {}
    for s in sorted({f[0] for f in files}):
        for c in cam_ids:
            cam_index[(s, c)] = len(table)
            table.append(all_cams[s][c])
    cam_arrays = {key: np.stack([getattr(cam, key) for cam in table]) for key in "fckpRT"}
    names = []
    with PreparedWriter(out_path, "h36m", split, action_classes=H36M_ACTIONS,
                        source=os.path.abspath(os.fspath(source_dir)),
                        cameras=cam_arrays if table else None,
                        attrs={"every": every}) as w:  # fmt: skip
        for done, (subject, action, subaction, path) in enumerate(files, 1):
            poses = read_h36m_poses(path)
            rows = np.arange(0, poses.shape[0], every)
            world, ok = map_joints(to_h36m17(poses[rows]), "h36m17", LAYOUT)
            world = np.asarray(world, np.float64)
            for c in cam_ids:
                cam = table[cam_index[(subject, c)]]
                p3 = cam.world_to_camera(world)
                p3[~ok] = np.nan
                uv = cam.project(p3)
                valid = ok & np.isfinite(uv).all(-1)
                joints2d = np.concatenate([uv, valid[..., None].astype(np.float64)], -1)
                joints2d[~valid, :2] = np.nan
                video = h36m_video_path(source_dir, subject, subaction, cam.name)
                n = len(rows)
                w.append(joints2d=joints2d.astype(np.float32), valid2d=valid,
                         joints3d=p3.astype(np.float32), valid3d=ok & np.isfinite(p3).all(-1),
                         bbox=bbox_from_joints(joints2d, valid),
                         action=np.full(n, H36M_ACTIONS.index(action), np.int16),
                         sequence=np.full(n, len(names), np.int32), frame=rows.astype(np.int32),
                         camera=np.full(n, cam_index[(subject, c)], np.int16),
                         frame_ref=[f"{video}#{r}" if video else "" for r in rows])  # fmt: skip
                names.append(f"S{subject}/{subaction}.{cam.name}")
            _tick(progress, done, len(files))
        w.set_attr("sequence_names", names)
        return w.num_samples


PREPARERS: dict[str, Callable[..., int]] = {
    "lspet": prepare_lspet,
    "penn_action": prepare_penn_action,
    "jhmdb": prepare_jhmdb,
    "h36m": prepare_h36m,
}
