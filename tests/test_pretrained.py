"""MoveNet import: the TF.js reader, the Keras rebuild, and the proof on real photos."""

import json

import numpy as np
import pytest

from posenet.pretrained.tfjs import TfjsError, read_graph_model


def _write_tfjs(folder, tensors, name="movenet-tiny"):
    """A TF.js graph model of ``tensors`` (name -> float32 array), float16-quantised."""
    manifest = [{"name": k, "shape": list(v.shape), "dtype": "float32",
                 "quantization": {"dtype": "float16", "original_dtype": "float32"}}
                for k, v in tensors.items()]
    model = {"format": "graph-model", "generatedBy": "test", "modelTopology": {"node": []},
             "weightsManifest": [{"paths": [f"{name}.bin"], "weights": manifest}]}
    (folder / f"{name}.json").write_text(json.dumps(model))
    data = b"".join(v.astype(np.float16).tobytes() for v in tensors.values())
    (folder / f"{name}.bin").write_bytes(data)
    return folder / f"{name}.json"


def test_reader_returns_float32_tensors_in_manifest_order(tmp_path, rng):
    tensors = {"a/w": rng.normal(size=(3, 3, 2, 4)).astype(np.float32),
               "b/bias": rng.normal(size=(4,)).astype(np.float32)}
    graph = read_graph_model(_write_tfjs(tmp_path, tensors))
    assert list(graph.weights) == ["a/w", "b/bias"]
    for k, v in tensors.items():
        assert graph.weights[k].dtype == np.float32 and graph.weights[k].shape == v.shape
        np.testing.assert_allclose(graph.weights[k], v, rtol=1e-3, atol=1e-3)  # float16
    assert graph.find("bias").shape == (4,)
    with pytest.raises(TfjsError, match="expected one weight"):
        graph.find("nothing")


def test_reader_refuses_short_or_long_weights_and_non_models(tmp_path, rng):
    path = _write_tfjs(tmp_path, {"w": rng.normal(size=(8,)).astype(np.float32)})
    bin_path = tmp_path / "movenet-tiny.bin"
    full = bin_path.read_bytes()
    bin_path.write_bytes(full[:-2])
    with pytest.raises(TfjsError, match="end before tensor"):
        read_graph_model(path)
    bin_path.write_bytes(full + b"\0\0")
    with pytest.raises(TfjsError, match="manifest describes"):
        read_graph_model(path)
    other = tmp_path / "other.json"
    other.write_text("{}")
    with pytest.raises(TfjsError, match="not a TF.js graph model"):
        read_graph_model(other)
    with pytest.raises(TfjsError, match="cannot read"):
        read_graph_model(tmp_path / "missing.json")


def test_coco_combination_gives_every_model17_joint_unit_weight():
    from posenet.pretrained.initialise import coco_combination
    from posenet.pretrained.movenet import COCO_KEYPOINTS
    from posenet.skeleton import get_skeleton

    mix = coco_combination("model17")
    assert mix.shape == (17, 17)
    np.testing.assert_allclose(mix.sum(0), 1.0)
    skel = get_skeleton("model17")
    knee = skel.index("l_knee")
    assert mix[COCO_KEYPOINTS.index("l_knee"), knee] == 1.0 and mix[:, knee].sum() == 1.0
    pelvis = skel.index("pelvis")
    assert mix[COCO_KEYPOINTS.index("l_hip"), pelvis] == 0.5


def test_movenet_decoding_follows_the_centre_and_the_regression():
    """Synthetic heads: two heatmap peaks per joint; the one near the regressed keypoint
    wins, and the offset refines it."""
    from posenet.pretrained.movenet import decode_single

    rows = cols = 16
    heads = {"heatmap": np.full((1, rows, cols, 17), -8.0), "center": np.full((1, rows, cols, 1),
             -8.0), "regress": np.zeros((1, rows, cols, 34)), "offset": np.zeros((1, rows, cols,
             34))}
    heads["center"][0, 6, 9, 0] = 5.0
    heads["regress"][0, 6, 9, 0::2] = 3.0  # every joint 3 rows below the centre
    heads["heatmap"][0, 9, 9, :] = 2.0     # near the regressed point
    heads["heatmap"][0, 1, 1, :] = 3.0     # stronger but far away
    heads["offset"][0, 9, 9, 1::2] = 0.25
    out = decode_single(heads)
    np.testing.assert_allclose(out[:, 0], (9 + 0.25) / cols)
    np.testing.assert_allclose(out[:, 1], 9 / rows)
    np.testing.assert_allclose(out[:, 2], 1 / (1 + np.exp(-2.0)))


def test_person_in_heads_reads_the_regressed_keypoints_at_the_centre():
    from posenet.inference.person_finder import keypoints_box, person_in_heads

    center = np.zeros((24, 24, 1))
    center[5, 18, 0] = 0.9  # off-centre, but the only person
    regress = np.zeros((24, 24, 34))
    regress[5, 18, 0::2] = np.linspace(-3, 3, 17)  # dy
    points, score = person_in_heads(center, regress)
    assert score == pytest.approx(0.9)
    np.testing.assert_allclose(points[:, 0], 18 / 24)
    np.testing.assert_allclose(points[:, 1], (5 + np.linspace(-3, 3, 17)) / 24)
    box = keypoints_box(points * 240, padding=0.0, min_side=1.0)
    np.testing.assert_allclose(box[[1, 3]], [(5 - 3) * 10, (5 + 3) * 10])


# ---------------------------------------------------------------- real MoveNet files


@pytest.fixture
def movenet_dir(shared_data):
    folder = shared_data / "pretrained" / "movenet"
    if not (folder / "movenet-lightning.json").exists():
        pytest.skip(f"MoveNet files not found in {folder}")
    return folder


@pytest.fixture
def lspet_crops(shared_data, tmp_path_factory):
    """The prepared LSPet validation file and a fixed subset of it (images 8001-8064)."""
    return _lspet_subset(shared_data, tmp_path_factory.mktemp("lspet") / "lspet_sub.h5")


def _lspet_subset(shared_data, path, count=64):
    from click.testing import CliRunner

    from cli.main import main

    full = path.parent / "lspet_validation.h5"
    result = CliRunner().invoke(main, ["prepare", "lspet", "--source",
                                       str(shared_data / "lspet"), "--split", "validation",
                                       "--out", str(full)])
    assert result.exit_code == 0, result.output
    return full, np.arange(count)


@pytest.mark.data
@pytest.mark.slow
def test_imported_lightning_places_keypoints_on_real_people(movenet_dir, lspet_crops):
    """The conversion's proof: >= 50% PCK@0.2 on 12 limb joints of real LSPet photos
    (58.7% on all 1000 validation images; a wrong conversion gives about 0)."""
    from posenet.data.prepared import PreparedDataset
    from posenet.pretrained.accuracy import limb_pck
    from posenet.pretrained.movenet import import_movenet

    model, graph = import_movenet(movenet_dir, "lightning")
    assert "lightning" in graph.generated_by
    out = model.predict_on_batch(np.zeros((1, 192, 192, 3), np.float32))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "heatmap": (1, 48, 48, 17), "center": (1, 48, 48, 1), "regress": (1, 48, 48, 34),
        "offset": (1, 48, 48, 34)}
    path, indices = lspet_crops
    dataset = PreparedDataset(path)
    try:
        assert limb_pck(model, dataset, indices) >= 0.5
    finally:
        dataset.close()


@pytest.mark.data
def test_thunder_initialises_the_large_preset_and_not_the_small_one(movenet_dir, rng):
    from posenet.models import build_model
    from posenet.pretrained.initialise import initialise_from_movenet, pretrained_network
    from posenet.pretrained.movenet import source_files

    graph = read_graph_model(source_files(movenet_dir, "thunder"))
    with pytest.raises(TfjsError, match="do not fit"):
        initialise_from_movenet(build_model("mobile_3d"), graph)
    large, _ = pretrained_network("mobile_3d_large", movenet_dir)
    out = large.predict_on_batch(rng.random((1, 256, 256, 3), dtype=np.float32))
    # the blocks start as MoveNet's heatmap head, so both predict the same
    np.testing.assert_allclose(np.asarray(out["pose_2"]), np.asarray(out["pose_1"]), atol=1e-5)
    assert np.asarray(out["person_center"]).shape == (1, 64, 64, 1)


@pytest.mark.data
@pytest.mark.slow
def test_short_training_from_the_imported_weights_lowers_the_loss(movenet_dir, lspet_crops):
    """The heads on the imported backbone learn: a few steps on one fixed batch of real
    LSPet crops (backbone frozen, as stage 1 of the recipes) lower its loss."""
    import keras

    from posenet.data.loader import FrameLoader
    from posenet.losses import loss_weights_for, losses_for
    from posenet.pretrained.initialise import pretrained_network

    keras.utils.set_random_seed(0)
    network, _ = pretrained_network("mobile_3d", movenet_dir)
    for layer in network.layers:
        if not layer.name.startswith("block") or layer.name.startswith("block_"):
            layer.trainable = False
    names = list(network.output_names)
    network.compile(optimizer=keras.optimizers.Adam(1e-3), loss=losses_for(names),
                    loss_weights=loss_weights_for(names))
    path, _ = lspet_crops
    x, y = FrameLoader([str(path)], network, batch_size=8, steps=1, seed=0)[0]
    before = network.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    network.fit(x, y, epochs=8, batch_size=8, verbose=0)
    after = network.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert after < 0.8 * before


@pytest.mark.parametrize("args, message", [
    (["--out", "x.h5"], "must end with .keras"),
    (["--preset", "cpu_3d"], "has no pretrained backbone"),
    ([], "no movenet-lightning.json"),
])
def test_pretrained_command_refuses_bad_input_and_writes_nothing(tmp_path, args, message):
    from click.testing import CliRunner

    from cli.main import main

    out = tmp_path / "out" / "init.keras"
    out.parent.mkdir()
    argv = ["pretrained", "--source", str(tmp_path), "--out", str(out), *args]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code != 0 and message in result.output
    assert list(out.parent.iterdir()) == []


def test_pretrained_command_keeps_an_existing_file(tmp_path):
    from click.testing import CliRunner

    from cli.main import main

    out = tmp_path / "init.keras"
    out.write_text("mine")
    result = CliRunner().invoke(main, ["pretrained", "--source", str(tmp_path), "--out",
                                       str(out)])
    assert result.exit_code != 0 and "--force" in result.output
    assert out.read_text() == "mine"
