"""``posenet.render.crowd``: several people in one video, and their ground truth."""

from dataclasses import replace

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from cli.render import CROWD_SCENES, render
from posenet.render.crowd import (
    CROSSING_PAIR,
    SCENES,
    THREE_ONE_LEAVES,
    CrowdPerson,
    render_crowd,
    write_crowd_video,
)
from posenet.render.motion import ANKLE_HEIGHT_MM, STAND, builtin_motion
from tests.inference_fixtures import frames_of

W, H, T = 320, 180, 40
PELVIS, THORAX, NECK = 0, 8, 9


def centre_x(boxes):
    return (boxes[:, 0] + boxes[:, 2]) / 2


@pytest.fixture(scope="module")
def crossing(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crossing")
    return folder, write_crowd_video(folder / "cross", CROSSING_PAIR, T, (W, H), seed=1,
                                     render_scale=0.5)


def test_crossing_video_and_boxes(crossing):
    folder, out = crossing
    frames = frames_of(out["path"])
    assert len(frames) == T and frames[0].shape == (H, W, 3)
    assert [p.name for p in folder.iterdir()] == [out["path"].rsplit("/", 1)[1]]
    near, far = out["people"]
    assert (near["index"], far["index"]) == (0, 1) and near["spec"] == CROSSING_PAIR[0]
    for person in (near, far):
        assert person["present"].all() and np.isfinite(person["boxes"]).all()
        assert person["joints2d"].shape == (T, 17, 3) and person["joints3d"].shape == (T, 17, 3)
        # The joints lie in their box (the box bounds the whole drawn body).
        xy, b = person["joints2d"][..., :2], person["boxes"][:, None]
        assert ((xy >= b[..., :2] - 1) & (xy <= b[..., 2:] + 1)).all()
    # They swap sides: the near one walks left to right, the far one right to left ...
    assert centre_x(near["boxes"])[0] < centre_x(far["boxes"])[0]
    assert centre_x(near["boxes"])[-1] > centre_x(far["boxes"])[-1]
    # ... starting and ending where their specs say (pelvis x as a fraction of the width).
    for person in (near, far):
        spec, pelvis_x = person["spec"], person["joints2d"][:, PELVIS, 0] / W
        assert pelvis_x[0] == pytest.approx(spec.x_start, abs=0.03)
        assert pelvis_x[-1] == pytest.approx(spec.x_end, abs=0.03)
    # ... facing where they go (the neck is forward of the thorax) ...
    lead = near["joints2d"][:, NECK, 0] - near["joints2d"][:, THORAX, 0]
    assert (lead > 0).mean() > 0.9
    lead = far["joints2d"][:, NECK, 0] - far["joints2d"][:, THORAX, 0]
    assert (lead < 0).mean() > 0.9
    # ... and the near one is bigger, and in front: nearer in camera z.
    height = near["boxes"][:, 3] - near["boxes"][:, 1]
    assert (height > 1.3 * (far["boxes"][:, 3] - far["boxes"][:, 1])).all()
    assert (near["joints3d"][..., 2] < far["joints3d"][..., 2]).all()
    t = int(np.argmin(np.abs(centre_x(near["boxes"]) - centre_x(far["boxes"]))))
    assert 0.3 * T < t < 0.7 * T  # they meet mid-clip


def test_near_person_occludes_far_one():
    pair = render_crowd(CROSSING_PAIR, T, (W, H), seed=2)
    alone = render_crowd(CROSSING_PAIR[:1], T, (W, H), seed=2)  # same look, same background
    # The far person alone: the near one only in frame 0 (person i's look and motion
    # phase come from the seed and i alone).
    first_only = replace(CROSSING_PAIR[0], last_frame=0)
    unhidden = render_crowd((first_only, CROSSING_PAIR[1]), T, (W, H), seed=2)
    empty = render_crowd((), 1, (W, H), seed=2)["frames"][0]
    near, far = pair["people"]
    t = int(np.argmin(np.abs(centre_x(near["boxes"]) - centre_x(far["boxes"]))))
    # Pixels: the near person looks as if the far one were not there. (Anti-aliased
    # edges blend with whatever lies behind: leave them out, and allow the odd pixel
    # inside; drawn the other way round, half of them would differ.)
    drawn = (alone["frames"][t] != empty).any(-1).astype(np.uint8)
    inner = cv2.erode(drawn, np.ones((5, 5), np.uint8)).astype(bool)
    differ = (pair["frames"][t] != alone["frames"][t]).any(-1)
    assert inner.sum() > 1000 and differ[inner].mean() < 0.02
    # ... though the far person covers much of the near one's pixels when drawn alone.
    behind = (unhidden["frames"][t] != empty).any(-1)
    assert (behind & inner).sum() > 0.3 * inner.sum()
    # Ground truth: the near person's is as if alone; the far one loses joints, hidden
    # by the near one (inside its box), and only there.
    np.testing.assert_array_equal(near["joints2d"], alone["people"][0]["joints2d"])
    np.testing.assert_array_equal(far["joints2d"][..., :2],
                                  unhidden["people"][1]["joints2d"][..., :2])
    seen, seen_alone = far["joints2d"][..., 2], unhidden["people"][1]["joints2d"][1:, :, 2]
    assert (seen[1:] <= seen_alone).all()
    hidden = (seen[t] == 0) & (unhidden["people"][1]["joints2d"][t, :, 2] == 1)
    assert hidden.sum() >= 2
    x1, y1, x2, y2 = near["boxes"][t]
    xy = far["joints2d"][t, hidden, :2]
    assert ((xy[:, 0] >= x1) & (xy[:, 0] <= x2) & (xy[:, 1] >= y1) & (xy[:, 1] <= y2)).all()
    # Apart from where they meet, nobody hides anybody.
    apart = np.abs(centre_x(near["boxes"]) - centre_x(far["boxes"])) > 0.4 * W
    np.testing.assert_array_equal(seen[apart & (np.arange(T) > 0)],
                                  unhidden["people"][1]["joints2d"][apart & (np.arange(T) > 0),
                                                                    :, 2])


def test_person_who_leaves_and_still_person(tmp_path):
    out = write_crowd_video(tmp_path / "exit", THREE_ONE_LEAVES, T, (W, H), fps=20.0,
                            seed=3, render_scale=0.5)
    frames = frames_of(out["path"])
    assert len(frames) == T and frames[-1].shape == (H, W, 3)
    walker, still, leaver = out["people"]
    assert np.isfinite(walker["boxes"]).all() and np.isfinite(still["boxes"]).all()
    # The leaver starts in the frame and has walked out of it by the end: no box, no
    # visible joint (still in the scene, outside the picture).
    gone = np.isnan(leaver["boxes"]).all(axis=1)
    assert not gone[0] and gone[-T // 4:].all()
    assert (np.diff(gone.astype(int)) >= 0).all()  # once gone, gone for good
    assert leaver["present"].all() and (leaver["joints2d"][gone, :, 2] == 0).all()
    assert (leaver["joints2d"][gone, PELVIS, 0] >= W).all()
    # The still person does not move at all: joints, box and visibility.
    for key in ("joints2d", "joints3d", "boxes"):
        np.testing.assert_array_equal(still[key], np.broadcast_to(still[key][0], still[key].shape))
    assert still["joints2d"][0, :, 2].sum() >= 15  # facing the camera, in the clear


def test_absent_frames(tmp_path):
    people = [CrowdPerson("wave", 0.3), CrowdPerson("squat", 0.7, first_frame=3, last_frame=6)]
    out = render_crowd(people, 10, (96, 64), seed=0)
    late = out["people"][1]
    np.testing.assert_array_equal(late["present"], np.isin(np.arange(10), range(3, 7)))
    absent = ~late["present"]
    assert np.isnan(late["boxes"][absent]).all() and np.isnan(late["joints3d"][absent]).all()
    assert np.isnan(late["joints2d"][absent, :, :2]).all()
    assert (late["joints2d"][absent, :, 2] == 0).all()
    assert np.isfinite(late["boxes"][late["present"]]).all()
    # Before the person arrives the frame is the first person alone.
    alone = render_crowd(people[:1], 10, (96, 64), seed=0)
    np.testing.assert_array_equal(out["frames"][:3], alone["frames"][:3])
    assert (out["frames"][4] != alone["frames"][4]).any()


def test_same_seed_same_video():
    a = render_crowd(THREE_ONE_LEAVES, 5, (96, 64), seed=7)
    b = render_crowd(THREE_ONE_LEAVES, 5, (96, 64), seed=7)
    c = render_crowd(THREE_ONE_LEAVES, 5, (96, 64), seed=8)
    np.testing.assert_array_equal(a["frames"], b["frames"])
    for pa, pb in zip(a["people"], b["people"], strict=True):
        np.testing.assert_array_equal(pa["joints2d"], pb["joints2d"])
    assert np.abs(a["frames"].astype(int) - c["frames"]).mean() > 1.0


def test_stand_motion_is_still():
    m = builtin_motion(12, 25.0, STAND)
    np.testing.assert_array_equal(m, np.broadcast_to(m[0], m.shape))
    assert m[:, [3, 6], 2].min() == pytest.approx(ANKLE_HEIGHT_MM)
    assert 1550.0 < m[0, 10, 2] < 2000.0  # head top at an adult's height


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "moonwalk"}, "unknown motion"),
    ({"distance_mm": 100.0}, "distance_mm"),
    ({"first_frame": 5, "last_frame": 2}, "first_frame"),
    ({"x_end": float("nan")}, "finite"),
])
def test_bad_person(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CrowdPerson(**kwargs)


def test_bad_clip(tmp_path):
    with pytest.raises(ValueError, match="outside the clip"):
        write_crowd_video(tmp_path / "x", [CrowdPerson(last_frame=10)], 10, (64, 64))
    with pytest.raises(ValueError, match="num_frames"):
        write_crowd_video(tmp_path / "x", CROSSING_PAIR, 0, (64, 64))
    with pytest.raises(TypeError, match="CrowdPerson"):
        write_crowd_video(tmp_path / "x", ["walk"], 4, (64, 64))
    assert list(tmp_path.iterdir()) == []


def test_cli_render_crowd(tmp_path):
    assert set(CROWD_SCENES) == set(SCENES)
    result = CliRunner().invoke(render, [str(tmp_path / "exit.mp4"), "--crowd", "exit",
                                         "--frames", "6", "--size", "160x96"])
    assert result.exit_code == 0, result.output
    written = list(tmp_path.iterdir())
    assert len(written) == 1 and "6 frames, 160x96" in result.output and "exit" in result.output
    assert len(frames_of(written[0])) == 6
    result = CliRunner().invoke(render, [str(tmp_path / "x.mp4"), "--crowd", "crossing",
                                         "--motion", "walk"])
    assert result.exit_code == 2 and "exclude each other" in result.output
