"""Training: recipes and overrides, hold-out validation, metrics, masking, learning, NaN."""

import keras
import numpy as np
import pytest
from training_fixtures import action_recipe, render_file, sequence_file, tiny_recipe

from posenet.data.loader import Source
from posenet.losses import ElasticNetLoss, losses_for
from posenet.models import ActionNetwork
from posenet.training import (
    RECIPES,
    TrainingDiverged,
    apply_overrides,
    get_recipe,
    parse_assignments,
    train,
)
from posenet.training import data as tdata
from posenet.training.model import build, compile_model
from posenet.training.validation import accuracy, pose_metrics

pytestmark = pytest.mark.backend


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("training")
    render_file(root)
    sequence_file(root)
    return root


def test_recipes_are_complete_and_documented():
    paper = {"mpii_2d", "mpii_h36m_3d", "penn_multitask", "ntu_multitask",
             "penn_stage1_pose", "penn_stage2_action", "penn_stage3_full"}
    cpu = {"cpu_lspet_h36m", "cpu_actions_penn", "cpu_actions_jhmdb", "tiny"}
    assert paper | cpu <= set(RECIPES)
    for recipe in RECIPES.values():
        assert f"posenet train {recipe.name}" in recipe.description
        assert "test" not in recipe.validation["path"]  # never tune on a test split
    assert RECIPES["penn_stage2_action"].frozen == ["pose_network"]
    with pytest.raises(ValueError, match="known recipes: .*mpii_2d"):
        get_recipe("nope")


def test_overrides():
    assert parse_assignments(["a.b=1", "c=x", "d=[1, 2]"]) == {"a.b": 1, "c": "x",
                                                               "d": [1, 2]}
    recipe = apply_overrides(get_recipe("tiny"), {"lr": 0.5, "model.num_blocks": 2,
                                                  "sources.0.weight": 3})
    assert recipe.lr == 0.5 and recipe.model["num_blocks"] == 2
    assert recipe.sources[0]["weight"] == 3 and get_recipe("tiny").sources[0]["weight"] == 1
    with pytest.raises(ValueError, match="valid keys: .*batch_size"):
        apply_overrides(recipe, {"nope": 1})
    with pytest.raises(ValueError, match="batch_size must be"):
        apply_overrides(recipe, {"batch_size": 0})
    with pytest.raises(ValueError, match="index"):
        apply_overrides(recipe, {"sources.5.path": "x"})


def test_holdout_splits_sequences(folder):
    path = str(folder / "poses.h5")
    held = tdata.held_out_keys(path, 0.3, seed=0)
    assert len(held) == 3 and held == tdata.held_out_keys(path, 0.3, seed=0)
    names = dict(outputs=["action_toy_1"], num_frames=4, num_joints=16, pose_dims=2)
    key = (str(folder.resolve() / "poses.h5"), held, None)
    parts = {}
    for keep in (False, True):
        loader = tdata.HoldoutPoseSequenceLoader(
            [Source(path, action_dataset="toy")], holdout=(key[0], held, keep), **names)
        parts[keep] = {int(loader.datasets[0].arrays("sequence", [u[0]])[0])
                       for u in loader.units[0]}
    assert parts[True] == held and not parts[True] & parts[False]
    assert len(parts[False]) == 7


def test_holdout_seed_keeps_one_held_out_part_across_run_seeds(folder):
    recipes = [action_recipe(seed=seed, **{"validation.holdout_seed": 0}) for seed in (0, 3)]
    parts = [tdata._holdout(r, folder, True)[1] for r in recipes]
    assert parts[0] == parts[1] == tdata.held_out_keys(str(folder / "poses.h5"), 0.3, 0)
    # without it, the run's seed draws the part
    default = action_recipe(seed=3)
    assert tdata.holdout_seed(default.validation, default.seed) == 3
    assert tdata._holdout(default, folder, True)[1] == tdata.held_out_keys(
        str(folder / "poses.h5"), 0.3, 3)
    with pytest.raises(ValueError, match="holdout_seed must be an integer"):
        action_recipe(**{"validation.holdout_seed": "x"})


def test_pose_metrics_and_accuracy():
    rng = np.random.default_rng(0)
    gt = rng.uniform(0.2, 0.8, (5, 17, 3))
    target = np.concatenate([gt, np.ones_like(gt)], -1)
    for metric, perfect in (("pck", 1.0), ("pckh", 1.0), ("mpjpe", 0.0)):
        out = pose_metrics(gt, target, metric)
        assert out[metric] == pytest.approx(perfect) and out["joint_error"] == 0
    far = pose_metrics(gt + 0.5, target, "pck")
    assert far["pck"] == 0 and far["joint_error"] == pytest.approx(np.sqrt(0.5))
    onehot = np.eye(3)[[0, 1, 2, 0]]
    onehot[3] = 0  # unlabelled row: ignored
    assert accuracy(np.eye(3)[[0, 1, 1, 2]], onehot) == pytest.approx(2 / 3)


def test_tiny_recipe_learns_a_fixed_batch(folder):
    recipe = tiny_recipe()
    keras.utils.set_random_seed(0)
    model = build(recipe, folder)
    compile_model(model, recipe)
    x, y = tdata.training_loader(recipe, model, folder)[0]
    losses = model.fit(x, y, epochs=12, batch_size=4, verbose=0).history["loss"]
    assert losses[-1] < 0.75 * losses[0]


def test_action_part_ignores_unlabelled_clips():
    model = ActionNetwork({"toy": 3}, num_frames=4, num_joints=16, num_blocks=1,
                          pose_width=0.25)
    model.compile(keras.optimizers.RMSprop(0.1), loss=losses_for(model.output_names))
    rng = np.random.default_rng(0)
    x = {"poses": rng.random((4, 4, 16, 2), np.float32),
         "visibility": np.ones((4, 4, 16, 1), np.float32)}
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.train_on_batch(x, {"action_toy_1": np.zeros((4, 3), np.float32)})
    after = [w.numpy() for w in model.trainable_weights]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_unlabelled_depth_adds_no_loss():
    rng = np.random.default_rng(1)
    target = np.concatenate([rng.random((2, 17, 3)), np.ones((2, 17, 3))], -1)
    target[..., 5] = 0  # no z label anywhere
    pred = rng.random((2, 17, 3)).astype(np.float32)
    other = pred.copy()
    other[..., 2] += 0.7
    loss = ElasticNetLoss()
    assert float(loss(target, pred)) == pytest.approx(float(loss(target, other)))


def test_action_recipe_trains_on_pose_sequences(folder, tmp_path):
    result = train(action_recipe(epochs=1), tmp_path / "run", folder, verbose=0)
    assert 0 <= result.history["val_accuracy"][0] <= 1
    assert (tmp_path / "run" / "model.keras").is_file()


def test_nan_loss_stops_with_a_clear_message(folder, tmp_path, monkeypatch):
    original = tdata.HoldoutFrameLoader.__getitem__

    def poisoned(self, index):
        x, y = original(self, index)
        return x * np.nan, y

    monkeypatch.setattr(tdata.HoldoutFrameLoader, "__getitem__", poisoned)
    with pytest.raises(TrainingDiverged, match=r"NaN at epoch 1 batch 1; lower the learning "
                                               r"rate \(--set lr=\.\.\.\)"):
        train(tiny_recipe(epochs=1), tmp_path / "run", folder, verbose=0)
    assert not (tmp_path / "run" / "model.keras").exists()
    assert not (tmp_path / "run" / "backup").exists()


def test_span_recipe_trains_with_adamw_on_a_cosine_rate(folder, tmp_path):
    recipe = action_recipe(
        epochs=2, optimizer="adamw", weight_decay=1e-4, lr=1e-3, lr_schedule="cosine",
        model={"actions": {"toy": None}, "num_frames": 8, "num_joints": 16, "pose_dims": 2,
               "branch": "geometry", "filters": 4, "clip_span": 6},
        loader_options={"rotate": 10.0, "scale": 0.1, "span_fraction": 0.8})
    result = train(recipe, tmp_path / "run", folder, verbose=0)
    np.testing.assert_allclose(result.history["learning_rate"], [1e-3, 0.5e-3], rtol=1e-5)
    model = keras.models.load_model(tmp_path / "run" / "model.keras")
    assert model.clip_span == 6
    assert isinstance(model.optimizer, keras.optimizers.AdamW), model.optimizer
