"""``posenet tools window-choice``: one score per soft-argmax window."""

import numpy as np
import pytest
from click.testing import CliRunner
from fixtures_eval import write_action_file, write_lsp_file

from cli.tools import tools
from posenet.data.prepared import PreparedDataset
from posenet.evaluation import EvaluationError, evaluate_file
from posenet.evaluation import window_choice as W
from posenet.models import MobilePoseNetwork

SMALL = dict(input_size=64, num_joints=17, num_blocks=2, alpha=0.35, depth_maps=4)


@pytest.fixture(scope="module")
def lsp_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("lsp") / "lsp_train.h5"
    write_lsp_file(path, np.random.default_rng(0), split="train")
    return path


def test_each_window_scores_the_last_block_as_evaluate_does(lsp_file, monkeypatch):
    network = MobilePoseNetwork(**SMALL)
    seen = []
    predict = W.predict_frames

    def recording(model, spec, dataset, indices, blocks, batch_size):
        seen.append((model.softargmax_window, len(indices), list(blocks)))
        return predict(model, spec, dataset, indices, blocks, batch_size)

    monkeypatch.setattr(W, "predict_frames", recording)
    dataset = PreparedDataset(lsp_file)
    table = W.score_windows(network, dataset, [0, 2, 100], every=2)
    dataset.close()
    assert seen == [(0, 2, [2]), (2, 2, [2]), (100, 2, [2])]  # samples 0 and 2, block 2
    assert list(table) == [0, 2, 100]
    # window 0 is the network as evaluate scores it, on the same samples
    monkeypatch.setattr(W, "predict_frames", predict)
    whole = W.score_windows(network, PreparedDataset(lsp_file), [0])[0]
    report = evaluate_file(network, lsp_file, block=2)
    assert whole == report["protocols"]["PCK@0.2 torso"]["blocks"]["2"]["summary"]


def test_a_file_without_a_pose_protocol_is_refused(tmp_path):
    path = tmp_path / "ntu_train.h5"
    write_action_file(path, dataset="ntu", split="train")
    with pytest.raises(EvaluationError, match="no pose protocol"):
        W.score_windows(MobilePoseNetwork(**SMALL), PreparedDataset(path), [0, 3])


def test_command_rejects_bad_options(lsp_file):
    runner = CliRunner()
    result = runner.invoke(tools, ["window-choice", "x.keras", "--data", "y.h5",
                                   "--window", "0", "-1"])
    assert result.exit_code == 2 and "every --window >= 0" in result.output
    result = runner.invoke(tools, ["window-choice", "missing.keras", "--data", str(lsp_file)])
    assert result.exit_code == 2 and "missing.keras: no such file" in result.output


def test_command_prints_a_line_per_window_of_the_documented_form(lsp_file, tmp_path):
    """``--window 0 2`` (several values after one option, as the documented commands write
    them) scores both radii; the printed figures are :func:`score_windows`'s."""
    network = MobilePoseNetwork(**SMALL)
    path = tmp_path / "pose.keras"
    network.save(path)
    result = CliRunner().invoke(tools, ["window-choice", str(path), "--data", str(lsp_file),
                                        "--window", "0", "2", "--every", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[:2] for line in lines] == [["window", "0"], ["window", "2"]]
    table = W.score_windows(network, PreparedDataset(lsp_file), [0, 2], every=2)
    for line, summary in zip(lines, table.values(), strict=True):
        assert line.split()[2:] == [t for k, v in summary.items() for t in (k, f"{v:.4f}")]


def test_alphas_add_pck_at_other_thresholds(lsp_file, tmp_path):
    from posenet.data.render_dataset import prepare_builtin_render

    network = MobilePoseNetwork(**SMALL)
    table = W.score_windows(network, PreparedDataset(lsp_file), [0, 2], alphas=[0.1, 2.0])
    for summary in table.values():
        assert set(summary) == {"PCK@0.2", "PCK@0.1", "PCK@2"}
        assert summary["PCK@0.1"] <= summary["PCK@0.2"] <= summary["PCK@2"]
    render = tmp_path / "builtin_render_train.h5"
    prepare_builtin_render(render, num_clips=1, frames=2, size=64)
    with pytest.raises(EvaluationError, match="no PCK protocol"):
        W.score_windows(network, PreparedDataset(render), [0], alphas=[0.5])
