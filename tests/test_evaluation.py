"""Evaluation protocols on fixtures with known predictions (posenet.evaluation)."""

import json
from pathlib import Path

import numpy as np
import pytest
from fixtures_eval import (
    FakeActionModel,
    FakePoseModel,
    crop_targets,
    write_action_file,
    write_lsp_file,
)

from posenet.data.prepared import PreparedDataset
from posenet.data.render_dataset import prepare_builtin_render
from posenet.evaluation import (
    EvaluationError,
    build_report,
    evaluate_file,
    format_table,
    model_spec,
    sha256_file,
    write_report,
)
from posenet.evaluation.clips import clip_poses, middle_clip, sliding_clips


@pytest.fixture(scope="module")
def lsp_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lsp") / "lsp_test.h5"
    write_lsp_file(path, np.random.default_rng(0))
    return path


@pytest.fixture(scope="module")
def render_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("render") / "builtin_render_train.h5"
    prepare_builtin_render(path, num_clips=2, frames=3, size=64)
    return path


def _pck(result, block):
    return result["protocols"]["PCK@0.2 torso"]["blocks"][str(block)]


def test_pck_known_predictions_per_block(lsp_file):
    exact = crop_targets(lsp_file, 64, 16, 2)
    shifted = exact.copy()
    shifted[..., 0] += 3 / 64  # 3 crop px = 4.6875 image px (0.64 crop px per image px)
    model = FakePoseModel([shifted, exact])
    result = evaluate_file(model, lsp_file, batch_size=3)
    assert model.calls == 2  # 4 samples in batches of 3
    # torso 25 px (threshold 5 px) passes a 4.69 px error, torso 22.4 (4.47 px) does not.
    assert _pck(result, 1)["summary"]["PCK@0.2"] == pytest.approx(0.5)
    assert _pck(result, 2)["summary"]["PCK@0.2"] == pytest.approx(1.0)
    per_joint = _pck(result, 1)["per_joint"]
    assert list(per_joint)[:3] == ["r_ankle", "r_knee", "r_hip"] and len(per_joint) == 14
    assert _pck(result, 1)["count"] == 4 * 14
    one = evaluate_file(FakePoseModel([shifted, exact]), lsp_file, block=1)
    assert list(one["protocols"]["PCK@0.2 torso"]["blocks"]) == ["1"]


def test_flip_test_averages_the_mirror(lsp_file):
    exact = crop_targets(lsp_file, 64, 16, 2)
    model = FakePoseModel([exact], flip_offset=4 / 64)
    plain = evaluate_file(FakePoseModel([exact + [4 / 64, 0]]), lsp_file)
    flipped = evaluate_file(model, lsp_file, flip=True)
    assert _pck(plain, 1)["summary"]["PCK@0.2"] < 1.0
    assert _pck(flipped, 1)["summary"]["PCK@0.2"] == pytest.approx(1.0)
    assert flipped["protocols"]["PCK@0.2 torso"]["flip"] is True


def test_mpjpe_ground_truth_and_known_depth_offset(render_file):
    exact = crop_targets(render_file, 64, 17, 3)
    result = evaluate_file(FakePoseModel([exact]), render_file)
    block = result["protocols"]["MPJPE"]["blocks"]["1"]
    assert block["summary"]["MPJPE mm"] < 0.05 and block["summary"]["PA-MPJPE mm"] < 0.05
    classes = PreparedDataset(render_file).attrs["action_classes"]
    assert set(block["mpjpe"]["per_action"]) == set(classes[:2])  # clips 0, 1: kinds 0, 1
    assert list(block["mpjpe"]["per_joint"])[0] == "pelvis"

    # +100 mm on every joint but the pelvis: unprojected at Z + 100, a joint moves by
    # 100 * (X/Z, Y/Z, 1) mm (pinhole camera, known root depth); the pelvis by 0.
    deeper = exact.copy()
    deeper[:, 1:, 2] += 100 / 2000
    block = evaluate_file(FakePoseModel([deeper]), render_file)["protocols"]["MPJPE"][
        "blocks"]["1"]
    gt = PreparedDataset(render_file).arrays("joints3d").astype(np.float64)
    err = 100 * np.sqrt(1 + (gt[..., 0] / gt[..., 2]) ** 2 + (gt[..., 1] / gt[..., 2]) ** 2)
    err[:, 0] = 0.0
    assert block["summary"]["MPJPE mm"] == pytest.approx(err.mean(), abs=0.05)


def test_clips_slide_and_single_clip_is_the_middle_one():
    clips = sliding_clips(np.arange(10), 4)
    assert [c[0] for c in clips] == [0, 2, 4, 6] and middle_clip(clips) == 2
    assert [c[0] for c in sliding_clips(np.arange(9), 4, stride=3)] == [0, 3, 5]
    short = sliding_clips(np.arange(2), 4)
    assert len(short) == 1 and short[0].tolist() == [0, 1, 1, 1]


def test_multi_clip_accuracy_with_a_fake_action_model(tmp_path):
    path = tmp_path / "penn_action_test.h5"
    write_action_file(path, lengths=(10, 4), labels=(0, 1))
    # Video 0: 4 clips, the middle (single) one wrong, their product right; video 1: 1 clip.
    probs = [[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.9, 0.1], [0.2, 0.8]]
    model = FakeActionModel(probs)
    result = evaluate_file(model, path, batch_size=2)
    block = result["protocols"]["action accuracy"]["blocks"]["1"]
    assert block["summary"] == {"single-clip": 0.5, "multi-clip": 1.0}
    assert block["videos"] == 2 and block["clips"] == 5 and model.next == 5
    poses = np.concatenate(model.seen)
    assert poses.shape == (5, 4, 16, 2) and 0 <= poses.min() and poses.max() <= 1


def test_ground_truth_sequences_are_normalised_to_the_clip_box(tmp_path):
    path = tmp_path / "penn_action_test.h5"
    write_action_file(path, lengths=(5,), labels=(0,))
    ds = PreparedDataset(path)
    x = clip_poses(ds, ds.sequences()[0][:4], 16, 2)
    assert x["poses"].shape == (4, 16, 2) and x["visibility"].shape == (4, 16, 1)
    # The bbox (15..85) encloses every joint (20..80): the square spans it exactly.
    joints = ds.arrays("joints2d", ds.sequences()[0][:4])[:, :16, :2]
    np.testing.assert_allclose(x["poses"], (joints - 15) / 70, atol=1e-6)


def test_models_that_do_not_fit(lsp_file, render_file, tmp_path):
    exact = crop_targets(lsp_file, 64, 16, 2)
    with pytest.raises(EvaluationError, match="3D model"):
        evaluate_file(FakePoseModel([exact]), render_file)
    with pytest.raises(EvaluationError, match="outside 1..2"):
        evaluate_file(FakePoseModel([exact, exact]), lsp_file, block=3)
    bad = FakePoseModel([np.zeros((4, 14, 2))])
    with pytest.raises(EvaluationError, match="14 joints"):
        evaluate_file(bad, lsp_file)
    with pytest.raises(EvaluationError, match="not of 'lsp'"):
        evaluate_file(FakeActionModel([[1.0, 0.0]]), lsp_file)
    actions = tmp_path / "penn_action_test1.h5"
    write_action_file(actions)
    with pytest.raises(EvaluationError, match="lists 2 action classes"):
        evaluate_file(FakeActionModel([[0.2, 0.3, 0.5]]), actions)
    with pytest.raises(EvaluationError, match="posenet prepare"):
        evaluate_file(FakePoseModel([exact]), tmp_path / "missing.h5")
    with pytest.raises(EvaluationError, match="split 'test', not 'train'"):
        evaluate_file(FakePoseModel([exact]), lsp_file, split="train")


def test_report_json_and_table(lsp_file, tmp_path):
    exact = crop_targets(lsp_file, 64, 16, 2)
    weights = tmp_path / "w.keras"
    weights.write_bytes(b"not really a network")
    runs = [evaluate_file(FakePoseModel([exact, exact]), lsp_file) for _ in range(2)]
    report = build_report(weights, runs, {"flip": False})
    out = tmp_path / "report.json"
    write_report(out, report)
    saved = json.loads(out.read_text())
    assert saved["weights_sha256"] == sha256_file(weights) and len(saved["weights_sha256"]) == 64
    first = saved["evaluations"][0]
    assert first["dataset"] == "lsp" and first["split"] == "test"
    assert first["file"] == str(lsp_file.resolve())
    assert saved["mean_over_files"]["PCK@0.2 torso"]["2"]["PCK@0.2"] == pytest.approx(1.0)
    table = format_table(report)
    assert "PCK@0.2" in table and table.count("\n 1 ") + table.count("\n    1") >= 1
    assert [line.split()[0] for line in table.splitlines() if line.strip()[:1].isdigit()
            ][:2] == ["1", "2"]


def test_model_spec_of_real_networks():
    from posenet.models import ActionNetwork, PoseNetwork

    net = PoseNetwork(input_size=64, num_joints=16, num_blocks=2, kernel_size=3,
                      num_features=32, stem_width=0.25)
    spec = model_spec(net)
    assert (spec.input_kind, spec.input_size, spec.num_joints, spec.pose_dims,
            spec.pose_blocks) == ("frames", 64, 16, 2, 2)
    action = ActionNetwork({"ntu": 5}, num_frames=4, num_joints=17, pose_dims=3, num_blocks=2,
                           pose_width=0.25)
    spec = model_spec(action)
    assert spec.input_kind == "sequences" and spec.actions == {"ntu": (5, 2)}
    assert (spec.num_frames, spec.num_joints, spec.pose_dims) == (4, 17, 3)


@pytest.mark.data
def test_ground_truth_as_prediction_on_real_lspet():
    """A perfect network scores PCK 1 on the prepared LSPet validation split (when present)."""
    path = Path(__file__).resolve().parents[1] / "datasets" / "lspet_validation.h5"
    if not path.is_file():
        pytest.skip(f"{path} not prepared (make data-lspet)")
    exact = crop_targets(path, 64, 16, 2)
    result = evaluate_file(FakePoseModel([exact]), path, batch_size=128)
    assert _pck(result, 1)["summary"]["PCK@0.2"] == pytest.approx(1.0)
    assert result["protocols"]["PCK@0.2 torso"]["samples"] == len(exact)


def test_multitask_network_pose_and_action_protocols(tmp_path):
    """A real clip model: MPJPE through its nested pose network, actions over clips."""
    from posenet.models import MultitaskModel

    path = tmp_path / "builtin_render_train.h5"
    prepare_builtin_render(path, num_clips=2, frames=6, size=64)
    classes = len(PreparedDataset(path).attrs["action_classes"])
    pose = dict(input_size=64, num_joints=17, num_blocks=2, kernel_size=3, num_features=32,
                stem_width=0.25, depth_maps=4)
    model = MultitaskModel(pose, {"builtin_render": classes}, num_frames=4, action_blocks=2,
                           pose_width=0.25, appearance_width=16)
    result = evaluate_file(model, path, batch_size=4)
    assert list(result["protocols"]["MPJPE"]["blocks"]) == ["1", "2"]
    actions = result["protocols"]["action accuracy"]
    assert actions["videos"] == 2 and actions["clips"] == 4  # 6 frames: clips at 0 and 2
    assert 0.0 <= actions["blocks"]["2"]["summary"]["multi-clip"] <= 1.0


def test_means_only_over_protocols_that_several_files_share():
    from posenet.evaluation.report import mean_over_files

    def run(protocol, value):
        return {"protocols": {protocol: {"blocks": {"1": {"summary": {"m": value}}}}}}

    assert mean_over_files([run("PCK", 0.5), run("MPJPE", 80.0)]) == {}
    means = mean_over_files([run("PCK", 0.5), run("PCK", 0.7), run("MPJPE", 80.0)])
    assert means == {"PCK": {"1": {"m": pytest.approx(0.6)}}}
