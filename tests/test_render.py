"""Tests for posenet.render: body model, drawing, visibility, backgrounds, motions, clips."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from posenet.render.background import BACKGROUND_KINDS, random_background
from posenet.render.body import PART_NAMES, BodyStyle, random_style
from posenet.render.motion import (
    ANKLE_HEIGHT_MM,
    MOTION_KINDS,
    MOTION_PERIODS_S,
    builtin_motion,
)
from posenet.render.scene import (
    demo_clip,
    look_at_camera,
    project_pinhole,
    render_clip,
    render_person,
    to_camera,
)
from posenet.skeleton import get_skeleton

H36M = get_skeleton("h36m17")
J = {name: i for i, name in enumerate(H36M.joints)}
F, C, SIZE = (300.0, 300.0), (128.0, 128.0), (256, 256)
# Clothes far apart in colour: skin red, shirt green, trousers blue (BGR).
STYLE = BodyStyle(skin=(40, 40, 220), shirt=(40, 200, 40), trousers=(200, 60, 40),
                  shoes=(30, 30, 30), hair=(20, 20, 20), long_sleeves=False)
GREY = np.full((256, 256, 3), 128, np.uint8)


def _standing(azimuth: float = 0.0) -> np.ndarray:
    """(17, 3) camera-frame joints of a person standing 3.5 m in front of the camera."""
    standing = builtin_motion(1, kind="squat")[0]  # the squat starts upright
    R, t = look_at_camera(3500.0, 1000.0, azimuth, F, C)
    return to_camera(standing, R, t)


def _colour_at(img: np.ndarray, point_cam) -> np.ndarray:
    u, v = project_pinhole(np.asarray(point_cam, float), F, C)
    return img[int(v), int(u)].astype(int)


# ------------------------------------------------------------------------ projection


def test_project_pinhole_values_and_behind_camera():
    pts = np.array([[100.0, -200.0, 1000.0], [0.0, 0.0, 2000.0], [1.0, 1.0, -5.0]])
    uv = project_pinhole(pts, (500.0, 400.0), (320.0, 240.0))
    np.testing.assert_allclose(uv[0], [320.0 + 50.0, 240.0 - 80.0])
    np.testing.assert_allclose(uv[1], [320.0, 240.0])
    assert np.isnan(uv[2]).all()


# ----------------------------------------------------------------------- determinism


def _clip(seed: int) -> dict:
    motion = builtin_motion(4, kind="walk")
    R, t = look_at_camera(None, 1500.0, 30.0, F, C)
    return render_clip(motion, R, t, F, C, SIZE, np.random.default_rng(seed))


def test_same_seed_same_pixels_other_seed_other_pixels():
    a, b, other = _clip(7), _clip(7), _clip(8)
    for key in ("frames", "joints_2d", "visible"):
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["frames"], other["frames"])
    assert random_style(np.random.default_rng(3)) == random_style(np.random.default_rng(3))
    assert random_style(np.random.default_rng(3)) != random_style(np.random.default_rng(4))


# ------------------------------------------------------------ joints and body pixels


def test_joints_2d_are_the_pinhole_projection_and_lie_on_the_body():
    joints = _standing(20.0)
    img, joints_2d, visible = render_person(GREY, joints, F, C, STYLE)
    np.testing.assert_array_equal(joints_2d, project_pinhole(joints, F, C))
    assert visible.sum() >= 14  # an upright person seen from the front shows most joints
    changed = np.abs(img.astype(int) - GREY).sum(axis=2) > 30
    for j in np.flatnonzero(visible):
        u, v = joints_2d[j].astype(int)
        assert changed[v - 2:v + 3, u - 2:u + 3].any(), H36M.joints[j]
    assert not changed[:, :40].any()  # and nothing is drawn far from the person
    np.testing.assert_array_equal(GREY, 128)  # the input image is left alone


def test_points_2d_override_moves_the_drawing():
    joints = _standing()
    img, joints_2d, _ = render_person(GREY, joints, F, C, STYLE)
    shifted = project_pinhole(joints, F, C) + [12.0, 0.0]
    img2, joints_2d2, _ = render_person(GREY, joints, F, C, STYLE, points_2d=shifted)
    np.testing.assert_array_equal(joints_2d2, shifted)
    same = (img2[:, 12:] == img[:, :-12]).all(axis=2)
    assert same.mean() > 0.999
    assert not np.array_equal(img, img2)


# ------------------------------------------------------------------------ visibility


def test_arm_behind_the_torso_is_hidden_and_arm_in_front_is_visible():
    j = _standing()
    thorax, spine = j[J["thorax"]], j[J["spine"]]
    # Right arm folded behind the back, its elbow and wrist over the torso in the image.
    j[J["r_elbow"]] = thorax + [-60.0, 150.0, 220.0]
    j[J["r_wrist"]] = spine + [0.0, 40.0, 260.0]
    # Left arm reaching towards the camera in front of the chest.
    j[J["l_elbow"]] = j[J["l_shoulder"]] + [-20.0, 120.0, -240.0]
    j[J["l_wrist"]] = j[J["l_elbow"]] + [-120.0, -30.0, -200.0]
    _, joints_2d, visible = render_person(GREY, j, F, C, STYLE)
    torso_u = sorted(joints_2d[[J["l_shoulder"], J["r_shoulder"]], 0])
    for name in ("r_elbow", "r_wrist"):  # really inside the torso's outline
        assert torso_u[0] < joints_2d[J[name], 0] < torso_u[1]
        assert not visible[J[name]], name
    for name in ("l_elbow", "l_wrist", "l_shoulder", "pelvis", "head_top"):
        assert visible[J[name]], name


def test_turned_torso_hides_the_far_shoulder_and_hip():
    # Camera 65 degrees to the person's left: the right shoulder and hip are inside the
    # chest / hips outline in the image but deep behind its front: hidden by the depth rule.
    _, _, visible, ids = render_person(GREY, _standing(65.0), F, C, STYLE, return_ids=True)
    uv = project_pinhole(_standing(65.0), F, C).astype(int)
    for name, part in (("r_shoulder", "chest"), ("r_hip", "hips")):
        assert ids[uv[J[name], 1], uv[J[name], 0]] == PART_NAMES.index(part) + 1
        assert not visible[J[name]], name
    assert visible[J["l_shoulder"]]  # (the near hip is behind the hanging hand)
    _, _, visible = render_person(GREY, _standing(-65.0), F, C, STYLE)
    assert visible[J["r_shoulder"]] and not visible[J["l_shoulder"]]
    _, _, visible = render_person(GREY, _standing(20.0), F, C, STYLE)  # nearly frontal
    assert visible[[J["l_shoulder"], J["r_shoulder"], J["l_hip"], J["r_hip"]]].all()


def test_joints_outside_the_image_or_behind_the_camera_are_invisible():
    j = _standing()
    j[J["l_wrist"]] += [3000.0, 0.0, 0.0]  # far beyond the right edge
    _, joints_2d, visible = render_person(GREY, j, F, C, STYLE)
    assert joints_2d[J["l_wrist"], 0] > SIZE[0] and not visible[J["l_wrist"]]
    assert visible[J["l_elbow"]]
    j = _standing()
    j[J["r_ankle"], 2] = -100.0  # behind the camera: no image at all
    _, joints_2d, visible = render_person(GREY, j, F, C, STYLE)
    assert np.isnan(joints_2d[J["r_ankle"]]).all() and not visible[J["r_ankle"]]
    assert visible[J["head_top"]]


# ------------------------------------------------------------------- painter's order


def _red(c) -> bool:
    return c[2] > c[1] + 60


def _green(c) -> bool:
    return c[1] > c[2] + 60


def test_near_part_covers_far_part():
    j = _standing()
    # Left forearm (skin: red) across the chest (shirt: green), in front of it ...
    j[J["l_elbow"]] = j[J["l_shoulder"]] + [0.0, 200.0, -200.0]
    j[J["l_wrist"]] = j[J["thorax"]] + [-120.0, 200.0, -300.0]
    img, _, _ = render_person(GREY, j, F, C, STYLE)
    mid = 0.5 * (j[J["l_elbow"]] + j[J["l_wrist"]])
    assert _red(_colour_at(img, mid))
    # ... then, same place in the image, behind it: the chest covers the forearm.
    behind = j.copy()
    for name in ("l_elbow", "l_wrist"):
        p = j[J[name]]
        behind[J[name]] = p * (p[2] + 500.0) / p[2]  # along the ray, 500 mm further
    img, _, visible = render_person(GREY, behind, F, C, STYLE)
    assert _green(_colour_at(img, mid))
    assert not visible[J["l_wrist"]]


def test_part_ids_buffer():
    img, _, visible, ids = render_person(GREY, _standing(), F, C, STYLE, return_ids=True)
    assert ids.shape == SIZE[::-1] and ids.dtype == np.uint8
    assert set(np.unique(ids)) <= set(range(len(PART_NAMES) + 1))
    head = PART_NAMES.index("head") + 1
    u, v = project_pinhole(_standing()[J["head_top"]] - [0.0, -60.0, 0.0], F, C).astype(int)
    assert ids[v, u] == head
    assert ((ids > 0) == (np.abs(img.astype(int) - GREY).sum(axis=2) > 0)).mean() > 0.97


def test_bad_inputs():
    with pytest.raises(ValueError, match="joints_cam"):
        render_person(GREY, np.zeros((16, 3)), F, C, STYLE)
    with pytest.raises(ValueError, match="image"):
        render_person(GREY[..., 0], _standing(), F, C, STYLE)
    with pytest.raises(ValueError, match="points_2d"):
        render_person(GREY, _standing(), F, C, STYLE, points_2d=np.zeros((17, 3)))
    with pytest.raises(ValueError, match="unknown motion"):
        builtin_motion(3, kind="moonwalk")
    with pytest.raises(ValueError, match="unknown background"):
        random_background(np.random.default_rng(0), 8, 8, kind="space")


# --------------------------------------------------------------------------- motion


@pytest.mark.parametrize("kind", MOTION_KINDS)
def test_builtin_motion(kind):
    fps = 10.0
    period = int(round(MOTION_PERIODS_S[kind] * fps))
    m = builtin_motion(period + 5, fps=fps, kind=kind)
    assert m.shape == (period + 5, 17, 3) and np.isfinite(m).all()
    a, b = np.array(H36M.links).T
    bones = np.linalg.norm(m[:, a] - m[:, b], axis=-1)
    np.testing.assert_allclose(bones, np.broadcast_to(bones[0], bones.shape), rtol=1e-6)
    np.testing.assert_allclose(m[period:], m[:5], atol=1e-6)  # periodic
    assert np.abs(np.diff(m, axis=0)).max() > 5.0  # and it moves
    lowest = m[:, [J["r_ankle"], J["l_ankle"]], 2].min(axis=1)
    if kind == "jacks":  # hops between landings
        assert lowest.min() == pytest.approx(ANKLE_HEIGHT_MM)
        assert lowest.max() < ANKLE_HEIGHT_MM + 80.0
    else:
        np.testing.assert_allclose(lowest, ANKLE_HEIGHT_MM, atol=1e-9)
    assert m[..., 2].min() > 0.0  # nothing under the floor
    assert 1550.0 < m[:, J["head_top"], 2].max() < 2000.0  # an adult's height
    assert np.abs(m[:, J["pelvis"], :2]).max() < 400.0  # near the origin


def test_walk_conventions():
    m = builtin_motion(20, fps=10.0, kind="walk")
    assert (m[:, J["r_hip"], 0] > m[:, J["l_hip"], 0]).all()  # right is +x
    assert (m[:, J["neck"], 1] > m[:, J["thorax"], 1]).all()  # faces +y
    # Legs alternate: the right ankle leads half the cycle, the left the other half.
    lead = m[:, J["r_ankle"], 1] > m[:, J["l_ankle"], 1]
    assert 0.3 < lead.mean() < 0.7
    # Each wrist swings opposite to the same side's ankle.
    r = np.corrcoef(m[:, J["r_wrist"], 1], m[:, J["r_ankle"], 1])[0, 1]
    assert r < -0.5


# --------------------------------------------------------------------------- cameras


def test_look_at_camera_frames_the_person():
    R, t = look_at_camera(4000.0, 1600.0, 37.0, F, C)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    np.testing.assert_allclose(project_pinhole(to_camera([0, 0, 900.0], R, t), F, C), C)
    np.testing.assert_allclose(to_camera([0.0, 0.0, 0.0], R, t), t)
    for kind in MOTION_KINDS:
        m = builtin_motion(30, kind=kind)
        for az in (0.0, 90.0, 200.0, 315.0):
            for dist in (None, 5000.0):
                R, t = look_at_camera(dist, 1500.0, az, F, C)
                cam = to_camera(m, R, t)
                uv = project_pinhole(cam, F, C)
                assert (cam[..., 2] > 1000.0).all()
                assert ((uv >= 0) & (uv < SIZE)).all(), (kind, az, dist)
    # Facing the camera the person's right is on the image's left; from behind, reversed.
    m = builtin_motion(1, kind="wave")[0]
    for az, right_on_left in ((0.0, True), (180.0, False)):
        uv = project_pinhole(to_camera(m, *look_at_camera(None, 1500.0, az, F, C)), F, C)
        assert (uv[J["r_hip"], 0] < uv[J["l_hip"], 0]) == right_on_left
        assert uv[J["head_top"], 1] < uv[J["pelvis"], 1] < uv[J["r_ankle"], 1]
    # distance None: a standing person fills about 3/4 of the image height.
    uv = project_pinhole(to_camera(m, *look_at_camera(None, 900.0, 0.0, F, C)), F, C)
    assert 0.6 < np.ptp(uv[:, 1]) / SIZE[1] < 0.85


# ----------------------------------------------------------------------------- clips


def test_render_clip_shapes_and_fixed_background():
    rng = np.random.default_rng(11)
    motion = builtin_motion(6, kind="jacks")
    R, t = look_at_camera(None, 1500.0, 15.0, F, (160.0, 120.0))
    bg = random_background(rng, 240, 320)
    clip = render_clip(motion, R, t, F, (160.0, 120.0), (320, 240), rng, background=bg)
    assert clip["frames"].shape == (6, 240, 320, 3) and clip["frames"].dtype == np.uint8
    assert clip["joints_2d"].shape == (6, 17, 2) and clip["joints_2d"].dtype == np.float64
    assert clip["joints_cam"].shape == (6, 17, 3) and clip["visible"].dtype == bool
    np.testing.assert_allclose(clip["joints_cam"], to_camera(motion, R, t))
    np.testing.assert_array_equal(clip["joints_2d"],
                                  project_pinhole(clip["joints_cam"], F, (160.0, 120.0)))
    # Away from every joint of the clip the frames are the background, untouched ...
    yy, xx = np.mgrid[0:240, 0:320]
    uv = clip["joints_2d"].reshape(-1, 2)
    dist = np.sqrt((xx[..., None] - uv[:, 0]) ** 2 + (yy[..., None] - uv[:, 1]) ** 2).min(-1)
    far = dist > 50.0
    assert far.mean() > 0.3
    for frame in clip["frames"]:
        np.testing.assert_array_equal(frame[far], bg[far])
    # ... and near the person they are not (the person moves over the fixed background).
    for frame, joints_2d, visible in zip(clip["frames"], clip["joints_2d"], clip["visible"],
                                         strict=True):
        for u, v in joints_2d[visible].astype(int):
            assert (frame[v - 1:v + 2, u - 1:u + 2] != bg[v - 1:v + 2, u - 1:u + 2]).any()
    assert not np.array_equal(clip["frames"][0], clip["frames"][3])


def test_random_backgrounds():
    imgs = {}
    for kind in BACKGROUND_KINDS:
        img = random_background(np.random.default_rng(5), 96, 128, kind=kind)
        assert img.shape == (96, 128, 3) and img.dtype == np.uint8
        assert img.astype(float).std() > 2.0, kind  # not a flat colour
        np.testing.assert_array_equal(
            img, random_background(np.random.default_rng(5), 96, 128, kind=kind))
        imgs[kind] = img
    kinds = list(imgs)
    for i, a in enumerate(kinds):
        for b in kinds[i + 1:]:
            assert not np.array_equal(imgs[a], imgs[b])
    drawn = {random_background(np.random.default_rng(s), 8, 8).tobytes() for s in range(10)}
    assert len(drawn) == 10


def test_random_styles_vary():
    styles = [random_style(np.random.default_rng(s)) for s in range(40)]
    for field in ("thigh", "torso", "skin", "shirt", "trousers", "long_sleeves", "shorts"):
        assert len({getattr(s, field) for s in styles}) > 1, field
    for s in styles:
        assert 40.0 < s.thigh < 110.0 and 60.0 < s.torso < 150.0
        for c in (s.skin, s.shirt, s.trousers, s.shoes, s.hair):
            assert len(c) == 3 and all(0 <= v <= 255 for v in c)
    with pytest.raises(dataclasses.FrozenInstanceError):
        styles[0].thigh = 1.0  # type: ignore[misc]


def test_demo_clip_needs_no_data():
    clip = demo_clip(num_frames=5, kind="wave", size=(128, 96), seed=2)
    assert clip["frames"].shape == (5, 96, 128, 3)
    uv = clip["joints_2d"]
    assert ((uv >= 0) & (uv < (128, 96))).all() and clip["visible"].mean() > 0.6
    np.testing.assert_array_equal(clip["frames"], demo_clip(5, "wave", (128, 96), 2)["frames"])
