"""The frame-quality check (issue 31, honest scores): frames too small, dark, washed out or
flat for the network to see a person in report nobody, and the predictions say why."""

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from posenet.inference.frame_quality import BRIGHT, DARK, FLAT, FrameQuality, check, luma_range
from posenet.render.scene import demo_clip
from tests.inference_fixtures import save_networks


@pytest.fixture(scope="module")
def photo():
    """A rendered frame of a person in ordinary light (256 x 256 BGR)."""
    return demo_clip(num_frames=1, size=(256, 256), seed=3)["frames"][0]


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    from posenet.inference import Predictor

    pose, _ = save_networks(tmp_path_factory.mktemp("frame_quality"))
    # the whole-frame pose finder with min_score 0 reports a person in every frame it sees
    return Predictor(str(pose), batch_size=4, min_score=0.0, finder="pose", runtime="keras")


def _dark(frame):
    return (frame.astype(np.float32) * 0.08).astype(np.uint8)


def _washed(frame):
    return (frame.astype(np.float32) * 0.2 + 200).clip(0, 255).astype(np.uint8)


def test_an_ordinary_frame_passes(photo):
    assert check(photo) is None
    low, high = luma_range(photo)
    assert high > DARK and low < BRIGHT and high - low >= FLAT


@pytest.mark.parametrize("make, reason", [
    (_dark, "dark"), (_washed, "bright"),
    (lambda f: np.full_like(f, 128), "flat"),
    (lambda f: np.full_like(f, 128) + np.uint8(5) * (np.indices(f.shape[:2]).sum(0) % 2)
     [..., None].astype(np.uint8), "flat"),
    (lambda f: cv2.resize(f, (32, 24), interpolation=cv2.INTER_AREA), "small"),
    (lambda f: cv2.resize(f, (8, 8), interpolation=cv2.INTER_AREA), "small"),
])
def test_degenerate_frames_are_flagged(photo, make, reason):
    assert check(make(photo)) == reason


def test_black_and_white_frames_are_dark_and_washed_out():
    assert check(np.zeros((480, 640, 3), np.uint8)) == "dark"
    assert check(np.full((480, 640, 3), 255, np.uint8)) == "bright"


def test_frame_quality_keeps_spreads_and_counts(photo):
    quality = FrameQuality()
    chunk = [(0, photo), (1, _dark(photo)), (2, photo), (3, _dark(photo))]
    kept = quality.keep(chunk)
    assert [i for i, _ in kept] == [0, 2]
    people = quality.spread(chunk, kept, [["a"], ["b"]])
    assert people == [["a"], [], ["b"], []]
    (warning,) = quality.warnings()
    assert warning.startswith("2 of 4 frames are too dark") and "no person" in warning
    assert FrameQuality(enabled=False).keep(chunk) == chunk


def test_predictor_withholds_the_person_of_a_flagged_frame_and_says_why(predictor, photo):
    seen = predictor.predict_image(photo)
    assert len(seen["frames"][0]["people"]) == 1  # min_score 0: a person in an ordinary frame
    assert not any("no person is reported" in w for w in seen["warnings"])
    for frame, says in ((_dark(photo), "too dark"), (_washed(photo), "washed out"),
                        (np.full_like(photo, 90), "without contrast")):
        pred = predictor.predict_image(frame)
        assert pred["frames"][0]["people"] == []
        assert any(says in w and "no person is reported" in w for w in pred["warnings"]), \
            pred["warnings"]


def test_predictor_counts_flagged_frames_once_per_input(predictor, photo):
    from posenet.inference.sources import MediaInfo

    frames = [photo, _dark(photo), _dark(photo), photo, _dark(photo), photo]
    info = MediaInfo(path="clip.avi", kind="video", fps=10.0, frame_count=len(frames),
                     width=256, height=256)
    pred = predictor.predict_frames((item for item in enumerate(frames)), info)
    people = [len(f["people"]) for f in pred["frames"]]
    assert people == [1, 0, 0, 1, 0, 1]
    said = [w for w in pred["warnings"] if "too dark" in w]
    assert said == ["3 of 6 frames are too dark (the brightest 1 % of the frame under "
                    f"{DARK} of 255): no person is reported in them"]


def test_without_the_check_the_person_is_reported(tmp_path, photo):
    from posenet.inference import Predictor

    pose, _ = save_networks(tmp_path)
    unchecked = Predictor(str(pose), min_score=0.0, finder="pose", frame_check=False)
    pred = unchecked.predict_image(_dark(photo))
    assert len(pred["frames"][0]["people"]) == 1
    assert not any("too dark" in w for w in pred["warnings"])


def test_empty_frames_tool_runs_on_a_tiny_setting(tmp_path):
    from cli.tools import tools

    pose, _ = save_networks(tmp_path)
    result = CliRunner().invoke(tools, ["empty-frames", "--weights", str(pose), "--per-kind",
                                        "1", "--photos", "0", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.strip().startswith("tiny:") and "of    1" in line for line in lines)
    total = [line for line in lines if line.strip().startswith("all:")]
    assert len(total) == 1 and "of   10 with a person" in total[0]  # no photos: 10 kinds
