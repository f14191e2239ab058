"""Training runs: the run folder's contents, and resuming after a kill gives the same model."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from training_fixtures import render_file, tiny_recipe

from posenet.training import RunDirError, train

pytestmark = pytest.mark.backend


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    render_file(root)
    return root


@pytest.fixture(scope="module")
def straight(folder):
    """Two epochs in one go."""
    run = folder / "straight"
    train(tiny_recipe(), run, folder, verbose=0)
    return run


class Kill(keras.callbacks.Callback):
    """Dies at the start of epoch 2 (0-based 1), after epoch 1 was backed up."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt("killed")


def _weights(path):
    return keras.saving.load_model(path).get_weights()


def test_run_folder_contents(straight):
    config = json.loads((straight / "config.json").read_text())
    assert config["name"] == "tiny" and config["steps_per_epoch"] == 2
    rows = list(csv.DictReader((straight / "log.csv").open()))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert {"loss", "val_pck", "val_joint_error", "learning_rate"} <= set(rows[0])
    for name in ("checkpoints/last.keras", "checkpoints/best.keras", "model.keras"):
        assert keras.saving.load_model(straight / name).name == "cpu_3d"
    best = json.loads((straight / "checkpoints" / "best.json").read_text())
    assert best["monitor"] == "val_pck" and best["epoch"] in (1, 2)


def test_existing_folder_is_never_overwritten(straight, folder):
    before = (straight / "log.csv").read_text()
    with pytest.raises(RunDirError, match="--resume"):
        train(tiny_recipe(), straight, folder, verbose=0)
    assert (straight / "log.csv").read_text() == before
    with pytest.raises(RunDirError, match="cannot resume"):
        train(tiny_recipe(), folder / "absent", folder, resume=True, verbose=0)


def test_resume_after_a_kill_gives_the_same_model(straight, folder):
    run = folder / "killed"
    with pytest.raises(KeyboardInterrupt):
        train(tiny_recipe(), run, folder, verbose=0, callbacks=[Kill()])
    assert not (run / "model.keras").exists()
    assert json.loads((run / "backup" / "training_metadata.json").read_text())["epoch"] == 1
    result = train(tiny_recipe(), run, folder, resume=True, verbose=0)
    assert len(result.history["loss"]) == 1  # only the second epoch ran again
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    for a, b in zip(_weights(straight / "model.keras"), _weights(run / "model.keras"),
                    strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # A finished run resumed has nothing left to do and keeps its model.
    again = train(tiny_recipe(), run, folder, resume=True, verbose=0)
    assert again.history.get("loss", []) == []


def test_resume_in_a_new_process_extends_the_run(straight, folder):
    run = folder / "extended"
    command = [sys.executable, "-c", "from cli.train import train; train()", "tiny", "--out",
               str(run), "--data", str(folder), "--set", "steps_per_epoch=2", "--set",
               "validation.steps=1", "--batch-size", "4", "--verbose", "0"]
    root = Path(__file__).resolve().parents[1]
    for extra in (["--epochs", "1"], ["--resume", "--epochs", "2"]):
        done = subprocess.run(command + extra, cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((run / "config.json").read_text())["epochs"] == 2
    for a, b in zip(_weights(straight / "model.keras"), _weights(run / "model.keras"),
                    strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
