"""Readers of the 2D datasets: exact values on tiny fixtures, errors, and the real data."""

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from fixtures_2d import (
    EMPTY,
    mpii_rect,
    write_coco,
    write_images,
    write_jhmdb_npz,
    write_jhmdb_official,
    write_lsp,
    write_mpii,
    write_penn_clip,
)

from posenet.data.readers.coco import read_coco_keypoints
from posenet.data.readers.jhmdb import JHMDB_CLASSES, read_jhmdb_npz, read_jhmdb_official
from posenet.data.readers.lsp import lspet_split, read_lsp
from posenet.data.readers.mpii import mpii_single_person_split, read_mpii
from posenet.data.readers.penn_action import (
    PENN_ACTION_CLASSES,
    action_index,
    read_penn_action,
)
from posenet.skeleton import get_skeleton

nan = np.nan


def _garbage(path, data=b"MATLAB 5.0 MAT-file, truncated\x00\x01"):
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def test_readers_import_without_keras_or_scipy():
    code = (
        "import sys\n"
        "import posenet.data.readers.lsp, posenet.data.readers.penn_action\n"
        "import posenet.data.readers.jhmdb, posenet.data.readers.mpii, posenet.data.readers.coco\n"
        "print(sorted(m for m in ('keras', 'tensorflow', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- LSP / LSPet


def _lsp_joints(n=2):
    j = np.zeros((n, 14, 3))
    j[..., 0] = np.arange(14) + 10.0 + np.arange(n)[:, None] * 100
    j[..., 1] = np.arange(14) * 2 + 5.0
    return j


def test_lspet_orientation_placeholders_and_flags(tmp_path):
    j = _lsp_joints()
    j[..., 2] = 1
    j[0, 0] = (0, -26.1, 0)  # LSPet placeholder: one coordinate 0, the other negative
    j[0, 1] = (0, 0, 0)  # placeholder at the origin
    j[1, 13] = (45.0, -0.5, 1)  # annotated just above the top edge: kept
    j[1, 5, 2] = 0  # flag 0 with a position: LSPet's 0 means "not annotated"
    write_lsp(tmp_path, j, extended=True)
    d = read_lsp(tmp_path)
    assert d.extended and d.layout == "lsp" and len(d) == 2
    assert d.images == tuple(str(tmp_path / "images" / f"im0000{i}.jpg") for i in (1, 2))
    assert d.joints.dtype == np.float32 and d.joints.shape == (2, 14, 2)
    np.testing.assert_array_equal(d.joints[0, 2], [12.0, 9.0])
    np.testing.assert_array_equal(d.joints[1, 13], [45.0, -0.5])
    assert np.isnan(d.joints[0, :2]).all() and np.isnan(d.joints[1, 5]).all()
    expect = np.ones((2, 14), bool)
    expect[0, :2] = expect[1, 5] = False
    np.testing.assert_array_equal(d.valid, expect)
    np.testing.assert_array_equal(d.visible, expect)
    np.testing.assert_array_equal(d.indices, [0, 1])


def test_lsp_original_orientation_uses_an_occlusion_flag(tmp_path):
    j = _lsp_joints(3)
    j[0, 4, 2] = 1  # occluded but annotated
    j[2, 7, :2] = (-3.0, -4.0)  # placeholder position
    write_lsp(tmp_path, j, extended=False)
    d = read_lsp(tmp_path)
    assert not d.extended and len(d) == 3
    assert os.path.basename(d.images[2]) == "im0003.jpg"
    np.testing.assert_array_equal(d.joints[1, 3], [113.0, 11.0])
    assert d.valid[0, 4] and not d.visible[0, 4] and d.visible[0, 3]
    assert not d.valid[2, 7] and np.isnan(d.joints[2, 7]).all()
    assert d.valid.sum() == 3 * 14 - 1 and d.visible.sum() == 3 * 14 - 2
    flipped = read_lsp(tmp_path, occlusion_flag=False)
    assert flipped.visible[0, 4] and not flipped.visible[0, 3]
    with pytest.raises(ValueError, match="14 x 3 x N"):
        read_lsp(tmp_path, extended=True)


def test_lsp_missing_images_and_bad_files(tmp_path):
    j = _lsp_joints(3)
    j[..., 2] = 1
    write_lsp(tmp_path, j, extended=True, images=False)
    write_images(tmp_path / "images", ["im00001.jpg", "im00003.jpg"])
    with pytest.raises(ValueError, match="1 of 3 images.*im00002.jpg"):
        read_lsp(tmp_path)
    d = read_lsp(tmp_path, allow_missing_images=True)
    np.testing.assert_array_equal(d.indices, [0, 2])
    np.testing.assert_array_equal(d.joints[1, 0], [210.0, 5.0])
    _garbage(tmp_path / "joints.mat")
    with pytest.raises(ValueError, match="joints.mat"):
        read_lsp(tmp_path)
    write_lsp(tmp_path, np.zeros((2, 13, 3)), extended=True)
    with pytest.raises(ValueError, match="shape"):
        read_lsp(tmp_path)
    with pytest.raises(FileNotFoundError, match="Leeds Sports Pose"):
        read_lsp(tmp_path / "nowhere")
    os.remove(tmp_path / "joints.mat")
    with pytest.raises(FileNotFoundError, match="joints.mat"):
        read_lsp(tmp_path)


def test_lspet_split():
    s = lspet_split(9000)
    assert (len(s["train"]), len(s["validation"]), len(s["test"])) == (8000, 1000, 0)
    assert s["train"][-1] == 7999 and s["validation"][0] == 8000 and s["validation"][-1] == 8999
    assert len(lspet_split(10000)["test"]) == 1000
    with pytest.raises(ValueError):
        lspet_split(500)


# ---------------------------------------------------------------- Penn Action


def _penn_arrays(t=3):
    x = np.arange(t * 13, dtype=float).reshape(t, 13) + 1
    y = x * 2
    vis = np.ones((t, 13), np.uint8)
    bbox = np.tile([1.0, 2.0, 30.0, 40.0], (t, 1))
    return x, y, vis, bbox


def test_penn_action_values_and_missing(tmp_path):
    x, y, vis, bbox = _penn_arrays()
    vis[0, 4] = 0  # occluded: position kept
    x[2], y[2], vis[2] = 0, 0, 0  # an unannotated frame is all (0, 0)
    write_penn_clip(tmp_path / "labels", "0002", x, y, vis, bbox[:2], action="tennis_serve",
                    view="left", train=-1, size=(100, 200))  # fmt: skip
    _, y1, vis1, bbox1 = _penn_arrays(1)
    write_penn_clip(tmp_path / "labels", "0001", np.full((1, 13), 5.0), y1, vis1, bbox1)
    (tmp_path / "frames" / "0001").mkdir(parents=True)
    calls = []
    clips = read_penn_action(tmp_path, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 2), (2, 2)]
    first, clip = clips
    assert first.name == "0001" and first.frames_dir == str(tmp_path / "frames" / "0001")
    assert first.train and first.action == "bowl" and first.joints.shape == (1, 13, 2)
    assert clip.name == "0002" and clip.frames_dir is None and not clip.train
    assert (clip.action, clip.view, clip.size) == ("tennis_serve", "left", (100, 200))
    assert clip.layout == "penn_action"
    assert clip.action_index == 14 and clip.num_frames == 3
    np.testing.assert_array_equal(clip.joints[0, 4], [5.0, 10.0])
    assert clip.valid[0, 4] and not clip.visible[0, 4] and clip.visible[0, 3]
    assert not clip.valid[2].any() and np.isnan(clip.joints[2]).all()
    assert clip.valid[:2].all()
    np.testing.assert_array_equal(clip.bbox[:2], bbox[:2])
    assert np.isnan(clip.bbox[2]).all() and clip.bbox.dtype == np.float32


def test_penn_action_classes():
    assert len(PENN_ACTION_CLASSES) == 15 and list(PENN_ACTION_CLASSES) == sorted(
        PENN_ACTION_CLASSES
    )
    assert action_index("baseball_pitch") == 0 and action_index("pullup") == 8
    with pytest.raises(KeyError, match="known"):
        action_index("curling")


def test_penn_action_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Penn Action"):
        read_penn_action(tmp_path)
    (tmp_path / "labels").mkdir()
    with pytest.raises(FileNotFoundError, match="Penn Action"):
        read_penn_action(tmp_path)
    bad = _garbage(tmp_path / "labels" / "0007.mat")
    with pytest.raises(ValueError, match="0007.mat"):
        read_penn_action(tmp_path)
    x, y, vis, bbox = _penn_arrays()
    write_penn_clip(tmp_path / "labels", "0007", x, y[:2], vis, bbox)
    with pytest.raises(ValueError, match=r"0007\.mat.*T x 13"):
        read_penn_action(tmp_path)
    write_penn_clip(tmp_path / "labels", "0007", x, y, vis, bbox, action="curling")
    with pytest.raises(ValueError, match="curling"):
        read_penn_action(tmp_path)
    write_penn_clip(tmp_path / "labels", "0007", x, y, vis, bbox, nframes=np.array([[9]]))
    with pytest.raises(ValueError, match="nframes"):
        read_penn_action(tmp_path)
    os.remove(bad)


# ---------------------------------------------------------------- J-HMDB


def test_jhmdb_npz_values(tmp_path):
    a = np.arange(2 * 30, dtype=np.float32).reshape(2, 15, 2) / 100
    b = -np.ones((3, 15, 2), np.float32)
    write_jhmdb_npz(tmp_path, 2, "train", [("walk", a), ("clap", b)])
    write_jhmdb_npz(tmp_path, 2, "test", [("golf", b[:1])])
    out = read_jhmdb_npz(tmp_path, split=2)
    train, test = out["train"], out["test"]
    assert [c.label for c in train] == ["walk", "clap"] and [c.label for c in test] == ["golf"]
    np.testing.assert_array_equal(train[0].joints, a)
    np.testing.assert_array_equal(train[1].joints, b)
    assert train[1].num_frames == 3 and train[1].valid.all() and train[1].valid.shape == (3, 15)
    assert train[0].coords == "normalised" and train[0].frames_dir is None
    assert train[0].layout == "jhmdb" and train[0].name is None
    with pytest.raises(FileNotFoundError, match="J-HMDB"):
        read_jhmdb_npz(tmp_path, split=1)
    with pytest.raises(ValueError, match="split"):
        read_jhmdb_npz(tmp_path, split=4)


def test_jhmdb_npz_errors(tmp_path):
    path = write_jhmdb_npz(tmp_path, 1, "train", [("walk", np.zeros((4, 15, 2)))])
    write_jhmdb_npz(tmp_path, 1, "test", [("walk", np.zeros((4, 15, 2)))])
    np.savez(path, poses=np.zeros((5, 15, 2), np.float32), lengths=np.array([4], np.int32),
             labels=np.array(["walk"]))  # fmt: skip
    with pytest.raises(ValueError, match=r"GT_train_1\.npz.*sum to 4"):
        read_jhmdb_npz(tmp_path)
    np.savez(path, poses=np.zeros((4, 15, 2), np.float32))
    with pytest.raises(ValueError, match="GT_train_1.npz.*missing"):
        read_jhmdb_npz(tmp_path)
    with open(path, "rb") as f:
        head = f.read(60)
    _garbage(path, head)
    with pytest.raises(ValueError, match="GT_train_1.npz"):
        read_jhmdb_npz(tmp_path)


def test_jhmdb_official(tmp_path):
    a = np.arange(3 * 30, dtype=float).reshape(3, 15, 2)
    b = np.full((1, 15, 2), 7.5)  # a one-frame clip: MATLAB drops the trailing dimension
    write_jhmdb_official(
        tmp_path, 3,
        [("pour", "p1", 1, a), ("pour", "p2", 2, b), ("walk", "w1", 2, a[::-1])],
        frames={"p1"},
    )  # fmt: skip
    out = read_jhmdb_official(tmp_path, split=3)
    assert [(c.label, c.name) for c in out["train"]] == [("pour", "p1")]
    assert [(c.label, c.name) for c in out["test"]] == [("pour", "p2"), ("walk", "w1")]
    p1, (p2, w1) = out["train"][0], out["test"]
    np.testing.assert_array_equal(p1.joints, a)
    np.testing.assert_array_equal(p2.joints, b)
    np.testing.assert_array_equal(w1.joints, a[::-1])
    assert p1.coords == "pixels" and p1.joints.dtype == np.float32
    assert p1.frames_dir == str(tmp_path / "Frames" / "pour" / "p1") and p2.frames_dir is None
    only = read_jhmdb_official(tmp_path, split=3, classes=["walk"])
    assert [c.name for c in only["test"]] == ["w1"] and only["train"] == []
    with pytest.raises(FileNotFoundError, match="split list"):
        read_jhmdb_official(tmp_path, split=1)
    with open(tmp_path / "splits" / "walk_test_split3.txt", "a") as f:
        f.write("w2.avi 3\n")
    with pytest.raises(ValueError, match=r"walk_test_split3\.txt:2"):
        read_jhmdb_official(tmp_path, split=3)
    with pytest.raises(FileNotFoundError, match="J-HMDB"):
        read_jhmdb_official(tmp_path / "none")


def test_jhmdb_classes_spelling():
    assert len(JHMDB_CLASSES) == 14 and "pullup" in JHMDB_CLASSES
    assert list(JHMDB_CLASSES) == sorted(JHMDB_CLASSES)


# ---------------------------------------------------------------- MPII


def _mpii_release(path):
    write_mpii(
        path,
        [
            ("a.jpg", [
                mpii_rect([(0, 10, 20, 1), (9, 11, 21, "0"), (15, 1.5, 2.5, "1")],
                          head=(1, 2, 3, 4), scale=1.5, objpos=(5, 6)),
                mpii_rect([(3, 1, 2, EMPTY)], head=(5, 6, 7, 8), scale=2.0, objpos=(7, 8)),
            ], 1, [2]),
            ("b.jpg", mpii_rect([(1, 30, 40, "1"), (2, 31, 41, 0)], head=(1, 1, 2, 2),
                                scale=0.5, objpos=(1, 1)), 1, [1]),
            ("empty.jpg", [], 1, []),
            ("c.jpg", [mpii_rect(scale=3.0, objpos=(9, 9))], 0, [1]),
        ],
    )  # fmt: skip


def test_mpii_values(tmp_path):
    path = tmp_path / "release.mat"
    _mpii_release(path)
    (tmp_path / "images").mkdir()
    people = read_mpii(path, images_dir=tmp_path / "images")
    assert [(p.image_index, p.rect) for p in people] == [(0, 0), (0, 1), (1, 0), (3, 0)]
    a0, a1, b0, c0 = people
    assert a0.image == str(tmp_path / "images" / "a.jpg") and a0.layout == "mpii"
    np.testing.assert_array_equal(a0.joints[[0, 9, 15]], [[10, 20], [11, 21], [1.5, 2.5]])
    assert np.isnan(a0.joints[1]).all() and a0.valid.sum() == 3
    np.testing.assert_array_equal(np.flatnonzero(a0.visible), [0, 15])
    np.testing.assert_array_equal(a0.head_box, [1, 2, 3, 4])
    assert a0.scale == 1.5 and a0.train and not a0.single
    np.testing.assert_array_equal(a0.center, [5, 6])
    assert a1.single and a1.valid[3] and not a1.visible[3]  # empty is_visible: unknown
    np.testing.assert_array_equal(a1.joints[3], [1, 2])
    # b.jpg has one person: a scalar struct, not an array
    assert b0.single and b0.visible[1] and b0.valid[2] and not b0.visible[2]
    assert b0.valid.sum() == 2 and b0.joints.dtype == np.float32
    assert not c0.train and c0.single and not c0.valid.any() and c0.scale == 3.0
    assert np.isnan(c0.head_box).all() and np.isnan(c0.joints).all()
    assert read_mpii(path)[0].image == "a.jpg"


def test_mpii_single_image_release(tmp_path):
    path = tmp_path / "one.mat"
    write_mpii(path, [("x.jpg", mpii_rect([(6, 3, 4, 1)], scale=1.0, objpos=(2, 2)), 1, [1])])
    (person,) = read_mpii(path)
    assert person.single and person.train and person.valid[6]
    np.testing.assert_array_equal(person.joints[6], [3, 4])


def test_mpii_single_person_split(tmp_path):
    path = tmp_path / "many.mat"
    images = [
        (f"{i}.jpg", [mpii_rect([(0, i, i, 1)]), mpii_rect([(0, i, i, 1)])], int(i < 40), [1, 2])
        for i in range(50)
    ]
    write_mpii(path, images)
    people = read_mpii(path)
    split = mpii_single_person_split(people, num_val=9, seed=3)
    train, val = split["train"], split["validation"]
    assert len(val) == 10 and len(train) == 70  # whole images of 2 persons: 9 -> 10
    img = {people[k].image_index for k in val}
    assert img.isdisjoint(people[k].image_index for k in train)
    assert all(people[k].train for k in np.concatenate([train, val]))
    again = mpii_single_person_split(people, num_val=9, seed=3)
    np.testing.assert_array_equal(again["validation"], val)
    other = mpii_single_person_split(people, num_val=9, seed=4)
    assert not np.array_equal(other["validation"], val)


def test_mpii_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="MPII"):
        read_mpii(tmp_path / "mpii_human_pose_v1_u12_1.mat")
    bad = _garbage(tmp_path / "mpii_human_pose_v1_u12_1.mat")
    with pytest.raises(ValueError, match="mpii_human_pose_v1_u12_1.mat"):
        read_mpii(bad)
    import scipy.io

    scipy.io.savemat(bad, {"other": np.zeros(3)})
    with pytest.raises(ValueError, match="not an MPII release"):
        read_mpii(bad)
    _mpii_release(bad)
    with pytest.raises(FileNotFoundError, match="MPII images"):
        read_mpii(bad, images_dir=tmp_path / "images")


# ---------------------------------------------------------------- COCO


def _kps(pairs):
    flat = np.zeros((17, 3))
    for j, (x, y, v) in pairs.items():
        flat[j] = (x, y, v)
    return flat.reshape(-1).tolist()


def test_coco_values(tmp_path):
    images = [{"id": 7, "file_name": "000007.jpg", "height": 480, "width": 640}]
    anns = [
        {"id": 1, "image_id": 7, "iscrowd": 0, "num_keypoints": 2, "bbox": [10, 20, 30, 40],
         "keypoints": _kps({0: (100, 50, 2), 9: (120.5, 80, 1)})},
        {"id": 2, "image_id": 7, "iscrowd": 1, "num_keypoints": 3, "bbox": [0, 0, 5, 5],
         "keypoints": _kps({0: (1, 1, 2), 1: (2, 2, 2), 2: (3, 3, 2)})},
        {"id": 3, "image_id": 7, "iscrowd": 0, "num_keypoints": 0, "bbox": [0, 0, 5, 5],
         "keypoints": _kps({})},
    ]  # fmt: skip
    path = tmp_path / "person_keypoints_val2017.json"
    write_coco(path, images, anns)
    (person,) = read_coco_keypoints(path, images_dir=tmp_path)
    assert person.image == str(tmp_path / "000007.jpg") and person.layout == "coco"
    assert (person.image_id, person.annotation_id, person.size) == (7, 1, (480, 640))
    np.testing.assert_array_equal(person.bbox, [10, 20, 40, 60])
    np.testing.assert_array_equal(person.joints[[0, 9]], [[100, 50], [120.5, 80]])
    np.testing.assert_array_equal(np.flatnonzero(person.valid), [0, 9])
    np.testing.assert_array_equal(np.flatnonzero(person.visible), [0])
    assert np.isnan(person.joints[1]).all() and person.joints.dtype == np.float32
    assert [p.annotation_id for p in read_coco_keypoints(path, min_keypoints=0)] == [1, 3]
    assert read_coco_keypoints(path, min_keypoints=3) == []
    assert get_skeleton(person.layout).num_joints == person.joints.shape[0]


def test_coco_errors(tmp_path):
    path = tmp_path / "person_keypoints_val2017.json"
    with pytest.raises(FileNotFoundError, match="COCO"):
        read_coco_keypoints(path)
    path.write_text('{"images": [')
    with pytest.raises(ValueError, match="person_keypoints_val2017.json"):
        read_coco_keypoints(path)
    images = [{"id": 1, "file_name": "1.jpg", "height": 4, "width": 4}]
    ann = {"id": 5, "image_id": 1, "bbox": [0, 0, 1, 1], "keypoints": [1.0] * 50}
    write_coco(path, images, [ann])
    with pytest.raises(ValueError, match="50 keypoint numbers"):
        read_coco_keypoints(path)
    write_coco(path, images, [dict(ann, keypoints=_kps({0: (1, 1, 2)}), image_id=9)])
    with pytest.raises(ValueError, match="unknown image_id 9"):
        read_coco_keypoints(path)


# ---------------------------------------------------------------- real data


@pytest.mark.data
def test_real_lspet(shared_data):
    d = read_lsp(shared_data / "lspet")
    assert d.extended and len(d) == 9000 and d.joints.shape == (9000, 14, 2)
    assert os.path.basename(d.images[-1]) == "im09000.jpg"
    # the flag says annotated exactly where the position is real (see lsp.py)
    assert d.valid.sum() == 110819 and (d.visible == d.valid).all()
    assert np.isnan(d.joints[~d.valid]).all() and np.isfinite(d.joints[d.valid]).all()
    for i in (0, 4500, 8999):
        h, w = cv2.imread(d.images[i]).shape[:2]
        pts = d.joints[i][d.valid[i]]
        assert len(pts) >= 8
        assert (pts >= -2).all() and (pts[:, 0] <= w + 2).all() and (pts[:, 1] <= h + 2).all()
    split = lspet_split(len(d))
    assert len(split["train"]) == 8000 and len(split["validation"]) == 1000


@pytest.mark.data
def test_real_penn_action(shared_data):
    clips = read_penn_action(shared_data / "penn_action")
    assert len(clips) == 2326
    assert sum(c.train for c in clips) == 1258 and sum(not c.train for c in clips) == 1068
    assert sorted({c.action for c in clips}) == list(PENN_ACTION_CLASSES)
    assert {c.view for c in clips} == {"front", "back", "left", "right"}
    absent = {c.name: int((~c.valid).sum()) for c in clips if not c.valid.all()}
    assert absent == {"0449": 13, "2173": 13}
    padded = sorted(c.name for c in clips if np.isnan(c.bbox).any())
    assert padded == ["1154", "1865"]
    assert all(c.joints.shape == (c.num_frames, 13, 2) for c in clips)


@pytest.mark.data
def test_real_jhmdb_npz(shared_data):
    for split in (1, 2, 3):
        out = read_jhmdb_npz(shared_data / "jhmdb", split=split)
        for part in ("train", "test"):
            clips = out[part]
            assert clips and {c.label for c in clips} == set(JHMDB_CLASSES)
            with np.load(shared_data / "jhmdb" / f"GT_{part}_{split}.npz") as z:
                rows, n = z["poses"].shape[0], len(z["lengths"])
            assert len(clips) == n and sum(c.num_frames for c in clips) == rows
            assert all(c.valid.all() for c in clips)
        assert len(out["train"]) + len(out["test"]) == 609
