"""``posenet tools``: the maintainers' commands, and that only ``cli/`` parses arguments."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main
from cli.tools import tools
from cli.tools.options import OneOrMore

ROOT = Path(__file__).resolve().parents[1]

#: Every tool (each was once an argparse ``main`` of a library module).
TOOLS = ("manifest", "softargmax-window", "ensemble", "action-calibration", "out-of-class",
         "window-choice", "pose-noise", "person-score", "empty-frames", "joint-speed",
         "runtime-speed", "lifter-train", "lifter-eval")


@pytest.fixture
def runner():
    return CliRunner()


def test_posenet_help_lists_tools_and_tools_help_lists_every_tool(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "tools" in result.output and "Maintainers' tools" in result.output
    result = runner.invoke(main, ["tools", "--help"])
    assert result.exit_code == 0, result.output
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines()
              if line.strip()}
    assert listed == set(TOOLS)
    for name in TOOLS:  # each one's own help
        result = runner.invoke(tools, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, name


def test_python_dash_m_cli_tools_runs_the_same_group():
    result = subprocess.run([sys.executable, "-m", "cli.tools", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Usage: posenet tools" in result.stdout
    assert all(name in result.stdout for name in TOOLS)


def _imports_argparse(tree) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "argparse" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "argparse":
            return True
    return False


def _runs_as_main(tree) -> bool:
    """Whether a module has ``if __name__ == "__main__":`` (either order)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.comparators) == 1:
            sides = {ast.unparse(node.left), ast.unparse(node.comparators[0])}
            if sides == {"__name__", "'__main__'"}:
                return True
    return False


def test_no_module_of_the_library_parses_arguments_or_runs_as_a_script():
    files = sorted((ROOT / "posenet").rglob("*.py"))
    assert len(files) > 50
    found = []
    for path in files:
        tree = ast.parse(path.read_text())
        if _imports_argparse(tree) or _runs_as_main(tree):
            found.append(str(path.relative_to(ROOT)))
        if path.name == "__main__.py":
            found.append(str(path.relative_to(ROOT)))
    assert found == []


def test_the_library_checks_see_what_they_look_for():
    assert _imports_argparse(ast.parse("import os, argparse"))
    assert _imports_argparse(ast.parse("def f():\n    from argparse import ArgumentParser"))
    assert _runs_as_main(ast.parse('if __name__ == "__main__":\n    main()'))
    assert _runs_as_main(ast.parse("if '__main__' == __name__:\n    main()"))
    assert not _runs_as_main(ast.parse("name = __name__"))


def test_the_person_finder_does_not_reach_up_to_the_predictor():
    tree = ast.parse((ROOT / "posenet/inference/person_finder.py").read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m.startswith(("posenet.inference.predictor", "posenet.evaluation"))
                   for m in modules)
    assert "posenet.inference.predictor.MIN_SCORE" not in ast.get_docstring(tree)


def test_one_or_more_takes_every_value_up_to_the_next_option(runner):
    @click.command()
    @click.argument("name")
    @click.option("--window", cls=OneOrMore, type=int, default=(0, 3))
    @click.option("--alpha", cls=OneOrMore, type=float, default=())
    @click.option("--every", type=int, default=1)
    def command(name, window, alpha, every):
        click.echo(f"{name} {list(window)} {list(alpha)} {every}")

    cases = {("x",): "x [0, 3] [] 1",
             ("x", "--window", "0", "3", "5", "--every", "2"): "x [0, 3, 5] [] 2",
             ("--window", "4", "--alpha", "0.1", "-0.5", "--", "x"): "x [4] [0.1, -0.5] 1",
             ("x", "--window", "1", "--window", "2", "7"): "x [1, 2, 7] [] 1"}
    for args, expected in cases.items():
        result = runner.invoke(command, list(args))
        assert result.exit_code == 0, (args, result.output)
        assert result.output.strip() == expected
    result = runner.invoke(command, ["x", "--window"])
    assert result.exit_code == 2 and "requires an argument" in result.output
    result = runner.invoke(command, ["x", "--window", "1", "two"])
    assert result.exit_code == 2 and "'two' is not a valid integer" in result.output


# -- manifest -------------------------------------------------------------------------------
def _previous_manifest(folder):
    figure = {"name": "LSPet PCK", "value": 0.8, "target": 0.75, "unit": "fraction",
              "met": True, "command": "posenet evaluate ...", "reports": ["lspet.json"]}
    entry = {"files": {"pose": "mobile_pose.keras", "actions": {}},
             "sha256": {"mobile_pose.keras": "0" * 64},
             "details": {"mobile_pose.keras": {"recipe": "mobile_full"}},
             "figures": [figure]}
    cpu = {"files": {"pose": "cpu_pose.keras", "actions": {}}, "sha256": {}, "details": {},
           "figures": []}
    (folder / "manifest.json").write_text(json.dumps({"default": "mobile", "mobile": entry,
                                                      "cpu": cpu}))


def test_manifest_keeps_the_entries_of_absent_bundles_and_prints_the_figures(runner, tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    _previous_manifest(folder)
    (folder / "person_detector.keras").write_bytes(b"detector")
    result = runner.invoke(tools, ["manifest", str(folder), "--rewritten", "a.keras",
                                   "--rewritten", "b.keras"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("mobile: kept the previous entry (")
    assert lines[1].startswith("cpu: kept the previous entry (")
    assert lines[2:] == ["mobile: LSPet PCK: 0.8 (target 0.75, met True)"]
    written = json.loads((folder / "manifest.json").read_text())
    assert written["default"] == "mobile"
    details = written["mobile"]["details"]["mobile_pose.keras"]
    assert details["recipe"] == "mobile_full" and "MoveNet" in details["pretrained"]["network"]
    assert written["detector"]["file"] == "person_detector.keras"
    assert len(written["detector"]["sha256"]) == 64


def test_manifest_without_files_or_a_previous_entry_fails_with_one_line(runner, tmp_path):
    result = runner.invoke(tools, ["manifest", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "mobile_pose.keras" in result.output
    assert not (tmp_path / "manifest.json").exists()
    result = runner.invoke(tools, ["manifest", str(tmp_path / "absent")])
    assert result.exit_code == 2 and "does not exist" in result.output


# -- softargmax-window ----------------------------------------------------------------------
def test_softargmax_window_writes_a_copy_with_the_window(runner, tmp_path):
    import keras

    from posenet.models import PoseNetwork
    from tests.inference_fixtures import TINY_POSE

    source, target = tmp_path / "pose.keras", tmp_path / "windowed.keras"
    PoseNetwork(**TINY_POSE).save(source)
    result = runner.invoke(tools, ["softargmax-window", str(source), "--window", "3",
                                   "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output == f"{target}: PoseNetwork with soft-argmax window 3\n"
    assert keras.saving.load_model(target, compile=False).softargmax_window == 3
    assert keras.saving.load_model(source, compile=False).softargmax_window == 0


def test_softargmax_window_refuses_bad_options(runner, tmp_path):
    from posenet.models import ActionNetwork

    action = tmp_path / "action.keras"
    ActionNetwork({"jhmdb": 5}, num_frames=8, num_joints=17, num_blocks=1,
                  pose_width=0.25).save(action)
    out = tmp_path / "out.keras"
    result = runner.invoke(tools, ["softargmax-window", str(action), "--window", "-1",
                                   "--out", str(out)])
    assert result.exit_code == 2 and "--window" in result.output
    result = runner.invoke(tools, ["softargmax-window", str(action), "--window", "2",
                                   "--out", str(out)])
    assert result.exit_code == 2 and "not a single-frame pose network" in result.output
    result = runner.invoke(tools, ["softargmax-window", str(tmp_path / "missing.keras"),
                                   "--window", "2", "--out", str(out)])
    assert result.exit_code == 2 and "does not exist" in result.output
    assert not out.exists()


# -- the others' option checks (before anything loads) ---------------------------------------
@pytest.mark.parametrize("args, message", [
    (["action-calibration", ".", "--keep", "0"], "fraction in (0, 1]"),
    (["action-calibration", ".", "tests", "--model", "pyproject.toml"], "one run"),
    (["out-of-class", "pyproject.toml", "--data", "pyproject.toml", "--fps", "0"], "> 0"),
    (["out-of-class", "pyproject.toml"], "--data"),
    (["runtime-speed", "--runtime", "tensorrt"], "tensorrt"),
    (["runtime-speed", "--precision", "int4"], "int4"),
    (["pose-noise", "--weights", "absent.keras"], "absent.keras: no such file"),
    (["person-score", "--data", "absent_folder"], "does not exist"),
    (["ensemble"], "NETWORKS"),
])
def test_bad_options_are_usage_errors(runner, args, message):
    result = runner.invoke(tools, args)
    assert result.exit_code == 2, result.output
    assert message in result.output


# -- person-score ---------------------------------------------------------------------------
class _ScoringPredictor:
    """A stand-in Predictor: the 64x64 images (the photos below) score high, others low."""

    def __init__(self, weights=None):
        self.weights = weights

    def detect_single(self, frames):
        scores = [0.9 if f.shape[:2] == (64, 64) else 0.1 for f in frames]
        return [{"person_score": s} for s in scores], [None] * len(frames)


def test_person_score_reports_people_kept_and_empty_images_rejected(runner, tmp_path,
                                                                   monkeypatch):
    import cv2

    import posenet.inference
    from posenet.data.readers.lsp import LSPET_TRAIN_END
    from posenet.evaluation import person_score

    images = tmp_path / "lspet" / "images"
    images.mkdir(parents=True)
    for i in range(LSPET_TRAIN_END + 1, LSPET_TRAIN_END + 1000, 250):
        cv2.imwrite(str(images / f"im{i:05d}.jpg"), np.full((64, 64, 3), 128, np.uint8))
    monkeypatch.setattr(posenet.inference, "Predictor", _ScoringPredictor, raising=False)
    monkeypatch.setattr(person_score, "empty_images", lambda data: {
        "flat": [np.zeros((100, 120, 3), np.uint8)] * 3, "video": []})
    result = runner.invoke(tools, ["person-score", "--data", str(tmp_path), "--every", "250"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "people: 4 LSPet validation photos; empty: 3 flat"
    assert lines[1] == "people's score percentiles 0.5/1/2/5%: 0.900 0.900 0.900 0.900"
    assert lines[2] == ("min_score 0.28: people kept 100.0%, empty rejected 100.0% "
                        "(flat 100.0%)")
    assert lines[3] == ("min_score 0.90: people kept 100.0%, empty rejected 100.0% "
                        "(flat 100.0%)")
    result = runner.invoke(tools, ["person-score", "--data", str(tmp_path), "--every", "1"])
    assert result.exit_code == 1 and "no such image" in result.output


# -- action-calibration ---------------------------------------------------------------------
def test_action_calibration_writes_the_report_and_with_write_the_threshold(runner, tmp_path):
    """A run folder (config, model.keras) on a small sequence file: the report in
    ``calibration.json``, a JSON line printed, and ``--write`` stores the threshold."""
    import keras

    from posenet.models import ActionNetwork
    from tests.training_fixtures import sequence_file

    data = sequence_file(tmp_path, sequences=8, frames=12)
    run = tmp_path / "runs" / "toy"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({
        "seed": 0, "data_dir": str(tmp_path),
        "validation": {"path": data.name, "holdout": 0.5, "action_dataset": "jhmdb"}}))
    keras.utils.set_random_seed(0)
    ActionNetwork({"jhmdb": 3}, num_frames=8, num_joints=17, branch="geometry",
                  filters=4).save(run / "model.keras")
    result = runner.invoke(tools, ["action-calibration", str(run), "--repeats", "2", "--write"])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    printed = json.loads(line)
    assert set(printed) == {"run", "model", "videos", "clean", "noisy", "uncertain_below",
                            "threshold_for_precision", "threshold_to_keep",
                            "noisy_labelled_fraction", "noisy_labelled_precision"}
    report = json.loads((run / "calibration.json").read_text())
    assert report["videos"] == printed["videos"] == 4 and report["repeats"] == 2
    saved = keras.saving.load_model(run / "model.keras", compile=False)
    assert saved.uncertain_below == {"jhmdb": printed["uncertain_below"]}
