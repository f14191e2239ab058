"""Tests for posenet.data.augment: crops, augmentation draws, points/image agreement."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from posenet.data.augment import (
    AUGMENT_DEFAULTS,
    NO_AUGMENT,
    AugmentConfig,
    Transform,
    augment_clip,
    augment_config,
    augment_sample,
    crop_transform,
    denormalise,
    normalise,
    warp_joints,
)
from posenet.skeleton import get_skeleton

STRONG = AugmentConfig(rotation_deg=40, scale_range=(0.6, 1.4), translation=0.2, flip=0.5)


# ---------------------------------------------------------------- geometry


def test_identity_square_box_maps_points_exactly():
    t = crop_transform((0, 0, 64, 64), 32, margin=1.0)
    np.testing.assert_array_equal(t.matrix, [[0.5, 0, 0], [0, 0.5, 0]])
    pts = np.array([[0, 0], [64, 64], [64, 0], [16, 48], [np.nan, 3]])
    want = np.array([[0, 0], [32, 32], [32, 0], [8, 24], [np.nan, np.nan]])  # NaN spreads
    np.testing.assert_array_equal(t.apply_points(pts), want)
    # A crop of the image's own size is the image itself.
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    np.testing.assert_array_equal(crop_transform((0, 0, 64, 64), 64, margin=1.0)
                                  .apply_image(image), image)


def test_non_square_box_uses_longest_side_and_margin():
    # side = max(40, 80) * 1 = 80 -> 1 crop px per source px, centre (30, 60) -> (40, 40).
    t = crop_transform((10, 20, 50, 100), 80, margin=1.0)
    got = t.apply_points([[30, 60], [10, 20], [50, 100]])
    np.testing.assert_allclose(got, [[40, 40], [20, 0], [60, 80]], atol=1e-12)
    # margin 1.25 -> side 100, 0.8 crop px per source px around the same centre.
    t = crop_transform((10, 20, 50, 100), 80)
    np.testing.assert_allclose(t.apply_points([[30, 60], [80, 60]]), [[40, 40], [80, 40]])


def test_warp_then_unwarp_returns_joints_and_labels(rng):
    lsp = get_skeleton("lsp")
    lw, rw = lsp.index("l_wrist"), lsp.index("r_wrist")
    src = rng.uniform(-50, 300, size=(3, lsp.num_joints, 2))
    src[0, 2] = np.nan
    seen = set()
    for seed in range(30):
        t = crop_transform((40, 30, 200, 260), 128, np.random.default_rng(seed), STRONG, "lsp")
        seen.add(t.flipped)
        crop = t.apply_points(src)
        back = t.invert_points(crop)
        np.testing.assert_allclose(back, src, atol=1e-6)
        assert np.isnan(back[0, 2]).all()
        # The source l_wrist is stored at r_wrist's index in a mirrored crop.
        origin = rw if t.flipped else lw
        np.testing.assert_allclose(crop[:, lw], t.map_coords(src[:, origin]), atol=1e-9)
    assert seen == {False, True}


def test_drawn_matrix_is_a_similarity_within_the_ranges():
    config = AugmentConfig(rotation_deg=25, scale_range=(0.8, 1.2), flip=0.5)
    for seed in range(20):
        t = crop_transform((0, 0, 100, 50), 64, np.random.default_rng(seed), config)
        lin = t.matrix[:, :2].copy()
        if t.flipped:
            lin[0] *= -1  # undo the mirror x' = S - x
        k = np.sqrt(abs(np.linalg.det(lin)))  # crop px per source px
        np.testing.assert_allclose(lin @ lin.T, k * k * np.eye(2), atol=1e-12)  # no shear
        assert 0.8 * 64 / 125 - 1e-12 <= k <= 1.2 * 64 / 125 + 1e-12  # side = 100 * 1.25
        angle = np.degrees(np.arctan2(lin[0, 1], lin[0, 0]))
        assert abs(angle) <= 25 + 1e-9
        # Without translation the box centre lands on the crop centre.
        np.testing.assert_allclose(t.map_coords([50.0, 25.0]), [32.0, 32.0], atol=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_image_and_points_agree(seed):
    gen = np.random.default_rng(100 + seed)
    image = np.zeros((120, 160, 3), np.uint8)
    ix, iy = int(gen.integers(60, 100)), int(gen.integers(40, 80))
    image[iy, ix] = 255
    joint = np.array([[ix + 0.5, iy + 0.5]])  # the pixel's centre, continuous coordinates
    # A 50 px box into 128 px keeps sampling denser than the source, so the dot survives.
    config = AugmentConfig(rotation_deg=40, scale_range=(0.8, 1.3), translation=0.05,
                           flip=0.5)
    box = (ix - 25, iy - 25, ix + 25, iy + 25)
    t = crop_transform(box, 128, gen, config)
    crop = t.apply_image(image)
    assert crop.shape == (128, 128, 3) and crop.dtype == np.uint8
    cy, cx = np.unravel_index(np.argmax(crop[..., 0]), crop.shape[:2])
    assert crop[cy, cx, 0] > 0
    want = t.apply_points(joint, skeleton=[0])[0]
    assert np.hypot(cx + 0.5 - want[0], cy + 0.5 - want[1]) <= 1.0


def test_flips_are_seen_by_the_agreement_test():
    flips = {crop_transform((0, 0, 50, 50), 128, np.random.default_rng(100 + s),
                            AugmentConfig(rotation_deg=40, scale_range=(0.8, 1.3),
                                          translation=0.05, flip=0.5)).flipped
             for s in range(8)}
    assert flips == {False, True}


@pytest.mark.parametrize("name", ["lsp", "model16"])
def test_forced_flip_mirrors_and_swaps_left_right(name, rng):
    skel = get_skeleton(name)
    lw, rw = skel.index("l_wrist"), skel.index("r_wrist")
    joints = np.full((skel.num_joints, 2), np.nan)
    joints[lw] = (10.25, 20.5)
    visible = np.zeros(skel.num_joints, bool)
    visible[lw] = True
    image = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    crop, jc, vc, t = augment_sample(image, joints, visible, (0, 0, 100, 100), 100, rng,
                                     AugmentConfig(flip=1.0), name, margin=1.0)
    assert t.flipped
    np.testing.assert_array_equal(jc[rw], [89.75, 20.5])  # x' = S - x, now the right wrist
    assert np.isnan(jc[lw]).all()
    assert vc[rw] and not vc[lw] and vc.sum() == 1
    np.testing.assert_array_equal(crop, image[:, ::-1])


def test_flipped_points_need_a_skeleton(rng):
    t = crop_transform((0, 0, 10, 10), 8, rng, AugmentConfig(flip=1.0))
    with pytest.raises(ValueError, match="skeleton"):
        t.apply_points(np.zeros((14, 2)))
    with pytest.raises(ValueError, match="permutation"):
        t.apply_points(np.zeros((14, 2)), skeleton="mpii")  # 16-joint layout


# ---------------------------------------------------------------- visibility


def test_joint_out_of_crop_becomes_invisible_and_nan_stays_invalid():
    # margin 1 and a 32 px box into 32 px: crop = source - 34, hand-computable.
    t = crop_transform((34, 34, 66, 66), 32, margin=1.0)
    joints = np.array([[50, 50], [10, 50], [66, 50], [34, 34], [np.nan, np.nan], [40, 40]])
    visible = np.array([True, True, True, True, True, False])
    jc, vc, inside = warp_joints(joints, visible, t)
    np.testing.assert_array_equal(jc[:4], [[16, 16], [-24, 16], [32, 16], [0, 0]])
    assert np.isnan(jc[4]).all()
    np.testing.assert_array_equal(inside, [True, False, False, True, False, True])
    np.testing.assert_array_equal(vc, [True, False, False, True, False, False])


def test_visible_default_and_shape_check():
    t = crop_transform((0, 0, 10, 10), 10, margin=1.0)
    _, vc, _ = warp_joints([[1.0, 1.0], [np.nan, 2.0]], None, t)
    np.testing.assert_array_equal(vc, [True, False])
    with pytest.raises(ValueError, match="visible"):
        warp_joints([[1.0, 1.0]], [True, False], t)


# ---------------------------------------------------------------- randomness


def test_same_seed_same_transform_and_crop_other_seed_differs():
    config = dataclasses.replace(AUGMENT_DEFAULTS["mpii"], occlusion=1.0)
    image = np.random.default_rng(7).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    joints = np.random.default_rng(8).uniform(20, 80, (16, 2))
    runs = [augment_sample(image, joints, None, (20, 10, 90, 80), 64,
                           np.random.default_rng(seed), config, "mpii")
            for seed in (5, 5, 6)]
    (c1, j1, v1, t1), (c2, j2, v2, t2), (c3, _, _, t3) = runs
    assert t1 == t2 and t1 != t3
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(j1, j2)
    np.testing.assert_array_equal(v1, v2)
    assert not np.array_equal(t1.matrix, t3.matrix) and not np.array_equal(c1, c3)


def test_rng_required_only_when_augmenting():
    with pytest.raises(ValueError, match="rng"):
        crop_transform((0, 0, 10, 10), 8, None, AUGMENT_DEFAULTS["h36m"])
    assert crop_transform((0, 0, 10, 10), 8, None, NO_AUGMENT) == crop_transform(
        (0, 0, 10, 10), 8, np.random.default_rng(0), AUGMENT_DEFAULTS["none"])


# ---------------------------------------------------------------- photometric


def test_color_gain_multiplies_channels(rng):
    image = np.full((40, 40, 3), 100, np.uint8)
    t = crop_transform((0, 0, 40, 40), 40, rng, AugmentConfig(color_gain=(0.5, 1.5)),
                       margin=1.0)
    assert len(set(t.color_gain)) == 3 and not np.allclose(t.color_gain, 1.0)
    means = t.apply_image(image).reshape(-1, 3).mean(axis=0)
    np.testing.assert_allclose(means, 100 * t.color_gain, atol=0.5)
    fixed = Transform(np.eye(2, 3), 4, color_gain=(0.5, 1.0, 2.0))
    crop = fixed.apply_image(np.full((4, 4, 3), 200, np.uint8))
    np.testing.assert_array_equal(crop.reshape(-1, 3).mean(axis=0), [100, 200, 255])  # clips


@pytest.mark.parametrize("seed", range(6))
def test_occlusion_boxes_inside_crop_change_only_their_pixels(seed):
    gen = np.random.default_rng(seed)
    image = gen.integers(0, 256, (80, 80, 3), dtype=np.uint8)
    config = AugmentConfig(occlusion=1.0, occlusion_max_boxes=4, occlusion_size=(0.1, 0.5))
    t = crop_transform((10, 10, 70, 70), 48, gen, config)
    assert 1 <= len(t.occlusions) <= 4 and len(t.occlusion_colors) == len(t.occlusions)
    mask = np.zeros((48, 48), bool)
    for x1, y1, x2, y2 in t.occlusions:
        assert 0 <= x1 < x2 <= 48 and 0 <= y1 < y2 <= 48
        assert 0.1 * 48 - 1 <= x2 - x1 <= 0.5 * 48 + 1
        mask[y1:y2, x1:x2] = True
    clean = dataclasses.replace(t, occlusions=(), occlusion_colors=()).apply_image(image)
    crop = t.apply_image(image)
    changed = (crop != clean).any(axis=-1)
    assert changed.any() and not changed[~mask].any()
    x1, y1, x2, y2 = t.occlusions[-1]  # drawn last, so its colour is on top
    assert (crop[y1:y2, x1:x2] == t.occlusion_colors[-1]).all()


# ---------------------------------------------------------------- clips


def test_clip_shares_one_transform(rng):
    frames = rng.integers(0, 50, (5, 60, 70, 3), dtype=np.uint8)  # differs per frame
    frames[:, 30, 40] = 255  # a static bright dot at source (40.5, 30.5) in every frame
    joints = np.tile([[40.5, 30.5], [10.0, 50.0]], (5, 1, 1))
    visible = np.ones((5, 2), bool)
    crops, jc, vc, t = augment_clip(frames, joints, visible, (20, 10, 60, 50), 96, rng,
                                    AugmentConfig(rotation_deg=30, scale_range=(0.9, 1.1),
                                                  translation=0.05, flip=1.0), [1, 0])
    assert crops.shape == (5, 96, 96, 3) and jc.shape == (5, 2, 2) and vc.shape == (5, 2)
    np.testing.assert_array_equal(jc, np.broadcast_to(jc[0], jc.shape))
    for f in range(5):
        np.testing.assert_array_equal(crops[f], t.apply_image(frames[f]))
        # Flipped with permutation [1, 0]: the dot's joint now sits at index 1.
        cy, cx = np.unravel_index(np.argmax(crops[f, ..., 1]), (96, 96))
        assert np.hypot(cx + 0.5 - jc[f, 1, 0], cy + 0.5 - jc[f, 1, 1]) <= 1.0


# ---------------------------------------------------------------- config


@pytest.mark.parametrize("kwargs", [
    {"rotation_deg": -1}, {"rotation_deg": float("nan")}, {"scale_range": (0.0, 1.0)},
    {"scale_range": (1.3, 0.7)}, {"scale_range": (-1.0, 1.0)}, {"translation": -0.1},
    {"flip": 1.5}, {"flip": -0.1}, {"color_gain": (-0.1, 1.0)}, {"color_gain": (1.2, 0.8)},
    {"occlusion": 2.0}, {"occlusion_max_boxes": 0}, {"occlusion_size": (0.0, 0.5)},
    {"occlusion_size": (0.2, 1.5)}, {"scale_range": (1.0,)},
])
def test_config_validation(kwargs):
    with pytest.raises(ValueError):
        AugmentConfig(**kwargs)


def test_presets():
    assert set(AUGMENT_DEFAULTS) == {"mpii", "lsp", "h36m", "penn_action", "ntu", "jhmdb",
                                     "none"}
    mpii = augment_config("mpii")
    assert mpii.rotation_deg == 40 and mpii.scale_range == (0.7, 1.3) and mpii.flip == 0.5
    assert augment_config("none").is_identity
    assert not any(c.is_identity for k, c in AUGMENT_DEFAULTS.items() if k != "none")
    assert AUGMENT_DEFAULTS["h36m"].rotation_deg < mpii.rotation_deg  # milder for video
    assert hash(AugmentConfig(scale_range=[0.8, 1.2])) == hash(AugmentConfig(
        scale_range=(0.8, 1.2)))
    with pytest.raises(ValueError, match="known"):
        augment_config("coco")


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="box"):
        crop_transform((10, 10, 10, 20), 8)
    with pytest.raises(ValueError, match="uint8"):
        crop_transform((0, 0, 4, 4), 4).apply_image(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="invertible"):
        Transform(np.zeros((2, 3)), 4)


def test_normalise_roundtrip():
    pts = np.array([[0.0, 64.0], [128.0, np.nan]])
    np.testing.assert_array_equal(normalise(pts, 128), [[0, 0.5], [1, np.nan]])
    np.testing.assert_array_equal(denormalise(normalise(pts, 128), 128), pts)
