"""``posenet infer`` outputs (issue 31): one per input, names that cannot collide, never
written over an input, an earlier run's replaced and said so."""

import hashlib
import os

import cv2
import pytest
from click.testing import CliRunner

from cli.infer import infer
from posenet.inference import load_predictions
from posenet.inference.outputs_plan import (
    clobbered_inputs,
    plan_outputs,
    relative_bases,
)
from tests.inference_fixtures import rendered_video, save_networks, write_video


@pytest.fixture(scope="module")
def networks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outputs_networks")
    pose, bundle = save_networks(folder)
    return {"pose": pose, "bundle": bundle}


def run(*args):
    result = CliRunner().invoke(infer, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if an input is read or the model loaded."""
    from posenet.inference import predictor, sources

    def refuse(*args, **kwargs):
        raise AssertionError("work was done")

    monkeypatch.setattr(predictor.Predictor, "__init__", refuse)
    monkeypatch.setattr(sources, "probe", refuse)


# -- the naming rule ------------------------------------------------------------------
@pytest.mark.parametrize("paths, expected", [
    (["clips/walk.mp4"], ["walk"]),
    (["a/x.jpg", "b/x.jpg"], ["a/x", "b/x"]),
    (["d/x.jpg", "e/sub/y.jpg"], ["x", "y"]),  # names not shared: straight into OUT
    (["d/a/x.jpg", "d/b/x.jpg", "e/walk.mp4"], ["d/a/x", "d/b/x", "walk"]),
    (["d/x.jpg", "d/sub/x.jpg"], ["x", "sub/x"]),
    (["d/x.jpg", "d/x.png"], ["x_jpg", "x_png"]),
    (["d/x.jpg", "d/x.png", "d/x_jpg.png"], ["x_jpg", "x_png", "x_jpg_2"]),
    (["d/X.jpg", "d/x.jpg"], ["X_jpg", "x_jpg_2"]),  # one name where case is ignored
])
def test_output_names_come_from_the_path_under_the_common_parent(paths, expected):
    assert relative_bases(paths) == [os.path.normpath(e) for e in expected]


@pytest.mark.parametrize("fmt", ["json", "csv", "npz", "jsonl"])
def test_no_two_inputs_share_an_output_path_in_any_format(fmt, tmp_path):
    names = ["a/x.mp4", "b/x.mp4", "a/x.avi", "a/x_overlay.mp4", "a/X.mp4", "a/x.json.mp4",
             "a/x_avi.png"]
    paths = [str(tmp_path / n) for n in names]
    plan = plan_outputs(paths, tmp_path / "out", fmt, save_video=True)
    written = [os.path.normcase(p).casefold() for out in plan.outputs.values()
               for p in out.paths]
    assert len(plan.outputs) == len(names)
    assert len(set(written)) == len(written) == len(names) * 3  # predictions + 2 overlays
    assert all(p.startswith(os.path.normcase(str(tmp_path / "out")).casefold())
               for p in written)


def test_an_input_given_twice_is_planned_once(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(b"x")
    plan = plan_outputs([path, tmp_path / "." / "x.png"], tmp_path / "o", "json", False)
    assert list(plan.outputs) == [str(path)] and len(plan.repeated) == 1


# -- the command ----------------------------------------------------------------------
def test_same_names_in_two_folders_give_two_outputs(networks, tmp_path):
    _, clip = rendered_video(tmp_path / "clip.avi", 2, (160, 120))
    for folder, index in (("a", 0), ("b", 1)):
        (tmp_path / folder).mkdir()
        cv2.imwrite(str(tmp_path / folder / "x.png"), cv2.resize(clip["frames"][index],
                                                                 (120 + 40 * index, 160)))
    out = tmp_path / "out"
    result = run(tmp_path / "a" / "x.png", tmp_path / "b" / "x.png", "--weights",
                 networks["pose"], "--out", out)
    assert result.exit_code == 0, result.output
    assert files_under(out) == [os.path.join("a", "x.json"), os.path.join("b", "x.json")]
    for folder, width in (("a", 120), ("b", 160)):  # each its own input's
        pred = load_predictions(out / folder / "x.json")
        assert pred["source"] == str(tmp_path / folder / "x.png") and pred["width"] == width
    assert result.stdout.count("wrote") == 2


@pytest.mark.parametrize("ext", ["mp4", "avi"])
def test_overlay_onto_an_input_is_refused_before_any_work(networks, tmp_path, ext,
                                                          no_work):
    """Issue 31, case 2: --save-video with --out the input folder, which holds x_overlay.<ext>
    next to x.<ext>: refused (status 2) before anything is read, the input untouched."""
    fourcc = {"mp4": "mp4v", "avi": "MJPG"}[ext]
    frames = [cv2.resize(f, (160, 120)) for f in rendered_video(
        tmp_path / "seed.avi", 3, (160, 120))[1]["frames"]]
    os.remove(tmp_path / "seed.avi")
    for name in ("x", "x_overlay"):
        writer = cv2.VideoWriter(str(tmp_path / f"{name}.{ext}"),
                                 cv2.VideoWriter_fourcc(*fourcc), 10.0, (160, 120))
        if not writer.isOpened():
            pytest.skip(f"OpenCV cannot write {fourcc} .{ext} here")
        for frame in frames:
            writer.write(frame)
        writer.release()
    before = {p.name: digest(p) for p in tmp_path.iterdir()}
    result = run(tmp_path, "--weights", networks["pose"], "--out", tmp_path, "--save-video")
    assert result.exit_code == 2, result.output
    assert "one of the inputs" in result.output and f"x_overlay.{ext}" in result.output
    assert {p.name: digest(p) for p in tmp_path.iterdir()} == before  # nothing written
    # the same without --save-video: the predictions land next to the inputs, no clash
    assert clobbered_inputs(plan_outputs([tmp_path / f"x.{ext}"], tmp_path, "json", False),
                            [tmp_path / f"x.{ext}"]) == []


def test_predictions_onto_a_named_input_file_are_refused(networks, tmp_path, no_work):
    video = write_video(tmp_path / "x.avi", [], (64, 64))
    notes = tmp_path / "x.json"
    notes.write_text("the user's own notes")
    result = run(video, notes, "--weights", networks["pose"], "--out", tmp_path)
    assert result.exit_code == 2 and "would replace" in result.output
    assert notes.read_text() == "the user's own notes"


def test_a_rerun_replaces_its_own_outputs_and_says_so(networks, tmp_path):
    video, _ = rendered_video(tmp_path / "walk.avi", 4, (160, 120))
    out = tmp_path / "out"
    first = run(video, "--weights", networks["pose"], "--out", out, "--max-frames", 2)
    assert first.exit_code == 0, first.output
    assert "replacing" not in first.stderr
    assert load_predictions(out / "walk.json")["num_frames"] == 2
    again = run(video, "--weights", networks["pose"], "--out", out, "--max-frames", 3)
    assert again.exit_code == 0, again.output
    notes = [line for line in again.stderr.splitlines() if "replacing" in line]
    assert notes == [f"note: replacing 1 earlier output in {out}: walk.json"]
    assert load_predictions(out / "walk.json")["num_frames"] == 3
    assert files_under(out) == ["walk.json"]
    assert again.stdout == f"{video}: wrote {out / 'walk.json'}\n"  # stdout: the paths only


def test_an_input_named_twice_is_processed_once(networks, tmp_path):
    _, clip = rendered_video(tmp_path / "clip.avi", 1, (160, 120))
    image = tmp_path / "x.png"
    cv2.imwrite(str(image), cv2.resize(clip["frames"][0], (120, 160)))
    result = run(image, image, tmp_path, "--weights", networks["pose"], "--out",
                 tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("wrote") == 2  # x.png once, clip.avi
    assert result.stderr.count("is given more than once") == 2  # the repeat, the folder's
    assert files_under(tmp_path / "out") == ["clip.json", "x.json"]
