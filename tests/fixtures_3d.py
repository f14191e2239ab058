"""Tiny fixtures in the published formats of the 3D datasets, written into a test folder."""

from __future__ import annotations

import numpy as np

NTU_JOINTS = 25


def ntu_body_lines(body_id: str, joints) -> list[str]:
    """One body of an NTU frame: its 10-value body line, the joint count and 25 joint lines.

    ``joints`` (25, 12): x, y, z (m), depthX, depthY, colorX, colorY (px), the orientation
    quaternion w, x, y, z and the tracking state (0, 1, 2).
    """
    arr = np.asarray(joints, dtype=np.float64)
    if arr.shape != (NTU_JOINTS, 12):
        raise ValueError(f"expected (25, 12) joint values, got {arr.shape}")
    lines = [f"{body_id} 0 1 2 1 2 0 0.1 -0.5 2", str(NTU_JOINTS)]
    for row in arr:
        lines.append(" ".join(f"{v:.6f}" for v in row[:11]) + f" {int(row[11])}")
    return lines


def write_ntu_skeleton(path, frames) -> None:
    """``frames``: per frame a list of ``(body_id, (25, 12) joints)``, as a .skeleton file."""
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for body_id, joints in bodies:
            lines += ntu_body_lines(body_id, joints)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def ntu_joints(xyz, color, tracking) -> np.ndarray:
    """(25, 12) joint rows from (25, 3) xyz m, (25, 2) colour px and (25,) tracking states;
    depth pixels are zero and orientations the identity (the converters ignore both)."""
    rows = np.zeros((NTU_JOINTS, 12))
    rows[:, 0:3], rows[:, 5:7], rows[:, 11] = xyz, color, tracking
    rows[:, 7] = 1.0
    return rows
