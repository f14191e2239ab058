"""Actions only where a clip can show one (issue 31): none on a still image, "uncertain"
(the probabilities kept) on a track shorter than the frames the action network reads."""

import json
from types import SimpleNamespace

import cv2
import pytest

from posenet.inference.actions import min_frames, track_actions
from tests.inference_fixtures import rendered_video, save_networks


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A bundle whose action network is sure of everything (threshold 0) and reads 8
    frames; a 5-frame and a 12-frame clip; a photo."""
    from posenet.models import ActionNetwork

    folder = tmp_path_factory.mktemp("actions_shown")
    save_networks(folder)
    ActionNetwork({"penn_action": 15}, num_frames=8, num_joints=17, pose_dims=3, num_blocks=1,
                  pose_width=0.25, uncertain_below={"penn_action": 0.0}).save(
                      folder / "sure.keras")
    bundle = folder / "sure.json"
    bundle.write_text(json.dumps({"pose": "pose.keras", "actions": {"penn_action": "sure.keras"}}))
    short, clip = rendered_video(folder / "short.avi", 5, (320, 240))
    long, _ = rendered_video(folder / "long.avi", 12, (320, 240))
    photo = folder / "photo.png"
    cv2.imwrite(str(photo), cv2.resize(clip["frames"][0], (240, 320)))
    return {"bundle": bundle, "short": short, "long": long, "photo": photo}


@pytest.fixture(scope="module")
def predictor(files):
    from posenet.inference import Predictor

    return Predictor(str(files["bundle"]), batch_size=4, min_score=0.0, runtime="keras")


def test_a_still_image_gets_no_action(predictor, files):
    for pred in (predictor.predict_video(files["photo"]),
                 predictor.predict_image(cv2.imread(str(files["photo"])))):
        assert pred["kind"] == "image" and pred["tracks"]
        assert all(track["actions"] == {} for track in pred["tracks"])
        assert pred["action_classes"]["penn_action"]  # the classes are still listed


def test_a_clip_shorter_than_the_network_reads_is_uncertain(predictor, files):
    pred = predictor.predict_video(files["short"])
    (track,) = pred["tracks"]
    action = track["actions"]["penn_action"]
    assert action["label"] == "uncertain" and action["confidence"] >= action["threshold"] == 0
    assert len(action["probabilities"]) == 15
    assert sum(action["probabilities"]) == pytest.approx(1.0, abs=1e-4)
    assert action["best"] in pred["action_classes"]["penn_action"]
    assert [w for w in pred["warnings"] if "penn_action" in w] == [
        'track 0: seen in fewer than 8 frames (0.80 s), the 8 frames the penn_action action '
        'network reads: penn_action label "uncertain" (the probabilities are kept)']


def test_a_clip_as_long_as_the_network_reads_gets_its_label(predictor, files):
    pred = predictor.predict_video(files["long"])
    action = pred["tracks"][0]["actions"]["penn_action"]
    assert action["label"] == action["best"] != "uncertain"
    assert not any("penn_action" in w for w in pred["warnings"])


def test_the_fewest_frames_scale_with_the_video_rate():
    net = SimpleNamespace(num_frames=32, frame_rate=30.0, clip_span=128)
    assert min_frames(net) == 32 and min_frames(net, 30.0) == 32
    assert min_frames(net, 25.0) == 27 and min_frames(net, 60.0) == 64  # 1.07 s each
    assert min_frames(SimpleNamespace(num_frames=8), 10.0) == 8  # no rate: T frames


def test_short_overrides_a_confident_label_and_keeps_the_numbers():
    windows = [{"probabilities": [0.1, 0.9]}]
    sure = track_actions(windows, ["a", "b"], threshold=0.5)
    short = track_actions(windows, ["a", "b"], threshold=0.5, short=True)
    assert sure["label"] == "b" and short["label"] == "uncertain"
    assert {k: v for k, v in short.items() if k != "label"} == \
        {k: v for k, v in sure.items() if k != "label"}
