"""One Euro smoothing of tracks (posenet.inference.smoothing): behaviour, defaults, jitter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posenet.inference.smoothing import (
    OneEuroFilter,
    SmoothingConfig,
    TrackSmoother,
    jitter,
    measure_defaults,
    smooth_track,
)

NOISE_PX = 2.5


def _times(fps: float, seconds: float = 10.0) -> np.ndarray:
    return np.arange(int(seconds * fps)) / fps


def _mean_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b, axis=-1).mean())


# --------------------------------------------------------------------------- defaults


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_still_joint_jitter_falls_at_least_twofold(fps):
    rng = np.random.default_rng(11)
    times = _times(fps)
    truth = np.broadcast_to(rng.uniform(0, 640, size=(1, 17, 2)), (times.size, 17, 2))
    noisy = truth + rng.normal(0.0, NOISE_PX, size=truth.shape)
    smooth, none3d = smooth_track(times, noisy)
    assert none3d is None
    assert jitter(noisy) / jitter(smooth) >= 2.0
    # Smoothing a still joint also brings it closer to where it really is.
    assert _mean_error(smooth, truth) < _mean_error(noisy, truth)


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_moving_sinusoid_is_tracked(fps):
    rng = np.random.default_rng(12)
    times = _times(fps)
    truth = np.broadcast_to(rng.uniform(150, 450, size=(1, 17, 2)), (times.size, 17, 2)).copy()
    truth[..., 0] += 100.0 * np.sin(2.0 * math.pi * times)[:, None]  # 1 Hz, peak 628 px/s
    noisy = truth + rng.normal(0.0, NOISE_PX, size=truth.shape)
    smooth, _ = smooth_track(times, noisy)
    err = np.linalg.norm(smooth - truth, axis=-1)
    assert err.mean() < _mean_error(noisy, truth)
    # The lag at peak speed stays a few pixels, never a fraction of the 100 px amplitude.
    assert err.max() < 15.0
    # Moving coordinate alone: lag plus leftover noise stays near the noise level.
    assert np.abs(smooth - truth)[..., 0].mean() < 1.2 * NOISE_PX


def test_measure_defaults_backs_the_documented_claims():
    results = measure_defaults()
    for fps in (25.0, 30.0, 60.0):
        assert results["still_2d"][fps]["ratio"] >= 2.0
        assert results["still_3d"][fps]["ratio"] >= 2.0
        assert results["sine_2d"][fps]["ratio"] > 1.0
        assert results["sine_3d"][fps]["ratio"] > 1.0
    # Raw figures match the noise model: E||n_t - n_{t-1}|| = sigma sqrt(pi) in 2D.
    assert results["still_2d"][30.0]["raw"] == pytest.approx(NOISE_PX * math.sqrt(math.pi), 0.05)


def test_filter_defaults_are_the_2d_config():
    f, c = OneEuroFilter(), SmoothingConfig()
    assert (f.min_cutoff, f.beta, f.d_cutoff, f.reset_after) == (
        c.min_cutoff_2d,
        c.beta_2d,
        c.d_cutoff,
        c.reset_after,
    )
    # 3D beta in 1/mm is the 2D one in 1/px scaled by 4 mm/px.
    assert c.beta_3d == pytest.approx(c.beta_2d / 4.0)
    with pytest.raises(AttributeError):
        c.beta_2d = 1.0  # frozen


def test_3d_filter_on_a_scaled_signal_is_the_scaled_2d_filter():
    rng = np.random.default_rng(13)
    times = _times(30.0, 3.0)
    xy = rng.normal(300.0, 20.0, size=(times.size, 4, 2)).cumsum(axis=0) / 10.0
    xyz = 4.0 * np.concatenate([xy, xy[..., :1]], axis=-1)  # mm = 4 * px
    smooth_xy, smooth_xyz = smooth_track(times, xy, xyz)
    np.testing.assert_allclose(smooth_xyz[..., :2], 4.0 * smooth_xy, rtol=1e-9)


# --------------------------------------------------------------------------- filter


def test_first_output_equals_input():
    value = np.array([[1.5, -2.0], [300.0, 7.25]])
    out = OneEuroFilter()(value, 0.0)
    np.testing.assert_array_equal(out, value)


def test_fixed_cutoff_matches_the_closed_form():
    # beta = 0 is a first-order low-pass: a unit step comes through as alpha.
    f = OneEuroFilter(min_cutoff=2.0, beta=0.0)
    f(0.0, 0.0)
    te = 1.0 / 30.0
    alpha = 1.0 / (1.0 + (1.0 / (2.0 * math.pi * 2.0)) / te)
    assert float(f(1.0, te)) == pytest.approx(alpha)
    assert float(f(1.0, 2 * te)) == pytest.approx(alpha + (1.0 - alpha) * alpha)


def test_speed_raises_the_cutoff():
    ramp = 500.0 * _times(30.0, 1.0)  # 500 px/s
    lags = []
    for beta in (0.0, 0.15):
        f = OneEuroFilter(min_cutoff=0.3, beta=beta)
        out = [float(f(x, t)) for x, t in zip(ramp, _times(30.0, 1.0), strict=True)]
        lags.append(ramp[-1] - out[-1])
    assert lags[1] < 0.1 * lags[0]


def test_time_not_advancing_returns_last_output():
    f = OneEuroFilter()
    f(np.zeros(3), 0.0)
    last = f(np.ones(3), 0.1)
    np.testing.assert_array_equal(f(np.full(3, 50.0), 0.1), last)
    np.testing.assert_array_equal(f(np.full(3, 50.0), 0.05), last)
    # The ignored calls left no trace.
    g = OneEuroFilter()
    g(np.zeros(3), 0.0)
    g(np.ones(3), 0.1)
    np.testing.assert_array_equal(f(np.full(3, 2.0), 0.2), g(np.full(3, 2.0), 0.2))


def test_nan_elements_pass_through_and_resume():
    fps = 30.0
    f = OneEuroFilter(reset_after=0.5)
    others = OneEuroFilter(reset_after=0.5)  # the same track without the missing joint
    rng = np.random.default_rng(14)
    values = rng.normal(0.0, 2.0, size=(20, 3, 2))
    values[10:13, 1] = np.nan  # joint 1 missing for 3 frames (0.1 s)
    values[13:, 1] = 10.0  # and back somewhere else
    for i, v in enumerate(values):
        t = i / fps
        out = f(v, t)
        ref = others(v[[0, 2]], t)
        np.testing.assert_array_equal(out[[0, 2]], ref)  # the NaN corrupted nothing else
        if 10 <= i < 13:
            assert np.isnan(out[1]).all()
        else:
            assert np.isfinite(out).all()
    # Resumed from its kept state, not restarted: on its way from ~0 to 10.
    f2 = OneEuroFilter(reset_after=0.5)
    for i, v in enumerate(values[:14]):
        out = f2(v, i / fps)
    assert np.all(out[1] < 10.0) and np.all(out[1] > 0.0)


def test_element_missing_longer_than_reset_after_restarts():
    fps = 30.0
    f = OneEuroFilter(reset_after=0.5)
    for i in range(10):
        f(np.array([0.0, 300.0 * i]), i / fps)  # element 1 fast: a large speed state
    for i in range(10, 30):  # element 1 missing for 20 frames (0.67 s)
        f(np.array([0.0, np.nan]), i / fps)
    out = f(np.array([0.0, 10.0]), 30 / fps)
    assert out[1] == 10.0
    assert out[0] == 0.0
    # From then on element 1 is exactly a new filter: neither value nor speed is stale.
    g = OneEuroFilter(reset_after=0.5)
    g(10.0, 30 / fps)
    for i in range(31, 36):
        out = f(np.array([0.0, 10.0 + i]), i / fps)
        assert out[1] == pytest.approx(float(g(10.0 + i, i / fps)), abs=1e-12)


def test_long_gap_between_calls_resets_all():
    f = OneEuroFilter(reset_after=0.5)
    for i in range(10):
        f(np.zeros((2, 2)), i / 30.0)
    t_last = 9 / 30.0
    np.testing.assert_array_equal(f(np.full((2, 2), 10.0), t_last + 0.6), np.full((2, 2), 10.0))
    # A shorter gap keeps the state.
    g = OneEuroFilter(reset_after=0.5)
    for i in range(10):
        g(np.zeros((2, 2)), i / 30.0)
    assert np.all(g(np.full((2, 2), 10.0), t_last + 0.3) < 10.0)


@pytest.mark.parametrize("shape", [(), (5,), (17, 2), (17, 3), (2, 3, 4)])
def test_any_shape_each_element_independent(shape):
    rng = np.random.default_rng(15)
    times = _times(30.0, 1.0)
    seq = rng.normal(0.0, 50.0, size=(times.size, *shape)).cumsum(axis=0)
    f = OneEuroFilter()
    out = np.stack([f(x, t) for x, t in zip(seq, times, strict=True)])
    assert out.shape == seq.shape
    flat_seq = seq.reshape(times.size, -1)
    flat_out = out.reshape(times.size, -1)
    for k in range(flat_seq.shape[1]):
        g = OneEuroFilter()
        alone = np.array([g(x, t) for x, t in zip(flat_seq[:, k], times, strict=True)])
        np.testing.assert_allclose(flat_out[:, k], alone, rtol=0, atol=1e-12)


def test_shape_change_and_bad_parameters_raise():
    f = OneEuroFilter()
    f(np.zeros((3, 2)), 0.0)
    with pytest.raises(ValueError, match="shape"):
        f(np.zeros((4, 2)), 0.1)
    f.reset()
    f(np.zeros((4, 2)), 0.0)  # a reset forgets the shape
    for kwargs in ({"min_cutoff": 0.0}, {"beta": -1.0}, {"d_cutoff": -2.0}, {"reset_after": 0}):
        with pytest.raises(ValueError):
            OneEuroFilter(**kwargs)


def test_output_is_a_copy():
    f = OneEuroFilter()
    out = f(np.zeros(2), 0.0)
    out[:] = 99.0
    assert np.all(f(np.zeros(2), 0.1) == 0.0)


# --------------------------------------------------------------------------- track smoother


def test_track_smoother_2d_and_optional_3d():
    s = TrackSmoother()
    xy, j3 = s(0.0, np.ones((16, 2)), np.ones((16, 3)))
    assert xy.shape == (16, 2) and j3.shape == (16, 3)
    xy, j3 = s(1 / 30, np.ones((16, 2)), None)
    assert j3 is None and xy.shape == (16, 2)
    with pytest.raises(ValueError):
        s(2 / 30, np.ones((16, 3)))  # 2D must be x, y only: confidences stay with the caller
    with pytest.raises(ValueError):
        s(2 / 30, np.ones((16, 2)), np.ones((16, 2)))


def test_track_smoother_3d_waits_then_restarts_after_reset_after():
    s = TrackSmoother(SmoothingConfig(reset_after=0.5))
    s(0.0, np.zeros((2, 2)), np.zeros((2, 3)))
    for i in range(1, 30):  # 2D continues, 3D absent for 1 s
        s(i / 30.0, np.zeros((2, 2)))
    _, j3 = s(1.0, np.zeros((2, 2)), np.full((2, 3), 100.0))
    np.testing.assert_array_equal(j3, np.full((2, 3), 100.0))


@pytest.mark.parametrize("with_3d", [False, True])
def test_smooth_track_shapes(with_3d):
    rng = np.random.default_rng(16)
    times = _times(25.0, 2.0)
    xy = rng.normal(100.0, 3.0, size=(times.size, 17, 2))
    xyz = rng.normal(0.0, 10.0, size=(times.size, 17, 3)) if with_3d else None
    xy[5, 3] = np.nan
    out_xy, out_3d = smooth_track(times, xy, xyz, config=SmoothingConfig())
    assert out_xy.shape == (times.size, 17, 2)
    assert np.isnan(out_xy[5, 3]).all() and np.isfinite(np.delete(out_xy, 5, axis=0)).all()
    np.testing.assert_array_equal(out_xy[0], xy[0])
    if with_3d:
        assert out_3d.shape == (times.size, 17, 3)
        np.testing.assert_array_equal(out_3d[0], xyz[0])
    else:
        assert out_3d is None
    with pytest.raises(ValueError):
        smooth_track(times[:-1], xy)


# --------------------------------------------------------------------------- jitter


def test_jitter_known_values():
    assert jitter(np.array([[0.0, 0.0], [3.0, 4.0]])) == 5.0  # (T, D): one 3-4-5 step
    joints = np.array(
        [
            [[0.0, 0.0], [0.0, 0.0]],
            [[3.0, 4.0], [0.0, 0.0]],
            [[3.0, 4.0], [6.0, 8.0]],
        ]
    )  # (T=3, J=2, 2): steps 5, 0 and 0, 10
    assert jitter(joints) == pytest.approx(15.0 / 4.0)
    assert jitter(np.zeros((4, 3, 3))) == 0.0


def test_jitter_ignores_nan_and_invalid_pairs():
    joints = np.array(
        [
            [[0.0, 0.0], [0.0, 0.0]],
            [[3.0, 4.0], [np.nan, 0.0]],
            [[6.0, 8.0], [1000.0, 0.0]],
        ]
    )  # joint 1 has no finite pair: only joint 0's two 5 px steps count
    assert jitter(joints) == 5.0
    valid = np.array([[True, True], [True, True], [False, True]])
    assert jitter(joints, valid) == 5.0  # joint 0's second pair dropped
    assert math.isnan(jitter(joints, np.zeros((3, 2), dtype=bool)))
    with pytest.raises(ValueError):
        jitter(joints, np.ones((3, 3), dtype=bool))
