"""``posenet prepare`` through click's test runner: good runs and every bad input."""

import h5py
import pytest
from click.testing import CliRunner

from cli.main import main


@pytest.fixture
def runner():
    return CliRunner()


def test_unknown_dataset_lists_the_known_ones(runner, tmp_path):
    result = runner.invoke(main, ["prepare", "mpi", "--out", str(tmp_path / "x.h5")])
    assert result.exit_code == 2
    assert "unknown dataset 'mpi'" in result.output
    assert "mpii" in result.output and "h36m-render" in result.output


def test_missing_source_folder_says_what_is_expected(runner, tmp_path):
    out = tmp_path / "x.h5"
    result = runner.invoke(
        main, ["prepare", "penn_action", "--source", str(tmp_path / "nope"), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "is not a folder" in result.output and "labels" in result.output
    assert not out.exists()


def test_source_is_required_for_published_datasets(runner, tmp_path):
    result = runner.invoke(main, ["prepare", "lspet", "--out", str(tmp_path / "x.h5")])
    assert result.exit_code == 2
    assert "needs --source" in result.output


def test_unknown_split_lists_the_splits(runner, tmp_path):
    result = runner.invoke(
        main, ["prepare", "jhmdb", "--source", str(tmp_path), "--split", "train9",
               "--out", str(tmp_path / "x.h5")]
    )
    assert result.exit_code == 2
    assert "train1" in result.output and "test3" in result.output


def test_existing_output_is_not_overwritten_without_force(runner, tmp_path):
    out = tmp_path / "x.h5"
    out.write_text("keep me")
    result = runner.invoke(main, ["prepare", "builtin-render", "--out", str(out)])
    assert result.exit_code == 2
    assert "--force" in result.output
    assert out.read_text() == "keep me"


def test_malformed_source_fails_cleanly_and_writes_nothing(runner, tmp_path):
    source = tmp_path / "penn"
    (source / "labels").mkdir(parents=True)
    (source / "labels" / "0001.mat").write_bytes(b"not a MATLAB file")
    out = tmp_path / "penn.h5"
    result = runner.invoke(
        main, ["prepare", "penn_action", "--source", str(source), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "0001.mat" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.glob("*.h5")) == [] and list(tmp_path.glob("*.tmp")) == []


def test_builtin_render_writes_a_demo_file(runner, tmp_path):
    out = tmp_path / "demo.h5"
    result = runner.invoke(main, ["prepare", "builtin-render", "--out", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    with h5py.File(out) as f:
        count = int(f.attrs["num_samples"])
        assert f["image"].shape[0] == count > 0
    assert f"wrote {count} samples" in result.output


@pytest.mark.data
def test_prepare_jhmdb_from_the_real_data(runner, tmp_path, shared_data):
    out = tmp_path / "jhmdb_test1.h5"
    result = runner.invoke(
        main, ["prepare", "jhmdb", "--source", str(shared_data / "jhmdb"), "--split", "test1",
               "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    from posenet.data.readers.jhmdb import read_jhmdb_npz

    clips = read_jhmdb_npz(shared_data / "jhmdb", split=1)["test"]
    with h5py.File(out) as f:
        assert f.attrs["dataset"] == "jhmdb" and f.attrs["split"] == "test1"
        assert f.attrs["num_samples"] == sum(len(c.joints) for c in clips)
        assert len(set(f["sequence"][:].tolist())) == len(clips)
