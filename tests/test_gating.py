"""The gating stage holds one-frame jumps of limb joints and lets real moves through."""

from pathlib import Path

import numpy as np
import pytest

from posenet.evaluation.joint_speed import clip_moves, penn_moves, percentiles
from posenet.inference.gating import HELD_CONFIDENCE, MAX_JUMP, JumpGating
from posenet.skeleton import get_skeleton

SKELETON = get_skeleton("model17")
NAMES = list(SKELETON.joints)
WRIST, ELBOW = NAMES.index("r_wrist"), NAMES.index("r_elbow")
PENN = Path(__file__).resolve().parents[2] / "shared" / "data" / "penn_action"


def _standing(torso=100.0):
    """A person whose shoulders lie ``torso`` px above the hips (J, 3), all confident."""
    joints = np.zeros((len(NAMES), 3))
    joints[:, 0] = 300.0 + 10 * np.arange(len(NAMES))
    joints[:, 1] = 200.0
    for name in ("r_shoulder", "l_shoulder"):
        joints[NAMES.index(name), 1] = 200.0 - torso
    joints[:, 2] = 0.9
    return joints


def _run(gating, frames):
    out = []
    for index, joints in enumerate(frames):
        result = {"track": 0, "joints2d": joints.copy(), "joints3d": None}
        gating.gate(index, result)
        out.append(result["joints2d"])
    return out


def test_a_one_frame_spike_is_held_and_the_next_frame_passes():
    base = _standing()
    spike = base.copy()
    spike[WRIST, :2] += (150.0, 80.0)  # 1.7 torso in one frame, then back
    out = _run(JumpGating(SKELETON, fps=30.0), [base, base, spike, base, base])
    np.testing.assert_allclose(out[2][WRIST, :2], base[WRIST, :2])
    assert out[2][WRIST, 2] == HELD_CONFIDENCE
    np.testing.assert_allclose(out[2][ELBOW], base[ELBOW])  # the others untouched
    np.testing.assert_allclose(out[3], base)


def test_a_jump_that_stays_is_accepted_one_frame_late():
    base = _standing()
    moved = base.copy()
    moved[WRIST, :2] += (150.0, 0.0)
    gating = JumpGating(SKELETON, fps=30.0)
    out = _run(gating, [base, moved, moved, moved])
    np.testing.assert_allclose(out[1][WRIST, :2], base[WRIST, :2])  # held once
    np.testing.assert_allclose(out[2], moved)  # then taken: the move was real
    assert gating.held == 1


def test_ordinary_motion_is_untouched_and_the_limit_scales_with_the_frame_rate():
    base = _standing()
    step = 0.4 * 100.0  # torso lengths per frame, under MAX_JUMP at 30 frames/s
    frames = [base + np.array([step * i, 0.0, 0.0]) for i in range(6)]
    assert MAX_JUMP > 0.4
    out = _run(JumpGating(SKELETON, fps=30.0), frames)
    np.testing.assert_allclose(np.stack(out), np.stack(frames))
    # at 60 frames/s the same move per frame is twice as fast: held
    fast = _run(JumpGating(SKELETON, fps=60.0), [base, base, frames[1]])
    assert fast[2][WRIST, 2] == HELD_CONFIDENCE


def test_gating_is_off_for_images_or_when_asked():
    base = _standing()
    spike = base.copy()
    spike[WRIST, :2] += (300.0, 0.0)
    for gating in (JumpGating(SKELETON, fps=None), JumpGating(SKELETON, 30.0, max_jump=None)):
        out = _run(gating, [base, spike])
        np.testing.assert_allclose(out[1], spike)


def test_joint_moves_are_in_torso_lengths_and_skip_hidden_joints():
    joints = np.zeros((4, 13, 2))
    joints[:, (1, 2), 1] = 0.0  # shoulders at y 0, hips at y 50: torso 50 px
    joints[:, (7, 8), 1] = 50.0
    joints[:, 5, 0] = [0.0, 10.0, 30.0, 30.0]  # a wrist moving 10, 20, 0 px
    visible = np.ones((4, 13), bool)
    visible[3, 5] = False  # the last move is not seen
    moves = clip_moves(joints, visible)
    assert len(moves) == 12 * 3 - 1
    assert sorted(moves)[-2:] == pytest.approx([0.2, 0.4])
    assert clip_moves(joints[:2], visible[:2]).size == 0  # too short to know the torso
    with pytest.raises(ValueError):
        percentiles([])


@pytest.mark.skipif(not (PENN / "labels").is_dir(), reason=f"{PENN} (Penn Action) is absent")
def test_max_jump_is_the_penn_action_training_clips_99_9th_percentile():
    level = percentiles(penn_moves(PENN, "train"), (99.9,))[99.9]
    assert level == pytest.approx(MAX_JUMP, abs=0.005)


def test_the_allowed_move_follows_the_frames_times_on_a_variable_rate():
    base = _standing()
    moved = base + np.array([100.0, 0.0, 0.0])  # 0.86 torso: over MAX_JUMP in 1/30 s
    held = _run(JumpGating(SKELETON, fps=30.0), [base, base, moved])
    assert held[2][WRIST, 2] == HELD_CONFIDENCE
    # the same move over 0.1 s (a stretch of the clip at 10 frames/s) is plausible
    times = [0.0, 0.1, 0.2]
    slow = _run(JumpGating(SKELETON, fps=30.0, clock=times.__getitem__), [base, base, moved])
    np.testing.assert_allclose(slow[2], moved)
