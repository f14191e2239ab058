"""``posenet evaluate`` through click's test runner: a real tiny network end to end, and
every bad input (clear message, exit status != 0, no report written)."""

import hashlib
import json

import numpy as np
import pytest
from click.testing import CliRunner
from fixtures_eval import write_lsp_file

from cli.evaluate import evaluate
from posenet.data.render_dataset import prepare_builtin_render


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A rendered set, an LSP-like file and tiny saved 3D and 2D networks."""
    from posenet.models import PoseNetwork

    root = tmp_path_factory.mktemp("evaluate")
    prepare_builtin_render(root / "builtin_render_train.h5", num_clips=1, frames=4, size=64)
    write_lsp_file(root / "lsp_test.h5", np.random.default_rng(0))
    small = dict(input_size=64, num_blocks=2, kernel_size=3, num_features=32, stem_width=0.25)
    PoseNetwork(num_joints=17, depth_maps=4, **small).save(root / "net3d.keras")
    PoseNetwork(num_joints=16, context_maps=2, **small).save(root / "net2d.keras")
    return root


def _run(args):
    return CliRunner().invoke(evaluate, [str(a) for a in args])


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".") or "report" in p.name]


def test_real_network_end_to_end(files, tmp_path):
    out = tmp_path / "report.json"
    result = _run(["--weights", files / "net3d.keras", "--dataset",
                   files / "builtin_render_train.h5", "--out", out, "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert "MPJPE" in result.output and f"wrote {out}" in result.output
    report = json.loads(out.read_text())
    digest = hashlib.sha256((files / "net3d.keras").read_bytes()).hexdigest()
    assert report["weights_sha256"] == digest
    ev = report["evaluations"][0]
    assert ev["dataset"] == "builtin_render" and ev["split"] == "train"
    mpjpe = ev["protocols"]["MPJPE"]
    assert list(mpjpe["blocks"]) == ["1", "2"] and mpjpe["samples"] == 4
    assert mpjpe["blocks"]["2"]["summary"]["MPJPE mm"] > 0
    assert len(mpjpe["blocks"]["1"]["mpjpe"]["per_joint"]) == 17


def test_dataset_name_resolves_in_the_datasets_folder(files):
    result = _run(["--weights", files / "net2d.keras", "--dataset", "lsp",
                   "--datasets-dir", files, "--block", "2", "--flip"])
    assert result.exit_code == 0, result.output
    assert "PCK@0.2 torso" in result.output and "lsp_test.h5" in result.output


def test_missing_weights(files, tmp_path):
    result = _run(["--weights", tmp_path / "nope.keras", "--dataset",
                   files / "lsp_test.h5", "--out", tmp_path / "report.json"])
    assert result.exit_code == 2 and "nope.keras" in result.output
    assert "Traceback" not in result.output and not _leftovers(tmp_path)


def test_weights_that_are_not_a_network(files, tmp_path):
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"junk")
    result = _run(["--weights", junk, "--dataset", files / "lsp_test.h5"])
    # Refused from the file itself, before Keras loads anything.
    assert result.exit_code == 2 and "is not a .keras file" in result.output


def test_2d_network_asked_for_mpjpe(files, tmp_path):
    out = tmp_path / "report.json"
    result = _run(["--weights", files / "net2d.keras", "--dataset",
                   files / "builtin_render_train.h5", "--out", out])
    assert result.exit_code == 1 and "needs a 3D model" in result.output
    assert not _leftovers(tmp_path)


def test_missing_and_malformed_dataset_files(files, tmp_path):
    result = _run(["--weights", files / "net2d.keras", "--dataset", tmp_path / "gone.h5"])
    assert result.exit_code == 1
    assert "gone.h5" in result.output and "posenet prepare" in result.output
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    result = _run(["--weights", files / "net2d.keras", "--dataset", bad])
    assert result.exit_code == 1
    assert "bad.h5" in result.output and "posenet prepare" in result.output
    result = _run(["--weights", files / "net2d.keras", "--dataset", "mpii",
                   "--datasets-dir", tmp_path])
    assert result.exit_code == 1 and "mpii_validation.h5" in result.output
    result = _run(["--weights", files / "net2d.keras", "--dataset", "coco",
                   "--datasets-dir", tmp_path])
    assert result.exit_code == 2 and "--split" in result.output


def test_block_out_of_range(files, tmp_path):
    out = tmp_path / "report.json"
    result = _run(["--weights", files / "net2d.keras", "--dataset", files / "lsp_test.h5",
                   "--block", "3", "--out", out])
    # Checked against the file's stored config before the network loads (a usage error).
    assert result.exit_code == 2 and "3 is outside 1..2" in result.output
    assert "Traceback" not in result.output and not _leftovers(tmp_path)
