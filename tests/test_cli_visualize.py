"""``posenet visualize`` through click's CliRunner."""

import json
import os

import cv2
from click.testing import CliRunner

from cli.visualize import visualize
from tests.visualize_fixtures import predictions_for, write_demo_video


def _setup(tmp_path, source=True):
    clip = write_demo_video(tmp_path / "clip.avi", num_frames=6, size=(96, 80))
    pred = predictions_for(clip, source=str(tmp_path / "clip.avi") if source else "gone.avi")
    path = tmp_path / "clip.json"
    path.write_text(json.dumps(pred))
    return path


def _run(*args):
    return CliRunner().invoke(visualize, [str(a) for a in args])


def test_writes_all_outputs(tmp_path):
    pred = _setup(tmp_path)
    out = tmp_path / "out"
    res = _run(pred, "--out", out)
    assert res.exit_code == 0, res.output
    names = sorted(os.listdir(out))
    video = [n for n in names if n.startswith("clip_overlay.")]
    assert video in (["clip_overlay.mp4"], ["clip_overlay.avi"])
    assert sorted(set(names) - set(video)) == ["clip_3d.png", "clip_actions.png",
                                               "clip_frame.png"]
    # The still: the frame scaled to 480 px high (96x80 -> 576x480) beside a 480 px 3D view.
    assert cv2.imread(str(out / "clip_frame.png")).shape == (480, 576 + 480, 3)
    cap = cv2.VideoCapture(str(out / video[0]))
    try:
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
        assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (96, 80)
    finally:
        cap.release()


def test_heatmaps_with_weights(tmp_path):
    from posenet.models import PoseNetwork

    pred = _setup(tmp_path)
    weights = tmp_path / "net.keras"
    PoseNetwork(input_size=64, num_joints=16, num_blocks=2, kernel_size=3, num_features=16,
                stem_width=0.25).save(weights)
    out = tmp_path / "out"
    res = _run(pred, "--out", out, "--no-video", "--frame", 2, "--heatmaps-frame", 3,
               "--weights", weights)
    assert res.exit_code == 0, res.output
    assert sorted(os.listdir(out)) == ["clip_3d.png", "clip_actions.png", "clip_heatmaps.png"]
    assert cv2.imread(str(out / "clip_heatmaps.png")).shape == (4 * 128, 5 * 128, 3)


def test_missing_source_skips_overlay(tmp_path):
    pred = _setup(tmp_path, source=False)
    out = tmp_path / "out"
    res = _run(pred, "--out", out)
    assert res.exit_code == 0, res.output
    assert "skipping the overlay" in res.output
    assert sorted(os.listdir(out)) == ["clip_3d.png", "clip_actions.png"]


def test_bad_inputs(tmp_path):
    pred = _setup(tmp_path)
    out = tmp_path / "out"
    res = _run(tmp_path / "nope.json", "--out", out)
    assert res.exit_code != 0 and "not found" in res.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "something/2"}))
    res = _run(bad, "--out", out)
    assert res.exit_code != 0 and "not a predictions file" in res.output
    bad.write_text("{ not json")
    res = _run(bad, "--out", out)
    assert res.exit_code != 0 and "not a predictions file" in res.output
    res = _run(pred, "--out", out, "--video", tmp_path / "missing.mp4")
    assert res.exit_code != 0 and "video not found" in res.output
    res = _run(pred, "--out", out, "--heatmaps-frame", 1)
    assert res.exit_code != 0 and "--weights" in res.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = _run(pred, "--out", blocker / "sub")
    assert res.exit_code != 0 and "output folder" in res.output
    assert not out.exists()


def test_failure_leaves_nothing(tmp_path):
    pred = _setup(tmp_path)
    out = tmp_path / "out"
    res = _run(pred, "--out", out, "--frame", 99)  # overlay written, then the 3D view fails
    assert res.exit_code != 0 and "frame 99" in res.output
    assert os.listdir(out) == []
