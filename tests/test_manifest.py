"""``weights/manifest.json`` from runs and reports: checksums, details, figures, loading."""

import json

import pytest

from posenet.engine.weights import load_default
from posenet.inference.manifest import Figure, ShippedFile, build_entry, figure_value
from posenet.io import sha256_file
from tests.inference_fixtures import save_networks


def fake_run(folder, name, preset, source, curve):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({
        "name": name, "preset": preset, "sources": [{"path": source}],
        "validation": {"path": source, "holdout": 0.1}}))
    rows = ["epoch,loss,val_accuracy"] + [f"{i},1.0,{v}" for i, v in enumerate(curve)]
    (folder / "log.csv").write_text("\n".join(rows) + "\n")


def report(folder, name, protocol, metric, per_block):
    blocks = {str(k): {"summary": {metric: v}} for k, v in per_block.items()}
    payload = {"evaluations": [{"protocols": {protocol: {"blocks": blocks}}}]}
    (folder / "reports" / name).write_text(json.dumps(payload))


@pytest.fixture()
def shipped(tmp_path):
    weights = tmp_path / "weights"
    (weights / "reports").mkdir(parents=True)
    save_networks(weights)  # pose.keras (3D, 17 joints) and penn.keras
    fake_run(tmp_path / "runs" / "pose", "cpu_lspet_h36m", "cpu_3d", "lspet_train.h5",
             [0.1, 0.3])
    fake_run(tmp_path / "runs" / "penn", "cpu_actions_penn", "action_network",
             "penn_action_train.h5", [0.5, 0.8, 0.7])
    report(weights, "lspet.json", "PCK@0.2 torso", "PCK@0.2", {1: 0.2, 2: 0.75})
    report(weights, "a.json", "action accuracy", "multi-clip", {1: 0.1, 4: 0.6})
    report(weights, "b.json", "action accuracy", "multi-clip", {4: 0.8})
    files = (ShippedFile("pose", "pose.keras", "runs/pose"),
             ShippedFile("penn_action", "penn.keras", "runs/penn"))
    figures = (Figure("pck", ("lspet.json",), "PCK@0.2 torso", "PCK@0.2", 0.7, True, "", "c1"),
               Figure("acc", ("a.json", "b.json"), "action accuracy", "multi-clip", 0.78,
                      True, "", "c2"),
               Figure("mpjpe", ("missing.json",), "MPJPE", "MPJPE mm", 80, False, "", "c3"))
    return weights, build_entry(weights, files, figures, root=tmp_path)


def test_entry_lists_files_checksums_and_details(shipped):
    weights, entry = shipped
    assert entry["files"] == {"pose": "pose.keras", "actions": {"penn_action": "penn.keras"}}
    assert entry["sha256"]["pose.keras"] == sha256_file(weights / "pose.keras")
    pose, penn = entry["details"]["pose.keras"], entry["details"]["penn.keras"]
    assert pose["kind"] == "PoseNetwork" and pose["layout"] == "model17"
    assert pose["pose_dims"] == 3 and pose["recipe"] == "cpu_lspet_h36m"
    assert pose["softargmax_window"] == 0
    assert pose["trained_on"] == ["lspet_train.h5"]  # no split recorded in this fake run
    assert penn["action_classes"]["penn_action"][0] == "baseball_pitch"
    assert penn["validation"]["curve"] == [0.5, 0.8, 0.7]
    assert penn["validation"]["last"] == 0.7


def test_figures_take_the_last_block_and_average_reports(shipped):
    _, entry = shipped
    pck, acc, mpjpe = entry["figures"]
    assert pck["value"] == 0.75 and pck["met"] is True and pck["command"] == "c1"
    assert acc["value"] == pytest.approx(0.7) and acc["met"] is False
    assert mpjpe["value"] is None and mpjpe["met"] is None


def test_missing_protocol_gives_no_value(shipped):
    weights, _ = shipped
    fig = Figure("x", ("lspet.json",), "MPJPE", "MPJPE mm", 80, False, "", "")
    assert figure_value(fig, weights) is None


def test_written_manifest_loads_as_the_default(shipped):
    weights, entry = shipped
    (weights / "manifest.json").write_text(json.dumps({"default": "cpu", "cpu": entry}))
    loaded = load_default(weights / "manifest.json")
    assert loaded.pose.num_joints == 17 and set(loaded.actions) == {"penn_action"}
    assert loaded.sha256 == entry["sha256"]["pose.keras"]


def test_a_file_without_its_run_keeps_its_previous_details_only_if_unchanged(shipped, tmp_path):
    weights, entry = shipped
    files = (ShippedFile("pose", "pose.keras", "runs/gone"),)
    previous = {"pose.keras": (entry["sha256"]["pose.keras"], {"recipe": "earlier"})}
    kept = build_entry(weights, files, (), root=tmp_path, previous=previous)
    assert kept["details"]["pose.keras"] == {"recipe": "earlier"}
    stale = {"pose.keras": ("0" * 64, {"recipe": "earlier"})}
    with pytest.raises(FileNotFoundError, match="runs/gone"):
        build_entry(weights, files, (), root=tmp_path, previous=stale)


def test_a_rewritten_file_keeps_its_training_details_and_says_so(shipped, tmp_path):
    """Named in ``rewritten``, a changed file without its run keeps the previous training
    details, records the checksum it replaced and reads its settings again."""
    weights, entry = shipped
    files = (ShippedFile("pose", "pose.keras", "runs/gone"),)
    stale = {"pose.keras": ("0" * 64, {"recipe": "earlier", "softargmax_window": 9})}
    kept = build_entry(weights, files, (), root=tmp_path, previous=stale,
                       rewritten={"pose.keras"})
    details = kept["details"]["pose.keras"]
    assert details["recipe"] == "earlier"
    assert details["softargmax_window"] == 0  # read from the file, not the old entry
    assert [r["from_sha256"] for r in details["rewritten"]] == ["0" * 64]
    assert kept["sha256"]["pose.keras"] == sha256_file(weights / "pose.keras")
    with pytest.raises(FileNotFoundError, match="runs/gone"):  # only the named files
        build_entry(weights, files, (), root=tmp_path, previous=stale, rewritten={"x.keras"})


def test_rewriting_the_manifest_keeps_entries_it_does_not_build(tmp_path):
    from posenet.inference.manifest import write_manifest

    old = {"default": "mobile",
           "mobile": {"files": {"pose": "mobile_pose.keras"},
                      "sha256": {"mobile_pose.keras": "0" * 64},
                      "details": {"mobile_pose.keras": {}}},
           "cpu": {"files": {"pose": "c.keras"}, "sha256": {"c.keras": "1" * 64}},
           "lifter": {"file": "lifter_h36m.keras", "sha256": "2" * 64}}
    (tmp_path / "manifest.json").write_text(json.dumps(old))
    manifest, kept = write_manifest(str(tmp_path))  # no run folders here: entries kept
    assert manifest["lifter"] == old["lifter"]
    assert json.loads((tmp_path / "manifest.json").read_text())["lifter"] == old["lifter"]
    assert len(kept) == 2
