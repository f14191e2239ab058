import json
import math

import numpy as np
import pytest

from posenet.metrics import (
    action_accuracy,
    bbox_normaliser,
    mpjpe,
    multi_clip_accuracy,
    pa_mpjpe,
    pck,
    pckh,
    procrustes_align,
    torso_normaliser,
)


def _rot_z(deg):
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])


def _rot_x(deg):
    a = math.radians(deg)
    return np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])


# --------------------------------------------------------------------------- PCK


def test_pck_threshold_boundary_and_per_joint():
    # normaliser 100, alpha 0.2 -> threshold 20 px.
    gt = np.zeros((2, 3, 2))
    pred = np.zeros((2, 3, 2))
    pred[0, 0] = [19.9, 0]  # below -> correct
    pred[0, 1] = [0, 20.0]  # exactly on threshold -> correct (<=)
    pred[0, 2] = [12, 16.01]  # 20.008 -> wrong
    pred[1, 0] = [20.1, 0]  # wrong
    pred[1, 1] = [12, 16]  # exactly 20 -> correct
    pred[1, 2] = [5, 5]  # correct
    out = pck(pred, gt, np.ones((2, 3), bool), [100.0, 100.0])
    assert out["overall"] == pytest.approx(4 / 6)
    assert out["per_joint"] == pytest.approx([0.5, 1.0, 0.5])
    assert out["count"] == 6
    assert out["skipped"] == 0
    json.dumps(out)  # plain Python types only


def test_pck_ignores_invalid_joints_and_nan_per_joint():
    gt = np.zeros((2, 3, 2))
    pred = np.zeros((2, 3, 2))
    pred[:, 1] = [50, 0]  # far off, but only valid in sample 1
    pred[0, 0] = [50, 0]  # wrong but invalid
    valid = np.array([[False, False, True], [True, True, False]])
    out = pck(pred, gt, valid, [10.0, 10.0], alpha=0.5)
    assert out["count"] == 3
    assert out["overall"] == pytest.approx(2 / 3)
    assert out["per_joint"][0] == 1.0 and out["per_joint"][1] == 0.0
    assert out["per_joint"][2] == 1.0
    valid[:, 2] = False
    out = pck(pred, gt, valid, [10.0, 10.0], alpha=0.5)
    assert math.isnan(out["per_joint"][2])


def test_pck_alpha_scales_threshold():
    gt = np.zeros((1, 1, 2))
    pred = np.array([[[3.0, 4.0]]])  # distance 5
    assert pck(pred, gt, [[True]], [10.0], alpha=0.5)["overall"] == 1.0
    assert pck(pred, gt, [[True]], [10.0], alpha=0.4)["overall"] == 0.0


def test_pck_skips_nan_normaliser():
    gt = np.zeros((3, 2, 2))
    pred = gt.copy()
    pred[1] += 100  # would be wrong, but its sample is skipped
    out = pck(pred, gt, np.ones((3, 2), bool), [10.0, np.nan, 10.0])
    assert out["skipped"] == 1
    assert out["count"] == 4
    assert out["overall"] == 1.0


def test_torso_normaliser_pair_and_fallback():
    ls, rs, lh, rh = 0, 1, 2, 3
    gt = np.zeros((3, 4, 2))
    gt[:, ls] = [0, 0]
    gt[:, rh] = [30, 40]  # primary diagonal = 50
    gt[:, rs] = [10, 0]
    gt[:, lh] = [10, 60]  # other diagonal = 60
    valid = np.ones((3, 4), bool)
    valid[1, rh] = False  # sample 1: falls back to rs-lh
    valid[2, [ls, rs]] = False  # sample 2: neither diagonal usable
    out = torso_normaliser(gt, valid, ls, rh, right_shoulder=rs, left_hip=lh)
    assert out[0] == pytest.approx(50.0)
    assert out[1] == pytest.approx(60.0)
    assert math.isnan(out[2])
    # Without the fallback indices sample 1 is NaN.
    assert math.isnan(torso_normaliser(gt, valid, ls, rh)[1])
    with pytest.raises(ValueError, match="both"):
        torso_normaliser(gt, valid, ls, rh, right_shoulder=rs)
    # Feeding it to pck: sample 2 is reported as skipped.
    res = pck(gt, gt, valid, out)
    assert res["skipped"] == 1 and res["overall"] == 1.0


def test_bbox_normaliser():
    boxes = [[10, 20, 110, 70], [0, 0, 30, 80]]
    np.testing.assert_allclose(bbox_normaliser(boxes), [100.0, 80.0])
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        bbox_normaliser([[0, 0, 1]])
    with pytest.raises(ValueError, match="x2 >= x1"):
        bbox_normaliser([[10, 0, 0, 5]])


def test_pckh_head_size():
    head = 0.6 * math.sqrt(200.0)  # 10x10 head box -> 8.485 px, threshold 4.243 at 0.5
    gt = np.zeros((1, 2, 2))
    pred = np.array([[[0.5 * head - 1e-3, 0.0], [0.5 * head + 1e-3, 0.0]]])
    out = pckh(pred, gt, np.ones((1, 2), bool), [[5, 5, 15, 15]])
    assert out["per_joint"] == [1.0, 0.0]
    assert out["overall"] == 0.5
    assert out["alpha"] == 0.5
    with pytest.raises(ValueError, match="head_boxes"):
        pckh(pred, gt, np.ones((1, 2), bool), [5, 5, 15, 15])


def test_pck_errors():
    gt = np.zeros((2, 3, 2))
    with pytest.raises(ValueError, match="same shape"):
        pck(np.zeros((2, 4, 2)), gt, np.ones((2, 3), bool), [1.0, 1.0])
    with pytest.raises(ValueError, match="valid must have shape"):
        pck(gt, gt, np.ones((2, 4), bool), [1.0, 1.0])
    with pytest.raises(ValueError, match="normaliser"):
        pck(gt, gt, np.ones((2, 3), bool), [1.0])
    with pytest.raises(ValueError, match="empty"):
        pck(np.zeros((0, 3, 2)), np.zeros((0, 3, 2)), np.ones((0, 3), bool), [])
    with pytest.raises(ValueError, match="no valid joints"):
        pck(gt, gt, np.zeros((2, 3), bool), [1.0, 1.0])
    with pytest.raises(ValueError, match="no valid joints"):
        pck(gt, gt, np.ones((2, 3), bool), [np.nan, np.nan])
    with pytest.raises(ValueError, match="positive"):
        pck(gt, gt, np.ones((2, 3), bool), [1.0, 0.0])


# --------------------------------------------------------------------------- MPJPE


def test_mpjpe_translation_removed_by_root_centring():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(4, 17, 3)) * 100
    pred = gt + np.array([3.0, 4.0, 0.0])
    assert mpjpe(pred, gt)["overall"] == pytest.approx(0.0, abs=1e-9)
    # Without centring the 5 mm offset is seen on every joint.
    assert mpjpe(pred, gt, root=None)["overall"] == pytest.approx(5.0)


def test_mpjpe_known_single_joint_offset():
    gt = np.zeros((2, 4, 3))
    pred = gt.copy()
    pred[0, 2] = [0, 0, 12.0]  # one joint off by 12 mm in one of 8 instances
    out = mpjpe(pred, gt)
    assert out["overall"] == pytest.approx(12.0 / 8)
    assert out["per_joint"] == pytest.approx([0, 0, 6.0, 0])
    assert out["count"] == 8
    # Invalid joint excluded.
    valid = np.ones((2, 4), bool)
    valid[0, 2] = False
    assert mpjpe(pred, gt, valid=valid)["overall"] == 0.0
    # Invalid root drops the whole sample (it cannot be centred).
    valid = np.ones((2, 4), bool)
    valid[1, 0] = False
    out = mpjpe(pred, gt, valid=valid)
    assert out["count"] == 4 and out["overall"] == pytest.approx(3.0)


def test_mpjpe_per_action_and_mean_over_actions():
    gt = np.zeros((3, 2, 3))
    pred = gt.copy()
    pred[0, 1] = [10, 0, 0]  # action "walk": errors 0, 10
    pred[1, 1] = [0, 20, 0]  # action "sit": errors 0, 20 and 0, 0
    actions = ["walk", "sit", "sit"]
    out = mpjpe(pred, gt, actions=actions)
    assert out["per_action"] == pytest.approx({"walk": 5.0, "sit": 5.0})
    assert out["overall"] == pytest.approx(30.0 / 6)
    pred[0, 1] = [40, 0, 0]  # walk -> 20, sit stays 5
    out = mpjpe(pred, gt, actions=actions)
    assert out["per_action"]["walk"] == pytest.approx(20.0)
    assert out["mean_over_actions"] == pytest.approx(12.5)  # (20 + 5) / 2
    assert out["overall"] == pytest.approx(60.0 / 6)  # joint-weighted differs
    out = mpjpe(pred, gt, actions=np.array([2, 7, 7]))
    assert set(out["per_action"]) == {"2", "7"}
    json.dumps(out)
    assert math.isnan(mpjpe(pred, gt)["mean_over_actions"])
    with pytest.raises(ValueError, match="actions"):
        mpjpe(pred, gt, actions=["a", "b"])


def test_mpjpe_errors():
    with pytest.raises(ValueError, match="same shape"):
        mpjpe(np.zeros((2, 17, 3)), np.zeros((3, 17, 3)))
    with pytest.raises(ValueError, match="3 dimensions"):
        mpjpe(np.zeros((17, 3)), np.zeros((17, 3)))
    with pytest.raises(ValueError, match="empty"):
        mpjpe(np.zeros((0, 17, 3)), np.zeros((0, 17, 3)))
    with pytest.raises(ValueError, match="no valid joints"):
        mpjpe(np.zeros((1, 17, 3)), np.zeros((1, 17, 3)), valid=np.zeros((1, 17), bool))
    with pytest.raises(ValueError, match="root"):
        mpjpe(np.zeros((1, 17, 3)), np.zeros((1, 17, 3)), root=17)


# --------------------------------------------------------------------------- Procrustes


@pytest.fixture
def similarity_case():
    rng = np.random.default_rng(42)
    gt = rng.normal(size=(17, 3)) * 200.0
    rot = _rot_x(20) @ _rot_z(30)  # 30 deg about z, then 20 deg about x
    pred = 1.7 * gt @ rot.T + np.array([100.0, -50.0, 3000.0])
    return pred, gt


def test_procrustes_recovers_similarity(similarity_case):
    pred, gt = similarity_case
    np.testing.assert_allclose(procrustes_align(pred, gt), gt, atol=1e-6)
    out = pa_mpjpe(pred[None], gt[None])
    assert out["overall"] == pytest.approx(0.0, abs=1e-6)
    assert mpjpe(pred[None], gt[None])["overall"] > 50.0


def test_procrustes_batched_matches_single(similarity_case):
    pred, gt = similarity_case
    rng = np.random.default_rng(1)
    preds = np.stack([pred, pred + rng.normal(size=pred.shape) * 10])
    gts = np.stack([gt, gt])
    batched = procrustes_align(preds, gts)
    assert batched.shape == (2, 17, 3)
    for i in range(2):
        np.testing.assert_allclose(batched[i], procrustes_align(preds[i], gts[i]), atol=1e-9)


def test_procrustes_rejects_reflection():
    rng = np.random.default_rng(3)
    gt = rng.normal(size=(1, 17, 3)) * 100
    pred = gt * np.array([1.0, 1.0, -1.0])  # mirror image: not reachable by a rotation
    aligned = procrustes_align(pred[0], gt[0])
    rot_part = np.linalg.lstsq(pred[0] - pred[0].mean(0), aligned - aligned.mean(0), rcond=None)[0]
    assert np.linalg.det(rot_part) > 0
    assert pa_mpjpe(pred, gt)["overall"] > 1.0


def test_procrustes_valid_mask_ignores_outliers(similarity_case):
    pred, gt = similarity_case
    pred = pred.copy()
    pred[5] += 1e4  # corrupt one joint, then exclude it from the fit
    valid = np.ones(17, bool)
    valid[5] = False
    aligned = procrustes_align(pred, gt, valid)
    np.testing.assert_allclose(aligned[valid], gt[valid], atol=1e-6)
    assert pa_mpjpe(pred[None], gt[None], valid=valid[None])["overall"] < 1e-6
    assert pa_mpjpe(pred[None], gt[None])["overall"] > 1.0


def test_pa_mpjpe_not_above_mpjpe_with_noise():
    rng = np.random.default_rng(7)
    gt = rng.normal(size=(20, 17, 3)) * 150
    pred = gt + rng.normal(size=gt.shape) * 20
    pred[:, 0] = gt[:, 0]
    pa = pa_mpjpe(pred, gt, actions=["a"] * 10 + ["b"] * 10)
    plain = mpjpe(pred, gt, root=None)
    assert 0 < pa["overall"] <= plain["overall"]
    assert set(pa["per_action"]) == {"a", "b"}
    assert len(pa["per_joint"]) == 17


def test_procrustes_errors():
    with pytest.raises(ValueError, match="same shape"):
        procrustes_align(np.zeros((17, 3)), np.zeros((16, 3)))
    with pytest.raises(ValueError, match="valid"):
        procrustes_align(np.zeros((17, 3)), np.zeros((17, 3)), np.ones(16, bool))


# --------------------------------------------------------------------------- actions


def test_action_accuracy_known_confusion():
    probs = np.array(
        [
            [0.7, 0.2, 0.1],  # true 0 -> 0
            [0.1, 0.8, 0.1],  # true 0 -> 1
            [0.2, 0.5, 0.3],  # true 1 -> 1
            [0.3, 0.3, 0.4],  # true 1 -> 2
            [0.0, 0.1, 0.9],  # true 1 -> 2
        ]
    )
    labels = [0, 0, 1, 1, 1]
    out = action_accuracy(probs, labels)
    assert out["overall"] == pytest.approx(2 / 5)
    assert out["per_class"][:2] == pytest.approx([0.5, 1 / 3])
    assert math.isnan(out["per_class"][2])  # class 2 never the true label
    assert out["count"] == 5
    assert out["confusion"] == [[1, 1, 0], [0, 1, 2], [0, 0, 0]]
    assert out["predictions"] == [0, 1, 1, 2, 2]
    json.dumps(out)


def test_action_accuracy_errors():
    probs = np.eye(3)
    with pytest.raises(ValueError, match="labels"):
        action_accuracy(probs, [0, 1])
    with pytest.raises(ValueError, match="num_classes"):
        action_accuracy(probs, [0, 1, 2], num_classes=4)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        action_accuracy(probs, [0, 1, 3])
    with pytest.raises(ValueError, match="empty"):
        action_accuracy(np.zeros((0, 3)), [])
    with pytest.raises(ValueError, match="integers"):
        action_accuracy(probs, [0.5, 1, 2])


def test_multi_clip_product_beats_majority():
    # Video 0: clips disagree; majority/first clip says 0, the product says class 1.
    probs = np.array([[0.6, 0.4], [0.1, 0.9], [0.55, 0.45], [0.8, 0.2]])
    clip_to_video = [0, 0, 0, 1]
    out = multi_clip_accuracy(probs, clip_to_video, labels=[1, 0])
    assert out["predictions"] == [1, 0]  # 0.6*0.1*0.55 = 0.033 < 0.4*0.9*0.45 = 0.162
    assert out["overall"] == 1.0
    assert out["count"] == 2
    assert out["per_class"] == [1.0, 1.0]
    # Single-clip accuracy on the same clips (labels copied from their videos) is lower.
    assert action_accuracy(probs, [1, 1, 1, 0])["overall"] == pytest.approx(0.5)
    # Product (not sum/mean) of probabilities: sums 1.61 vs 1.39 favour class 0, but the
    # products 0.0064 vs 0.0396 favour class 1.
    probs = np.array([[0.01, 0.99], [0.8, 0.2], [0.8, 0.2]])
    assert multi_clip_accuracy(probs, [0, 0, 0], [1])["predictions"] == [1]


def test_multi_clip_no_underflow_and_zero_floor():
    # 2000 clips of ~0.3 underflow a naive product to 0 for both classes (argmax would then
    # be class 0 by tie-breaking); the log-sum keeps class 1's consistent small edge.
    probs = np.tile([[0.29, 0.3], [0.3, 0.31]], (1000, 1))
    assert np.prod(probs[:, 0]) == 0.0 and np.prod(probs[:, 1]) == 0.0
    probs[5] = [1.0, 0.0]  # a hard zero costs log(1e-12) but does not veto class 1
    out = multi_clip_accuracy(probs, np.zeros(2000, int), [1])
    assert out["predictions"] == [1]
    assert out["overall"] == 1.0


def test_multi_clip_errors():
    probs = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match="at least one clip"):
        multi_clip_accuracy(probs, [0, 0, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="clip_to_video"):
        multi_clip_accuracy(probs, [0, 1], [0, 1])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        multi_clip_accuracy(probs, [0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        multi_clip_accuracy(np.zeros((0, 2)), [], [])
    with pytest.raises(ValueError, match="non-negative"):
        multi_clip_accuracy(-probs, [0, 1, 1], [0, 1])
