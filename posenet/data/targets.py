"""Training targets of the network's outputs, in the conventions of ``posenet.losses``.

Pure NumPy (no Keras), so data workers never import a backend.

- ``pose_k``: (..., J, 2 * D) float32, D coordinates then D per-coordinate flags. x, y are
  normalised to the crop (``[0, 1)``, pixel ``i`` centred at ``(i + 0.5) / S``); z is the
  root-relative depth normalised over ``DEPTH_RANGE_MM``:
  ``z_n = (Z - Z_pelvis) / DEPTH_RANGE_MM + 0.5``, so +-1 m around the pelvis maps to
  ``[0, 1]`` (values beyond are kept, not clipped: the loss then pulls towards the border).
- ``visibility_k``: (..., J, 2) float32, the visibility (0 or 1) and its flag.
- ``action_<dataset>_k``: (..., C) float32 one-hot; an all-zero row means "no label".

Absent values are written as 0 with flag 0, so targets never hold NaN.
"""

from __future__ import annotations

import numpy as np

from posenet.outputs import output_kind

#: Depth span (mm) of the normalised z axis, centred on the pelvis.
DEPTH_RANGE_MM = 2000.0
#: Index of the root joint (pelvis) and of the 3D-only spine in ``model17``.
PELVIS, SPINE = 0, 16
NUM_JOINTS = 17


def select_joints(arr, num_joints: int, axis: int = -2) -> np.ndarray:
    """Keep the first ``num_joints`` of the model17 joint axis (16 drops the spine)."""
    arr = np.asarray(arr)
    if num_joints not in (16, NUM_JOINTS):
        raise ValueError(f"num_joints must be 16 (model16) or 17 (model17), got {num_joints}")
    if arr.shape[axis] != NUM_JOINTS:
        raise ValueError(f"expected {NUM_JOINTS} model17 joints on axis {axis}, got {arr.shape}")
    # model17 is model16 with the spine appended, so model16 is a prefix.
    return np.take(arr, np.arange(num_joints), axis=axis)


def depth_to_normalised(z_mm, root_mm) -> np.ndarray:
    """Depth Z (mm, camera frame) -> normalised z ``(Z - root) / DEPTH_RANGE_MM + 0.5``."""
    return (np.asarray(z_mm, np.float64) - np.asarray(root_mm, np.float64)) / DEPTH_RANGE_MM + 0.5


def depth_to_mm(z_n, root_mm) -> np.ndarray:
    """Normalised z (network output in [0, 1]) -> absolute depth Z in mm given the root's Z (mm)."""
    return (np.asarray(z_n, np.float64) - 0.5) * DEPTH_RANGE_MM + np.asarray(root_mm, np.float64)


def pose_target(joints_crop_norm, valid2d, joints3d_mm=None, valid3d=None, dims: int = 2,
                num_joints: int = NUM_JOINTS) -> np.ndarray:
    """Pose target (..., num_joints, 2 * dims) float32 from model17 joints.

    Args:
        joints_crop_norm: (..., 17, 2) x, y normalised to the crop (NaN allowed).
        valid2d: (..., 17) bool, x, y labelled (callers also clear joints outside the crop).
        joints3d_mm: (..., 17, 3) X, Y, Z in mm (camera frame), or None without 3D.
        valid3d: (..., 17) bool, or None (= every finite joint of ``joints3d_mm``).
        dims: 2 (x, y) or 3 (x, y, z).
        num_joints: 17, or 16 to drop the spine.

    The z flag needs the joint's and the pelvis' 3D (the depth is pelvis-relative).
    """
    if dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3, got {dims}")
    xy = np.asarray(joints_crop_norm, np.float64)
    if xy.ndim < 2 or xy.shape[-2:] != (NUM_JOINTS, 2):
        raise ValueError(f"joints_crop_norm must be (..., {NUM_JOINTS}, 2), got {xy.shape}")
    lead = xy.shape[:-1]
    ok2d = np.broadcast_to(np.asarray(valid2d, bool), lead) & np.isfinite(xy).all(-1)
    out = np.zeros((*lead, 2 * dims), np.float32)
    out[..., :2] = np.where(ok2d[..., None], xy, 0.0)
    out[..., dims : dims + 2] = ok2d[..., None]
    if dims == 3 and joints3d_mm is not None:
        z = np.asarray(joints3d_mm, np.float64)[..., 2]
        ok3d = np.isfinite(z)
        if valid3d is not None:
            ok3d &= np.broadcast_to(np.asarray(valid3d, bool), lead)
        ok3d &= ok3d[..., PELVIS : PELVIS + 1]
        z = np.where(ok3d, z, 0.0)
        out[..., 2] = np.where(ok3d, depth_to_normalised(z, z[..., PELVIS : PELVIS + 1]), 0.0)
        out[..., 5] = ok3d
    return select_joints(out, num_joints)


def visibility_target(visible, valid, num_joints: int = NUM_JOINTS) -> np.ndarray:
    """Visibility target (..., num_joints, 2) float32: [visible and valid, valid].

    ``visible`` / ``valid``: (..., 17) bool; ``valid`` says whether the joint is annotated
    (a joint outside the crop is annotated and invisible).
    """
    valid = np.asarray(valid, bool)
    visible = np.asarray(visible, bool) & valid
    out = np.stack([visible, valid], axis=-1).astype(np.float32)
    return select_joints(out, num_joints)


def action_target(label, num_classes: int) -> np.ndarray:
    """One-hot (..., num_classes) float32 of integer ``label`` (...); -1 gives a zero row."""
    label = np.asarray(label, np.int64)
    if ((label < -1) | (label >= num_classes)).any():
        raise ValueError(f"action labels must be in -1..{num_classes - 1}, got {label}")
    # -1 matches no class, so unlabelled rows come out all zero.
    return (label[..., None] == np.arange(num_classes)).astype(np.float32)


def target_key(output_name: str) -> str | None:
    """``pose``, ``visibility`` or ``action_<dataset>`` for a supervised output; else None."""
    try:
        output_kind(output_name)
    except ValueError:
        return None
    return output_name.rsplit("_", 1)[0]


def replicate(targets_by_kind: dict, output_names) -> dict:
    """Targets for every supervised output (intermediate supervision repeats them per block).

    ``targets_by_kind`` maps ``pose``, ``visibility`` and ``action_<dataset>`` to arrays;
    outputs that are not supervised (``features``, ...) are skipped.  KeyError names a
    supervised output without a target.
    """
    out = {}
    for name in output_names:
        key = target_key(name)
        if key is None:
            continue
        if key not in targets_by_kind:
            raise KeyError(f"no {key!r} target for output {name!r}; have {list(targets_by_kind)}")
        out[name] = targets_by_kind[key]
    return out
