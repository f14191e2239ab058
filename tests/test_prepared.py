"""Prepared HDF5 files: writer/reader round trip, atomicity, pickling, real-data converters."""

import os
import pickle

import cv2
import h5py
import numpy as np
import pytest

from posenet.data.converters import PREPARERS, bbox_from_joints
from posenet.data.prepared import PreparedDataset, PreparedWriter
from posenet.skeleton import get_skeleton

J = 17


def _chunk(rng, n, seq):
    joints = rng.uniform(0, 100, (n, J, 3)).astype(np.float32)
    joints[..., 2] = rng.integers(0, 2, (n, J))
    valid = rng.random((n, J)) > 0.2
    joints[~valid, :2] = np.nan
    return {
        "joints2d": joints,
        "valid2d": valid,
        "joints3d": rng.normal(0, 500, (n, J, 3)).astype(np.float32),
        "valid3d": np.ones((n, J), bool),
        "bbox": rng.uniform(0, 50, (n, 4)).astype(np.float32),
        "action": np.arange(n, dtype=np.int16) % 2,
        "sequence": np.full(n, seq, np.int32),
        "frame": np.arange(n, dtype=np.int32)[::-1].copy(),
        "camera": np.zeros(n, np.int16),
        "frame_ref": [f"vidé_{seq}.mp4#{i}" for i in range(n)],
        "image": [bytes(rng.integers(0, 256, i + 1, dtype=np.uint8)) for i in range(n)],
    }


CAMS = {"f": [[1, 2]], "c": [[3, 4]], "k": [[0, 0, 0]], "p": [[0, 0]], "R": [np.eye(3)],
        "T": [[0, 0, 0]]}  # fmt: skip


def _write(path, chunks):
    with PreparedWriter(
        path,
        "toy",
        "train",
        action_classes=["a", "b"],
        source="synthetic",
        embed_images=True,
        cameras=CAMS,
        compression=None,
        chunk=4,
    ) as w:
        for c in chunks:
            w.append(**c)
    return w.num_samples


def test_round_trip(tmp_path, rng):
    chunks = [_chunk(rng, 5, 7), _chunk(rng, 0, 8), _chunk(rng, 3, 2)]
    path = tmp_path / "toy.h5"
    assert _write(path, chunks) == 8
    d = PreparedDataset(path)
    assert len(d) == 8
    assert d.attrs["format"] == "posenet-prepared" and d.attrs["layout"] == "model17"
    assert d.attrs["action_classes"] == ["a", "b"] and d.attrs["num_samples"] == 8
    want = {k: np.concatenate([np.asarray(c[k]) for c in chunks if len(c["frame"])])
            for k in chunks[0] if k != "image"}  # fmt: skip
    for k in ("joints2d", "valid2d", "joints3d", "bbox", "action", "sequence", "frame"):
        np.testing.assert_array_equal(d.arrays(k), want[k])  # NaNs compare equal here
    assert np.isnan(d.arrays("joints2d")[~want["valid2d"]][:, :2]).all()
    s = d.sample(6)
    assert s["frame_ref"] == "vidé_2.mp4#1"
    assert s["image"] == chunks[2]["image"][1]
    idx = [7, 0, 3, 3]
    np.testing.assert_array_equal(d.arrays("joints3d", idx), want["joints3d"][idx])
    assert list(d.arrays("frame_ref", idx)) == [want["frame_ref"][i] for i in idx]
    seqs = d.sequences()
    assert sorted(seqs) == [2, 7]
    np.testing.assert_array_equal(seqs[7], [4, 3, 2, 1, 0])  # ordered by frame
    np.testing.assert_array_equal(d.cameras()["f"], [[1, 2]])
    d.close()


def test_writer_validates(tmp_path, rng):
    path = tmp_path / "bad.h5"
    with pytest.raises(ValueError, match="joints2d"):
        with PreparedWriter(path, "toy", "train") as w:
            w.append(joints2d=np.zeros((2, 16, 3)), valid2d=np.zeros((2, 16), bool))
    with pytest.raises(ValueError, match="valid2d"):
        with PreparedWriter(path, "toy", "train") as w:
            w.append(joints2d=np.zeros((2, J, 3)), valid2d=np.zeros((2, J)))
    with pytest.raises(ValueError, match="unknown"):
        with PreparedWriter(path, "toy", "train") as w:
            w.append(joints2d=np.zeros((2, J, 3)), valid2d=np.zeros((2, J), bool), foo=1)
    assert not path.exists()


def test_atomic_on_error(tmp_path, rng):
    path = tmp_path / "toy.h5"
    with pytest.raises(RuntimeError, match="boom"):
        with PreparedWriter(path, "toy", "train") as w:
            w.append(joints2d=np.zeros((2, J, 3)), valid2d=np.zeros((2, J), bool))
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_not_prepared(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as h5:
        h5["x"] = np.zeros(3)
    with pytest.raises(ValueError, match="other.h5"):
        PreparedDataset(path)
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    with pytest.raises(ValueError, match="text.h5"):
        PreparedDataset(text)


def test_pickle(tmp_path, rng):
    path = tmp_path / "toy.h5"
    _write(path, [_chunk(rng, 4, 1)])
    d = PreparedDataset(path)
    first = d.sample(2)
    copy = pickle.loads(pickle.dumps(d))
    assert copy._h5 is None
    np.testing.assert_array_equal(copy.sample(2)["joints3d"], first["joints3d"])
    assert copy.sample(2)["image"] == first["image"]
    d.close()
    copy.close()


def test_bbox_from_joints():
    xy = np.array([[[0, 0], [10, 20], [99, 99]]], np.float32)
    box = bbox_from_joints(xy, np.array([[True, True, False]]))
    np.testing.assert_allclose(box, [[-1, -2, 11, 22]])
    assert np.isnan(bbox_from_joints(xy, np.zeros((1, 3), bool))).all()


@pytest.mark.data
def test_lspet_validation(shared_data, tmp_path):
    path = tmp_path / "lspet.h5"
    assert PREPARERS["lspet"](shared_data / "lspet", path, "validation") == 1000
    d = PreparedDataset(path)
    assert len(d) == 1000 and d.attrs["layout"] == "model17"
    for i in (0, 500, 999):
        s = d.sample(i)
        img = cv2.imdecode(np.frombuffer(s["image"], np.uint8), cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        xy = s["joints2d"][s["valid2d"], :2]
        assert (xy[:, 0] >= -2).all() and (xy[:, 0] <= w + 2).all()
        assert (xy[:, 1] >= -2).all() and (xy[:, 1] <= h + 2).all()
    skel = get_skeleton("model17")
    valid = d.arrays("valid2d")
    hips = valid[:, skel.index("l_hip")] & valid[:, skel.index("r_hip")]
    np.testing.assert_array_equal(valid[:, skel.index("pelvis")], hips)
    assert not valid[:, skel.index("spine")].any()


@pytest.mark.data
def test_penn_action_test(shared_data, tmp_path):
    from posenet.data.readers.penn_action import read_penn_action

    path = tmp_path / "penn.h5"
    n = PREPARERS["penn_action"](shared_data / "penn_action", path, "test")
    d = PreparedDataset(path)
    clips = [c for c in read_penn_action(shared_data / "penn_action") if not c.train]
    assert len(d.sequences()) == len(clips) == 1068
    assert n == len(d) == sum(c.num_frames for c in clips)
    assert (d.arrays("action") >= 0).all()


@pytest.mark.data
def test_jhmdb_split1(shared_data, tmp_path):
    path = tmp_path / "jhmdb.h5"
    n = PREPARERS["jhmdb"](shared_data / "jhmdb", path, "train1")
    d = PreparedDataset(path)
    assert n == len(d) > 0 and d.attrs["coords"] == "normalised"
    assert d.attrs["split"] == "train1" and (d.arrays("action") >= 0).all()
    with pytest.raises(ValueError, match="split"):
        PREPARERS["jhmdb"](shared_data / "jhmdb", tmp_path / "x.h5", "train4")


@pytest.mark.data
def test_h36m_one_camera(shared_data, tmp_path):
    path = tmp_path / "h36m.h5"
    n = PREPARERS["h36m"](shared_data / "h36m", path, "test", subjects=[9], cameras=[0], every=10)
    d = PreparedDataset(path)
    assert n == len(d) > 0
    j2, j3 = d.arrays("joints2d"), d.arrays("joints3d")
    assert d.arrays("valid2d").all() and d.arrays("valid3d").all()
    assert (j2[..., 0] >= 0).all() and (j2[..., 0] < 1000).all()
    assert (j2[..., 1] >= 0).all() and (j2[..., 1] < 1002).all()
    assert (j3[..., 2] > 0).all()
    assert (d.arrays("camera") == 0).all() and d.cameras()["R"].shape == (1, 3, 3)


def test_missing_source(tmp_path):
    for name in ("lspet", "penn_action", "jhmdb"):
        split = {"lspet": "train", "penn_action": "train", "jhmdb": "train1"}[name]
        with pytest.raises(FileNotFoundError):
            PREPARERS[name](tmp_path / "nothing", tmp_path / "out.h5", split)
    with pytest.raises(FileNotFoundError):
        PREPARERS["h36m"](tmp_path / "nothing", tmp_path / "out.h5", "test")
    assert not (tmp_path / "out.h5").exists()
