"""``posenet train``: messages for bad input, overrides in config.json, a short run."""

import json

import pytest
from click.testing import CliRunner
from training_fixtures import render_file

from cli.train import train

FAST = ["--set", "steps_per_epoch=1", "--set", "validation.steps=1", "--epochs", "1"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_train")
    render_file(root)
    return root


def _run(*args):
    return CliRunner().invoke(train, [str(a) for a in args])


def test_unknown_recipe_lists_the_known(tmp_path):
    result = _run("nope", "--out", tmp_path / "run")
    assert result.exit_code == 2 and "known recipes:" in result.output
    assert "tiny" in result.output and "Traceback" not in result.output


def test_existing_run_folder_is_left_alone(tmp_path, folder):
    run = tmp_path / "run"
    run.mkdir()
    (run / "note.txt").write_text("keep")
    result = _run("tiny", "--out", run, "--data", folder)
    assert result.exit_code == 2 and "--resume" in result.output
    assert [p.name for p in run.iterdir()] == ["note.txt"]
    assert (run / "note.txt").read_text() == "keep"


def test_resume_of_a_missing_run(tmp_path):
    result = _run("tiny", "--out", tmp_path / "absent", "--resume")
    assert result.exit_code == 2 and "cannot resume" in result.output


def test_missing_dataset_file_names_it(tmp_path):
    result = _run("tiny", "--out", tmp_path / "run", "--data", tmp_path)
    assert result.exit_code == 1
    assert "demo.h5 not found" in result.output and "posenet prepare" in result.output
    bad = tmp_path / "demo.h5"
    bad.write_text("not hdf5")
    result = _run("tiny", "--out", tmp_path / "run", "--data", tmp_path)
    assert result.exit_code == 1 and "not a readable prepared file" in result.output


def test_bad_set_key_lists_the_valid(tmp_path):
    result = _run("tiny", "--out", tmp_path / "run", "--set", "nope=1")
    assert result.exit_code == 2 and "valid keys:" in result.output and "lr" in result.output
    result = _run("tiny", "--out", tmp_path / "run", "--set", "novalue")
    assert result.exit_code == 2 and "key=value" in result.output


def test_overrides_land_in_config_json(tmp_path, folder):
    config = tmp_path / "extra.json"
    config.write_text(json.dumps({"lr": 0.002, "seed": 3}))
    run = tmp_path / "run"
    result = _run("tiny", "--out", run, "--data", folder, "--config", config,
                  "--set", "lr=0.0005", "--batch-size", "2", "--verbose", "0", *FAST)
    assert result.exit_code == 0, result.output
    saved = json.loads((run / "config.json").read_text())
    assert saved["lr"] == 0.0005 and saved["seed"] == 3 and saved["batch_size"] == 2
    assert saved["epochs"] == 1 and saved["data_dir"] == str(folder)
    assert "best val_pck" in result.output and (run / "model.keras").is_file()


def test_tensorboard_logs_are_written_when_asked(tmp_path, folder):
    run = tmp_path / "run"
    result = _run("tiny", "--out", run, "--data", folder, "--set", "tensorboard=true", *FAST)
    assert result.exit_code == 0, result.output
    events = list((run / "tensorboard").rglob("events.out.tfevents.*"))
    assert events, "no TensorBoard event file"
    assert (run / "log.csv").read_text().count("\n") >= 2
