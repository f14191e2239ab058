"""The benchmark's own measurements (no timing assertions: only what they report)."""

import numpy as np
import pytest

from posenet.bench.model import BenchRow, format_row, format_table, matmul_gflops


def test_matmul_rate_is_a_positive_finite_rate():
    rate = matmul_gflops(size=256, repeats=2)
    assert 0 < rate < 1e6


def test_table_shows_each_measured_row():
    row = BenchRow("cpu_3d", 2, 645_824, 0.38, 98.2, 8, 260.2, 148.1, 0.67)
    line = format_row(row)
    assert line == "| cpu_3d | 2 | 0.65 | 0.38 | 98.2 | 8 | 260.2 | 148 | 67% |"
    table = format_table([row]).splitlines()
    assert table[0].count("|") == table[1].count("|") == line.count("|")
    assert table[-1] == line


@pytest.mark.backend
def test_frames_per_second_counts_clip_frames(monkeypatch):
    """A clip model's rate counts frames (T per clip), a frame model's counts samples."""
    import keras

    from posenet.bench import model as bench_model

    monkeypatch.setattr(bench_model, "_timed", lambda fn: (fn(), 0.5)[1])
    clip = keras.Input((4, 8, 8, 3))
    clip_model = keras.Model(clip, keras.layers.Flatten()(clip))
    frame = keras.Input((8, 8, 3))
    frame_model = keras.Model(frame, keras.layers.Flatten()(frame))
    assert bench_model.frames_per_second(clip_model, 2, repeats=1) == pytest.approx(16.0)
    assert bench_model.frames_per_second(frame_model, 2, repeats=1) == pytest.approx(4.0)


@pytest.mark.backend
def test_each_row_uses_the_higher_of_two_matmul_readings():
    """A reading taken during a dip must not inflate the fraction of the machine's peak."""
    from posenet.bench.model import bench_preset

    readings = iter([100.0, 400.0])
    (row,) = bench_preset("cpu_3d", blocks="last", batch_size=2, repeats=1, input_size=64,
                          reference=lambda: next(readings))
    assert row.blocks == 2 and row.matmul_gflops == 400.0
    assert row.fraction == pytest.approx(row.gflops * max(row.fps_batch1, row.fps_batch) / 400.0)


@pytest.mark.backend
def test_infer_benchmark_reports_both_rates_of_one_run():
    from posenet.bench.infer import bench_infer
    from posenet.models import PoseNetwork

    model = PoseNetwork(input_size=64, num_joints=17, num_blocks=1, kernel_size=3,
                        num_features=16, stem_width=0.25, depth_maps=4)
    row = bench_infer(model, num_frames=8, size=(320, 180), batch_size=4, repeats=2)
    assert row["frames"] == 8 and (row["width"], row["height"]) == (320, 180)
    assert row["end_to_end"] > 0 and row["model_only"] > 0
    assert row["ratio"] == pytest.approx(row["end_to_end"] / row["model_only"])
    # Decoding alone is faster than decoding plus everything else.
    assert row["decode_only"] > row["end_to_end"]
    assert 0 < row["decode_bound"] < 1
    assert row["decode_bound"] == pytest.approx(
        row["decode_only"] / (row["decode_only"] + row["model_only"]))
    assert np.isfinite(row["matmul_gflops"]) and row["matmul_gflops"] > 0


def test_infer_benchmark_rejects_missing_weights(tmp_path):
    from click.testing import CliRunner

    from cli.bench import bench

    result = CliRunner().invoke(bench, ["--infer", "--weights", str(tmp_path / "no.keras")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_train_benchmark_rows_and_speedups(tmp_path, monkeypatch):
    """Speed-ups are each row's rate over the one-device rate of the same run."""
    import posenet.training.scaling as scaling
    from posenet.training import get_recipe

    rates = {1: 40.0, 2: 60.0}
    monkeypatch.setattr(scaling, "visible_devices", lambda: ["cpu:0", "cpu:1"])
    monkeypatch.setattr(scaling, "_one_batch", lambda recipe, folder: None)
    monkeypatch.setattr(scaling, "_rate", lambda r, f, b, count, s, n: rates[count])
    rows = scaling.measure(get_recipe("tiny"), [2, 1])
    assert [(r.devices, r.per_device) for r in rows] == [(1, 4), (2, 2)]
    assert [r.speedup for r in rows] == [1.0, 1.5]
    assert rows[1].efficiency == 0.75
    assert scaling.format_row(rows[1]) == "| 2 | 4 | 2 | 60.0 | 1.50x | 75% |"
    with pytest.raises(ValueError, match="3 devices asked, 2 visible"):
        scaling.measure(get_recipe("tiny"), [1, 3])


@pytest.mark.backend
def test_train_benchmark_measures_one_device(tmp_path):
    import json

    from click.testing import CliRunner

    from cli.main import main

    out = tmp_path / "train.json"
    result = CliRunner().invoke(main, ["bench", "--train", "--repeats", "1", "--json",
                                       str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["rows"]
    assert [(r["devices"], r["global_batch"], r["speedup"]) for r in rows] == [(1, 4, 1.0)]
    assert rows[0]["samples_per_s"] > 0
    refused = CliRunner().invoke(main, ["bench", "--distribute"])
    assert refused.exit_code == 2 and "go with --train" in refused.output
