"""Built-in procedural motions in the Human3.6M 17-joint layout (no external data).

Each motion is joint angles over time applied, by forward kinematics, to a skeleton of
fixed bone lengths (an average adult, close to the Human3.6M subjects' means), so bone
lengths are exactly constant over time.

World frame of the result (millimetres): **z up**, the floor is the plane ``z = 0``; at
yaw 0 the person faces **+y** and their right is **+x** (a right-handed frame, like the
Human3.6M world frame, which is also z up).  The person stays near the origin: walking is
on the spot (as on a treadmill), and the lowest ankle is always ``ANKLE_HEIGHT_MM`` above
the floor, except in the hops of ``"jacks"``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ANKLE_HEIGHT_MM",
    "BONE_LENGTHS_MM",
    "BUILTIN_KINDS",
    "MOTION_KINDS",
    "MOTION_PERIODS_S",
    "STAND",
    "builtin_motion",
]

#: Bone lengths of an average adult (mm), near the Human3.6M subjects' means.
BONE_LENGTHS_MM: dict[str, float] = {
    "hip": 130.0,  # pelvis -> hip joint, each side
    "thigh": 450.0,
    "shin": 440.0,
    "lower_spine": 230.0,  # pelvis -> spine
    "upper_spine": 250.0,  # spine -> thorax
    "neck": 120.0,  # thorax -> neck (Human3.6M's "neck" sits near the chin / nose)
    "head": 115.0,  # neck -> head_top
    "shoulder": 150.0,  # thorax -> shoulder joint
    "upper_arm": 280.0,
    "forearm": 250.0,
}
#: Height of the ankle joint above the sole (mm): the lowest ankle is held here.
ANKLE_HEIGHT_MM = 80.0
#: Period (seconds) of each motion: frames ``t`` and ``t + period * fps`` are the same pose.
MOTION_PERIODS_S: dict[str, float] = {
    "walk": 1.0,
    "wave": 0.6,
    "squat": 3.0,
    "jacks": 1.0,
    "turn": 8.0,
}
MOTION_KINDS: tuple[str, ...] = tuple(MOTION_PERIODS_S)
#: A person standing perfectly still (the rest pose, constant over time): a reference for
#: measuring jitter. Kept out of ``MOTION_KINDS``, which are also the action classes of the
#: built-in rendered data set, where a motionless class has no place.
STAND = "stand"
#: Every kind ``builtin_motion`` accepts.
BUILTIN_KINDS: tuple[str, ...] = (*MOTION_KINDS, STAND)

# Joint indices of the h36m17 layout (see posenet.skeleton).
_PELVIS, _RHIP, _RKNEE, _RANKLE, _LHIP, _LKNEE, _LANKLE = range(7)
_SPINE, _THORAX, _NECK, _HEAD = 7, 8, 9, 10
_LSHO, _LELB, _LWRI, _RSHO, _RELB, _RWRI = 11, 12, 13, 14, 15, 16

# Rest directions (unit, body frame) of the neck and head bones: Human3.6M's "neck" joint
# sits forward of the thorax (near the chin), and the head top slightly back of it.
_NECK_DIR = np.array([0.0, 0.28, 1.0]) / np.hypot(0.28, 1.0)
_HEAD_DIR = np.array([0.0, -0.12, 1.0]) / np.hypot(0.12, 1.0)


def _rot(axis: int, angle) -> np.ndarray:
    """(T, 3, 3) right-handed rotations by ``angle`` (T,) radians about axis 0/1/2."""
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    out = np.zeros((*a.shape, 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.0
    out[..., i, i] = c
    out[..., j, j] = c
    out[..., i, j] = -s
    out[..., j, i] = s
    return out


def _apply(rot: np.ndarray, vec) -> np.ndarray:
    """(T, 3, 3) @ (3,) or (T, 3) -> (T, 3)."""
    v = np.asarray(vec, dtype=np.float64)
    return np.einsum("tij,tj->ti", rot, np.broadcast_to(v, (rot.shape[0], 3)))


def _bump(phase, centre: float, width: float) -> np.ndarray:
    """Periodic Gaussian bump of unit height over cycle ``phase`` (in cycles)."""
    d = (np.asarray(phase) - centre + 0.5) % 1.0 - 0.5
    return np.exp(-0.5 * (d / width) ** 2)


def _forward_kinematics(a: dict[str, np.ndarray], lengths: dict[str, float]) -> np.ndarray:
    """(T, 17, 3) body-frame joints (pelvis at the origin) from joint angles (radians).

    Sign conventions: flexion swings a limb forward (+y), abduction swings it outwards,
    ``knee`` bends the shin backwards, ``elbow`` bends the forearm forwards, ``lean``
    tips the trunk forwards, ``twist`` turns the trunk to the left (about +z).
    """
    n = len(a["yaw"])
    L = lengths
    out = np.zeros((n, 17, 3))
    root = _rot(2, a["yaw"])
    trunk = root @ _rot(2, a["twist"]) @ _rot(0, -a["lean"]) @ _rot(1, a["side_bend"])
    out[:, _SPINE] = _apply(trunk, [0.0, 0.0, L["lower_spine"]])
    out[:, _THORAX] = out[:, _SPINE] + _apply(trunk, [0.0, 0.0, L["upper_spine"]])
    head = trunk @ _rot(0, -a["nod"])
    out[:, _NECK] = out[:, _THORAX] + _apply(head, _NECK_DIR * L["neck"])
    out[:, _HEAD] = out[:, _NECK] + _apply(head, _HEAD_DIR * L["head"])
    # side = +1 for the right (+x) limbs, -1 for the left ones.
    for side, name, hip, knee, ankle in ((1, "r", _RHIP, _RKNEE, _RANKLE),
                                         (-1, "l", _LHIP, _LKNEE, _LANKLE)):  # fmt: skip
        out[:, hip] = _apply(root, [side * L["hip"], 0.0, 0.0])
        thigh = root @ _rot(1, -side * a[f"{name}_hip_abd"]) @ _rot(0, a[f"{name}_hip_flex"])
        out[:, knee] = out[:, hip] + _apply(thigh, [0.0, 0.0, -L["thigh"]])
        shin = thigh @ _rot(0, -a[f"{name}_knee"])
        out[:, ankle] = out[:, knee] + _apply(shin, [0.0, 0.0, -L["shin"]])
    for side, name, sho, elb, wri in ((1, "r", _RSHO, _RELB, _RWRI),
                                      (-1, "l", _LSHO, _LELB, _LWRI)):  # fmt: skip
        out[:, sho] = out[:, _THORAX] + _apply(trunk, [side * L["shoulder"], 0.0, 0.0])
        upper = trunk @ _rot(1, -side * a[f"{name}_sho_abd"]) @ _rot(0, a[f"{name}_sho_flex"])
        out[:, elb] = out[:, sho] + _apply(upper, [0.0, 0.0, -L["upper_arm"]])
        fore = upper @ _rot(1, -side * a[f"{name}_elb_side"]) @ _rot(0, a[f"{name}_elbow"])
        out[:, wri] = out[:, elb] + _apply(fore, [0.0, 0.0, -L["forearm"]])
    return out


def _angles(kind: str, t: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, bool]:
    """Joint angles (radians) at times ``t`` (s), the hop height (mm) and whether the feet
    (rather than the pelvis) stay fixed horizontally."""
    zero = np.zeros_like(t)
    deg = np.deg2rad
    a = {k: zero.copy() for k in (
        "yaw twist lean side_bend nod r_hip_abd r_hip_flex r_knee l_hip_abd l_hip_flex "
        "l_knee r_sho_abd r_sho_flex r_elb_side r_elbow l_sho_abd l_sho_flex l_elb_side "
        "l_elbow").split()}
    for s in "rl":  # arms hang slightly away from the hips, elbows slightly bent
        a[f"{s}_sho_abd"] += deg(7.0)
        a[f"{s}_elbow"] += deg(12.0)
    hop = zero.copy()
    feet_fixed = True
    period = MOTION_PERIODS_S.get(kind, 1.0)  # STAND has none: it never moves
    if kind in ("walk", "turn"):
        phase = t / MOTION_PERIODS_S["walk"]
        for s, offset in (("r", 0.0), ("l", 0.5)):
            p = phase + offset  # heel strike of this leg at p = 0 (mod 1)
            a[f"{s}_hip_flex"] = deg(8.0 + 22.0 * np.cos(2 * np.pi * p))
            # Knee: a small flexion while loading, a large one in the swing phase.
            a[f"{s}_knee"] = deg(5.0 + 14.0 * _bump(p, 0.12, 0.07) + 58.0 * _bump(p, 0.70, 0.11))
            a[f"{s}_hip_abd"] = np.full_like(t, deg(2.0))
            # Each arm swings with the opposite leg.
            swing = np.cos(2 * np.pi * (p + 0.5))
            a[f"{s}_sho_flex"] = deg(2.0 + 20.0 * swing)
            a[f"{s}_elbow"] = deg(15.0 + 12.0 * (1.0 + swing))
        a["twist"] = deg(6.0) * np.cos(2 * np.pi * phase)
        a["lean"] = np.full_like(t, deg(4.0))
        a["side_bend"] = deg(2.0) * np.cos(2 * np.pi * phase)
        a["nod"] = np.full_like(t, deg(-5.0))
        feet_fixed = False
        if kind == "turn":
            a["yaw"] = 2 * np.pi * t / period
    elif kind == "wave":
        p = 2 * np.pi * t / period
        a["r_sho_abd"] = np.full_like(t, deg(150.0))
        a["r_sho_flex"] = np.full_like(t, deg(15.0))
        a["r_elbow"] = np.full_like(t, deg(25.0))
        a["r_elb_side"] = deg(15.0 + 30.0 * np.sin(p))
        a["side_bend"] = deg(3.0) * np.sin(p)
        a["twist"] = deg(5.0) * np.sin(p)
        for s in "rl":
            a[f"{s}_hip_abd"] = np.full_like(t, deg(5.0))
        a["nod"] = deg(4.0) * np.sin(p)
    elif kind == "squat":
        d = 0.5 * (1.0 - np.cos(2 * np.pi * t / period))  # 0 standing .. 1 deep squat
        for s in "rl":
            a[f"{s}_hip_flex"] = deg(95.0) * d
            a[f"{s}_knee"] = deg(115.0) * d
            a[f"{s}_hip_abd"] = deg(6.0 + 6.0 * d)
            a[f"{s}_sho_flex"] = deg(85.0) * d
            a[f"{s}_sho_abd"] = deg(7.0 + 5.0 * d)
        a["lean"] = deg(35.0) * d
        a["nod"] = deg(-30.0) * d  # keep looking ahead while leaning
    elif kind == "jacks":
        d = 0.5 * (1.0 - np.cos(2 * np.pi * t / period))  # 0 closed .. 1 open
        for s in "rl":
            a[f"{s}_hip_abd"] = deg(3.0 + 14.0 * d)
            a[f"{s}_sho_abd"] = deg(8.0 + 157.0 * d)
            a[f"{s}_knee"] = deg(10.0) * np.sin(np.pi * d) ** 2
        # Two hops per cycle, landing at the open and closed positions.
        hop = 60.0 * np.sin(2 * np.pi * t / period) ** 2
        feet_fixed = False
    elif kind == STAND:  # a relaxed stance: feet a little apart, head level; no sway
        for s in "rl":
            a[f"{s}_hip_abd"] = np.full_like(t, deg(4.0))
        a["nod"] = np.full_like(t, deg(-3.0))
    return a, hop, feet_fixed


def builtin_motion(
    num_frames: int,
    fps: float = 10.0,
    kind: str = "walk",
    lengths: dict[str, float] | None = None,
) -> np.ndarray:
    """(T, 17, 3) float64 h36m17 joints in millimetres, in the world frame of the module.

    ``kind`` is one of ``BUILTIN_KINDS``: "walk" (on the spot, arms swinging), "wave" (the
    right hand waving overhead), "squat", "jacks" (jumping jacks), "turn" (walking on the
    spot while turning a full circle) or "stand" (``STAND``: the rest pose, arms hanging,
    every frame the same).  Frame ``i`` is at time ``i / fps`` seconds; every moving kind
    is periodic with period ``MOTION_PERIODS_S[kind]``.  ``lengths`` overrides
    entries of ``BONE_LENGTHS_MM`` (e.g. to vary proportions).
    """
    if kind not in BUILTIN_KINDS:
        raise ValueError(f"unknown motion kind {kind!r}; known: {', '.join(BUILTIN_KINDS)}")
    if num_frames < 1 or not fps > 0:
        raise ValueError(f"need num_frames >= 1 and fps > 0, got {num_frames}, {fps}")
    bones = dict(BONE_LENGTHS_MM)
    if lengths:
        unknown = set(lengths) - set(bones)
        if unknown:
            raise ValueError(f"unknown bones {sorted(unknown)}; known: {', '.join(bones)}")
        bones.update({k: float(v) for k, v in lengths.items()})
    t = np.arange(num_frames, dtype=np.float64) / float(fps)
    angles, hop, feet_fixed = _angles(kind, t)
    joints = _forward_kinematics(angles, bones)
    # Stand on the floor: the lowest ankle at the ankle height (plus the hop).
    lowest = joints[:, [_RANKLE, _LANKLE], 2].min(axis=1)
    joints[..., 2] += (ANKLE_HEIGHT_MM + hop - lowest)[:, None]
    if feet_fixed:  # keep the feet planted, centred on the origin
        centre = joints[:, [_RANKLE, _LANKLE], :2].mean(axis=1)
    else:  # keep the pelvis over the origin
        centre = joints[:, _PELVIS, :2]
    joints[..., :2] -= centre[:, None, :]
    return joints
