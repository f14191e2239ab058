"""Rendered prepared datasets: built-in motions (no data) and Human3.6M (real data)."""

import cv2
import numpy as np
import pytest

from posenet.data.camera import Camera
from posenet.data.prepared import PreparedDataset
from posenet.data.readers.h36m import H36M_ACTIONS, read_h36m_sequences
from posenet.data.render_dataset import (
    apply_crop,
    clip_rng,
    crop_background,
    crop_for,
    prepare_builtin_render,
    prepare_h36m_render,
    render_crops,
)
from posenet.render.motion import builtin_motion
from posenet.render.scene import look_at_camera, random_background, random_style

FIELDS = ("joints2d", "valid2d", "joints3d", "valid3d", "bbox", "crop", "action", "sequence",
          "frame", "camera")


def _decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def _builtin(path, seed=0, progress=None):
    return prepare_builtin_render(path, progress, num_clips=3, frames=6,
                                  kinds=("walk", "wave"), size=128, seed=seed)


def test_builtin_render_writes_every_frame(tmp_path):
    calls = []
    n = _builtin(tmp_path / "b.h5", progress=lambda d, t: calls.append((d, t)))
    assert n == 3 * 6 and calls[-1] == (3, 3)
    d = PreparedDataset(tmp_path / "b.h5")
    assert len(d) == n and d.attrs["dataset"] == "builtin_render"
    assert d.attrs["action_classes"] == ["walk", "wave"]
    assert d.attrs["sequence_names"] == ["walk/0", "wave/1", "walk/2"]
    assert d.arrays("action").tolist() == [0] * 6 + [1] * 6 + [0] * 6
    assert d.arrays("frame").tolist() == list(range(6)) * 3
    assert d.arrays("valid2d").all() and d.arrays("valid3d").all()
    assert (d.arrays("joints3d")[..., 2] > 0).all()
    assert len(d.cameras()["f"]) == 3
    for i in range(n):
        s = d.sample(i)
        img = _decode(s["image"])
        assert img.shape == (128, 128, 3)
        xy, vis = s["joints2d"][:, :2], s["joints2d"][:, 2] > 0
        assert ((xy >= 0) & (xy < 128)).all()
        assert vis.sum() >= 8
        x1, y1, x2, y2 = s["bbox"]
        assert x1 < xy[:, 0].min() and xy[:, 0].max() < x2 and y1 < xy[:, 1].min()
        # Visible joints sit on the drawn body: no flat patch around them.
        for u, v in xy[vis].astype(int):
            patch = img[max(0, v - 4):v + 5, max(0, u - 4):u + 5].reshape(-1, 3)
            assert patch.size and patch.min(0).max() < 250  # not all blank either


def test_builtin_render_is_deterministic_by_seed(tmp_path):
    _builtin(tmp_path / "a.h5", seed=3)
    _builtin(tmp_path / "b.h5", seed=3)
    _builtin(tmp_path / "c.h5", seed=4)
    a, b, c = (PreparedDataset(tmp_path / f"{k}.h5") for k in "abc")
    for name in FIELDS:
        np.testing.assert_array_equal(a.arrays(name), b.arrays(name), err_msg=name)
    images = [[x.sample(i)["image"] for i in range(len(x))] for x in (a, b, c)]
    assert images[0] == images[1]
    assert all(p != q for p, q in zip(images[0], images[2], strict=True))
    assert not np.array_equal(a.arrays("crop"), c.arrays("crop"))  # other viewpoints


def test_clip_rng_is_stable():
    # A fixed value: Python's salted str hash would change it from run to run.
    assert clip_rng(0, 9, "Walking 1", "54138969").integers(1 << 30) == 647381025
    assert clip_rng(0, 9, "a").random() != clip_rng(1, 9, "a").random()


def test_crop_maps_the_joints_box_into_the_square():
    pts = np.array([[[100.0, 200.0], [300.0, 600.0], [150.0, 400.0]]])
    crop = crop_for(pts, 256)
    assert crop.dtype == np.float32 and crop.shape == (1, 3)
    side = 1.4 * 400.0
    np.testing.assert_allclose(crop[0], [200 - side / 2, 400 - side / 2, 256 / side], rtol=1e-6)
    mapped = apply_crop(pts, crop)
    np.testing.assert_allclose(mapped[0, 1, 1] - mapped[0, 0, 1], 256 / 1.4, rtol=1e-5)
    np.testing.assert_allclose(mapped[0].min(0)[1] + mapped[0].max(0)[1], 256, rtol=1e-5)


def test_crop_background_matches_the_crop_geometry():
    img = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    np.testing.assert_array_equal(crop_background(img, 1.0, (0.0, 0.0, 1.0), 40), img[:40, :40])
    np.testing.assert_array_equal(crop_background(img, 1.0, (10.0, 5.0, 1.0), 30),
                                  img[5:35, 10:40])
    # Background stored at half resolution, crop at half scale: the same pixels.
    np.testing.assert_array_equal(crop_background(img, 0.5, (20.0, 40.0, 0.5), 20),
                                  img[20:40, 10:30])


def test_rendered_person_covers_the_visible_joints():
    rng = np.random.default_rng(5)
    f, c = np.full(2, 1150.0), np.full(2, 500.0)
    R, t = look_at_camera(None, 1500.0, 30.0, f, c)
    cam = Camera(R=R, T=-R.T @ t, f=f, c=c, k=(-0.2, 0.2, 0.0), p=(1e-3, -1e-3))
    joints = cam.world_to_camera(builtin_motion(4, 10.0, "jacks"))
    background = random_background(rng, 500, 500)
    out = render_crops(joints, cam, 128, random_style(rng), background, 0.5, (0, -1, -1))
    np.testing.assert_allclose(out["joints2d"], apply_crop(cam.project(joints), out["crop"]),
                               atol=1e-9)
    for i in range(4):
        empty = crop_background(background, 0.5, out["crop"][i], 128)
        changed = (out["frames"][i] != empty).any(-1)
        u, v = out["joints2d"][i][out["visible"][i]].astype(int).T
        assert out["visible"][i].sum() >= 10 and changed[v, u].all()


@pytest.mark.data
def test_h36m_render_s9_one_camera(shared_data, tmp_path):
    root = shared_data / "h36m"
    n = prepare_h36m_render(root, tmp_path / "s9.h5", "test", subjects=[9], cameras=[0],
                            every=50, size=96, seed=1)
    seqs = read_h36m_sequences(root, subjects=[9])
    assert n == sum(len(range(0, s.num_frames, 50)) for s in seqs)
    d = PreparedDataset(tmp_path / "s9.h5")
    assert d.attrs["dataset"] == "h36m_render" and d.attrs["every"] == 50
    names = d.attrs["sequence_names"]
    assert names == [f"S9/{s.subaction}.54138969" for s in seqs]
    assert d.attrs["action_classes"] == list(H36M_ACTIONS)
    action, seq = d.arrays("action"), d.arrays("sequence")
    assert ((action >= 0) & (action < len(H36M_ACTIONS))).all()
    assert [H36M_ACTIONS[a] for a in action[np.unique(seq, return_index=True)[1]]] == \
        [s.action for s in seqs]
    j3, j2 = d.arrays("joints3d"), d.arrays("joints2d")
    assert (j3[..., 2] > 0).all() and np.isfinite(j3).all()
    assert ((j2[..., :2] >= 0) & (j2[..., :2] < 96)).all()
    assert 0.5 < j2[..., 2].mean() < 1.0  # the renderer hides some joints, not most
    assert _decode(d.sample(n - 1)["image"]).shape == (96, 96, 3)
    # joints2d = the distorted projection of joints3d, mapped into the crop.
    cams = d.cameras()
    (row,) = np.unique(d.arrays("camera"))
    cam = Camera(**{k: cams[k][row] for k in "RTfckp"})
    np.testing.assert_allclose(j2[..., :2], apply_crop(cam.project(j3), d.arrays("crop")),
                               atol=1e-3)
