"""The gating stage: a limb joint that jumps further in one frame than people move is held.

A pose network sometimes puts a wrist or an ankle, for one frame, on a second maximum of its
heatmap (the other hand, a prop, another person) and then back. People's joints do not move
that fast: on the Penn Action training clips (30 frames/s, ground truth), 99.9 % of the limb
joints' moves from one frame to the next are under :data:`MAX_JUMP` = 0.58 torso (the
distance from the shoulders' midpoint to the hips'; ``posenet tools joint-speed`` measures
it again).

The rule, per track and limb joint (shoulders, elbows, wrists, hips, knees, ankles), on
videos: the allowed move is ``MAX_JUMP`` torso x 30 x the seconds since the joint's last
position (the frames' times, so a variable frame rate is gated by the real interval). A
joint that moves further than that from its last accepted position is held there for this
frame, its confidence capped at :data:`HELD_CONFIDENCE` (and its 3D joint held too),
unless it is where it was in the frame before (within the allowed move), i.e. it jumped
one frame ago and stayed: then the move was real and is accepted, one frame late. A
one-frame spike is so never reported; a real fast move is reported a frame late.
The torso is the track's median over its last :data:`TORSO_FRAMES` frames.
"""

from __future__ import annotations

import collections

import numpy as np

#: Torso lengths a limb joint may move between two frames at 30 frames/s (see above).
MAX_JUMP = 0.58
#: The frame rate at which :data:`MAX_JUMP` was measured (Penn Action).
MEASURED_FPS = 30.0
#: Confidence given at most to a held joint.
HELD_CONFIDENCE = 0.3
#: Frames over which the track's torso length is the median.
TORSO_FRAMES = 15
LIMBS = ("r_shoulder", "l_shoulder", "r_elbow", "l_elbow", "r_wrist", "l_wrist", "r_hip",
         "l_hip", "r_knee", "l_knee", "r_ankle", "l_ankle")


class _TrackGate:
    """One track's joints: the last accepted positions and the last raw ones."""

    def __init__(self):
        self.accepted = None  # (J, 2) px
        self.accepted_frame = None
        self.raw = None  # (J, 2) px, as the network gave them in the previous frame
        self.joints3d = None
        self.torsos = collections.deque(maxlen=TORSO_FRAMES)


class JumpGating:
    """Holds implausible one-frame jumps of limb joints, per track (see the module doc).

    Args:
        skeleton: the joints' :class:`~posenet.skeleton.Skeleton` (names the limb joints).
        fps: the video's frame rate; None or 0 (an image): nothing is gated.
        max_jump: torso lengths per frame at :data:`MEASURED_FPS`; None: no gating.
        clock: ``clock(index)`` -> frame ``index``'s time in s (the decoder's,
            ``InputLog.time``); None: ``index / fps``.
    """

    def __init__(self, skeleton, fps, max_jump=MAX_JUMP, clock=None):
        names = list(skeleton.joints)
        self.limbs = np.array([names.index(n) for n in LIMBS if n in names])
        self.shoulders = [names.index("r_shoulder"), names.index("l_shoulder")]
        self.hips = [names.index("r_hip"), names.index("l_hip")]
        self.fps, self.max_jump = fps, max_jump
        self.clock = clock if clock is not None else (lambda index: index / fps)
        self.enabled = bool(fps) and max_jump is not None
        self.tracks: dict[int, _TrackGate] = {}
        self.held = 0  # joint-frames held, for the record

    def gate(self, index, result) -> None:
        """Hold in place the implausible jumps of ``result``, the pose of track
        ``result["track"]`` in frame ``index`` (frames come in order)."""
        if not self.enabled:
            return
        state = self.tracks.setdefault(result["track"], _TrackGate())
        joints = np.array(result["joints2d"], np.float64)
        raw = joints[:, :2].copy()
        torso = np.linalg.norm(raw[self.shoulders].mean(0) - raw[self.hips].mean(0))
        if np.isfinite(torso) and torso > 0:
            state.torsos.append(torso)
        if state.accepted is None or not state.torsos:
            self._accept(state, index, raw, result)
            return
        now = self.clock(index)
        # seconds since the previous frame and since the last accepted position (at least
        # one frame interval: decoders that repeat a timestamp do not forbid all moves)
        step = max(now - self.clock(index - 1), 1.0 / self.fps) if index else 1.0 / self.fps
        since = max(now - self.clock(state.accepted_frame), step)
        per_second = self.max_jump * float(np.median(state.torsos)) * MEASURED_FPS
        moved = np.linalg.norm(raw[self.limbs] - state.accepted[self.limbs], axis=1)
        stayed = np.linalg.norm(raw[self.limbs] - state.raw[self.limbs], axis=1) <= \
            per_second * step
        hold = self.limbs[(moved > per_second * since) & ~stayed]
        position = raw.copy()
        position[hold] = state.accepted[hold]
        joints[hold, :2] = position[hold]
        joints[hold, 2] = np.minimum(joints[hold, 2], HELD_CONFIDENCE)
        if len(hold) and result.get("joints3d") is not None and state.joints3d is not None:
            joints3d = np.array(result["joints3d"], np.float64)
            joints3d[hold] = state.joints3d[hold]
            result["joints3d"] = joints3d
        result["joints2d"] = joints
        self.held += len(hold)
        self._accept(state, index, position, result, raw)

    @staticmethod
    def _accept(state, index, position, result, raw=None):
        state.accepted, state.accepted_frame = position, index
        state.raw = position if raw is None else raw
        if result.get("joints3d") is not None:
            state.joints3d = np.array(result["joints3d"], np.float64)
