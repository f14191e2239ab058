"""Which video frames a span action network reads (posenet.data.time_sampling), and the
places that follow it: evaluation clips, inference windows, the saved network."""

import numpy as np
import pytest

from posenet.data.action_input import fit_window
from posenet.data.time_sampling import frames_read, random_span, resample, sliding_spans
from posenet.evaluation.clips import model_clips, sliding_clips


def test_resample_spreads_from_first_to_last():
    np.testing.assert_array_equal(resample(np.arange(10, 20), 4), [10, 13, 16, 19])
    np.testing.assert_array_equal(resample(np.arange(3), 5), [0, 0, 1, 2, 2])
    np.testing.assert_array_equal(resample([7], 3), [7, 7, 7])
    with pytest.raises(ValueError, match="empty"):
        resample([], 3)


def test_random_span_reads_a_contiguous_part_of_the_allowed_length():
    rng = np.random.default_rng(0)
    frames = np.arange(100, 160)  # 60 frames, span 40: parts of 32..40 frames
    lengths, starts = set(), set()
    for _ in range(400):
        clip = random_span(frames, 8, 40, rng, min_fraction=0.8)
        assert len(clip) == 8 and (np.diff(clip) >= 0).all()
        lengths.add(int(clip[-1] - clip[0]) + 1)
        starts.add(int(clip[0]))
    assert min(lengths) == 32 and max(lengths) == 40
    assert min(starts) == 100 and max(starts) >= 100 + 60 - 33
    # a video shorter than the span: the whole of it at fraction 1
    whole = random_span(np.arange(20), 32, 40, rng, min_fraction=1.0)
    assert whole[0] == 0 and whole[-1] == 19 and len(whole) == 32


def test_sliding_spans_cover_the_video():
    short = sliding_spans(np.arange(25), 8, 40)
    assert len(short) == 1
    np.testing.assert_array_equal(short[0], resample(np.arange(25), 8))
    spans = sliding_spans(np.arange(100), 8, 40)  # starts 0, 20, 40, 60 (ends on 99)
    assert [int(s[0]) for s in spans] == [0, 20, 40, 60]
    assert all(int(s[-1] - s[0]) == 39 for s in spans)


class _Spec:
    def __init__(self, num_frames, clip_span=None):
        self.num_frames, self.clip_span = num_frames, clip_span


def test_model_clips_follow_the_network():
    frames = np.arange(50)
    plain = model_clips(frames, _Spec(16))
    np.testing.assert_array_equal(np.stack(plain), np.stack(sliding_clips(frames, 16)))
    spans = model_clips(frames, _Spec(16, clip_span=40))
    np.testing.assert_array_equal(np.stack(spans), np.stack(sliding_spans(frames, 16, 40)))
    assert frames_read(_Spec(16)) == 16 and frames_read(_Spec(16, 40)) == 40


def test_fit_window_resamples_the_last_span():
    items = list(range(60))
    np.testing.assert_array_equal(fit_window(items, 8, clip_span=40),
                                  resample(np.arange(20, 60), 8))
    np.testing.assert_array_equal(fit_window(items[:5], 8, clip_span=40),
                                  resample(np.arange(5), 8))
    assert fit_window(items[:5], 8) == [0, 1, 2, 3, 4, 4, 4, 4]


def test_clip_span_is_saved_with_the_network(tmp_path):
    import keras

    from posenet.models import ActionNetwork

    model = ActionNetwork({"jhmdb": 4}, num_frames=8, num_joints=17, branch="geometry",
                          filters=4, clip_span=40)
    path = tmp_path / "span.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.clip_span == 40 and frames_read(loaded) == 40
    with pytest.raises(ValueError, match="clip_span"):
        ActionNetwork({"jhmdb": 4}, num_frames=8, num_joints=17, branch="geometry",
                      filters=4, clip_span=0)


def test_video_span_reads_the_same_seconds_at_another_rate():
    from posenet.data.time_sampling import video_span

    class Net(_Spec):
        def __init__(self, num_frames, clip_span=None, frame_rate=None):
            super().__init__(num_frames, clip_span)
            self.frame_rate = frame_rate

    assert video_span(Net(32, 40, 30.0), 60.0) == 80
    assert video_span(Net(32, 40, 30.0), 15.0) == 20
    assert video_span(Net(32, 40, 30.0), None) == 40  # a video without a rate: as trained
    assert video_span(Net(32, 40), 60.0) == 40  # a network without one: as before
    assert video_span(Net(16, None, 30.0), 60.0) == 32


def test_a_60_fps_track_is_read_over_the_trained_seconds():
    from posenet.data.action_input import normalise_window
    from posenet.inference.actions import ActionRunner, ActionWindows
    from posenet.models import ActionNetwork

    T, J = 8, 17
    net = ActionNetwork({"penn_action": 15}, num_frames=T, num_joints=J, pose_dims=2,
                        num_blocks=1, pose_width=0.25, frame_rate=30.0)
    runner = ActionRunner({"penn_action": net}, pose_dims=2, fps=60.0)
    assert runner.spans == runner.window_lengths == {"penn_action": 2 * T}
    rng = np.random.default_rng(0)
    items = [(i, np.concatenate([rng.uniform(100, 300, (J, 2)), np.ones((J, 1))], 1), None,
              np.array([90.0, 90.0, 310.0, 310.0])) for i in range(2 * T)]
    track = ActionWindows(runner)
    for item in items:
        track.add(*item)
    track.close()
    runner.flush()
    got = track.result({"penn_action": [f"c{i}" for i in range(15)]})["penn_action"]
    read = [items[i] for i in resample(np.arange(2 * T), T)]  # 16 frames, every other one
    poses, vis = normalise_window(np.stack([r[1] for r in read]), None,
                                  np.stack([r[3] for r in read]), 2)
    expected = net.predict_on_batch({"poses": poses[None], "visibility": vis[None]})
    np.testing.assert_allclose(got["windows"][0]["probabilities"],
                               expected["action_penn_action_1"][0], atol=1e-5)
    assert ActionRunner({"penn_action": net}, pose_dims=2, fps=30.0).window_lengths == {
        "penn_action": T}
