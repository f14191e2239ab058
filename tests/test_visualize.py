"""Drawing: overlay, 3D view, action plot, heatmap figure, overlay video."""

import cv2
import numpy as np
import pytest

from posenet.skeleton import get_skeleton
from posenet.visualize.actions import action_figure, action_text
from posenet.visualize.overlay import draw_people
from posenet.visualize.plots import LINE_COLORS, line_plot, nice_ticks
from posenet.visualize.skeleton3d import render_skeleton3d
from posenet.visualize.video import overlay_video, read_frames
from tests.visualize_fixtures import predictions_for, write_demo_video

SKEL = get_skeleton("model17")


def _spread_joints(conf=1.0):
    """17 joints on a circle of a 200 px frame, far apart so bones are easy to probe."""
    a = np.linspace(0, 2 * np.pi, 17, endpoint=False)
    xy = np.stack([100 + 80 * np.cos(a), 100 + 80 * np.sin(a)], 1)
    return np.concatenate([xy, np.full((17, 1), conf)], 1)


def _dominant(pixel):
    return int(np.argmax(pixel))


def test_bones_take_link_colours():
    joints = _spread_joints()
    frame = np.zeros((200, 200, 3), np.uint8)
    out = draw_people(frame, [{"joints2d": joints}])
    for (a, b), color in zip(SKEL.links, SKEL.colors, strict=True):
        mid = (joints[a, :2] + joints[b, :2]) / 2
        px = out[int(mid[1]), int(mid[0])].astype(int)
        assert px.sum() > 100, (a, b, px)
        assert _dominant(px) == _dominant(color), (a, b, px, color)


def test_low_confidence_and_nan_hidden_input_untouched():
    frame = np.full((200, 200, 3), 7, np.uint8)
    before = frame.copy()
    joints = _spread_joints(conf=0.05)
    assert np.array_equal(draw_people(frame, [{"joints2d": joints}]), frame)
    joints = _spread_joints()
    joints[1] = np.nan  # thorax: its bones disappear, the rest is drawn
    out = draw_people(frame, [{"joints2d": joints, "box": [10, 10, 190, 190], "track": 2}],
                      action={2: "A 0.9"})
    assert np.array_equal(frame, before)
    assert out is not frame and not np.array_equal(out, frame)
    mid = (joints[4, :2] + joints[6, :2]) / 2  # r_shoulder - r_elbow: still drawn
    assert out[int(mid[1]), int(mid[0])].sum() > 100


def test_global_action_text_and_bad_frame():
    frame = np.zeros((120, 160, 3), np.uint8)
    out = draw_people(frame, [], action="tennis_serve 0.82")
    assert out[100:, :80].sum() > 0 and out[:20].sum() == 0
    with pytest.raises(ValueError):
        draw_people(np.zeros((10, 10), np.uint8), [])
    with pytest.raises(ValueError):
        draw_people(frame, [{"joints2d": np.zeros((5, 3))}])


def test_nice_ticks():
    assert list(nice_ticks(0, 1)) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert list(nice_ticks(0, 9.5)) == [0, 2, 4, 6, 8]


def _line_y(img, color, cols):
    ys = []
    for c in cols:
        hit = np.flatnonzero(np.abs(img[:, c].astype(int) - color).sum(1) < 60)
        ys.append(hit.mean())
    return ys


def test_rising_probability_goes_up():
    t = np.linspace(0, 10, 20)
    img = line_plot([("A", t, 0.1 + 0.08 * t)], (400, 300), ylim=(0, 1))
    y = _line_y(img, np.array(LINE_COLORS[0]), [120, 250, 360])
    assert y[0] > y[1] > y[2]


def test_action_figure_and_text(tmp_path):
    clip = write_demo_video(tmp_path / "v.avi", num_frames=8)
    pred = predictions_for(clip)
    fig = action_figure(pred, top_k=2, panel_size=(500, 240))
    assert fig.shape == (240, 500, 3)
    left, right = _line_y(fig, np.array(LINE_COLORS[0]), [200, 400])
    assert left > right  # class A (first: highest mean) rises from 0.1 to 0.9
    assert action_text(pred, 7)[1].startswith("A ")
    assert action_text(pred, 0)[1].startswith("B ")
    empty = action_figure({**pred, "tracks": []})
    assert empty.shape[2] == 3


def test_skeleton3d_view(tmp_path):
    clip = write_demo_video(tmp_path / "v.avi", num_frames=3)
    joints = predictions_for(clip)["frames"][1]["people"][0]["joints3d"]
    img = render_skeleton3d(joints, "model17", size=(320, 240), azimuth=60)
    assert img.shape == (240, 320, 3)
    centre = img[60:200, 110:210]
    colored = np.abs(centre.astype(int) - centre.mean(2, keepdims=True)).sum(2) > 60
    assert colored.sum() > 50  # bones (coloured) where the body is
    path = tmp_path / "v.png"
    assert cv2.imwrite(str(path), img) and cv2.imread(str(path)).shape == img.shape


def test_overlay_video_matches_input(tmp_path):
    clip = write_demo_video(tmp_path / "in.avi", num_frames=6, size=(96, 80))
    path, count = overlay_video(predictions_for(clip), tmp_path / "in.avi",
                                tmp_path / "out.mp4")
    frames = list(read_frames(path))
    assert count == len(frames) == 6
    assert frames[0].shape == (80, 96, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.avi", path.split("/")[-1]])


def test_heatmap_figure_tiles():
    from posenet.models import PoseNetwork
    from posenet.visualize.heatmaps import crop_box, heatmap_figure

    model = PoseNetwork(input_size=64, num_joints=16, num_blocks=2, kernel_size=3,
                        num_features=16, stem_width=0.25)
    crop = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    fig = heatmap_figure(model, crop, block=1, tile=48)
    # 16 joints + the input tile = 17 tiles on a 5 x 4 grid of 48 px tiles.
    assert fig.shape == (4 * 48, 5 * 48, 3)
    filled = [fig[r * 48:(r + 1) * 48, c * 48:(c + 1) * 48].any()
              for r in range(4) for c in range(5)]
    assert sum(filled) == 17
    assert crop_box(np.zeros((80, 96, 3), np.uint8), [10, 10, 50, 70], 64).shape == (64, 64, 3)
