"""The 2D-to-3D lifter: network builds, saving, causality; windows, projection,
normalisation; a tiny training run; the real Human3.6M motion when present."""

import numpy as np
import pytest

from posenet.data.camera import Camera
from posenet.data.lifting import (
    LiftingWindows,
    camera_targets,
    denormalise_2d,
    evaluation_windows,
    normalise_2d,
    upsample,
    virtual_camera,
)
from posenet.data.pose_noise import load_noise_model

# A standing person (model17 joints, world mm, z up), pelvis 0.9 m above the floor.
_STAND = np.array([
    [0, 0, 900], [0, 0, 1400], [0, 0, 1550], [0, 0, 1750], [-180, 0, 1400],
    [180, 0, 1400], [-200, 0, 1150], [200, 0, 1150], [-210, 0, 900], [210, 0, 900],
    [-120, 0, 900], [120, 0, 900], [-120, 0, 480], [120, 0, 480], [-120, 0, 80],
    [120, 0, 80], [0, 0, 1150]], np.float64)


def _motion(frames=90, subject=1):
    """A take of a person swinging arms and legs while walking along x (30 Hz)."""
    t = np.arange(frames)[:, None] / 30.0
    world = np.repeat(_STAND[None], frames, 0)
    world[:, :, 0] += 800.0 * t  # walking
    swing = 150.0 * np.sin(2 * np.pi * t)
    for joint, sign in ((8, 1), (9, -1), (14, -1), (15, 1), (6, 0.5), (7, -0.5)):
        world[:, joint, 1] += sign * swing[:, 0]
    return [{"subject": subject, "action": "Walking", "subaction": "Walking 1",
             "world": world.astype(np.float32), "factor": 3}]


def _cameras(subject=1):
    rng = np.random.default_rng(5)
    return {subject: [virtual_camera(rng, [0.0, 0.0, 900.0]) for _ in range(4)]}


def _jitter(model, seed=0):
    """Random (non-zero) weights, moving variances kept positive."""
    rng = np.random.default_rng(seed)
    model.set_weights([np.abs(w) + 0.5 if "variance" in v.path else
                       w + rng.normal(0, 0.1, w.shape).astype(w.dtype)
                       for v, w in zip(model.weights, model.get_weights(), strict=True)])


@pytest.mark.backend
def test_lifter_saves_and_loads_with_identical_outputs(tmp_path):
    import keras

    from posenet.models.lifter import LifterNetwork

    model = LifterNetwork(filters=16, strided=True, frame_rate=30.0)
    _jitter(model)
    x = np.random.default_rng(0).normal(size=(3, 27, 17, 3)).astype(np.float32)
    before = model.predict({"joints2d": x}, verbose=0)
    assert list(before) == ["joints3d"] and before["joints3d"].shape == (3, 17, 3)
    path = tmp_path / "lifter.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, LifterNetwork) and loaded.get_config() == model.get_config()
    after = loaded.predict({"joints2d": x}, verbose=0)
    np.testing.assert_allclose(after["joints3d"], before["joints3d"], rtol=1e-5, atol=1e-3)
    assert np.abs(before["joints3d"]).max() > 1.0  # a real output, not zeros


@pytest.mark.backend
@pytest.mark.parametrize("causal", [False, True])
def test_strided_window_and_dilated_sequence_builds_agree(causal):
    from posenet.models.lifter import LifterNetwork, sequence_lifter

    model = LifterNetwork(filters=16, strided=True, causal=causal)
    _jitter(model, 1)
    extra = 6
    clip = np.random.default_rng(2).normal(size=(2, 27 + extra, 17, 3)).astype(np.float32)
    sequence = sequence_lifter(model, 27 + extra)
    per_frame = sequence.predict({"joints2d": clip}, verbose=0)["joints3d"]
    assert per_frame.shape == (2, extra + 1, 17, 3)
    for k in (0, extra):
        window = model.predict({"joints2d": clip[:, k:k + 27]}, verbose=0)["joints3d"]
        np.testing.assert_allclose(per_frame[:, k], window, rtol=1e-4, atol=1e-2)


@pytest.mark.backend
@pytest.mark.parametrize("causal", [False, True])
def test_causal_output_ignores_future_frames(causal):
    from posenet.models.lifter import LifterNetwork

    model = LifterNetwork(filters=16, num_frames=40, causal=causal)
    _jitter(model, 3)
    field = model.receptive_field
    clip = np.random.default_rng(4).normal(size=(1, 40, 17, 3)).astype(np.float32)
    changed = clip.copy()
    m = 30
    changed[:, m] += 5.0
    a = model.predict({"joints2d": clip}, verbose=0)["joints3d"][0]
    b = model.predict({"joints2d": changed}, verbose=0)["joints3d"][0]
    frame = np.arange(len(a)) + model.target_offset  # the input frame each output is for
    differs = np.abs(a - b).max(axis=(1, 2)) > 1e-3
    if causal:
        assert model.target_offset == field - 1
        assert not differs[frame < m].any()  # no output reads a frame after its own
    else:
        assert differs[frame < m].any()  # the centre network reads ahead
    assert differs[frame == m].all()


def test_projection_of_a_known_point_and_virtual_cameras_aim():
    camera = Camera(R=np.eye(3), T=[0, 0, 0], f=[1000, 1000], c=[500, 500])
    world = np.array([[[0.0, 0.0, 2000.0], [100.0, -50.0, 2000.0]]])
    uv, rel = camera_targets(camera, world)
    np.testing.assert_allclose(uv[0], [[500, 500], [550, 475]])
    np.testing.assert_allclose(rel[0], [[0, 0, 0], [100, -50, 0]])
    rng = np.random.default_rng(0)
    target = np.array([100.0, -300.0, 900.0])
    for _ in range(20):
        cam = virtual_camera(rng, target, {"aim": 0.0, "centre": 0.0, "roll": 0.0})
        np.testing.assert_allclose(cam.project_world(target), cam.c, atol=1e-6)
        assert 2500 <= np.linalg.norm((cam.T - target)[:2]) <= 7000
        # no roll: the world's up direction points up (negative v) in the image
        up = cam.project_world(target + [0, 0, 100]) - cam.c
        assert up[1] < 0 and abs(up[0]) < 1e-6


def test_normalisation_is_invertible_for_present_joints(rng):
    uv = rng.uniform(100, 900, (4, 27, 17, 2))
    conf = (rng.random((4, 27, 17)) > 0.2).astype(float)
    conf[0, :, 0] = 0.0  # a missing pelvis: the root falls back to the hips
    x, root, scale = normalise_2d(uv, conf)
    assert x.shape == (4, 27, 17, 3) and root.shape == (4, 27, 2) and scale.shape == (4,)
    back = denormalise_2d(x, root, scale)
    present = conf > 0
    np.testing.assert_allclose(back[present], uv[present], rtol=1e-5, atol=1e-3)
    assert np.all(x[~present][:, :2] == 0) and np.all(x[..., 2] == conf)
    both = present[0, :, 10] & present[0, :, 11]
    np.testing.assert_allclose(root[0, both], uv[0, both][:, [10, 11]].mean(1))
    # the window's size measure: the median over frames of the joints' box's longer side
    x, _, scale = normalise_2d(uv[:1, :, :, :])
    assert np.isclose(np.ptp(x[0, ..., :2], axis=1).max(-1).max(), np.ptp(
        uv[0], axis=1).max(-1).max() / scale[0], rtol=1e-5)


def test_upsample_keeps_the_measured_frames(rng):
    poses = rng.normal(size=(7, 17, 3))
    up = upsample(poses, 3)
    assert up.shape == (19, 17, 3)
    np.testing.assert_allclose(up[::3], poses, atol=1e-9)


def test_training_windows_have_the_right_shapes_and_repeat():
    windows = LiftingWindows(_motion(), _cameras(), num_frames=27, batch_size=8, steps=3,
                             seed=1, noisy=0.5)
    x, y = windows[0]
    assert x["joints2d"].shape == (8, 27, 17, 3) and y["joints3d"].shape == (8, 17, 3)
    assert x["joints2d"].dtype == np.float32 and y["joints3d"].dtype == np.float32
    np.testing.assert_allclose(y["joints3d"][:, 0], 0.0, atol=1e-3)  # root-relative
    np.testing.assert_array_equal(windows[0][0]["joints2d"], x["joints2d"])
    windows.epoch = 1
    assert not np.array_equal(windows[0][0]["joints2d"], x["joints2d"])
    # root-relative: the 2D root (present) sits at the origin
    present = x["joints2d"][..., 0, 2] > 0
    np.testing.assert_allclose(x["joints2d"][..., 0, :2][present], 0.0, atol=1e-6)


def test_evaluation_windows_score_the_measured_frames():
    take = _motion(61)[0]
    camera = _cameras()[1][0]
    x, y, frames = evaluation_windows(take["world"], camera, 27, 13, every=3)
    assert x.shape == (21, 27, 17, 3) and y.shape == (21, 17, 3)
    np.testing.assert_array_equal(frames, np.arange(0, 61, 3))
    noisy, _, _ = evaluation_windows(take["world"], camera, 27, 13, every=3,
                                     rng=np.random.default_rng(0),
                                     noise_model=load_noise_model())
    assert noisy.shape == x.shape and not np.allclose(noisy, x)


def test_a_few_training_steps_lower_the_loss():
    import keras

    from posenet.training.lifting import build_lifter, compile_lifter

    keras.utils.set_random_seed(0)
    windows = LiftingWindows(_motion(), _cameras(), batch_size=32, steps=1, seed=0, noisy=0.0)
    x, y = windows[0]
    model = build_lifter(filters=32)
    compile_lifter(model, lr=3e-3)
    before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    model.fit(x, y, batch_size=32, epochs=15, verbose=0)
    after = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert after < 0.8 * before


@pytest.mark.data
def test_real_h36m_motion_projects_into_the_real_cameras(shared_data):
    from posenet.data.lifting import h36m_cameras, h36m_motion

    root = shared_data / "h36m"
    if not root.is_dir():
        pytest.skip(f"Human3.6M motion capture not found at {root}")
    motion = h36m_motion(root, [9])
    take = motion[0]
    assert take["world"].shape[1:] == (17, 3) and take["factor"] == 3
    cameras = h36m_cameras(root)[9]
    assert len(cameras) == 4
    for camera in cameras:
        x, y, frames = evaluation_windows(take["world"], camera, 27, 13, every=3)
        assert len(frames) == (len(take["world"]) - 1) // 3 + 1
        uv, _ = camera_targets(camera, take["world"])
        assert np.all((uv > 0) & (uv < 1002))  # every joint inside the image
        bone = np.linalg.norm(y[:, 12] - y[:, 14], axis=-1)  # r_knee - r_ankle, mm
        assert 300 < np.median(bone) < 550


@pytest.mark.backend
def test_saved_lifter_is_the_uncompiled_dilated_build(tmp_path):
    import keras

    from posenet.training.lifting import build_lifter, compile_lifter, save_lifter

    model = build_lifter(filters=16, causal=True)
    compile_lifter(model)
    _jitter(model, 7)
    path = tmp_path / "lifter_h36m.keras"
    save_lifter(model, path)
    loaded = keras.saving.load_model(path)
    assert not loaded.strided and loaded.causal and loaded.frame_rate == 30.0
    assert getattr(loaded, "optimizer", None) is None  # nothing compiled is shipped
    x = np.random.default_rng(8).normal(size=(2, 27, 17, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict({"joints2d": x}, verbose=0)["joints3d"],
                               model.predict({"joints2d": x}, verbose=0)["joints3d"],
                               rtol=1e-4, atol=1e-2)
