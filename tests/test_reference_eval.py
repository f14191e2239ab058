"""``posenet evaluate --reference``: one view's predictions scored against a triangulation
(``posenet/triangulation/reference.py``). Synthetic cameras and people; the reference and
the predictions are written by the commands' own writers (``triangulation.outputs``,
``inference.schema``) from known 3D joints and known transforms."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main
from posenet.inference.schema import load_predictions, write_predictions
from posenet.skeleton import get_skeleton
from posenet.triangulation.calibration import write_json_calibration
from posenet.triangulation.camera import Camera
from posenet.triangulation.outputs import write_outputs
from posenet.triangulation.pipeline import Triangulation
from posenet.triangulation.reference import (
    check_inputs,
    choose_camera,
    evaluate_reference,
    read_reference,
)

SKELETON = get_skeleton("model17")
J = SKELETON.num_joints
SIZE = (1000, 800)
FRAMES = 6
WRIST = SKELETON.index("l_wrist")


def look_at(name, centre, target=(0.0, 0.0, 900.0)):
    """A camera at ``centre`` (world mm, Z up) looking at ``target``, mildly distorted."""
    z = np.subtract(target, centre) / np.linalg.norm(np.subtract(target, centre))
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    R = np.stack([x, np.cross(z, x), z])
    K = [[1000.0, 0.0, 505.0], [0.0, 1000.0, 398.0], [0.0, 0.0, 1.0]]
    return Camera(name, SIZE, K, (-0.05, 0.02, 0.0, 0.0, 0.0), R,
                  -R @ np.asarray(centre, dtype=float))


def rig():
    """cam01, cam02 (the reference's views) and cam03 (the one scored)."""
    angles = np.deg2rad([30.0, 150.0, 270.0])
    return [look_at(f"cam0{i + 1}", (4000 * np.cos(a), 4000 * np.sin(a), 1500.0))
            for i, a in enumerate(angles)]


def walker(rng, centre, frames=FRAMES):
    """(T, J, 3) world mm: a person-sized cloud of joints moving 20 mm a frame."""
    offsets = rng.uniform([-250, -150, 50], [250, 150, 1750], size=(J, 3))
    start = offsets + [centre[0], centre[1], 0.0]
    return start + np.arange(frames)[:, None, None] * np.array([20.0, 0.0, 0.0])


def write_reference(path, cameras, people, used=None):
    """``triangulation.json`` of ``people`` (list of (T, J, 3) mm) seen by ``cameras``;
    ``used`` (N, T, J, V) bool, default: every view but the last (the scored camera)."""
    points = np.stack(people)
    V = len(cameras)
    if used is None:
        used = np.zeros((*points.shape[:3], V), bool)
        used[..., :V - 1] = True
    errors = np.where(used, 0.5, np.nan)
    result = Triangulation(cameras=cameras, sources=[f"{c.name}.mp4" for c in cameras],
                           skeleton=SKELETON, fps=30.0, ids=list(range(len(people))),
                           points=points, used=used, errors=errors, raw_errors=errors,
                           tracks=[{0: k} for k in range(len(people))], settings={})
    write_outputs(result, path.parent, path.stem)
    return path


def prediction(camera, people, transform=None, shift_px=0.0, with_3d=True):
    """A ``posenet infer`` predictions dict of ``camera`` seeing ``people`` ({track: (T, J,
    3) world mm}): exact 2D joints (posenet's px convention, +0.5), and 3D joints in the
    camera's axes relative to the pelvis, through ``transform`` ((J, 3) -> (J, 3))."""
    frames = []
    for f in range(FRAMES):
        entries = []
        for track, points in people.items():
            px = camera.project(points[f]) + 0.5 + shift_px
            joints2d = np.concatenate([px, np.full((J, 1), 0.9)], axis=1)
            cam = camera.to_camera(points[f])
            joints3d = cam - cam[SKELETON.index("pelvis")]
            if transform is not None:
                joints3d = transform(joints3d)
            entries.append({"track": track, "box": [0.0, 0.0, 10.0, 10.0], "score": 0.9,
                            "joints2d": joints2d.tolist(),
                            "joints3d": joints3d.tolist() if with_3d else None})
        frames.append({"index": f, "time": f / 30.0, "people": entries})
    return {"schema": "posenet-predictions/1", "source": f"videos/{camera.name}.mp4",
            "kind": "video", "width": SIZE[0], "height": SIZE[1], "fps": 30.0,
            "num_frames": FRAMES, "skeleton": {"name": SKELETON.name,
                                               "joints": list(SKELETON.joints),
                                               "links": [list(x) for x in SKELETON.links]},
            "model": {"weights": "synthetic", "sha256": None, "block": 1},
            "action_classes": {}, "warnings": [], "frames": frames, "tracks": []}


def score(tmp_path, people, pred, used=None, **kwargs):
    """The report of ``pred`` (a dict, written and read back) against ``people``."""
    cameras = rig()
    reference = read_reference(write_reference(tmp_path / "triangulation.json", cameras,
                                               people, used))
    write_predictions(pred, tmp_path / "cam03.json")
    pred = load_predictions(tmp_path / "cam03.json")
    camera = choose_camera(cameras, None, pred)
    assert check_inputs(reference, pred, cameras, camera) == []
    return evaluate_reference(reference, pred, camera, **kwargs)


def test_a_perfect_prediction_scores_zero(tmp_path, rng):
    person = walker(rng, (0, 0))
    report = score(tmp_path, [person], prediction(rig()[2], {0: person}))
    overall = report["variants"]["all"]["overall"]
    # the reference is written to 0.1 mm: what is left is that rounding
    assert overall["mpjpe_mm"] < 0.2 and overall["pa_mpjpe_mm"] < 0.2
    assert overall["px_median"] < 0.05 and overall["samples"] == FRAMES
    assert report["counts"]["matched"] == FRAMES and report["counts"]["unmatched"] == 0
    assert report["camera"] == "cam03" and report["root"] == "pelvis"


def test_scale_and_rotation_are_left_by_protocol_1_and_removed_by_protocol_2(tmp_path, rng):
    person = walker(rng, (0, 0))
    angle = np.deg2rad(25.0)
    turn = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0],
                     [-np.sin(angle), 0, np.cos(angle)]])
    report = score(tmp_path, [person],
                   prediction(rig()[2], {0: person}, lambda p: 0.8 * p @ turn.T))
    overall = report["variants"]["all"]["overall"]
    assert overall["pa_mpjpe_mm"] < 0.2 and overall["mpjpe_mm"] > 50.0
    assert overall["px_median"] < 0.05  # the 2D joints are still exact


def test_one_joint_off_shows_on_that_joint_only(tmp_path, rng):
    person = walker(rng, (0, 0))

    def move_wrist(p):
        p = p.copy()
        p[WRIST] += [60.0, 0.0, 0.0]
        return p

    report = score(tmp_path, [person], prediction(rig()[2], {0: person}, move_wrist))
    per_joint = report["variants"]["all"]["per_joint"]
    assert per_joint["l_wrist"]["mpjpe_mm"] == pytest.approx(60.0, abs=0.3)
    others = [v["mpjpe_mm"] for k, v in per_joint.items() if k != "l_wrist"]
    assert max(others) < 0.2
    overall = report["variants"]["all"]["overall"]["mpjpe_mm"]
    assert overall == pytest.approx(60.0 / J, abs=0.2)


def test_the_nearest_reference_person_is_matched(tmp_path, rng):
    a, b = walker(rng, (-900, 300)), walker(rng, (800, -200))
    camera = rig()[2]
    report = score(tmp_path, [a, b], prediction(camera, {7: b}))
    assert report["counts"]["matched"] == FRAMES
    assert list(report["variants"]["all"]["per_person"]) == ["1"]  # b is person 1
    assert report["variants"]["all"]["overall"]["mpjpe_mm"] < 0.2
    # both predicted: each to its own; --person keeps one track
    both = score(tmp_path, [a, b], prediction(camera, {3: a, 7: b}))
    assert both["counts"]["matched"] == 2 * FRAMES
    assert both["variants"]["all"]["per_person"]["0"]["mpjpe_mm"] < 0.2
    assert both["variants"]["all"]["per_person"]["1"]["samples"] == FRAMES
    one = score(tmp_path, [a, b], prediction(camera, {3: a, 7: b}), track=3)
    assert list(one["variants"]["all"]["per_person"]) == ["0"]
    # 2D joints 424 px off the only reference person: unmatched, unless the limit allows it
    far = prediction(camera, {0: a}, shift_px=300.0)
    report = score(tmp_path, [a], far)
    assert report["counts"]["unmatched"] == FRAMES and report["counts"]["matched"] == 0
    assert report["variants"]["all"]["overall"]["mpjpe_mm"] is None
    loose = score(tmp_path, [a], far, max_distance=500.0)
    assert loose["counts"]["matched"] == FRAMES
    assert loose["variants"]["all"]["overall"]["px_median"] == pytest.approx(424.3, abs=0.5)


def test_joints_triangulated_with_the_scored_view_are_left_out_of_the_fair_variant(
        tmp_path, rng):
    person = walker(rng, (0, 0))
    used = np.zeros((1, FRAMES, J, 3), bool)
    used[..., :2] = True
    used[0, :, [4, 5, 6], 2] = True  # shoulders and an elbow also from cam03
    used[0, :, 9] = [False, True, True]  # the wrist from cam02 and cam03 only
    report = score(tmp_path, [person], prediction(rig()[2], {0: person}), used=used)
    assert report["camera_in_reference"] and "note" not in report
    fair, every = report["variants"]["without_view"], report["variants"]["all"]
    assert [fair["per_joint"][SKELETON.joints[j]]["count"] for j in (4, 5, 6, 9)] == [0] * 4
    assert fair["per_joint"]["pelvis"]["count"] == FRAMES
    assert every["per_joint"]["r_shoulder"]["count"] == FRAMES
    assert fair["excluded_joints"] == 4 * FRAMES and fair["overall"]["joints"] == (J - 4) * FRAMES
    # a root triangulated with the scored view: nothing can be root-aligned fairly
    used[0, :, 0, 2] = True
    report = score(tmp_path, [person], prediction(rig()[2], {0: person}), used=used)
    assert report["variants"]["without_view"]["overall"]["samples"] == 0
    assert report["variants"]["without_view"]["overall"]["mpjpe_mm"] is None


def test_a_reference_without_the_scored_camera_says_every_frame_is_fair(tmp_path, rng):
    person = walker(rng, (0, 0))
    cameras = rig()
    path = write_reference(tmp_path / "triangulation.json", cameras[:2], [person])
    pred = prediction(cameras[2], {0: person})
    report = evaluate_reference(read_reference(path), pred, cameras[2])
    assert not report["camera_in_reference"] and "every frame is a fair test" in report["note"]
    assert report["variants"]["without_view"] == report["variants"]["all"]


# ---- the command -----------------------------------------------------------------------

@pytest.fixture
def files(tmp_path, rng):
    """A reference, the cameras' calibration and two predictions files of cam03."""
    cameras = rig()
    people = [walker(rng, (-900, 300)), walker(rng, (800, -200))]
    write_reference(tmp_path / "ref" / "triangulation.json", cameras, people)
    write_json_calibration(cameras, tmp_path / "calibration.json")
    write_predictions(prediction(cameras[2], {0: people[1]}), tmp_path / "cam03.json")
    write_predictions(prediction(cameras[2], {0: people[1]}, with_3d=False),
                      tmp_path / "flat.json")
    return tmp_path


def _run(args):
    return CliRunner().invoke(main, ["evaluate", *map(str, args)])


def test_cli_scores_and_writes_the_report(files):
    out = files / "report.json"
    result = _run(["--reference", files / "ref" / "triangulation.json", files / "cam03.json",
                   "--calibration", files / "calibration.json", "--json", out])
    assert result.exit_code == 0, result.output
    assert "camera cam03 against the reference of cam01, cam02, cam03" in result.output
    assert "reference without cam03" in result.output and f"wrote {out}" in result.output
    lines = {line.split("|")[0].strip(): line for line in result.output.splitlines()}
    assert "person 1" in lines and "l_wrist" in lines
    report = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(c))
    assert report["camera"] == "cam03" and report["counts"]["matched"] == FRAMES
    assert report["variants"]["all"]["overall"]["mpjpe_mm"] < 0.2
    assert report["reference"].endswith("triangulation.json")
    assert [p.name for p in files.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("args, message", [
    (lambda f: ["--reference", f / "cam03.json", f / "cam03.json", "--calibration",
                f / "calibration.json"], "not a triangulation"),
    (lambda f: ["--reference", f / "ref" / "triangulation.json", f / "cam03.json",
                "--calibration", f / "calibration.json", "--camera", "cam09"],
     "'cam09' is not in the calibration"),
    (lambda f: ["--reference", f / "ref" / "triangulation.json", f / "flat.json",
                "--calibration", f / "calibration.json"], "has no joints3d"),
    (lambda f: ["--reference", f / "ref" / "triangulation.json", f / "flat.json",
                "--calibration", f / "calibration.json", "--camera", "cam09"],
     "has no joints3d"),
    (lambda f: ["--reference", f / "ref" / "triangulation.json", f / "cam03.json",
                "--calibration", f / "calibration.json", "--person", "4"],
     "no predicted person of track 4"),
    (lambda f: ["--reference", f / "ref" / "triangulation.json", f / "cam03.json"],
     "--reference needs --calibration"),
    (lambda f: ["--reference", f / "ref" / "triangulation.json", "--calibration",
                f / "calibration.json"], "needs the predictions"),
    (lambda f: ["--reference", f / "ref" / "triangulation.json", f / "cam03.json",
                "--calibration", f / "calibration.json", "--block", "2", "--flip"],
     "--block, --flip: options of prepared datasets"),
    (lambda f: ["--reference", f / "ref" / "triangulation.json", f / "cam03.json",
                "--calibration", f / "cam03.json"], "--calibration"),
    (lambda f: [f / "cam03.json", "--dataset", "lsp", "--camera", "cam03"],
     "[PRED], --camera only go with --reference"),
    (lambda f: ["--weights", f / "net.keras"], "Missing option '--dataset'"),
])
def test_cli_refuses_bad_combinations(files, args, message):
    result = _run(args(files))
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output and not (files / "report.json").exists()


def test_cli_refuses_a_camera_of_another_size_and_an_unnamed_source(files):
    pred = load_predictions(files / "cam03.json")
    write_predictions(pred | {"width": 640}, files / "small.json")
    result = _run(["--reference", files / "ref" / "triangulation.json", files / "small.json",
                   "--calibration", files / "calibration.json", "--camera", "cam03"])
    assert result.exit_code == 2 and "calibrated for 1000x800 px" in result.output
    write_predictions(pred | {"source": "clip.mp4"}, files / "clip.json")
    result = _run(["--reference", files / "ref" / "triangulation.json", files / "clip.json",
                   "--calibration", files / "calibration.json"])
    assert result.exit_code == 2 and "give its camera (known: cam01, cam02, cam03)" in \
        result.output
