"""Camera model: rigid transforms, Brown-Conrady projection (vs OpenCV), unprojection and
the Human3.6M calibration convention checked on the real data."""

import cv2
import numpy as np
import pytest

from posenet.data.camera import H36M_CAMERA_NAMES, Camera, read_h36m_cameras
from posenet.data.readers.h36m import read_h36m_poses

# Distortion of the Human3.6M cameras' magnitude ("moderate").
K_H36M = (-0.207, 0.248, -0.003)
P_H36M = (-0.0014, -0.001)


def _rotation(rng):
    rvec = rng.normal(size=3)
    return cv2.Rodrigues(rvec)[0]


@pytest.fixture
def camera(rng):
    return Camera(R=_rotation(rng), T=rng.uniform(-3000, 3000, 3), f=(1145.0, 1143.8),
                  c=(512.5, 515.4), k=K_H36M, p=P_H36M, name="test", width=1000,
                  height=1002)  # fmt: skip


def _points_in_view(cam, rng, n=500, half_fov=0.45):
    """World points in front of ``cam``: normalised coordinates within ``half_fov``."""
    xy = rng.uniform(-half_fov, half_fov, (n, 2))
    z = rng.uniform(1000.0, 8000.0, (n, 1))
    return cam.camera_to_world(np.concatenate([xy * z, z], axis=1))


def test_camera_validates_and_freezes(rng):
    cam = Camera(R=np.eye(3), T=[[1.0], [2.0], [3.0]], f=[[100.0], [100.0]], c=[[5.0], [6.0]])
    assert cam.T.shape == (3,) and cam.f.shape == (2,) and cam.k.shape == (3,)
    assert np.array_equal(cam.T, [1, 2, 3]) and not cam.k.any()
    with pytest.raises(ValueError):
        cam.T[0] = 5.0  # read-only arrays: the camera is immutable
    with pytest.raises(ValueError, match="rotation"):
        Camera(R=2 * np.eye(3), T=np.zeros(3), f=(1, 1), c=(0, 0))
    with pytest.raises(ValueError, match="rotation"):  # a mirror is not a rotation
        Camera(R=np.diag([1.0, 1.0, -1.0]), T=np.zeros(3), f=(1, 1), c=(0, 0))
    with pytest.raises(ValueError, match="T must have 3"):
        Camera(R=np.eye(3), T=np.zeros(2), f=(1, 1), c=(0, 0))


def test_world_camera_round_trip(camera, rng):
    pts = rng.uniform(-5000, 5000, (4, 7, 3))
    cam_pts = camera.world_to_camera(pts)
    assert cam_pts.shape == pts.shape
    np.testing.assert_allclose(camera.camera_to_world(cam_pts), pts, atol=1e-8)
    # The camera centre T is the camera-frame origin; distances are preserved.
    np.testing.assert_allclose(camera.world_to_camera(camera.T), 0.0, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(cam_pts, axis=-1),
                               np.linalg.norm(pts - camera.T, axis=-1))  # fmt: skip
    np.testing.assert_allclose(camera.depth(pts), cam_pts[..., 2])


def test_optical_axis_projects_on_principal_point(camera):
    for z in (500.0, 3000.0):
        on_axis = camera.camera_to_world([0.0, 0.0, z])
        np.testing.assert_allclose(camera.project_world(on_axis), camera.c, atol=1e-9)
    assert np.isnan(camera.project([[0.0, 0.0, -100.0]])).all()  # behind: no image


def test_projection_matches_opencv(camera, rng):
    world = _points_in_view(camera, rng)
    rvec = cv2.Rodrigues(camera.R)[0]
    tvec = -camera.R @ camera.T  # X_cam = R X + t with t = -R T
    K = np.array([[camera.f[0], 0, camera.c[0]], [0, camera.f[1], camera.c[1]], [0, 0, 1]])
    dist = np.array([camera.k[0], camera.k[1], camera.p[0], camera.p[1], camera.k[2]])
    ref = cv2.projectPoints(world.reshape(-1, 1, 3), rvec, tvec, K, dist)[0].reshape(-1, 2)
    ours = camera.project_world(world)
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    # The distortion is not negligible here, so the comparison does test it.
    assert np.abs(camera.project_world(world, distort=False) - ref).max() > 10.0


def test_unproject_round_trip(camera, rng):
    world = _points_in_view(camera, rng)
    pixels = camera.project_world(world)
    depth = camera.depth(world)
    back = camera.unproject(pixels, depth)
    np.testing.assert_allclose(camera.project(back), pixels, atol=1e-3)
    np.testing.assert_allclose(camera.camera_to_world(back), world, atol=1e-2)  # mm
    # Without distortion the pinhole inverse is exact.
    flat = camera.project_world(world, distort=False)
    np.testing.assert_allclose(camera.unproject(flat, depth, distort=False),
                               camera.world_to_camera(world), atol=1e-6)  # fmt: skip


@pytest.mark.data
def test_h36m_cameras_parsed(shared_data):
    cameras = read_h36m_cameras(shared_data / "h36m" / "cameras.h5")
    assert sorted(cameras) == [1, 5, 6, 7, 8, 9, 11]
    for cams in cameras.values():
        assert [c.name for c in cams] == list(H36M_CAMERA_NAMES)
        for cam in cams:
            assert np.isclose(np.linalg.det(cam.R), 1.0)
            assert 1000 < cam.f.min() and cam.f.max() < 1300
            assert (cam.width, cam.height) in ((1000, 1000), (1000, 1002))
            assert 1000 < cam.T[2] < 2500  # camera centres mounted 1-2.5 m above the floor


def _inside(cam, world, width, height):
    """(...,) bool: in front of ``cam`` and projected inside the width x height image."""
    uv = cam.project_world(world)
    return (cam.depth(world) > 0) & (uv >= 0).all(-1) & (uv[..., 0] < width) & (
        uv[..., 1] < height)  # fmt: skip


def _walking(root, subject, stem):
    return read_h36m_poses(root / f"S{subject}" / "MyPoses" / "3D_positions" / f"{stem}.h5")


@pytest.mark.data
@pytest.mark.parametrize("stem", ["Walking", "Walking 1"])
def test_h36m_s1_walking_inside_every_camera(shared_data, stem):
    """Every joint of S1's Walking lies in front of and inside the image of all 4 cameras."""
    root = shared_data / "h36m"
    poses = _walking(root, 1, stem)
    for cam in read_h36m_cameras(root / "cameras.h5")[1]:
        assert (cam.depth(poses) > 1500).all(), cam.name  # metres away, in front
        assert _inside(cam, poses, cam.width, cam.height).all(), cam.name


@pytest.mark.data
@pytest.mark.parametrize("subject", [1, 5, 6, 7, 8, 9, 11])
def test_h36m_camera_convention(shared_data, subject):
    """Determines the convention: X_cam = R_stored.T @ (X_world - T), T the centre in mm.

    People occasionally step slightly out of one view (S8 Walking 1 leaves camera
    60457274 for a few frames), hence 99% inside; the un-transposed matrix puts most
    joints outside or behind some camera.
    """
    root = shared_data / "h36m"
    poses = _walking(root, subject, "Walking 1")
    centre = poses.reshape(-1, 3).mean(axis=0)
    raw_worst = 1.0
    for cam in read_h36m_cameras(root / "cameras.h5")[subject]:
        assert (cam.depth(poses) > 1500).all(), cam.name
        assert _inside(cam, poses, cam.width, cam.height).mean() > 0.99, cam.name
        # The optical axis points at the person (the capture volume's centre).
        to_person = (centre - cam.T) / np.linalg.norm(centre - cam.T)
        assert to_person @ cam.R[2] > np.cos(np.radians(25)), cam.name
        raw = Camera(R=cam.R.T, T=cam.T, f=cam.f, c=cam.c, k=cam.k, p=cam.p)
        raw_worst = min(raw_worst, _inside(raw, poses, cam.width, cam.height).mean())
    assert raw_worst < 0.5
