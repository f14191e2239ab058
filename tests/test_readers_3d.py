"""Human3.6M and NTU RGB+D readers: synthetic fixtures checked value by value, plus the real
Human3.6M copy in ../shared/data."""

import h5py
import numpy as np
import pytest

from posenet.data.readers import h36m, ntu
from posenet.skeleton import H36M17_FROM_32, get_skeleton

# --------------------------------------------------------------------------- Human3.6M


def _write_take(root, subject, stem, data):
    folder = root / f"S{subject}" / "MyPoses" / "3D_positions"
    folder.mkdir(parents=True, exist_ok=True)
    with h5py.File(folder / f"{stem}.h5", "w") as f:
        f["3D_positions"] = data
    return folder / f"{stem}.h5"


def test_h36m_synthetic_tree(tmp_path):
    data = np.arange(96 * 4, dtype=np.float64).reshape(96, 4)  # value = 4 * row + frame
    _write_take(tmp_path, 1, "WalkDog 1", data)
    _write_take(tmp_path, 1, "Directions", data[:, :2])
    _write_take(tmp_path, 11, "Photo", data[:, :3])
    seqs = h36m.read_h36m_sequences(tmp_path)
    assert [(s.subject, s.action, s.subaction) for s in seqs] == [
        (1, "Directions", "Directions"), (1, "WalkingDog", "WalkDog 1"),
        (11, "TakingPhoto", "Photo"),
    ]  # fmt: skip
    walk = seqs[1]
    assert walk.poses.shape == (4, 32, 3) and walk.poses.dtype == np.float32
    assert walk.frame_rate == 10.0 and walk.num_frames == 4
    # Rows are joint-major: joint j, axis d, frame t is row 3 j + d, column t.
    for t, j, d in ((0, 0, 0), (3, 5, 2), (2, 31, 1)):
        assert walk.poses[t, j, d] == 4 * (3 * j + d) + t
    # Filters accept either spelling; frame_rate is recorded.
    only = h36m.read_h36m_sequences(tmp_path, subjects=[11], actions=["TakingPhoto"],
                                    frame_rate=50.0)  # fmt: skip
    assert [(s.subject, s.subaction, s.frame_rate) for s in only] == [(11, "Photo", 50.0)]
    assert len(h36m.read_h36m_sequences(tmp_path, actions=["WalkingDog", "Photo"])) == 2


def test_h36m_action_names():
    assert len(h36m.H36M_ACTIONS) == len(set(h36m.H36M_ACTIONS)) == 15
    assert h36m.normalize_action("WalkDog 1") == "WalkingDog"
    assert h36m.normalize_action("Photo") == "TakingPhoto"
    assert h36m.normalize_action("TakingPhoto 2") == "TakingPhoto"
    assert h36m.normalize_action("SittingDown 1") == "SittingDown"
    assert h36m.normalize_action("WalkTogether") == "WalkTogether"
    with pytest.raises(ValueError, match="unknown Human3.6M action"):
        h36m.normalize_action("Dancing")
    assert set(h36m.H36M_TRAIN_SUBJECTS).isdisjoint(h36m.H36M_TEST_SUBJECTS)


def test_h36m_missing_and_malformed(tmp_path):
    with pytest.raises(FileNotFoundError, match="3D_positions.*registration"):
        h36m.read_h36m_sequences(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no S<k>/MyPoses/3D_positions"):
        h36m.read_h36m_sequences(tmp_path)
    _write_take(tmp_path, 1, "Walking", np.zeros((96, 2)))
    with pytest.raises(FileNotFoundError, match=r"subjects \[9\]"):
        h36m.read_h36m_sequences(tmp_path, subjects=[9])
    bad = _write_take(tmp_path, 5, "Eating", np.zeros((90, 2)))
    with pytest.raises(ValueError, match=r"Eating\.h5.*expected \(96, T\)"):
        h36m.read_h36m_sequences(tmp_path, subjects=[5])
    with h5py.File(bad, "w") as f:
        f["poses"] = np.zeros((96, 2))
    with pytest.raises(ValueError, match=r"Eating\.h5.*no '3D_positions'"):
        h36m.read_h36m_poses(bad)
    bad.write_text("not hdf5")
    with pytest.raises(ValueError, match=r"Eating\.h5: malformed"):
        h36m.read_h36m_poses(bad)
    _write_take(tmp_path, 6, "Dancing", np.zeros((96, 2)))
    with pytest.raises(ValueError, match=r"Dancing\.h5"):
        h36m.list_h36m_files(tmp_path, subjects=[6])


def test_to_h36m17_and_video_path(tmp_path, rng):
    poses = rng.normal(size=(5, 32, 3))
    sub = h36m.to_h36m17(poses)
    assert sub.shape == (5, 17, 3)
    np.testing.assert_array_equal(sub[:, 4], poses[:, H36M17_FROM_32[4]])
    assert get_skeleton("h36m17").joints == tuple(
        get_skeleton("h36m32").joints[i] for i in H36M17_FROM_32)  # fmt: skip
    with pytest.raises(ValueError, match="32"):
        h36m.to_h36m17(poses[:, :17])
    assert h36m.video_path(tmp_path, 9, "Walking 1", "54138969") is None
    video = tmp_path / "S9" / "Videos" / "Walking 1.54138969.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"")
    assert h36m.video_path(tmp_path, 9, "Walking 1", "54138969") == video


@pytest.mark.data
def test_h36m_real_listing(shared_data):
    rows = h36m.list_h36m_files(shared_data / "h36m")  # file names only
    assert len(rows) == 205
    assert {r[1] for r in rows} == set(h36m.H36M_ACTIONS)
    assert sorted({r[0] for r in rows}) == [1, 5, 6, 7, 8, 9, 11]
    assert len(h36m.list_h36m_files(shared_data / "h36m", actions=["Photo"])) == 14


@pytest.mark.data
def test_h36m_real_poses(shared_data):
    seqs = h36m.read_h36m_sequences(shared_data / "h36m", subjects=[1, 9])
    assert len(seqs) == 59 and all(s.frame_rate == 10.0 for s in seqs)
    skel = get_skeleton("h36m32")
    hip, knee, head = skel.index("r_hip"), skel.index("r_knee"), skel.index("head_top")
    for s in seqs:
        assert s.poses.shape[1:] == (32, 3) and s.num_frames > 50
        assert np.isfinite(s.poses).all()
        thigh = np.linalg.norm(s.poses[:, hip] - s.poses[:, knee], axis=-1)
        assert 300 < thigh.mean() < 600  # millimetres
        assert thigh.max() - thigh.min() < 0.02 * thigh.mean()  # rigid bone
        # World z is up: the head is above the pelvis, the pelvis above the floor.
        assert (s.poses[:, head, 2] > s.poses[:, 0, 2]).mean() > 0.9
        assert 0 < np.median(s.poses[:, 0, 2]) < 1300
    sub = h36m.to_h36m17(seqs[0].poses)
    assert sub.shape == (seqs[0].num_frames, 17, 3)


# --------------------------------------------------------------------------- NTU RGB+D

NTU_NAME = "S002C003P008R001A013"  # performer 8 (xsub train), camera 3 (xview train)
BODY_A, BODY_B = "72057594037931101", "72057594037931102"


def _body_line(body_id, lean):
    return f"{body_id} 0 1 2 1 2 0 {lean} -0.5 2"


def _joint_line(frame, body, joint):
    """12 distinct values per joint so that every column can be checked."""
    base = 100 * frame + 10 * body + 0.01 * joint
    x, y, z = base, base + 0.1, base + 0.2
    return (f"{x:.4f} {y:.4f} {z:.4f} {base + 1:.4f} {base + 2:.4f} {base + 3:.4f} "
            f"{base + 4:.4f} 0.5 0.5 0.5 0.5 {joint % 3}")  # fmt: skip


def _skeleton_text():
    lines = ["2", "1", _body_line(BODY_A, 0.25), "25"]
    lines += [_joint_line(0, 0, j) for j in range(25)]
    lines += ["2", _body_line(BODY_A, 0.25), "25"]
    lines += [_joint_line(1, 0, j) for j in range(25)]
    lines += [_body_line(BODY_B, 0.75), "25"]
    lines += [_joint_line(1, 1, j) for j in range(25)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def skeleton_file(tmp_path):
    path = tmp_path / f"{NTU_NAME}.skeleton"
    path.write_text(_skeleton_text())
    return path


def test_ntu_parse_every_value(skeleton_file):
    skel = ntu.read_skeleton_file(skeleton_file)
    assert (skel.name, skel.setup, skel.camera, skel.performer, skel.replication) == (
        NTU_NAME, 2, 3, 8, 1)  # fmt: skip
    assert skel.action == 13 and skel.label == 12 and skel.num_frames == 2
    assert [b.body_id for b in skel.bodies] == [BODY_A, BODY_B]
    a, b = skel.bodies
    np.testing.assert_array_equal(a.frames, [0, 1])
    np.testing.assert_array_equal(b.frames, [1])
    assert a.xyz.shape == (2, 25, 3) and b.xyz.shape == (1, 25, 3)
    assert a.color.shape == a.depth.shape == (2, 25, 2) and a.tracking.shape == (2, 25)
    for body, index, pairs in ((a, 0, ((0, 0), (1, 1))), (b, 1, ((0, 1),))):
        for row, frame in pairs:
            for j in range(25):
                base = 100 * frame + 10 * index + 0.01 * j
                np.testing.assert_allclose(body.xyz[row, j], [base, base + 0.1, base + 0.2],
                                           rtol=1e-6)  # fmt: skip
                np.testing.assert_allclose(body.depth[row, j], [base + 1, base + 2], rtol=1e-6)
                np.testing.assert_allclose(body.color[row, j], [base + 3, base + 4], rtol=1e-6)
                assert body.tracking[row, j] == j % 3


def test_ntu_malformed_files(skeleton_file):
    lines = _skeleton_text().splitlines()
    truncated = skeleton_file.with_name("S001C001P001R001A001.skeleton")
    truncated.write_text("\n".join(lines[:40]) + "\n")  # frame 2's first body, 8 joints
    with pytest.raises(ValueError, match=r"A001\.skeleton:41: file ends early"):
        ntu.read_skeleton_file(truncated)
    garbage = lines.copy()
    garbage[9] = garbage[9].replace("0.5 0.5", "0.5 abc", 1)
    truncated.write_text("\n".join(garbage))
    with pytest.raises(ValueError, match=r"A001\.skeleton:10: expected a joint line of numbers"):
        ntu.read_skeleton_file(truncated)
    short = lines.copy()
    short[4] = " ".join(short[4].split()[:11])
    truncated.write_text("\n".join(short))
    with pytest.raises(ValueError, match=r":5: expected a joint line \(12 values\), got 11"):
        ntu.read_skeleton_file(truncated)
    truncated.write_text("\n".join(lines + ["", "7"]))
    with pytest.raises(ValueError, match=r":86: unexpected data"):
        ntu.read_skeleton_file(truncated)
    wrong = skeleton_file.with_name("clip.skeleton")
    wrong.write_text(_skeleton_text())
    with pytest.raises(ValueError, match="not an NTU RGB\\+D sample name"):
        ntu.read_skeleton_file(wrong)


def test_ntu_main_bodies_and_stack(skeleton_file):
    skel = ntu.read_skeleton_file(skeleton_file)
    a, b = skel.bodies
    assert b.motion() == 0.0 and a.motion() > 0  # one frame: no motion
    assert [x.body_id for x in ntu.main_bodies(skel)] == [BODY_A, BODY_B]
    assert [x.body_id for x in ntu.main_bodies(skel, n=1)] == [BODY_A]
    stacked = ntu.stack_bodies(skel)
    assert stacked.shape == (2, 2, 25, 3)
    assert np.isnan(stacked[0, 1]).all() and np.isfinite(stacked[1]).all()
    np.testing.assert_array_equal(stacked[1, 1], b.xyz[0])


def test_ntu_splits_and_listing(tmp_path, skeleton_file):
    assert ntu.NTU_NUM_CLASSES == 60 and len(ntu.NTU_CROSS_SUBJECT_TRAIN) == 20
    assert ntu.ntu_split(NTU_NAME, "xsub") == "train"
    assert ntu.ntu_split("S001C001P003R001A001", "xsub") == "test"
    assert ntu.ntu_split(NTU_NAME, "xview") == "train"
    assert ntu.ntu_split("S001C002P003R001A001.skeleton", "xview") == "train"
    assert ntu.ntu_split("S001C001P001R001A001", "xview") == "test"
    with pytest.raises(ValueError, match="protocol"):
        ntu.ntu_split(NTU_NAME, "xset")
    other = tmp_path / "S001C001P003R002A060.skeleton"
    other.write_text("1\n0\n")  # one frame without any body
    calls = []
    test = ntu.read_ntu(tmp_path, "xsub", "test", progress=lambda i, n: calls.append((i, n)))
    assert [s.name for s in test] == [other.stem] and calls == [(1, 1)]
    assert test[0].bodies == [] and test[0].label == 59
    assert [s.name for s in ntu.read_ntu(tmp_path, "xview", "train")] == [NTU_NAME]
    with pytest.raises(FileNotFoundError, match="ROSE lab"):
        ntu.read_ntu(tmp_path / "empty_or_missing", "xsub", "train")
    assert ntu.rgb_video_path(tmp_path, NTU_NAME) is None
    (tmp_path / f"{NTU_NAME}_rgb.avi").write_bytes(b"")
    assert ntu.rgb_video_path(tmp_path, NTU_NAME) == tmp_path / f"{NTU_NAME}_rgb.avi"
