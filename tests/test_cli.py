"""The ``posenet`` command line, through click's test runner."""

import json

import pytest
from click.testing import CliRunner

from cli.main import main


@pytest.fixture
def runner():
    return CliRunner()


def test_help_lists_the_commands(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "bench" in result.output


def test_bench_rejects_an_unknown_preset_and_lists_the_known(runner):
    result = runner.invoke(main, ["bench", "--preset", "mpii_3d"])
    assert result.exit_code == 2
    assert "unknown preset 'mpii_3d'" in result.output
    assert "cpu_3d" in result.output and "mpii_2d" in result.output


@pytest.mark.parametrize("size", ["100", "0", "-32"])
def test_bench_rejects_an_input_size_that_is_not_a_multiple_of_32(runner, size):
    result = runner.invoke(main, ["bench", "--input-size", size])
    assert result.exit_code == 2
    assert "multiple of 32" in result.output


def test_bench_rejects_a_bad_batch_size(runner):
    result = runner.invoke(main, ["bench", "--batch-size", "0"])
    assert result.exit_code == 2


def test_bench_measures_every_block_and_writes_json(runner, tmp_path):
    out = tmp_path / "bench.json"
    result = runner.invoke(
        main,
        ["bench", "--preset", "cpu_3d", "--input-size", "64", "--repeats", "1",
         "--batch-size", "2", "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "matmul GFLOP/s" in result.output
    table_rows = [line for line in result.output.splitlines() if line.startswith("| cpu_3d")]
    assert len(table_rows) == 2  # cut after block 1 and the whole 2-block model
    report = json.loads(out.read_text())
    rows = report["rows"]
    assert [r["blocks"] for r in rows] == [1, 2]
    assert rows[0]["params"] < rows[1]["params"]
    assert rows[0]["gflops"] < rows[1]["gflops"]
    for r in rows:
        assert r["fps_batch1"] > 0 and r["fps_batch"] > 0 and r["batch_size"] == 2
        assert r["matmul_gflops"] > 0
        assert r["fraction"] == pytest.approx(
            r["gflops"] * max(r["fps_batch1"], r["fps_batch"]) / r["matmul_gflops"]
        )
    assert not list(tmp_path.glob("*.tmp"))


def test_bench_loader_compares_one_worker_with_training(runner, tmp_path):
    from posenet.data.render_dataset import prepare_builtin_render

    data = tmp_path / "demo.h5"
    prepare_builtin_render(data, num_clips=2, frames=8, size=96)
    out = tmp_path / "loader.json"
    result = runner.invoke(
        main,
        ["bench", "--loader", str(data), "--preset", "cpu_3d", "--input-size", "64",
         "--repeats", "1", "--batch-size", "4", "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "workers needed" in result.output
    (row,) = json.loads(out.read_text())["loader_rows"]
    assert row["preset"] == "cpu_3d" and row["dataset"] == "builtin_render"
    assert row["batch_size"] == 4
    assert row["loader_samples_per_s"] > 0 and row["train_samples_per_s"] > 0
    assert row["workers"] == max(1, -(-row["train_samples_per_s"] // row["loader_samples_per_s"]))


def test_bench_loader_rejects_a_missing_file(runner, tmp_path):
    result = runner.invoke(main, ["bench", "--loader", str(tmp_path / "none.h5")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
