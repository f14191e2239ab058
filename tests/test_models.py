"""Networks and presets: build, forward, cut, save/load (run under TensorFlow and JAX)."""

import keras
import numpy as np
import pytest

from posenet.losses import loss_weights_for, losses_for
from posenet.models import (
    PRESETS,
    ActionNetwork,
    MobilePoseNetwork,
    MultitaskModel,
    PoseNetwork,
    build_model,
    flops_per_frame,
    get_preset,
)

pytestmark = pytest.mark.backend

SMALL_2D = dict(input_size=64, num_joints=16, num_blocks=2, kernel_size=3, num_features=32,
                stem_width=0.25, context_maps=2)
SMALL_3D = dict(input_size=64, num_joints=17, num_blocks=3, kernel_size=3, num_features=32,
                stem_width=0.25, depth_maps=4)
SMALL_MOBILE = dict(input_size=64, num_joints=17, num_blocks=3, alpha=0.35, depth_maps=4)


def predict(model, x):
    return {k: keras.ops.convert_to_numpy(v) for k, v in model.predict_on_batch(x).items()}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_and_runs_at_reduced_size(name, rng):
    preset = get_preset(name)
    frames = 4 if preset.is_multitask else 0
    model = build_model(name, input_size=64, num_blocks=2, num_frames=frames)
    shape = (2, frames, 64, 64, 3) if frames else (2, 64, 64, 3)
    out = predict(model, rng.random(shape, dtype=np.float32))
    lead = (2, frames) if frames else (2,)
    joints, dims = preset.pose["num_joints"], 3 if preset.pose.get("depth_maps") else 2
    for k in (1, 2):
        assert out[f"pose_{k}"].shape == lead + (joints, dims)
        assert out[f"visibility_{k}"].shape == lead + (joints, 1)
        assert np.all((out[f"pose_{k}"] >= 0) & (out[f"pose_{k}"] <= 1))
        assert np.all((out[f"visibility_{k}"] >= 0) & (out[f"visibility_{k}"] <= 1))
    assert "pose_3" not in out
    for dataset, classes in preset.actions.items():
        probs = out[f"action_{dataset}_4"]
        assert probs.shape == (2, classes)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_documents_its_measured_size(name):
    """The parameters and GFLOPs written in the preset are those of the model it builds."""
    preset = get_preset(name)
    model = build_model(name)
    assert model.count_params() == preset.params
    assert flops_per_frame(model) / 1e9 == pytest.approx(preset.gflops, abs=0.01)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match="known presets: .*mpii_2d"):
        get_preset("mpii_3d")


def test_input_size_must_be_a_multiple_of_32():
    with pytest.raises(ValueError, match="multiple of 32"):
        PoseNetwork(input_size=100)


@pytest.mark.parametrize("config", [SMALL_2D, SMALL_3D], ids=["2d-context", "3d-volumetric"])
def test_cut_network_reproduces_the_full_networks_blocks(config, rng):
    full = PoseNetwork(**config)
    cut = full.truncated(1)
    x = rng.random((2, 64, 64, 3), dtype=np.float32)
    a, b = predict(full, x), predict(cut, x)
    assert sorted(b) == ["pose_1", "visibility_1"]
    np.testing.assert_allclose(b["pose_1"], a["pose_1"], atol=1e-6)
    np.testing.assert_allclose(b["visibility_1"], a["visibility_1"], atol=1e-6)
    assert cut.count_params() < full.count_params()
    with pytest.raises(ValueError):
        full.truncated(config["num_blocks"] + 1)


def test_mobile_network_cuts_and_starts_every_block_as_the_first(rng):
    """The re-injection and refinement start at zero: before training, with the blocks'
    heads set alike (as the MoveNet import does), every block predicts the same; after a
    change to the re-injection they differ. A cut keeps the person heads."""
    full = MobilePoseNetwork(**SMALL_MOBILE)
    for block in (2, 3):
        for layer in ("sepconv", "heatmaps"):
            full.get_layer(f"block{block}_{layer}").set_weights(
                full.get_layer(f"block1_{layer}").get_weights())
    x = rng.random((2, 64, 64, 3), dtype=np.float32)
    out = predict(full, x)
    np.testing.assert_allclose(out["pose_3"], out["pose_1"], atol=1e-5)
    cut = full.truncated(2)
    got = predict(cut, x)
    assert sorted(got) == ["person_center", "person_regress", "pose_1", "pose_2",
                           "visibility_1", "visibility_2"]
    np.testing.assert_allclose(got["pose_2"], out["pose_2"], atol=1e-6)
    remap = full.get_layer("block1_remap_features")
    remap.set_weights([w + rng.normal(0, 0.5, w.shape).astype(w.dtype)
                       for w in remap.get_weights()])
    moved = predict(full, x)
    assert np.abs(moved["pose_2"] - out["pose_2"]).max() > 1e-4
    np.testing.assert_allclose(moved["pose_1"], out["pose_1"], atol=1e-6)


def _randomise(model, rng):
    """Perturb the normalisation statistics and biases (kernels keep their random
    initialisation), so that a save/load round trip cannot pass by chance while the
    signal keeps its scale through the ~40 normalisations."""
    for w in model.weights:
        name = w.path.rsplit("/", 1)[-1]
        if name in ("gamma", "moving_variance"):
            w.assign(rng.uniform(0.8, 1.2, w.shape).astype(w.dtype))
        elif name in ("beta", "moving_mean", "bias"):
            w.assign(rng.normal(0.0, 0.1, w.shape).astype(w.dtype))


@pytest.mark.parametrize("kind", ["pose2d", "pose3d", "mobile", "multitask", "action",
                                  "geometry"])
def test_saved_model_loads_back_with_identical_outputs(kind, tmp_path, rng):
    if kind == "mobile":
        model, x = MobilePoseNetwork(**SMALL_MOBILE), rng.random((2, 64, 64, 3), dtype=np.float32)
    elif kind == "pose2d":
        model, x = PoseNetwork(**SMALL_2D), rng.random((2, 64, 64, 3), dtype=np.float32)
    elif kind == "pose3d":
        model, x = PoseNetwork(**SMALL_3D), rng.random((2, 64, 64, 3), dtype=np.float32)
    elif kind == "multitask":
        model = MultitaskModel(pose=SMALL_3D, actions={"penn_action": 15, "jhmdb": 14},
                               num_frames=4, appearance_width=16)
        x = rng.random((2, 4, 64, 64, 3), dtype=np.float32)
    elif kind == "geometry":
        model = ActionNetwork({"jhmdb": 14}, num_frames=16, num_joints=17, pose_dims=2,
                              branch="geometry", filters=8)
        x = {"poses": rng.random((2, 16, 17, 2), dtype=np.float32),
             "visibility": np.ones((2, 16, 17, 1), np.float32)}
    else:
        model = ActionNetwork({"penn_action": 15}, num_frames=8, num_joints=17, pose_dims=3,
                              bn_momentum=0.8)
        x = {"poses": rng.random((2, 8, 17, 3), dtype=np.float32),
             "visibility": np.ones((2, 8, 17, 1), np.float32)}
    _randomise(model, rng)
    before = predict(model, x)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    after = predict(loaded, x)
    assert sorted(after) == sorted(before)
    if kind == "action":  # the moving statistics' momentum survives the round trip
        momenta = {layer.momentum for layer in loaded.layers
                   if isinstance(layer, keras.layers.BatchNormalization)}
        assert momenta == {0.8}
    for key in before:
        np.testing.assert_allclose(after[key], before[key], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["pose2d", "pose3d", "mobile"])
def test_softargmax_window_moves_only_the_joints_x_y_and_is_saved(kind, tmp_path, rng):
    """``with_window`` keeps the weights: visibilities and depths are unchanged, x, y move,
    a window wider than the maps is the whole map again, and the window survives a save
    (through ``posenet tools softargmax-window``); files saved before the
    option load with the whole map."""
    from click.testing import CliRunner

    from cli.tools import tools

    cls, config = {"pose2d": (PoseNetwork, SMALL_2D), "pose3d": (PoseNetwork, SMALL_3D),
                   "mobile": (MobilePoseNetwork, SMALL_MOBILE)}[kind]
    model = cls(**config)
    _randomise(model, rng)
    x = rng.random((2, 64, 64, 3), dtype=np.float32)
    whole = predict(model, x)
    windowed = predict(model.with_window(1), x)
    assert np.abs(windowed["pose_1"][..., :2] - whole["pose_1"][..., :2]).max() > 1e-4
    np.testing.assert_allclose(windowed["visibility_1"], whole["visibility_1"], atol=1e-6)
    if kind == "pose3d":
        np.testing.assert_allclose(windowed["pose_1"][..., 2], whole["pose_1"][..., 2],
                                   atol=1e-6)
    wide = predict(model.with_window(64), x)
    np.testing.assert_allclose(wide["pose_1"], whole["pose_1"], atol=1e-5)

    source, target = tmp_path / "source.keras", tmp_path / "target.keras"
    model.save(source)
    result = CliRunner().invoke(tools, ["softargmax-window", str(source), "--window", "1",
                                        "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert f"{target}: {cls.__name__} with soft-argmax window 1" in result.output
    loaded = keras.saving.load_model(target)
    assert loaded.get_config()["softargmax_window"] == 1
    for key, value in predict(loaded, x).items():
        np.testing.assert_allclose(value, windowed[key], rtol=1e-5, atol=1e-6)
    old = {k: v for k, v in model.get_config().items() if k != "softargmax_window"}
    assert cls.from_config(old).softargmax_window == 0


def test_softargmax_window_refuses_other_networks():
    from posenet.models.softargmax_window import with_window

    action = ActionNetwork({"jhmdb": 14}, num_frames=16, num_joints=17, pose_dims=2,
                           branch="geometry", filters=8)
    with pytest.raises(ValueError, match="not a single-frame pose network"):
        with_window(action, 3)
    with pytest.raises(ValueError, match="window"):
        with_window(MobilePoseNetwork(**SMALL_MOBILE), -1)


def test_multitask_cut_keeps_the_action_part(rng):
    model = MultitaskModel(pose=SMALL_2D, actions={"penn_action": 15}, num_frames=4,
                           appearance_width=16)
    _randomise(model, rng)
    cut = model.truncated(1)
    x = rng.random((1, 4, 64, 64, 3), dtype=np.float32)
    a, b = predict(model, x), predict(cut, x)
    np.testing.assert_allclose(b["pose_1"], a["pose_1"], atol=1e-6)
    assert "pose_2" not in b and b["action_penn_action_4"].shape == (1, 15)
    # The action part now reads block 1's poses, so its prediction changes.
    assert not np.allclose(b["action_penn_action_4"], a["action_penn_action_4"])


def test_fit_with_dict_losses_reduces_the_loss(rng):
    """The named outputs train with model.fit and the masked losses of the method."""
    keras.utils.set_random_seed(0)
    model = PoseNetwork(input_size=32, num_joints=4, num_blocks=2, kernel_size=3,
                        num_features=16, stem_width=0.25)
    names = list(model.output_names) if hasattr(model, "output_names") else None
    names = names or [f"{k}_{b}" for b in (1, 2) for k in ("pose", "visibility")]
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss=losses_for(names),
                  loss_weights=loss_weights_for(names))
    x = rng.random((8, 32, 32, 3), dtype=np.float32)
    pose = np.concatenate([rng.uniform(0.2, 0.8, (8, 4, 2)), np.ones((8, 4, 2))], axis=-1)
    pose[:, 0, 2:] = 0  # joint 0 unlabelled everywhere
    vis = np.stack([np.ones((8, 4)), np.ones((8, 4))], axis=-1)
    y = {n: (pose if n.startswith("pose") else vis).astype("float32") for n in names}
    history = model.fit(x, y, epochs=15, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.7 * losses[0]


def test_mixed_precision_keeps_the_heads_in_float32(rng):
    """Under mixed_float16 the convolutions run in float16, the soft-argmax in float32."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = PoseNetwork(**SMALL_3D)
        out = predict(model, rng.random((2, 64, 64, 3), dtype=np.float32))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.get_layer("block1_heatmaps").compute_dtype == "float16"
    assert model.get_layer("pose_1").compute_dtype == "float32"
    assert out["pose_3"].dtype == np.float32 and np.isfinite(out["pose_3"]).all()
    assert np.all((out["pose_3"] >= 0) & (out["pose_3"] <= 1))
