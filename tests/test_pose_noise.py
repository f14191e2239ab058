"""The pose network's error model (per joint, in the action loader's units)."""

import json

import numpy as np
import pytest

from posenet.data.pose_noise import (
    DEFAULT_NOISE_MODEL,
    PoseNoise,
    load_noise_model,
    summarise_errors,
)
from posenet.skeleton import get_skeleton

JOINTS = get_skeleton("model17").joints


def test_shipped_noise_model_loads():
    noise = load_noise_model()  # weights/pose_noise.json
    assert noise.joints == JOINTS
    assert noise == load_noise_model("weights/pose_noise.json") == load_noise_model(
        str(DEFAULT_NOISE_MODEL))
    sigma = noise.array("sigma")
    assert sigma.shape == (17,) and (sigma > 0.005).all() and (sigma < 0.2).all()
    assert (noise.array("miss_rate") < 0.5).all() and (noise.array("hidden_rate") < 0.5).all()
    assert noise.array("sigma", 16).shape == (16,)
    assert set(noise.measured) <= set(JOINTS) and len(noise.measured) >= 14
    assert "command" in noise.source and noise.source["samples"] > 0


def test_noise_model_round_trip_and_checks(tmp_path):
    n = len(JOINTS)
    noise = PoseNoise(JOINTS, [0.03] * n, [0.1] * n, [0.2] * n, [0.0] * n, measured=JOINTS[:3])
    noise.save(tmp_path / "noise.json")
    assert load_noise_model(tmp_path / "noise.json") == noise
    assert load_noise_model(json.loads((tmp_path / "noise.json").read_text())) == noise
    with pytest.raises(ValueError, match="16 values for 17 joints"):
        PoseNoise(JOINTS, [0.03] * 16, [0.1] * n, [0.2] * n, [0.0] * n)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        PoseNoise(JOINTS, [0.03] * n, [1.5] * n, [0.2] * n, [0.0] * n)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_noise_model(tmp_path / "absent.json")


def test_summarised_errors_split_misses_and_fill_unmeasured_joints():
    rng = np.random.default_rng(0)
    n, joints = 4000, len(JOINTS)
    errors = rng.normal(0, 0.02, (n, joints, 2))
    misses = rng.random((n, joints)) < 0.1
    errors[misses] = rng.choice([-1, 1], (misses.sum(), 2)) * 0.5  # far beyond 0.15
    valid = np.ones((n, joints), bool)
    valid[:, JOINTS.index("spine")] = False  # never annotated: filled from the hips, shoulders
    hidden = rng.random((n, joints)) < 0.05
    noise = summarise_errors(errors, valid, hidden, JOINTS)
    for j in range(joints):
        assert noise.sigma[j] == pytest.approx(0.02, rel=0.05)
        assert noise.miss_rate[j] == pytest.approx(0.1, abs=0.015)
        assert noise.miss_sigma[j] == pytest.approx(0.5, rel=1e-3)
        assert noise.hidden_rate[j] == pytest.approx(0.05, abs=0.01)
    assert "spine" not in noise.measured and len(noise.measured) == joints - 1


def test_threshold_for_precision():
    from posenet.evaluation.action_calibration import threshold_for_precision

    confidence = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    correct = np.array([1, 1, 1, 1, 0, 1, 0, 0], bool)
    # >= 0.7: 4 of 4 right; >= 0.5: 5 of 6 (0.83); >= 0.3: 5 of 8.
    assert threshold_for_precision(confidence, correct, 0.8) == 0.5
    assert threshold_for_precision(confidence, correct, 0.9) == 0.7
    assert threshold_for_precision(confidence, correct, 0.6) == 0.0  # all together pass
    assert threshold_for_precision(confidence, ~correct, 0.9) == 1.0  # none reaches it
    ties = np.array([0.9, 0.8, 0.8, 0.2])  # the tied pair passes or fails together
    tied = np.array([1, 1, 0, 0], bool)
    assert threshold_for_precision(ties, tied, 0.7) == 0.9  # 0.8 alone would pass 2 of 2
    assert threshold_for_precision(ties, tied, 0.6) == 0.8


def test_threshold_to_keep():
    from posenet.evaluation.action_calibration import threshold_to_keep

    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    correct = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0], bool)  # 10 right
    # keeping 90% of the 10 right ones keeps 9: down to 0.3 (0.1 is wrong, not counted)
    assert threshold_to_keep(confidence, correct, 0.9) == 0.3
    assert threshold_to_keep(confidence, correct, 0.85) == 0.3  # ceil(8.5) = 9 kept
    assert threshold_to_keep(confidence, correct, 0.8) == 0.4
    assert threshold_to_keep(confidence, correct, 1.0) == 0.2
    assert threshold_to_keep(confidence, ~np.ones(11, bool), 0.9) == 0.0  # none right
    with pytest.raises(ValueError, match="keep"):
        threshold_to_keep(confidence, correct, 0.0)


def test_command_measures_a_network_and_writes_the_noise_model(tmp_path):
    """``posenet tools pose-noise`` end to end: the JSON holds the network's figures and
    the command that reproduces it; a line per joint, then where it wrote."""
    from click.testing import CliRunner
    from fixtures_eval import LSP_BOX, LSP_HEIGHTS, _jpeg, lsp_joints

    from cli.tools import tools
    from posenet.data.prepared import PreparedWriter
    from posenet.models import PoseNetwork
    from posenet.skeleton import map_joints
    from tests.inference_fixtures import TINY_POSE

    rng = np.random.default_rng(0)
    heights = LSP_HEIGHTS * 3  # 12 samples: at least 10 per joint are measured
    joints, valid = map_joints(np.stack([lsp_joints(h) for h in heights]), "lsp", "model17")
    data, n = tmp_path / "lsp_validation.h5", len(heights)
    with PreparedWriter(data, "lsp", "validation", embed_images=True) as w:
        w.append(joints2d=joints.astype(np.float32), valid2d=valid,
                 bbox=np.tile(np.array(LSP_BOX, np.float32), (n, 1)),
                 image=[_jpeg(rng) for _ in range(n)], sequence=np.arange(n, dtype=np.int32),
                 frame=np.zeros(n, np.int32))
    weights, out = tmp_path / "pose.keras", tmp_path / "noise.json"
    PoseNetwork(**TINY_POSE).save(weights)
    args = ["--weights", str(weights), "--data", str(data), "--out", str(out)]
    result = CliRunner().invoke(tools, ["pose-noise", *args, "--batch-size", "5"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == f"wrote {out}" and len(lines) == len(JOINTS) + 1
    assert [line.split()[0] for line in lines[:-1]] == list(JOINTS)
    written = json.loads(out.read_text())
    noise = load_noise_model(out)
    assert noise.joints == tuple(JOINTS) and noise.source["samples"] == n
    assert noise.source["command"] == "posenet tools pose-noise " + " ".join(args)
    assert written["source"]["weights"] == "pose.keras"
