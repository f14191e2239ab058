"""Issue 14 for prepare, evaluate, bench, render and visualize: bad inputs refused before
any work, clean messages instead of tracebacks, no stale or half-written files."""

import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main
from posenet.data.prepared import PreparedDataset, PreparedWriter
from posenet.evaluation.defaults import default_weights_file, stored_blocks
from posenet.io import atomic_path, read_keras_config, remove_stale_temporaries, temporary_name
from posenet.paths import WEIGHTS_DIR
from posenet.video_writer import OverlayWriter
from tests.fixtures_2d import write_lsp
from tests.fixtures_eval import lsp_joints, write_lsp_file
from tests.visualize_fixtures import predictions_for, write_demo_video

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def runner():
    return CliRunner()


def _dead_pid():
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ---- temporary files ---------------------------------------------------------------

def test_stale_temporaries_of_dead_processes_are_removed_on_the_next_write(tmp_path):
    dead = _dead_pid()
    stale_file = tmp_path / f".out.json.posenet-tmp-{dead}-0123abcd.tmp"
    stale_dir = tmp_path / f".model.keras.posenet-tmp-{dead}-89abcdef"
    live = tmp_path / f".other.json.posenet-tmp-{os.getpid()}-0123abcd.tmp"
    for path in (stale_file, live):
        path.write_text("partial")
    stale_dir.mkdir()
    (stale_dir / "model.keras").write_text("partial")
    keep = tmp_path / "notes.txt"  # not ours: never touched
    keep.write_text("x")
    with atomic_path(tmp_path / "out.json") as tmp, open(tmp, "w") as f:
        assert os.path.basename(tmp).startswith(".out.json.posenet-tmp-")
        f.write("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, keep.name, "out.json"])


def test_video_writer_cleans_stale_temporaries_and_uses_tagged_names(tmp_path):
    stale = tmp_path / f".clip.mp4.posenet-tmp-{_dead_pid()}-0123abcd.mp4"
    stale.write_bytes(b"\0" * 10)
    writer = OverlayWriter(tmp_path / "clip", 10, (32, 32))
    try:
        assert not stale.exists()
        assert "posenet-tmp" in os.path.basename(writer._tmp)
        writer.write(np.zeros((32, 32, 3), np.uint8))
    finally:
        writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_remove_stale_temporaries_on_a_missing_folder_is_harmless(tmp_path):
    assert remove_stale_temporaries(tmp_path / "nope") == []
    assert "posenet-tmp" in temporary_name(tmp_path / "a.h5", ".h5")


# ---- prepare -------------------------------------------------------------------------

@pytest.mark.parametrize("cameras, message", [("9", "outside 0..3"), ("-1", "outside 0..3"),
                                              ("abc", "expected camera indices"),
                                              ("0,0", "listed twice")])
def test_prepare_refuses_bad_cameras(runner, tmp_path, cameras, message):
    result = runner.invoke(main, ["prepare", "h36m", "--source", str(tmp_path), "--cameras",
                                  cameras, "--out", str(tmp_path / "x.h5")])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x.h5").exists()


@pytest.mark.parametrize("out, message", [("sub", "is a directory"), ("new/", "is a folder"),
                                          ("missing/x.h5", "does not exist")])
def test_prepare_refuses_outputs_it_cannot_write_before_reading(runner, tmp_path, out, message):
    (tmp_path / "sub").mkdir()
    result = runner.invoke(main, ["prepare", "builtin-render", "--out", f"{tmp_path}/{out}"])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_prepare_lspet_all_reads_any_lsp_format_folder(runner, tmp_path):
    joints = np.stack([lsp_joints(h) for h in (20, 25, 30)])  # 3 images, not 10,000
    write_lsp(tmp_path / "mine", joints, extended=True)
    out = tmp_path / "mine.h5"
    result = runner.invoke(main, ["prepare", "lspet", "--source", str(tmp_path / "mine"),
                                  "--split", "train", "--out", str(out)])
    assert result.exit_code == 1 and "--split all" in result.output and not out.exists()
    result = runner.invoke(main, ["prepare", "lspet", "--source", str(tmp_path / "mine"),
                                  "--split", "all", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(PreparedDataset(out)) == 3


def test_a_file_without_any_valid_joint_is_refused(tmp_path):
    path = tmp_path / "empty.h5"
    with pytest.raises(ValueError, match="no valid joint"):
        with PreparedWriter(path, "lsp", "test") as w:
            w.append(joints2d=np.full((2, 17, 3), np.nan, np.float32),
                     valid2d=np.zeros((2, 17), bool))
    assert list(tmp_path.iterdir()) == []


def test_a_prepared_file_missing_a_field_is_named(tmp_path, rng):
    path = tmp_path / "lsp_test.h5"
    write_lsp_file(path, rng)
    with h5py.File(path, "a") as h5:
        del h5["bbox"]
    with pytest.raises(ValueError, match="missing field bbox"):
        PreparedDataset(path)
    result = CliRunner().invoke(main, ["evaluate", "--weights",
                                       str(WEIGHTS_DIR / "cpu_pose.keras"), "--dataset",
                                       str(path)])
    assert result.exit_code == 1 and "missing field bbox" in result.output, result.output
    assert "Traceback" not in result.output


# ---- evaluate ------------------------------------------------------------------------

def test_evaluate_refuses_a_file_that_is_not_keras_before_loading(runner, tmp_path, rng):
    data = tmp_path / "lsp_test.h5"
    write_lsp_file(data, rng)
    fake = tmp_path / "net.keras"
    fake.write_text("not a model")
    result = runner.invoke(main, ["evaluate", "--weights", str(fake), "--dataset", str(data)])
    assert result.exit_code == 2 and "is not a .keras file" in result.output
    assert "not found" not in result.output
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as z:
        z.writestr("readme.txt", "hello")
    result = runner.invoke(main, ["evaluate", "--weights", str(tmp_path / "other.keras"),
                                  "--dataset", str(data)])
    assert result.exit_code == 2 and "not a .keras file" in result.output


def test_evaluate_checks_the_block_against_the_saved_config(runner, tmp_path, rng):
    data = tmp_path / "lsp_test.h5"
    write_lsp_file(data, rng)
    weights = WEIGHTS_DIR / "cpu_pose.keras"
    assert stored_blocks(read_keras_config(weights)) == 2
    start = time.perf_counter()
    result = runner.invoke(main, ["evaluate", "--weights", str(weights), "--dataset",
                                  str(data), "--block", "9"])
    assert result.exit_code == 2 and "outside 1..2" in result.output
    assert time.perf_counter() - start < 10  # refused before the network loads
    result = runner.invoke(main, ["evaluate", "--weights", str(weights), "--dataset",
                                  str(data), "--out", str(tmp_path / "nope" / "r.json")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_stored_blocks_of_every_kind():
    assert stored_blocks({"class_name": "ActionNetwork", "config": {"num_blocks": 4}}) == 4
    assert stored_blocks({"class_name": "MultitaskModel",
                          "config": {"pose": {"num_blocks": 2}, "action_blocks": 4}}) == 4
    assert stored_blocks({"class_name": "Functional", "config": {}}) is None


def test_evaluate_defaults_to_the_shipped_network_for_the_datasets():
    manifest = json.loads((WEIGHTS_DIR / "manifest.json").read_text())
    files = manifest[manifest["default"]]["files"]
    assert default_weights_file(["lspet"]).name == files["pose"]
    assert default_weights_file(["penn_action"]).name == files["actions"]["penn_action"]
    assert default_weights_file(["penn_action", "jhmdb"]).name == files["pose"]


def test_evaluate_without_weights_uses_the_default(runner, tmp_path, rng):
    data = tmp_path / "lsp_test.h5"
    write_lsp_file(data, rng)
    result = runner.invoke(main, ["evaluate", "--dataset", str(data), "--block", "1"])
    assert result.exit_code == 0, result.output
    assert "mobile_pose.keras" in result.output and "PCK" in result.output


def test_default_weights_file_refuses_a_corrupt_copy(tmp_path):
    manifest = json.loads((WEIGHTS_DIR / "manifest.json").read_text())
    pose = manifest[manifest["default"]]["files"]["pose"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / pose).write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupt"):
        default_weights_file(["lspet"], tmp_path / "manifest.json")


# ---- bench, render, visualize --------------------------------------------------------

def test_bench_json_is_checked_before_measuring(runner, tmp_path):
    start = time.perf_counter()
    result = runner.invoke(main, ["bench", "--preset", "cpu_3d", "--json",
                                  str(tmp_path / "missing" / "b.json")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(main, ["bench", "--preset", "cpu_3d", "--json",
                                  str(tmp_path / "new") + "/"])
    assert result.exit_code == 2 and "is a folder" in result.output
    assert time.perf_counter() - start < 10


def test_render_refuses_huge_sizes_and_existing_files(runner, tmp_path):
    out = tmp_path / "clip.mp4"
    result = runner.invoke(main, ["render", str(out), "--size", "100000x100000"])
    assert result.exit_code == 2 and "at most 7680" in result.output
    args = ["render", str(out), "--frames", "2", "--size", "64x48"]
    assert runner.invoke(main, args).exit_code == 0
    written = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert len(written) == 1
    before = written[0].stat().st_mtime_ns
    result = runner.invoke(main, args)
    assert result.exit_code == 2 and "--force" in result.output
    assert written[0].stat().st_mtime_ns == before
    assert runner.invoke(main, [*args, "--force"]).exit_code == 0


def test_visualize_names_the_field_that_breaks_the_schema(runner, tmp_path):
    clip = write_demo_video(tmp_path / "clip.avi")
    data = predictions_for(clip, source=str(tmp_path / "clip.avi"))
    data["frames"][1]["people"][0]["joints2d"] = data["frames"][1]["people"][0]["joints2d"][:5]
    path = tmp_path / "clip.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(main, ["visualize", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "frames[1].people[0].joints2d" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


# ---- interruptions -------------------------------------------------------------------

@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_prepare_exits_with_the_signal_status_and_leaves_nothing(
        tmp_path, signum, status):
    out = tmp_path / "demo.h5"
    # 8 times the default clips: the default render ends 0.7 s after its temporary file
    # appears, too close to the signal below on a loaded machine (it exited first, by -15)
    longer = ("import functools, posenet.data.render_dataset as r; "
              "r.prepare_builtin_render = functools.partial(r.prepare_builtin_render, "
              "num_clips=64); from cli.main import main; main(prog_name='posenet')")
    proc = subprocess.Popen([sys.executable, "-c", longer, "prepare", "builtin-render",
                             "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not any("posenet-tmp" in p.name for p in tmp_path.iterdir()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        time.sleep(0.5)  # samples are being rendered into the temporary file
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == status, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("backend, message", [("torch", "KERAS_BACKEND=torch is not supported"),
                                              ("numpy", "posenet runs on tensorflow and jax")])
def test_an_unsupported_backend_is_refused_without_a_traceback(backend, message):
    result = CliRunner().invoke(main, ["render", "x.mp4"], env={"KERAS_BACKEND": backend})
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_a_rendered_clip_streams_its_frames(tmp_path):
    from posenet.render.scene import demo_clip

    kept = demo_clip(4, "walk", (48, 32), seed=3)
    streamed = []
    clip = demo_clip(4, "walk", (48, 32), seed=3, on_frame=streamed.append)
    assert clip["frames"] is None and len(streamed) == 4
    np.testing.assert_array_equal(np.stack(streamed), kept["frames"])
    np.testing.assert_allclose(clip["joints_2d"], kept["joints_2d"])
