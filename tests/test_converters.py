"""Converters of LSP, MPII, COCO and NTU RGB+D on tiny fixtures in the published formats."""

import numpy as np
import pytest
from fixtures_2d import mpii_rect, write_coco, write_images, write_lsp, write_mpii
from fixtures_3d import ntu_joints, write_ntu_skeleton

from posenet.data.converters import DATASET_INFO, PREPARERS, SPLITS
from posenet.data.prepared import PreparedDataset
from posenet.data.readers.mpii import mpii_single_person_split, read_mpii
from posenet.skeleton import get_skeleton

M17 = get_skeleton("model17")


def _no_output(folder):
    return not list(folder.glob("*.h5")) and not list(folder.glob("*.tmp"))


def test_catalogue_is_consistent(tmp_path):
    assert set(PREPARERS) == set(SPLITS) == set(DATASET_INFO)
    assert {"lsp", "lspet", "mpii", "coco", "penn_action", "jhmdb", "h36m", "ntu"} <= set(PREPARERS)
    assert SPLITS["ntu"] == ("xsub-train", "xsub-test", "xview-train", "xview-test")
    assert SPLITS["coco"] == ("train", "val") and SPLITS["mpii"] == ("train", "validation")
    assert SPLITS["jhmdb"][0] == "train1" and "test3" in SPLITS["jhmdb"]
    assert all(isinstance(v, str) and "\n" not in v for v in DATASET_INFO.values())
    for name, convert in PREPARERS.items():
        with pytest.raises(FileNotFoundError):
            convert(tmp_path / "nothing", tmp_path / "out.h5", SPLITS[name][0])
    assert _no_output(tmp_path)


# --------------------------------------------------------------------------- LSP


def test_lsp_standard_split(tmp_path, rng):
    n = 1003  # the test half is images 1001-1003
    joints = np.concatenate([rng.uniform(1, 30, (n, 14, 2)), np.zeros((n, 14, 1))], axis=2)
    joints[1001, 13, 2] = 1  # LSP's flag is an occlusion flag: head_top occluded
    write_lsp(tmp_path / "lsp", joints, extended=False)
    out = tmp_path / "test.h5"
    assert PREPARERS["lsp"](tmp_path / "lsp", out, "test") == 3
    d = PreparedDataset(out)
    assert d.attrs["dataset"] == "lsp" and d.attrs["split"] == "test"
    np.testing.assert_array_equal(d.arrays("sequence"), [1000, 1001, 1002])
    j = d.arrays("joints2d")
    head = M17.index("head_top")
    np.testing.assert_allclose(j[:, head, :2], joints[1000:, 13, :2], rtol=1e-6)
    np.testing.assert_array_equal(j[:, head, 2], [1, 0, 1])
    s = d.sample(2)
    assert s["frame_ref"].endswith("im1003.jpg")
    assert s["image"] == (tmp_path / "lsp" / "images" / "im1003.jpg").read_bytes()
    assert PREPARERS["lsp"](tmp_path / "lsp", tmp_path / "train.h5", "train") == 1000
    with pytest.raises(ValueError, match="split"):
        PREPARERS["lsp"](tmp_path / "lsp", tmp_path / "x.h5", "validation")


# --------------------------------------------------------------------------- MPII

HEAD = (10, 2, 20, 14)


def _mpii_source(root, images=True):
    root.mkdir()
    pts = [(0, 5, 40, 1), (9, 11.0, 12.0, 1), (8, 12, 16, "0"), (2, 8, 30, 1), (3, 14, 30, 1)]
    one = mpii_rect(pts, head=HEAD, scale=0.5, objpos=(12, 25))
    two = mpii_rect(pts[:2], head=HEAD, scale=1.0, objpos=(15, 20))
    empty = mpii_rect(None, scale=1.0, objpos=(30, 30))  # a single person with no joints
    write_mpii(root / "mpii_human_pose_v1_u12_1.mat", [
        ("a.jpg", one, 1, [1]), ("b.jpg", [one, two, empty], 1, [1, 2, 3]),
        ("c.jpg", [one, two], 1, [2]), ("d.jpg", one, 0, [1]),
    ])  # fmt: skip
    if images:
        write_images(root / "images", ["a.jpg", "b.jpg", "c.jpg", "d.jpg"])


def test_mpii_split_layout_and_boxes(tmp_path):
    src = tmp_path / "mpii"
    _mpii_source(src)
    persons = read_mpii(src / "mpii_human_pose_v1_u12_1.mat")
    want = mpii_single_person_split(persons, num_val=1)
    counts = {}
    for split in ("train", "validation"):
        out = tmp_path / f"{split}.h5"
        counts[split] = PREPARERS["mpii"](src, out, split, num_val=1)
        assert counts[split] == len(want[split]) > 0
    assert counts["train"] + counts["validation"] == 4  # a, b (2 of 3), c (1 of 2)
    d = PreparedDataset(tmp_path / "train.h5")
    keys = {(persons[k].image_index, persons[k].rect) for k in want["train"]}
    assert set(zip(d.arrays("sequence").tolist(), d.arrays("frame").tolist(), strict=True)) == keys
    assert M17.index("head_top") == 3
    j, v = d.arrays("joints2d"), d.arrays("valid2d")
    np.testing.assert_allclose(j[:, 3], np.tile([11, 12, 1], (len(d), 1)))
    assert not v[:, M17.index("spine")].any()
    np.testing.assert_array_equal(d.arrays("head_box"), np.tile(HEAD, (len(d), 1)))
    for i in range(len(d)):
        s = d.sample(i)
        scale, centre = (0.5, (12, 25)) if s["frame"] == 0 else (1.0, (15, 20))
        np.testing.assert_allclose(s["bbox"], [centre[0] - 100 * scale, centre[1] - 100 * scale,
                                               centre[0] + 100 * scale, centre[1] + 100 * scale])
        name = "abcd"[s["sequence"]] + ".jpg"
        assert s["frame_ref"].endswith(f"images/{name}")
        assert s["image"] == (src / "images" / name).read_bytes()
    one = d.arrays("frame") == 0  # rect 'one' annotates the neck with is_visible "0"
    neck = M17.index("neck")
    assert one.any() and v[one, neck].all() and (j[one, neck, 2] == 0).all()


def test_mpii_without_images_and_failures(tmp_path):
    src = tmp_path / "mpii"
    _mpii_source(src, images=False)
    out = tmp_path / "val.h5"
    n = PREPARERS["mpii"](src, out, "validation", num_val=100)
    d = PreparedDataset(out)
    assert n == len(d) == 4 and "image" not in d.names
    assert d.sample(0)["frame_ref"].endswith("images/a.jpg")
    d.close()
    out.unlink()
    write_images(src / "images", ["a.jpg"])  # the folder exists but b.jpg is missing
    with pytest.raises(FileNotFoundError, match="b.jpg"):
        PREPARERS["mpii"](src, out, "validation", num_val=100)
    (src / "mpii_human_pose_v1_u12_1.mat").write_text("not MATLAB")
    with pytest.raises(ValueError, match="mpii_human_pose_v1_u12_1.mat"):
        PREPARERS["mpii"](src, out, "train")
    with pytest.raises(ValueError, match="split"):
        PREPARERS["mpii"](src, out, "test")
    assert _no_output(tmp_path)


# --------------------------------------------------------------------------- COCO


def _coco_ann(aid, image_id, points, bbox=(2, 3, 10, 20), crowd=0):
    kp = np.zeros((17, 3))
    for j, x, y, v in points:
        kp[j] = (x, y, v)
    return {"id": aid, "image_id": image_id, "keypoints": kp.reshape(-1).tolist(),
            "num_keypoints": len(points), "bbox": list(bbox), "iscrowd": crowd}  # fmt: skip


def test_coco_layout_splits_and_images(tmp_path):
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    images = [{"id": 7, "file_name": "000007.jpg", "height": 30, "width": 40},
              {"id": 9, "file_name": "000009.jpg", "height": 30, "width": 40}]  # fmt: skip
    hips_shoulders = [(0, 5, 5, 2), (5, 10, 10, 2), (6, 20, 10, 1), (11, 12, 20, 2),
                      (12, 18, 20, 2)]  # fmt: skip
    anns = [_coco_ann(1, 7, hips_shoulders), _coco_ann(2, 9, [(9, 4, 4, 2)]),
            _coco_ann(3, 9, [(10, 6, 6, 1)]), _coco_ann(4, 9, [(9, 4, 4, 2)], crowd=1),
            _coco_ann(5, 7, [])]  # fmt: skip
    write_coco(root / "annotations" / "person_keypoints_val2017.json", images, anns)
    write_images(root / "val2017", ["000007.jpg", "000009.jpg"])
    out = tmp_path / "val.h5"
    assert PREPARERS["coco"](root, out, "val") == 3  # no crowd, no empty person
    d = PreparedDataset(out)
    np.testing.assert_array_equal(d.arrays("sequence"), [7, 9, 9])
    np.testing.assert_array_equal(d.arrays("frame"), [0, 0, 1])
    v, j = d.arrays("valid2d"), d.arrays("joints2d")
    for name in ("head_top", "neck", "spine"):
        assert not v[:, M17.index(name)].any()
    np.testing.assert_allclose(j[0, M17.index("pelvis")], [15, 20, 1])
    np.testing.assert_allclose(j[0, M17.index("thorax")], [15, 10, 0])  # r_shoulder v = 1
    np.testing.assert_allclose(j[0, M17.index("r_shoulder")], [20, 10, 0])
    np.testing.assert_allclose(d.arrays("bbox")[0], [2, 3, 12, 23])
    assert d.sample(1)["image"] == (root / "val2017" / "000009.jpg").read_bytes()
    assert np.isnan(d.arrays("head_box")).all()
    with pytest.raises(FileNotFoundError, match="person_keypoints_train2017"):
        PREPARERS["coco"](root, tmp_path / "train.h5", "train")
    (root / "annotations" / "person_keypoints_val2017.json").write_text("{broken")
    with pytest.raises(ValueError, match="JSON"):
        PREPARERS["coco"](root, tmp_path / "bad.h5", "val")
    assert not (tmp_path / "bad.h5").exists() and not list(tmp_path.glob("*.tmp"))


# --------------------------------------------------------------------------- NTU RGB+D

NTU_NAME = "S001C002P001R001A005"  # performer 1: xsub train; camera 2: xview train


def _ntu_body(frame, rng):
    xyz = rng.uniform(-1, 1, (25, 3)) + [0, 0, 3] + 0.1 * frame
    color = rng.uniform(0, 1000, (25, 2))
    tracking = np.full(25, 2)
    tracking[9], tracking[17] = 1, 0  # r_elbow inferred, r_knee not tracked
    return ntu_joints(xyz, color, tracking)


def test_ntu_main_body_axes_and_visibility(tmp_path, rng):
    root = tmp_path / "ntu"
    (root / "nturgb+d_skeletons").mkdir(parents=True)
    main = [_ntu_body(t, rng) for t in range(3)]
    still = ntu_joints(np.ones((25, 3)), np.ones((25, 2)), np.full(25, 2))
    write_ntu_skeleton(root / "nturgb+d_skeletons" / f"{NTU_NAME}.skeleton",
                       [[("11", still), ("22", main[0])], [("11", still), ("22", main[1])],
                        [("22", main[2])]])  # fmt: skip
    write_ntu_skeleton(root / "nturgb+d_skeletons" / "S001C001P003R001A060.skeleton", [[]])
    (root / "nturgb+d_rgb").mkdir()
    (root / "nturgb+d_rgb" / f"{NTU_NAME}_rgb.avi").write_bytes(b"")
    out = tmp_path / "xsub_train.h5"
    assert PREPARERS["ntu"](root, out, "xsub-train") == 3
    d = PreparedDataset(out)
    assert d.attrs["sequence_names"] == [NTU_NAME] and len(d.attrs["action_classes"]) == 60
    assert (d.arrays("action") == 4).all() and (d.arrays("sequence") == 0).all()
    np.testing.assert_array_equal(d.arrays("frame"), [0, 1, 2])
    j3, v3 = d.arrays("joints3d"), d.arrays("valid3d")
    j2, v2 = d.arrays("joints2d"), d.arrays("valid2d")
    pelvis, elbow, knee = M17.index("pelvis"), M17.index("r_elbow"), M17.index("r_knee")
    for t in range(3):
        np.testing.assert_allclose(j3[t, pelvis], main[t][0, :3] * [1000, -1000, 1000], rtol=1e-5)
        np.testing.assert_allclose(j2[t, elbow], [*main[t][9, 5:7], 0], rtol=1e-5)
    np.testing.assert_allclose(j2[:, pelvis, 2], 1)
    assert v2[:, elbow].all() and v3[:, elbow].all()
    assert not v2[:, knee].any() and not v3[:, knee].any() and np.isnan(j3[:, knee]).all()
    assert not v2[:, M17.index("head_top")].any()
    assert d.sample(1)["frame_ref"].endswith(f"nturgb+d_rgb/{NTU_NAME}_rgb.avi#1")
    # A split that matches no video holds no valid joint: refused, nothing written.
    with pytest.raises(ValueError, match="no valid joint"):
        PREPARERS["ntu"](root, tmp_path / "xview_test.h5", "xview-test")
    assert not any(p.name.startswith(("xview_test", ".xview_test")) for p in tmp_path.iterdir())


def test_ntu_failures_leave_nothing(tmp_path, rng):
    root = tmp_path / "ntu"
    root.mkdir()
    write_ntu_skeleton(root / f"{NTU_NAME}.skeleton", [[("1", _ntu_body(0, rng))]])
    with pytest.raises(ValueError, match="split"):
        PREPARERS["ntu"](root, tmp_path / "x.h5", "xset-train")
    assert PREPARERS["ntu"](root, tmp_path / "ok.h5", "xview-train") == 1  # files in root
    (tmp_path / "ok.h5").unlink()
    text = (root / f"{NTU_NAME}.skeleton").read_text().splitlines()
    (root / f"{NTU_NAME}.skeleton").write_text("\n".join(text[:10]))
    with pytest.raises(ValueError, match=NTU_NAME):
        PREPARERS["ntu"](root, tmp_path / "bad.h5", "xsub-train")
    assert _no_output(tmp_path)


def test_h36m_video_references_are_at_the_video_frame_rate():
    """Poses at 10 Hz refer to every 5th frame of the 50 Hz videos."""
    from posenet.data.converters.h36m import video_refs

    assert video_refs("S9/Videos/Walking.54138969.mp4", [0, 1, 7], 10.0) == [
        "S9/Videos/Walking.54138969.mp4#0",
        "S9/Videos/Walking.54138969.mp4#5",
        "S9/Videos/Walking.54138969.mp4#35",
    ]
    assert video_refs(None, [0, 1], 10.0) == ["", ""]
