"""Finding the single person in a whole frame (``Predictor.detect_single``)."""

import numpy as np
import pytest

from posenet.engine.weights import DEFAULT_MANIFEST
from posenet.render.motion import builtin_motion
from posenet.render.scene import look_at_camera, render_clip
from posenet.skeleton import map_joints


def offcentre_person(seed=3, size=(1280, 720), at=(1000.0, 420.0), fill=0.45, azimuth=20.0):
    """A rendered walking person whose hips project to ``at`` (px) in a ``size`` frame,
    spanning about ``fill`` of its height: (frame BGR, joints (17, 2) px, h36m17)."""
    rng = np.random.default_rng(seed)
    width, height = size
    f = np.array([1.15 * height, 1.15 * height])
    distance = f[1] * 1900.0 / (fill * height)  # a 1.9 m person spans `fill` of the height
    R, t = look_at_camera(distance, 1500.0, azimuth, f, np.asarray(at))
    clip = render_clip(builtin_motion(1, 10.0, "walk"), R, t, f, np.asarray(at), size, rng)
    return clip["frames"][0], clip["joints_2d"][0]


@pytest.mark.parametrize("seed, at", [(3, (1000.0, 420.0)), (5, (260.0, 330.0))])
def test_finder_lands_on_a_person_placed_off_centre(seed, at):
    """The default weights and finder (a whole-frame pass, then crops re-centred on the
    joints) box the person and land the joints near the truth."""
    from posenet.inference import Predictor

    if not DEFAULT_MANIFEST.is_file():
        pytest.skip("no shipped weights yet (weights/manifest.json is absent)")
    predictor = Predictor()
    frame, joints = offcentre_person(seed, at=at)
    (result,), (box,) = predictor.detect_single([frame])
    x1, y1, x2, y2 = box
    inside = (joints[:, 0] >= x1) & (joints[:, 0] <= x2) & (joints[:, 1] >= y1) & (
        joints[:, 1] <= y2)
    assert inside.mean() >= 0.9, f"box {box} misses the person at {joints.mean(0)}"
    height = joints[:, 1].max() - joints[:, 1].min()
    assert (y2 - y1) < 2.5 * height  # a box around the person, not the whole frame
    truth, _ = map_joints(joints, "h36m17", "model17")
    error = np.linalg.norm(result["joints2d"][:, :2] - truth, axis=1)
    assert np.nanmedian(error) < 0.25 * height


def test_heads_finder_needs_a_network_with_person_heads(tmp_path):
    from posenet.inference import Predictor
    from tests.inference_fixtures import save_networks

    pose, _ = save_networks(tmp_path)
    with pytest.raises(ValueError, match="person heads"):
        Predictor(weights=str(pose), finder="heads")
    with pytest.raises(ValueError, match="finder must be one of"):
        Predictor(weights=str(pose), finder="hog")
