"""What the decoder says (issue 31): timestamps from the decoder, the container's rate,
warnings for a varying rate, a truncated video, transparent and tiny inputs; every format
keeps them."""

import json

import cv2
import numpy as np
import pytest

from posenet.inference import load_predictions, write_predictions
from posenet.inference.input_log import InputLog, image_notes, size_warnings
from posenet.inference.sources import FALLBACK_FPS, MediaInfo, _rate
from tests.inference_fixtures import rendered_video, save_networks, write_video
from tests.media_fixtures import noise_frames, truncate, write_mkv, write_rgba

#: A clip whose first 10 frames are 4x slower than the last 10 (ms).
VARIABLE_MS = [100 * i for i in range(10)] + [1000 + 25 * i for i in range(10)]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("input_log")
    pose, bundle = save_networks(folder)
    _, clip = rendered_video(folder / "seed.avi", 20, (320, 240))
    frames = [cv2.resize(f, (320, 240)) for f in clip["frames"]]
    return {"folder": folder, "pose": pose, "bundle": bundle, "frames": frames,
            "variable": write_mkv(folder / "variable.mkv", frames, VARIABLE_MS),
            "steady": write_video(folder / "steady.avi", frames, (320, 240), fps=25.0)}


@pytest.fixture(scope="module")
def predictor(files):
    from posenet.inference import Predictor

    return Predictor(str(files["pose"]), batch_size=8, min_score=0.0, runtime="keras")


# -- timestamps ------------------------------------------------------------------------
def test_times_of_a_variable_rate_video_are_the_decoders(predictor, files):
    cap = cv2.VideoCapture(str(files["variable"]))
    container_fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    pred = predictor.predict_video(files["variable"])
    times = [f["time"] for f in pred["frames"]]
    assert times == pytest.approx([ms / 1000 for ms in VARIABLE_MS], abs=1e-6)
    assert times[10] == pytest.approx(1.0)  # not 10 / fps
    assert pred["fps"] == pytest.approx(container_fps)
    assert any("frame rate varies" in w and "25.0 to 100.0 ms" in w for w in pred["warnings"])
    assert not any("truncated" in w for w in pred["warnings"])


def test_times_of_a_steady_video_stay_index_over_fps(predictor, files):
    pred = predictor.predict_video(files["steady"])
    assert pred["fps"] == 25.0 and pred["num_frames"] == 20
    assert [f["time"] for f in pred["frames"]] == [round(i / 25, 6) for i in range(20)]
    assert pred["warnings"] == []


def test_a_truncated_video_says_so(predictor, files, tmp_path):
    path = tmp_path / "long.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    for frame in noise_frames(30):
        writer.write(frame)
    writer.release()
    whole = predictor.predict_video(path)
    assert whole["num_frames"] == 30 and whole["warnings"] == []
    truncate(path, 0.4)
    cut = predictor.predict_video(path)
    assert 0 < cut["num_frames"] < 30
    assert [w for w in cut["warnings"] if "truncated" in w] == [
        f"{cut['num_frames']} frames decoded of the 30 the container declares: the file may "
        "be truncated or damaged (the frames that follow are missing)"]


def test_the_log_places_frames_without_timestamps():
    log = InputLog(fps=10.0, declared=None)
    for index, msec in enumerate([0.0, 100.0, None, float("nan"), 400.0, 400.0, 600.0]):
        log.record(index, msec)
    assert [log.time(i) for i in range(7)] == pytest.approx([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert "3 of 7 frames had no usable decoder timestamp" in " ".join(log.warnings())
    silent = InputLog(fps=25.0)  # a decoder that gives no timestamps (0 for every frame)
    for index in range(5):
        silent.record(index, 0.0)
    assert [silent.time(i) for i in range(5)] == [i / 25 for i in range(5)]
    assert any("gives no timestamps" in w for w in silent.warnings())
    assert InputLog(fps=25.0).time(7) == 7 / 25  # frames given by the caller: index / fps


def test_a_container_without_a_rate_says_which_rate_is_assumed():
    class NoRate:  # a capture whose container gives no frame rate
        def get(self, prop):
            return 0.0

    fps, count, declared = _rate(NoRate(), 12)
    assert (fps, count, declared) == (FALLBACK_FPS, 12, False)
    log = InputLog()
    log.describe(MediaInfo("x.avi", "video", 64, 64, fps, count, declared))
    assert any(f"{FALLBACK_FPS:g} frames/s is assumed" in w for w in log.warnings())
    steady = InputLog()
    steady.describe(MediaInfo("x.mp4", "video", 64, 64, 25.0, 12))
    assert steady.warnings() == []


def test_the_log_tells_a_varying_rate_from_jitter_and_an_estimated_count():
    jitter = InputLog(fps=29.97, declared=6)
    for index, msec in enumerate([0, 33, 67, 100, 133, 167]):
        jitter.record(index, msec)
    jitter.end()
    assert jitter.warnings() == []
    # the container's count of a variable-rate file is its duration times a guessed rate
    estimated = InputLog(fps=40.0, declared=50)
    for index, msec in enumerate(VARIABLE_MS):
        estimated.record(index, msec)
    estimated.end()
    warnings = estimated.warnings()
    assert len(warnings) == 1 and "frame rate varies" in warnings[0]
    cut = InputLog(fps=40.0, declared=50)  # the same file cut after its 12th frame
    for index, msec in enumerate(VARIABLE_MS[:12]):
        cut.record(index, msec)
    cut.end()
    assert any("12 frames decoded of the 50" in w for w in cut.warnings())
    stopped = InputLog(fps=40.0, declared=50)  # stopped early (--max-frames): not missing
    stopped.record(0, 0.0)
    assert stopped.warnings() == []


# -- inputs that cannot show a person ---------------------------------------------------
def test_transparent_and_deep_images_are_noted(tmp_path):
    clear = write_rgba(tmp_path / "clear.png", 0)
    assert "fully transparent" in " ".join(image_notes(clear))
    half = np.zeros((128, 96), np.uint8)
    half[:, :48] = 255
    assert "transparent in parts" in " ".join(image_notes(write_rgba(tmp_path / "h.png", half)))
    assert image_notes(write_rgba(tmp_path / "opaque.png", 255)) == []
    deep = tmp_path / "deep.png"
    cv2.imwrite(str(deep), np.full((100, 80, 3), 40000, np.uint16))
    assert image_notes(deep) == ["the image has 16 bits per channel: read scaled to 8 bits"]
    plain = tmp_path / "plain.jpg"
    cv2.imwrite(str(plain), np.full((100, 80, 3), 40, np.uint8))
    assert image_notes(plain) == []


def test_transparent_image_warning_reaches_the_predictions(predictor, tmp_path):
    pred = predictor.predict_video(write_rgba(tmp_path / "clear.png", 0))
    assert pred["kind"] == "image"
    assert any("fully transparent" in w for w in pred["warnings"])


@pytest.mark.parametrize("size, says", [((64, 48), "under 64 px a side"),
                                        ((10000, 200), "crop it into parts"),
                                        ((200, 1000), "crop it into parts"),
                                        ((1280, 720), None), ((64, 64), None)])
def test_frames_too_small_to_see_a_person_in(size, says):
    warnings = size_warnings(*size, network_size=192)
    assert (warnings == []) == (says is None)
    if says:
        assert says in warnings[0]


def test_a_tiny_video_is_flagged_in_the_predictions(predictor, files, tmp_path):
    video = write_video(tmp_path / "tiny.avi", files["frames"][:3], (64, 48))
    pred = predictor.predict_video(video)
    assert any("64x48 px, under 64 px a side" in w for w in pred["warnings"])


# -- every format keeps the warnings and the times --------------------------------------
@pytest.mark.parametrize("fmt", ["json", "csv", "npz", "jsonl"])
def test_formats_keep_warnings_and_decoder_times(predictor, files, tmp_path, fmt):
    pred = predictor.predict_video(files["variable"])
    pred["frames"][3]["people"] = []  # a frame without anyone keeps its time in a CSV too
    path = tmp_path / f"variable.{fmt}"
    write_predictions(pred, path)
    back = load_predictions(path)
    assert back["warnings"] == pred["warnings"] and back["warnings"]
    assert [f["time"] for f in back["frames"]] == [f["time"] for f in pred["frames"]]
    assert back == json.loads(json.dumps(pred))


def test_older_files_without_warnings_still_read(tmp_path):
    header = {"schema": "posenet-predictions/1", "source": "x", "kind": "video", "width": 4,
              "height": 3, "fps": 10.0, "num_frames": 1,
              "skeleton": {"name": "x", "joints": [], "links": []}, "model": {},
              "action_classes": {}}
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps({**header, "num_frames": None}) + "\n"
                    + json.dumps({"index": 0, "time": 0.0, "people": []}) + "\n")
    assert load_predictions(path)["warnings"] == []
