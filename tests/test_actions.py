"""Action windows of tracks, batched through the action models by ActionRunner."""

import numpy as np
import pytest

from posenet.data.action_input import normalise_window
from posenet.data.action_labels import DEFAULT_UNCERTAIN_BELOW, UNCERTAIN
from posenet.inference.actions import ActionRunner, ActionWindows, track_actions

T, J = 8, 17


class Counting:
    """An ActionNetwork that counts its calls and the windows each call reads."""

    def __init__(self, model):
        self.model, self.calls = model, []
        self.pose_dims, self.actions = model.pose_dims, model.actions
        self.num_frames = model.num_frames
        self.uncertain_below = model.uncertain_below

    def predict_on_batch(self, inputs):
        self.calls.append(len(inputs["poses"]))
        return self.model.predict_on_batch(inputs)


@pytest.fixture(scope="module")
def network():
    from posenet.models import ActionNetwork

    return ActionNetwork({"penn_action": 15}, num_frames=T, num_joints=J, pose_dims=3,
                         num_blocks=1, pose_width=0.25)


def frames(count, seed):
    """``count`` random frames of one track: (index, joints2d, z, box)."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        joints = np.concatenate([rng.uniform(100, 300, (J, 2)), rng.uniform(0, 1, (J, 1))], 1)
        yield i, joints, rng.uniform(0.3, 0.7, J), np.array([90.0, 90.0, 310.0, 310.0])


def run_tracks(network, lengths, max_pending):
    model = Counting(network)
    runner = ActionRunner({"penn_action": model}, pose_dims=3, max_pending=max_pending)
    tracks = [ActionWindows(runner) for _ in lengths]
    for seed, (track, length) in enumerate(zip(tracks, lengths, strict=True)):
        for frame in frames(length, seed):
            track.add(*frame)
    for track in tracks:
        track.close()
    runner.flush()
    classes = {"penn_action": [f"c{i}" for i in range(15)]}
    return [t.result(classes)["penn_action"] for t in tracks], model.calls


def test_batched_windows_match_one_call_per_window(network):
    lengths = [21, 5, 12]  # full windows and a tail; a short track; windows ending exactly
    batched, calls = run_tracks(network, lengths, max_pending=64)
    single, single_calls = run_tracks(network, lengths, max_pending=1)
    # 21 frames: windows end at 8, 12, 16, 20 and the tail at 21; 5: one padded window;
    # 12: windows end at 8 and 12, no tail.
    spans = [[(w["start"], w["end"]) for w in r["windows"]] for r in batched]
    assert spans == [[(0, 7), (4, 11), (8, 15), (12, 19), (13, 20)], [(0, 4)], [(0, 7), (4, 11)]]
    assert calls == [8] and single_calls == [1] * 8
    for a, b in zip(batched, single, strict=True):
        assert a["label"] == b["label"]
        for wa, wb in zip(a["windows"], b["windows"], strict=True):
            np.testing.assert_allclose(wa["probabilities"], wb["probabilities"], atol=1e-5)


def test_pending_windows_flush_when_full(network):
    _, calls = run_tracks(network, [40], max_pending=3)
    # 40 frames, T 8, stride 4: 9 windows in calls of 3 (no tail: 40 ends a window).
    assert calls == [3, 3, 3]


def test_window_normalisation_matches_training_layout():
    joints = np.zeros((T, J, 3))
    joints[..., 0], joints[..., 1], joints[..., 2] = 100.0, 300.0, 1.0
    joints[:, 0, :2] = [300.0, 100.0]  # one joint at the other corner: the extent is 200 px
    joints[:, 1, 2] = 0.1  # unsure: zero coordinates, not visible
    z = np.full((T, J), 0.2)
    boxes = np.tile([100.0, 100.0, 300.0, 300.0], (T, 1))
    poses, vis = normalise_window(joints, z, boxes, 3)
    assert poses.shape == (T, J, 3) and vis.shape == (T, J, 1)
    assert vis[:, 1, 0].max() == 0 and poses[:, 1].max() == 0
    np.testing.assert_allclose(poses[0, 0], [1.0, 0.0, 0.5])
    np.testing.assert_allclose(poses[0, 2], [0.0, 1.0, 0.5])


def test_track_probabilities_are_the_mean_of_its_windows(network):
    results, _ = run_tracks(network, [21, 5, 12], max_pending=64)
    for r in results:
        windows = np.array([w["probabilities"] for w in r["windows"]])
        np.testing.assert_allclose(r["probabilities"], windows.mean(0), atol=2e-6)
        assert r["best"] == f"c{int(np.argmax(windows.mean(0)))}"
        assert r["confidence"] == pytest.approx(windows.mean(0).max(), abs=2e-6)
        # A network saved without a calibrated threshold gets the default.
        assert r["threshold"] == DEFAULT_UNCERTAIN_BELOW
        assert r["label"] == (r["best"] if r["confidence"] >= r["threshold"] else UNCERTAIN)


def test_uncertain_below_the_threshold_and_the_class_above():
    classes = ["run", "jump", "sit"]
    # Two sure windows that disagree: a product would say "run" at 0.9 / (0.9 + 0.1);
    # the mean says run 0.5, jump 0.45.
    windows = [{"probabilities": [0.9, 0.1, 0.0]}, {"probabilities": [0.1, 0.8, 0.1]}]
    unsure = track_actions(windows, classes, threshold=0.6)
    assert unsure["label"] == UNCERTAIN and unsure["best"] == "run"
    np.testing.assert_allclose(unsure["probabilities"], [0.5, 0.45, 0.05])
    assert unsure["confidence"] == pytest.approx(0.5)
    sure = track_actions(windows, classes, threshold=0.5)
    assert sure["label"] == "run" and sure["best"] == "run"
    assert track_actions(windows[:1], classes, threshold=0.6)["label"] == "run"


def test_thresholds_travel_with_the_network(network, tmp_path):
    import keras

    from posenet.models import ActionNetwork

    calibrated = ActionNetwork({"penn_action": 15}, num_frames=T, num_joints=J, pose_dims=3,
                               num_blocks=1, pose_width=0.25,
                               uncertain_below={"penn_action": 0.37})
    calibrated.save(tmp_path / "calibrated.keras")
    loaded = keras.saving.load_model(tmp_path / "calibrated.keras", compile=False)
    assert loaded.uncertain_below == {"penn_action": 0.37}
    runner = ActionRunner({"penn_action": loaded}, pose_dims=3)
    assert runner.threshold("penn_action") == pytest.approx(0.37)
    # A network saved before thresholds existed: its config has no key; the default.
    config = network.get_config()
    config.pop("uncertain_below")
    old = ActionNetwork.from_config(config)
    assert old.uncertain_below == {}
    assert ActionRunner({"penn_action": old}, 3).threshold("penn_action") == \
        DEFAULT_UNCERTAIN_BELOW
    track = ActionWindows(ActionRunner({"penn_action": loaded}, pose_dims=3))
    for frame in frames(T, 0):
        track.add(*frame)
    track.runner.flush()
    result = track.result({"penn_action": [f"c{i}" for i in range(15)]})["penn_action"]
    assert result["threshold"] == pytest.approx(0.37)
    assert result["label"] == (UNCERTAIN if result["confidence"] < 0.37 else result["best"])


def _expected(network, items, dims=3):
    poses, vis = normalise_window(np.stack([f[1] for f in items]), np.stack([f[2] for f in items]),
                                  np.stack([f[3] for f in items]), dims)
    return network.predict_on_batch({"poses": poses[None], "visibility": vis[None]})


def test_each_model_slides_windows_of_its_own_length(network):
    from posenet.models import ActionNetwork

    long = ActionNetwork({"jhmdb": 4}, num_frames=2 * T, num_joints=J, pose_dims=2,
                         branch="geometry", filters=4)
    runner = ActionRunner({"penn_action": network, "jhmdb": long}, pose_dims=3)
    assert runner.window_lengths == {"penn_action": T, "jhmdb": 2 * T}
    track = ActionWindows(runner)
    items = list(frames(3 * T, seed=3))
    for frame in items:
        track.add(*frame)
    track.close()
    runner.flush()
    got = track.result({"penn_action": [f"c{i}" for i in range(15)],
                        "jhmdb": [f"j{i}" for i in range(4)]})
    # the 8-frame network reads every 8 frames, 4 apart; the 16-frame one 16 frames, 8 apart
    starts = range(0, 2 * T + 1, T // 2)
    assert [(w["start"], w["end"]) for w in got["penn_action"]["windows"]] == \
        [(s, s + T - 1) for s in starts]
    assert [(w["start"], w["end"]) for w in got["jhmdb"]["windows"]] == [(0, 15), (8, 23)]
    for w, start in zip(got["penn_action"]["windows"], starts, strict=True):
        np.testing.assert_allclose(w["probabilities"],
                                   _expected(network, items[start:start + T])
                                   ["action_penn_action_1"][0], atol=1e-5)
    np.testing.assert_allclose(got["jhmdb"]["windows"][1]["probabilities"],
                               _expected(long, items[T:], 2)["action_jhmdb_1"][0], atol=1e-5)
    # a track shorter than both: each network reads its frames padded to its own length
    short_track = ActionWindows(runner)
    for frame in items[:5]:
        short_track.add(*frame)
    short_track.close()
    runner.flush()
    got = short_track.result({"penn_action": [f"c{i}" for i in range(15)],
                              "jhmdb": [f"j{i}" for i in range(4)]})
    padded = items[:5] + [items[4]] * (T - 5)
    poses, vis = normalise_window(np.stack([f[1] for f in padded]),
                                  np.stack([f[2] for f in padded]),
                                  np.stack([f[3] for f in padded]), 3)
    expected = network.predict_on_batch({"poses": poses[None], "visibility": vis[None]})
    np.testing.assert_allclose(got["penn_action"]["windows"][0]["probabilities"],
                               expected["action_penn_action_1"][0], atol=1e-5)
