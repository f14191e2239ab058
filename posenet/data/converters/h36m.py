"""Human3.6M motion capture and cameras -> prepared file (one sample per pose and camera)."""

from __future__ import annotations

import os

import numpy as np

from posenet.data.camera import read_h36m_cameras
from posenet.data.converters.common import Progress, absolute, bbox_from_joints, tick
from posenet.data.prepared import LAYOUT, PreparedWriter
from posenet.data.readers.h36m import H36M_ACTIONS, list_h36m_files, read_h36m_poses, to_h36m17
from posenet.data.readers.h36m import video_path as h36m_video_path
from posenet.skeleton import map_joints

H36M_SPLITS = {"train": (1, 5, 6, 7, 8), "test": (9, 11)}
#: Frame rate of the Human3.6M videos; the poses may be subsampled (the shared copy: 10 Hz).
VIDEO_RATE_HZ = 50.0
SPLITS = tuple(H36M_SPLITS)


def select_h36m(source_dir, split, subjects=None, cameras=None, every=1):
    """The takes and cameras of a Human3.6M split, checked.

    Returns ``(files, cam_ids, every, table, cam_index)``: the split's pose files (of
    ``subjects``, a subset of the split's), the camera indices (0-3, default all), the
    row step, the :class:`Camera` table with one row per (subject, camera) and the map
    ``(subject, camera index) -> row``.
    """
    if split not in H36M_SPLITS:
        raise ValueError(f"Human3.6M split must be one of {sorted(H36M_SPLITS)}, got {split!r}")
    subs = tuple(H36M_SPLITS[split]) if subjects is None else tuple(int(s) for s in subjects)
    if not subs or set(subs) - set(H36M_SPLITS[split]):
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
    return files, cam_ids, every, table, cam_index


def prepare_h36m(source_dir, out_path, split: str = "train", progress: Progress = None, *,
                 every: int = 1, cameras=None, subjects=None,
                 pose_rate_hz: float = 10.0) -> int:  # fmt: skip
    """Human3.6M poses: ``train`` (S1, S5-S8) or ``test`` (S9, S11), one sample per
    frame and camera (camera indices 0-3 in ``cameras``, default all; ``subjects`` a
    subset of the split's).  Keeps every ``every``-th pose row; ``frame`` is the row in
    the source file.  ``sequence`` numbers (take, camera) pairs, named by the file attr
    ``sequence_names``; the ``cameras/`` table has one row per (subject, camera).
    Where the videos exist, ``frame_ref`` is ``<video>#<video frame>``: the pose row
    scaled from ``pose_rate_hz`` (10 Hz in the shared copy) to the 50 Hz of the videos.
    """
    files, cam_ids, every, table, cam_index = select_h36m(source_dir, split, subjects,
                                                         cameras, every)
    cam_arrays = {key: np.stack([getattr(cam, key) for cam in table]) for key in "fckpRT"}
    names = []
    with PreparedWriter(out_path, "h36m", split, action_classes=H36M_ACTIONS,
                        source=absolute(source_dir), cameras=cam_arrays if table else None,
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
                         frame_ref=video_refs(video, rows, pose_rate_hz))
                names.append(f"S{subject}/{subaction}.{cam.name}")
            tick(progress, done, len(files))
        w.set_attr("sequence_names", names)
        return w.num_samples


def video_refs(video, rows, pose_rate_hz):
    """Frame references ``<video>#<frame>`` of pose ``rows`` sampled at ``pose_rate_hz``."""
    if not video:
        return [""] * len(rows)
    step = VIDEO_RATE_HZ / pose_rate_hz
    return [f"{video}#{int(round(r * step))}" for r in rows]
