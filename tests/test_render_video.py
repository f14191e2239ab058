"""``posenet render`` and ``write_motion_video``: a decodable clip and its ground truth."""

import numpy as np
import pytest
from click.testing import CliRunner

from cli.render import render
from posenet.render.video import write_motion_video
from tests.inference_fixtures import frames_of


def test_video_has_the_frames_size_and_ground_truth(tmp_path):
    out = write_motion_video(tmp_path / "jacks", "jacks", 9, (320, 180), fps=12.0, seed=3,
                             render_scale=0.5)
    frames = frames_of(out["path"])
    assert len(frames) == 9 and frames[0].shape == (180, 320, 3)
    assert out["joints2d"].shape == (9, 17, 3) and out["joints3d"].shape == (9, 17, 3)
    # The person is in the picture, and its joints (scaled to the written size) are too.
    xy = out["joints2d"][..., :2]
    assert (xy[..., 0] > 0).all() and (xy[..., 0] < 320).all()
    assert (xy[..., 1] > 0).all() and (xy[..., 1] < 180).all()
    assert set(np.unique(out["joints2d"][..., 2])) <= {0.0, 1.0}
    # The frames differ from one another (the person moves) and are not blank.
    assert frames[0].std() > 5 and np.abs(frames[0].astype(int) - frames[4]).mean() > 0.1
    assert [p.name for p in tmp_path.iterdir()] == [out["path"].rsplit("/", 1)[1]]


def test_same_seed_same_ground_truth(tmp_path):
    a = write_motion_video(tmp_path / "a", "wave", 4, (64, 64), seed=5)
    b = write_motion_video(tmp_path / "b", "wave", 4, (64, 64), seed=5)
    c = write_motion_video(tmp_path / "c", "wave", 4, (64, 64), seed=6)
    np.testing.assert_array_equal(a["joints2d"], b["joints2d"])
    assert not np.allclose(a["joints2d"], c["joints2d"])


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown motion"):
        write_motion_video(tmp_path / "x", "moonwalk", 4)
    with pytest.raises(ValueError, match="num_frames"):
        write_motion_video(tmp_path / "x", "walk", 0)
    assert list(tmp_path.iterdir()) == []


def test_cli_render(tmp_path):
    result = CliRunner().invoke(render, [str(tmp_path / "clip.mp4"), "--frames", "5",
                                         "--size", "160x120", "--motion", "squat"])
    assert result.exit_code == 0, result.output
    written = list(tmp_path.iterdir())
    assert len(written) == 1 and "5 frames, 160x120" in result.output
    assert len(frames_of(written[0])) == 5


@pytest.mark.parametrize("args, message", [
    (["--size", "big"], "WIDTHxHEIGHT"),
    (["--size", "8x8"], "at least 16x16"),
    (["--motion", "moonwalk"], "moonwalk"),
])
def test_cli_render_rejects_bad_options(tmp_path, args, message):
    result = CliRunner().invoke(render, [str(tmp_path / "clip.mp4"), *args])
    assert result.exit_code == 2 and message in result.output
    assert list(tmp_path.iterdir()) == []


def test_cli_render_missing_folder(tmp_path):
    result = CliRunner().invoke(render, [str(tmp_path / "no" / "clip.mp4")])
    assert result.exit_code == 2 and "does not exist" in result.output
