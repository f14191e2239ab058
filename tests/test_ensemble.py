"""Action network ensembles: joined networks average their members' probabilities."""

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from cli.tools import tools
from posenet.models import ActionNetwork
from posenet.models.ensemble import join

pytestmark = pytest.mark.backend


def _network(seed, **overrides):
    keras.utils.set_random_seed(seed)
    config = {"actions": {"jhmdb": 5}, "num_frames": 8, "num_joints": 17,
              "branch": "geometry", "filters": 8, "clip_span": 12, "frame_rate": 30.0}
    net = ActionNetwork(**{**config, **overrides})
    rng = np.random.default_rng(seed)
    for w in net.weights:  # statistics and biases away from their initial values
        if w.path.rsplit("/", 1)[-1] in ("moving_mean", "bias"):
            w.assign(rng.normal(0.0, 0.3, w.shape).astype(w.dtype))
    return net


def _inputs(rng, batch=3):
    return {"poses": rng.random((batch, 8, 17, 2), dtype=np.float32),
            "visibility": (rng.random((batch, 8, 17, 1)) > 0.2).astype(np.float32)}


def _probs(model, x):
    return keras.ops.convert_to_numpy(model.predict_on_batch(x)["action_jhmdb_1"])


def test_joined_network_outputs_the_mean_of_its_members(rng):
    members = [_network(seed) for seed in (1, 2, 3)]
    x = _inputs(rng)
    each = [_probs(m, x) for m in members]
    assert not np.allclose(each[0], each[1], atol=1e-3)  # the members really differ
    ensemble = join(members)
    assert ensemble.members == 3 and ensemble.clip_span == 12 and ensemble.frame_rate == 30
    np.testing.assert_allclose(_probs(ensemble, x), np.mean(each, 0), rtol=1e-5, atol=1e-6)
    assert set(ensemble.output_names) == {"action_jhmdb_1"}


def test_joined_network_saves_and_loads_back(rng, tmp_path):
    members = [_network(seed) for seed in (4, 5)]
    x = _inputs(rng)
    path = tmp_path / "ensemble.keras"
    files = [str(_save(m, tmp_path / f"m{i}.keras")) for i, m in enumerate(members)]
    result = CliRunner().invoke(tools, ["ensemble", *files, "--out", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: 2 members of {files[0]}, {files[1]}" in result.output
    loaded = keras.saving.load_model(path, compile=False)
    assert isinstance(loaded, ActionNetwork) and loaded.members == 2
    np.testing.assert_allclose(_probs(loaded, x), np.mean([_probs(m, x) for m in members], 0),
                               rtol=1e-5, atol=1e-6)


def _save(model, path):
    model.save(path)
    return path


def test_command_refuses_one_network_and_mismatched_members(tmp_path):
    one = str(_save(_network(1), tmp_path / "one.keras"))
    out = tmp_path / "ensemble.keras"
    result = CliRunner().invoke(tools, ["ensemble", one, "--out", str(out)])
    assert result.exit_code == 2 and "at least two networks" in result.output
    other = str(_save(_network(2, clip_span=16), tmp_path / "other.keras"))
    result = CliRunner().invoke(tools, ["ensemble", one, other, "--out", str(out)])
    assert result.exit_code == 2 and "clip_span" in result.output
    assert not out.exists()


def test_members_of_different_configs_or_branches_are_refused():
    with pytest.raises(ValueError, match="clip_span"):
        join([_network(1), _network(2, clip_span=16)])
    with pytest.raises(ValueError, match="at least two"):
        join([_network(1)])
    pose = ActionNetwork({"jhmdb": 5}, num_frames=8, num_joints=17, num_blocks=1)
    with pytest.raises(ValueError, match="geometric"):
        join([pose, pose])
    with pytest.raises(ValueError, match="members"):
        ActionNetwork({"jhmdb": 5}, num_frames=8, num_joints=17, members=2)
