"""``posenet train`` never hangs: NaN and signals stop it promptly, bad values fail fast,
an unfinished run folder does not block the next attempt, --help lists the recipes.

The subprocess tests run the real command under the current KERAS_BACKEND (``make
test-jax`` runs them again under JAX) with loader worker processes.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import keras
import pytest
from click.testing import CliRunner
from training_fixtures import diverging_file, render_file, tiny_recipe

from cli.train import train
from posenet.training import run_dir as rd
from posenet.training import train as train_run

ROOT = Path(__file__).resolve().parents[1]
# The real entry point; SIGINT gets Python's default handler even when the test runner
# was started with SIGINT ignored (a background job), which the child would inherit.
LAUNCH = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
          "from cli.main import main; main(prog_name='posenet')")
TINY = ["--set", "workers=2", "--set", "steps_per_epoch=2", "--set", "validation.steps=1",
        "--batch-size", "4", "--verbose", "2"]
#: Seconds a loaded 2-core machine may take to start a run (imports, model, compile).
START_LIMIT = 300
#: Seconds from the NaN message or the signal to the exit.
EXIT_LIMIT = 30


_JOBS = []


@pytest.fixture(autouse=True)
def _no_leftover_processes():
    """Kills what a failed test left running (the command and its loader workers)."""
    yield
    while _JOBS:
        job = _JOBS.pop()
        if job.process.poll() is None:
            os.killpg(job.process.pid, signal.SIGKILL)
            job.process.wait()


class Run:
    """``posenet train ARGS`` in a subprocess; its output lines with their arrival times."""

    def __init__(self, *args):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, "train", *[str(a) for a in args]], cwd=ROOT,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)  # its own process group, as at a terminal
        _JOBS.append(self)
        self.lines = []  # (time.monotonic(), line)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line))

    @property
    def output(self):
        return "".join(line for _, line in self.lines)

    def when(self, text):
        """Arrival time of the first line holding ``text`` (None if none yet)."""
        return next((t for t, line in self.lines if text in line), None)

    def wait(self, timeout):
        """Exit status, killing the process (and failing) when it outlives ``timeout``."""
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its loader workers too
            self.process.wait()
            self.reader.join(5)
            pytest.fail(f"posenet train did not exit within {timeout} s:\n{self.output[-3000:]}")
        self.reader.join(5)
        return status


def _epochs(run):
    with (run / "log.csv").open() as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return render_file(tmp_path_factory.mktemp("hardening")).parent


@pytest.mark.backend
def test_nan_exits_promptly_with_status_1(tmp_path):
    (tmp_path / "bad").mkdir()
    diverging_file(tmp_path / "bad")
    run = tmp_path / "run"
    job = Run("tiny", "--out", run, "--data", tmp_path / "bad", "--epochs", "3", *TINY)
    status = job.wait(START_LIMIT + EXIT_LIMIT)
    end = time.monotonic()
    assert status == 1, job.output[-3000:]
    said = job.when("Error: loss became NaN at epoch 1 batch 1")
    assert said is not None, job.output[-3000:]
    assert end - said < EXIT_LIMIT
    # The loader workers die quietly (they used to raise the parent's SIGTERM handler).
    assert "Traceback" not in job.output, job.output[-3000:]
    # Nothing finished: the folder does not block the next attempt without --resume.
    assert rd.unfinished(run)
    again = CliRunner().invoke(train, ["tiny", "--out", str(run), "--data", str(tmp_path)])
    assert again.exit_code == 1 and "demo.h5 not found" in again.output, again.output


@pytest.mark.backend
@pytest.mark.parametrize("signum, expected", [
    pytest.param(signal.SIGINT, 130, id="sigint", marks=pytest.mark.slow),  # and a resume
    pytest.param(signal.SIGTERM, 143, id="sigterm"),
])
def test_signal_stops_training_and_resume_continues(tmp_path, folder, signum, expected):
    run = tmp_path / "run"
    # Ctrl-C at a terminal signals the whole process group (workers too); kill, the parent.
    job = Run("tiny", "--out", run, "--data", folder, "--epochs", "1000", *TINY)
    metadata = run / "backup" / "training_metadata.json"
    deadline = time.monotonic() + START_LIMIT
    while not metadata.exists() and job.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert metadata.exists(), job.output[-3000:]
    if signum == signal.SIGINT:
        os.killpg(job.process.pid, signum)
    else:
        job.process.send_signal(signum)
    sent = time.monotonic()
    status = job.wait(EXIT_LIMIT)
    assert status == expected, job.output[-3000:]
    assert time.monotonic() - sent < EXIT_LIMIT
    assert "interrupted" in job.output and "Traceback" not in job.output, job.output[-3000:]

    meta = json.loads(metadata.read_text())
    done = meta["epoch"]
    assert done >= 1 and (run / "backup" / meta["weights"]).is_file()
    if signum == signal.SIGTERM:
        return  # the same state as after Ctrl-C; one resume (slow) is enough
    resumed = Run("tiny", "--out", run, "--resume", "--epochs", done + 1, "--verbose", "2")
    assert resumed.wait(START_LIMIT) == 0, resumed.output[-3000:]
    assert f"resuming after epoch {done} of {done + 1}" in resumed.output
    assert _epochs(run) == list(range(done + 1))
    assert (run / "model.keras").is_file()


def _invoke(*args):
    started = time.monotonic()
    result = CliRunner().invoke(train, [str(a) for a in args])
    return result, time.monotonic() - started


@pytest.mark.parametrize("assignment, message", [
    ("model.num_blocks=99", "model.num_blocks must be an integer in [1, 8], got 99"),
    ("model.input_size=100", "model.input_size must be a multiple of 32 in [32, 512], got 100"),
    ("model.input_size=4096", "model.input_size must be an integer in [32, 512], got 4096"),
    ("lr=5", "lr must be a number in (0.0, 1.0], got 5"),
    ("batch_size=100000", "batch_size must be an integer in [1, 4096], got 100000"),
    ("epochs=2.5", "epochs must be an integer in [1, 10000], got 2.5"),
    ("workers=0", "workers must be an integer in [1, 64], got 0"),
    ("validation.steps=0", "validation.steps must be an integer in [1, 10000], got 0"),
    ("loss_weights.pose=-1", "loss_weights.pose must be a number in [0.0, 1000000.0], got -1"),
    ("lr_schedule=linear", "lr_schedule must be one of step, cosine, got 'linear'"),
    ("weight_decay=2", "weight_decay must be a number in [0.0, 1.0], got 2"),
    ("model.clip_span=0", "model.clip_span must be an integer in [1, 4096], got 0"),
])
def test_out_of_range_values_fail_fast(tmp_path, folder, assignment, message):
    run = tmp_path / "run"
    result, seconds = _invoke("tiny", "--out", run, "--data", folder, "--set", assignment)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert seconds < 10 and not run.exists()


def test_shipped_recipes_are_in_range():
    from posenet.training import RECIPES, apply_overrides

    for recipe in RECIPES.values():
        assert apply_overrides(recipe, {}) == recipe


def test_help_lists_the_recipes():
    from posenet.training import RECIPES

    result = CliRunner().invoke(train, ["--help"])
    assert result.exit_code == 0
    listing = result.output.split("Recipes:", 1)[1]
    for name in RECIPES:
        assert f"\n  {name} " in listing
    assert "For tests and smoke runs: a 64 px" in " ".join(listing.split())


def _unfinished_run(root):
    """What a run stopped in its first epoch leaves behind."""
    root.mkdir()
    (root / "config.json").write_text("{}")
    (root / "log.csv").write_text("epoch,loss\n0,nan\n")
    (root / "backup").mkdir()
    (root / "backup" / ".tmp-1.weights.h5").write_text("partial")
    (root / "checkpoints").mkdir()
    return root


def test_unfinished_run_folder_is_started_afresh(tmp_path):
    run = _unfinished_run(tmp_path / "run")
    assert rd.check_new(run) is True
    rd.clear_unfinished(run)
    assert run.is_dir() and not list(run.iterdir())
    assert rd.check_new(run) is False
    assert rd.check_new(tmp_path / "absent") is False


@pytest.mark.parametrize("finished", ["backup/training_metadata.json",
                                      "checkpoints/last.keras", "model.keras", "note.txt"])
def test_a_finished_epoch_or_a_foreign_file_still_blocks(tmp_path, finished):
    run = _unfinished_run(tmp_path / "run")
    (run / finished).write_text("{}")
    with pytest.raises(rd.RunDirError, match="--resume"):
        rd.check_new(run)
    with pytest.raises(rd.RunDirError):
        rd.clear_unfinished(run)
    assert (run / finished).exists() and (run / "config.json").exists()


class _StopAtStart(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        raise KeyboardInterrupt("stopped before the first epoch")


def test_unfinished_run_folder_does_not_block_the_next_run(tmp_path, folder):
    run = _unfinished_run(tmp_path / "run")
    notices = []
    with pytest.raises(KeyboardInterrupt):
        train_run(tiny_recipe(), run, folder, verbose=0, callbacks=[_StopAtStart()],
                  log=notices.append)
    assert any("never finished an epoch: starting afresh" in n for n in notices)
    assert json.loads((run / "config.json").read_text())["name"] == "tiny"
    assert "nan" not in (run / "log.csv").read_text()  # the stale row went with the rest
    assert not (run / "backup" / ".tmp-1.weights.h5").exists()
    # Interrupted before its first epoch in turn: still no obstacle.
    assert rd.check_new(run) is True
