"""Tests for posenet.skeleton: layouts, flipping and joint mapping."""

from __future__ import annotations

import numpy as np
import pytest

from posenet.skeleton import (
    CENTER_COLOR,
    H36M17_FROM_32,
    LEFT_COLOR,
    RIGHT_COLOR,
    SKELETON_NAMES,
    Skeleton,
    get_skeleton,
    joint_mapping,
    map_joints,
)

_MODEL16 = (
    "pelvis thorax neck head_top r_shoulder l_shoulder r_elbow l_elbow r_wrist l_wrist "
    "r_hip l_hip r_knee l_knee r_ankle l_ankle"
)
_LSP = (
    "r_ankle r_knee r_hip l_hip l_knee l_ankle r_wrist r_elbow r_shoulder l_shoulder "
    "l_elbow l_wrist neck head_top"
)
MODEL16, LSP = _MODEL16.split(), _LSP.split()
EXPECTED_SIZES = {
    "model16": 16, "model17": 17, "lsp": 14, "mpii": 16, "penn_action": 13, "jhmdb": 15,
    "h36m32": 32, "h36m17": 17, "coco": 17, "ntu": 25,
}


def _lsp_sample(rng, shape=()):
    return rng.uniform(0.0, 1.0, size=(*shape, 14, 2))


# ---------------------------------------------------------------- layouts


def test_registry_names_and_sizes():
    assert set(SKELETON_NAMES) == set(EXPECTED_SIZES)
    for name, size in EXPECTED_SIZES.items():
        assert get_skeleton(name).num_joints == size
        assert get_skeleton(name).name == name


def test_exact_orders():
    assert list(get_skeleton("model16").joints) == MODEL16
    assert list(get_skeleton("model17").joints) == [*MODEL16, "spine"]
    assert list(get_skeleton("lsp").joints) == LSP
    assert get_skeleton("mpii").index("pelvis") == 6
    assert get_skeleton("mpii").index("l_wrist") == 15
    assert get_skeleton("jhmdb").joints[:3] == ("neck", "belly", "face")
    assert get_skeleton("coco").index("r_ankle") == 16
    assert get_skeleton("ntu").index("spine_shoulder") == 20
    assert get_skeleton("ntu").index("r_thumb") == 24
    h32 = get_skeleton("h36m32")
    assert [h32.joints[i] for i in H36M17_FROM_32] == list(get_skeleton("h36m17").joints)
    assert get_skeleton("h36m17").joints[7:11] == ("spine", "thorax", "neck", "head_top")


def test_unknown_layout_lists_known_names():
    with pytest.raises(ValueError, match="unknown skeleton") as err:
        get_skeleton("nope")
    for name in SKELETON_NAMES:
        assert name in str(err.value)
    with pytest.raises(ValueError, match="mpii"):
        map_joints(np.zeros((14, 2)), "lsp", "nope")


def test_index_unknown_joint_lists_names():
    with pytest.raises(KeyError, match="head_top"):
        get_skeleton("lsp").index("nose")


@pytest.mark.parametrize("name", SKELETON_NAMES)
def test_layout_consistency(name):
    s = get_skeleton(name)
    assert len(s.colors) == len(s.links)
    assert len(set(map(frozenset, s.links))) == len(s.links)  # no duplicate bones
    # Flip pairs are (l_X, r_X), and every joint with a mirrored twin is paired.
    for left, right in s.flip_pairs:
        assert s.joints[left].startswith("l_") and s.joints[right] == "r_" + s.joints[left][2:]
    paired = {j for pair in s.flip_pairs for j in pair}
    for i, j in enumerate(s.joints):
        if j[:2] in ("l_", "r_") and ("r_" if j[0] == "l" else "l_") + j[2:] in s.joints:
            assert i in paired, j
    # Bones connect every joint (a single tree/graph, no orphans).
    seen, todo = {0}, [0]
    while todo:
        i = todo.pop()
        for a, b in s.links:
            for u, v in ((a, b), (b, a)):
                if u == i and v not in seen:
                    seen.add(v)
                    todo.append(v)
    assert seen == set(range(s.num_joints))
    # Colours: left limbs one hue, right another, torso a third.
    for (a, b), color in zip(s.links, s.colors, strict=True):
        sides = {s.joints[a][:2], s.joints[b][:2]} & {"l_", "r_"}
        expected = {frozenset({"l_"}): LEFT_COLOR, frozenset({"r_"}): RIGHT_COLOR}
        assert color == expected.get(frozenset(sides), CENTER_COLOR)
    assert len({LEFT_COLOR, RIGHT_COLOR, CENTER_COLOR}) == 3


@pytest.mark.parametrize(
    "joints, links, flip_pairs, colors, match",
    [
        (("a", "a"), (), (), (), "duplicate"),
        (("a", "b"), ((0, 2),), (), ((0, 0, 0),), "link"),
        (("a", "b"), ((0, 1),), (), (), "colours"),
        (("a", "b", "c"), (), ((0, 1), (1, 2)), (), "more than one"),
        (("a", "b"), (), ((0, 5),), (), "flip pair"),
        (("a", "b"), ((0, 1),), (), ((0, 0, 256),), "BGR"),
    ],
)
def test_skeleton_validation(joints, links, flip_pairs, colors, match):
    with pytest.raises(ValueError, match=match):
        Skeleton("bad", joints, links, flip_pairs, colors)


# ---------------------------------------------------------------- flipping


@pytest.mark.parametrize("name", SKELETON_NAMES)
def test_flip_twice_is_identity(name):
    s = get_skeleton(name)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 640, size=(3, 2, s.num_joints, 3))
    x[0, 0, 1, :] = np.nan
    back = s.flip(s.flip(x, width=640), width=640)
    np.testing.assert_allclose(back, x, rtol=0, atol=1e-9)
    assert np.isnan(back[0, 0, 1]).all()
    perm = s.flip_permutation()
    assert sorted(perm) == list(range(s.num_joints))
    np.testing.assert_array_equal(perm[perm], np.arange(s.num_joints))


def test_flip_swaps_left_right_and_keeps_centre():
    s = get_skeleton("model16")
    x = np.zeros((16, 3))
    x[s.index("l_wrist")] = (0.2, 0.3, 1.0)
    x[s.index("head_top")] = (0.4, 0.1, 1.0)
    f = s.flip(x)
    np.testing.assert_allclose(f[s.index("r_wrist")], (0.8, 0.3, 1.0))
    np.testing.assert_allclose(f[s.index("l_wrist")], (1.0, 0.0, 0.0))  # was r_wrist at x=0
    np.testing.assert_allclose(f[s.index("head_top")], (0.6, 0.1, 1.0))
    for centre in ("pelvis", "thorax", "neck", "head_top"):
        assert s.flip_permutation()[s.index(centre)] == s.index(centre)


def test_flip_pixel_coordinates_and_per_sample_width():
    s = get_skeleton("lsp")
    x = np.zeros((2, 14, 2))
    x[:, s.index("neck"), 0] = 10.5  # centre of pixel 10
    f = s.flip(x, width=np.array([[100.0], [21.0]]))
    # pixel 10 of a 100-wide image mirrors to pixel 89 (centre 89.5); of 21-wide to itself.
    np.testing.assert_allclose(f[:, s.index("neck"), 0], [89.5, 10.5])
    assert f.dtype == np.float64 and x[0, s.index("neck"), 0] == 10.5  # input untouched


def test_flip_rejects_wrong_joint_count():
    with pytest.raises(ValueError, match="expected"):
        get_skeleton("coco").flip(np.zeros((16, 2)))


# ---------------------------------------------------------------- mapping


def test_lsp_to_model16_known_joints_and_derived():
    rng = np.random.default_rng(1)
    lsp = _lsp_sample(rng)
    out, ok = map_joints(lsp, "lsp", "model16")
    assert out.shape == (16, 2) and ok.shape == (16,) and ok.dtype == bool
    np.testing.assert_array_equal(out[8], lsp[6])  # r_wrist
    np.testing.assert_array_equal(out[3], lsp[13])  # head_top
    np.testing.assert_array_equal(out[2], lsp[12])  # neck
    np.testing.assert_array_equal(out[15], lsp[5])  # l_ankle
    np.testing.assert_allclose(out[0], (lsp[2] + lsp[3]) / 2)  # pelvis = mean of hips
    np.testing.assert_allclose(out[1], (lsp[8] + lsp[9]) / 2)  # thorax = mean of shoulders
    assert ok.all()


def test_joint_mapping_has_no_derivation():
    m = joint_mapping("lsp", "model16")
    assert m.tolist() == [-1, -1, 12, 13, 8, 9, 7, 10, 6, 11, 2, 3, 1, 4, 0, 5]
    m[0] = 99  # a copy: the cached plan is untouched
    assert joint_mapping("lsp", "model16")[0] == -1
    assert joint_mapping("h36m32", "h36m17").tolist() == list(H36M17_FROM_32)


def test_coco_lacks_head_top_and_neck():
    x = np.arange(17 * 2, dtype=np.float32).reshape(17, 2)
    out, ok = map_joints(x, "coco", "model16")
    assert out.dtype == np.float32
    for j in (2, 3):  # neck, head_top
        assert not ok[j] and np.isnan(out[j]).all()
    np.testing.assert_array_equal(out[5], x[5])  # l_shoulder
    np.testing.assert_allclose(out[0], (x[11] + x[12]) / 2)
    assert ok.sum() == 14


def test_model16_to_lsp_round_trip():
    rng = np.random.default_rng(2)
    lsp = _lsp_sample(rng, (5,))
    model, _ = map_joints(lsp, "lsp", "model16")
    back, ok = map_joints(model, get_skeleton("model16"), "lsp")
    assert back.shape == lsp.shape and ok.all()
    np.testing.assert_array_equal(back, lsp)


def test_h36m32_to_h36m17_to_model17_spine():
    rng = np.random.default_rng(3)
    h32 = rng.normal(size=(4, 32, 3))
    h17, ok17 = map_joints(h32, "h36m32", "h36m17")
    np.testing.assert_array_equal(h17, h32[:, list(H36M17_FROM_32)])
    m17, ok = map_joints(h17, "h36m17", "model17")
    assert ok17.all() and ok.all()
    np.testing.assert_array_equal(m17[:, 16], h32[:, 12])  # spine
    np.testing.assert_array_equal(m17[:, 0], h32[:, 0])  # real pelvis, not derived
    np.testing.assert_array_equal(m17[:, 3], h32[:, 15])  # head_top
    np.testing.assert_array_equal(m17[:, 8], h32[:, 27])  # r_wrist
    m16, _ = map_joints(h17, "h36m17", "model16")
    np.testing.assert_array_equal(m16, m17[:, :16])


def test_invalid_hip_invalidates_derived_pelvis():
    lsp = _lsp_sample(np.random.default_rng(4), (2,))
    valid = np.ones((2, 14), dtype=bool)
    valid[0, 3] = False  # l_hip of sample 0 flagged invisible
    lsp[1, 2] = np.nan  # r_hip of sample 1 missing
    out, ok = map_joints(lsp, "lsp", "model16", valid=valid)
    assert ok[:, 0].tolist() == [False, False]
    assert np.isnan(out[:, 0]).all()
    assert ok[:, 1].all()  # thorax still derived from shoulders
    assert not ok[0, 11] and not ok[1, 10]  # the hips themselves
    assert ok.sum() == 2 * 16 - 2 * 2


def test_batched_shapes():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 7, 16, 4))  # (N, T, J, D), e.g. x, y, z, visibility
    out, ok = map_joints(x, "model16", "mpii")
    assert out.shape == (3, 7, 16, 4) and ok.shape == (3, 7, 16)
    np.testing.assert_array_equal(out[..., 6, :], x[..., 0, :])  # pelvis
    np.testing.assert_array_equal(out[..., 10, :], x[..., 8, :])  # r_wrist
    back, _ = map_joints(out, "mpii", "model16")
    np.testing.assert_array_equal(back, x)
    with pytest.raises(ValueError, match="valid"):
        map_joints(x, "model16", "mpii", valid=np.ones((3, 16), dtype=bool))


def test_equivalence_choices():
    rng = np.random.default_rng(6)
    penn = rng.normal(size=(13, 2))
    out, ok = map_joints(penn, "penn_action", "model16")
    np.testing.assert_array_equal(out[3], penn[0])  # head ~ head_top
    assert not ok[2]  # no neck
    back, ok_back = map_joints(out, "model16", "penn_action")
    np.testing.assert_array_equal(back, penn)
    assert ok_back.all()

    jhmdb = rng.normal(size=(15, 2))
    out, ok = map_joints(jhmdb, "jhmdb", "model17")
    assert not ok[3]  # face is not head_top
    np.testing.assert_array_equal(out[2], jhmdb[0])  # neck
    np.testing.assert_array_equal(out[16], jhmdb[1])  # belly ~ spine
    np.testing.assert_allclose(out[1], (jhmdb[3] + jhmdb[4]) / 2)  # derived thorax

    ntu = rng.normal(size=(25, 3))
    out, ok = map_joints(ntu, "ntu", "model17")
    np.testing.assert_array_equal(out[[0, 1, 16]], ntu[[0, 20, 1]])  # base, shoulder, mid
    assert not ok[3]  # Kinect head centre is not head_top
    assert ok.sum() == 16


def test_same_layout_is_identity_including_noncanonical():
    x = np.random.default_rng(7).normal(size=(17, 2))
    out, ok = map_joints(x, "coco", "coco")
    np.testing.assert_array_equal(out, x)
    assert ok.all()
    # Non-canonical joints never match across layouts, even with the same name.
    assert joint_mapping("ntu", "h36m32")[get_skeleton("h36m32").index("r_foot")] == -1


@pytest.mark.parametrize("src", SKELETON_NAMES)
@pytest.mark.parametrize("dst", SKELETON_NAMES)
def test_any_pair_maps_consistently(src, dst):
    s, d = get_skeleton(src), get_skeleton(dst)
    x = np.random.default_rng(8).normal(size=(2, s.num_joints, 2))
    out, ok = map_joints(x, s, d)
    assert out.shape == (2, d.num_joints, 2)
    assert np.isnan(out[~ok]).all() and np.isfinite(out[ok]).all()
    m = joint_mapping(s, d)
    np.testing.assert_array_equal(out[:, m >= 0], x[:, m[m >= 0]])
    # Equivalence is symmetric: mapping back recovers every joint that went through.
    back = joint_mapping(d, s)
    for di, si in enumerate(m):
        if si >= 0:
            assert back[si] == di
