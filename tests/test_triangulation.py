"""Multi-view triangulation (``posenet/triangulation``, ``posenet triangulate``): synthetic
cameras around synthetic people, and (marked ``data``) the Pose2Sim multi-person videos."""

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from cli.main import main
from posenet.skeleton import get_skeleton
from posenet.triangulation.association import (
    Identities,
    epipolar_distance,
    fundamental_matrices,
    group_people,
)
from posenet.triangulation.calibration import (
    cameras_from_dict,
    read_calibration,
    write_json_calibration,
)
from posenet.triangulation.camera import Camera
from posenet.triangulation.dlt import triangulate_views
from posenet.triangulation.outputs import trc_text, write_outputs
from posenet.triangulation.pipeline import triangulate_predictions
from posenet.triangulation.qualisys import parse_qualisys

SKELETON = get_skeleton("model17")
SIZE = (1000, 800)


def look_at(name, centre, target=(0.0, 0.0, 900.0), dist=(-0.1, 0.05, 1e-3, -1e-3, 0.0)):
    """A camera at ``centre`` (world mm, Z up) looking at ``target``."""
    z = np.subtract(target, centre) / np.linalg.norm(np.subtract(target, centre))
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    R = np.stack([x, np.cross(z, x), z])
    K = [[1000.0, 0.0, 510.0], [0.0, 1005.0, 395.0], [0.0, 0.0, 1.0]]
    return Camera(name, SIZE, K, dist, R, -R @ np.asarray(centre, dtype=float))


def rig(n=4):
    angles = np.deg2rad([20.0, 110.0, 200.0, 290.0][:n])
    return [look_at(f"cam{i + 1:02d}", (4000 * np.cos(a), 4000 * np.sin(a), 1500.0 + 100 * i))
            for i, a in enumerate(angles)]


def person(rng, centre):
    """(17, 3) world mm: joints scattered in a person-sized box standing at ``centre``."""
    offsets = rng.uniform([-250, -150, 50], [250, 150, 1750], size=(SKELETON.num_joints, 3))
    return offsets + [centre[0], centre[1], 0.0]


def observe(cameras, points, rng=None, noise=0.0):
    """(..., V, 2) px of ``points`` (..., 3) in every camera, with Gaussian noise."""
    px = np.stack([c.project(points) for c in cameras], axis=-2)
    return px if rng is None else px + rng.normal(0.0, noise, px.shape)


def test_projection_is_opencvs_and_undistortion_inverts_it(rng):
    camera = rig()[0]
    points = person(rng, (0, 0))
    rvec = cv2.Rodrigues(camera.R)[0]
    expected = cv2.projectPoints(points, rvec, camera.t, camera.K, camera.dist)[0][:, 0]
    np.testing.assert_allclose(camera.project(points), expected, atol=1e-6)
    cam = camera.to_camera(points)
    np.testing.assert_allclose(camera.undistort_points(camera.project(points)),
                               cam[:, :2] / cam[:, 2:], atol=1e-7)
    np.testing.assert_allclose(camera.centre, np.array([4000 * np.cos(np.deg2rad(20)),
                                                        4000 * np.sin(np.deg2rad(20)), 1500]))
    assert np.isnan(camera.project(camera.centre + camera.R[2] * -100)).all()  # behind


def test_dlt_recovers_points_within_noise(rng):
    cameras = rig()
    points = person(rng, (200, -100))
    px = observe(cameras, points, rng, noise=1.0)
    found = triangulate_views(cameras, px, np.full(px.shape[:-1], 0.9))
    error = np.linalg.norm(found.points - points, axis=-1)
    # 1 px at 4 m with f = 1000 px is 4 mm; four views average it down
    assert np.median(error) < 5.0 and error.max() < 15.0
    assert found.used.all() and np.nanmax(found.errors) < 5.0


def test_an_outlier_view_is_left_out(rng):
    cameras = rig()
    points = person(rng, (0, 0))
    px = observe(cameras, points, rng, noise=0.5)
    px[:, 2] += [90.0, -60.0]  # view 2 sees every joint 108 px off
    conf = np.full(px.shape[:-1], 0.9)
    found = triangulate_views(cameras, px, conf, max_error=20.0)
    assert not found.used[:, 2].any() and found.used[:, [0, 1, 3]].all()
    assert np.linalg.norm(found.points - points, axis=-1).max() < 10.0
    kept = triangulate_views(cameras, px, conf, max_error=None)  # every view: pulled off
    assert kept.used.all() and np.linalg.norm(kept.points - points, axis=-1).min() > 10.0


def test_confidence_weights_and_excludes_views(rng):
    cameras = rig(3)
    points = person(rng, (0, 0))
    px = observe(cameras, points)
    conf = np.full(px.shape[:-1], 0.9)
    conf[:5, 0] = 0.1  # under min_confidence: two views left
    conf[5:8, :2] = 0.0  # one view left: no position
    found = triangulate_views(cameras, px, conf, min_confidence=0.3)
    assert (found.used[:5].sum(-1) == 2).all() and not found.used[:5, 0].any()
    np.testing.assert_allclose(found.points[:5], points[:5], atol=1e-3)
    assert np.isnan(found.points[5:8]).all() and not found.used[5:8].any()
    # two views that miss each other by more than max_error: no position either
    px[8, 1] += 200.0
    found = triangulate_views(cameras[:2], px[:, :2], conf[:, :2], max_error=20.0)
    assert np.isnan(found.points[8]).all()


def test_epipolar_distance_is_zero_for_one_point_and_large_for_another(rng):
    cameras = rig()
    F = fundamental_matrices(cameras)[0, 1]
    points = person(rng, (0, 0))
    xa, xb = (cameras[v].undistort_points(cameras[v].project(points), pixels=True)
              for v in (0, 1))
    assert np.abs(epipolar_distance(F, xa, xb)).max() < 1e-6
    assert np.median(epipolar_distance(F, xa, xb[::-1])) > 20.0


def view_people(cameras, people, confidence=0.9):
    """Per view, (P, 3, 3)-like arrays of undistorted px and confidence, for association."""
    out = []
    for camera in cameras:
        px = np.stack([camera.undistort_points(camera.project(p), pixels=True) for p in people])
        out.append(np.concatenate([px, np.full(px.shape[:-1] + (1,), confidence)], axis=-1))
    return out


def test_association_groups_two_people_across_views(rng):
    cameras = rig()
    a, b = person(rng, (-700, 0)), person(rng, (600, 400))
    people = view_people(cameras, [a, b])
    people[1] = people[1][::-1]  # view 1 lists b first
    people[3] = people[3][:1]  # view 3 sees only a
    groups, costs = group_people(people, fundamental_matrices(cameras))
    assert groups == [{0: 0, 1: 1, 2: 0, 3: 0}, {0: 1, 1: 0, 2: 1}]
    assert max(costs) < 1.0


def test_identities_follow_the_majority_of_track_ids():
    identities = Identities()
    first, second = {(0, 5), (1, 7), (2, 1)}, {(0, 6), (1, 8), (2, 2)}
    assert identities.assign([first, second]) == [0, 1]
    assert identities.assign([second, first]) == [1, 0]
    # view 0 swaps its track ids: views 1 and 2 outvote it
    assert identities.assign([{(0, 6), (1, 7), (2, 1)}, {(0, 5), (1, 8), (2, 2)}]) == [0, 1]
    assert identities.assign([{(0, 9), (1, 10)}]) == [2]  # nobody seen before
    # the first person's views split in two groups: the second piece is left out
    assert identities.assign([{(0, 5), (1, 7)}, {(2, 1), (3, 4)}]) == [0, None]


def test_json_calibration_round_trips(tmp_path):
    cameras = rig()
    path = tmp_path / "calibration.json"
    write_json_calibration(cameras, path)
    back = read_calibration(path)
    assert [c.name for c in back] == [c.name for c in cameras]
    for c, d in zip(cameras, back, strict=True):
        assert c.size == d.size
        for attr in ("K", "dist", "R", "t"):
            np.testing.assert_array_equal(getattr(c, attr), getattr(d, attr))


@pytest.mark.parametrize("payload, message", [
    ({"camera": []}, "cameras"),
    ({"cameras": []}, "no cameras"),
    ({"cameras": [{"size": [10, 10], "K": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
                   "R": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}]}, "missing t"),
    ({"cameras": [{"size": [10, 10], "K": [[1, 0, 0], [0, 1, 0]],
                   "R": np.eye(3).tolist(), "t": [0, 0, 0]}]}, "K must have shape"),
    ({"cameras": [{"size": [10, 10], "K": np.eye(3).tolist(), "R": (2 * np.eye(3)).tolist(),
                   "t": [0, 0, 0]}]}, "not a rotation"),
    ({"units": "m", "cameras": []}, "units"),
])
def test_malformed_json_calibrations_are_refused(tmp_path, payload, message):
    with pytest.raises(ValueError, match=message):
        cameras_from_dict(payload)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="bad.json"):
        read_calibration(path)


QCA = """<?xml version='1.0' encoding='ASCII'?>
<calibration type="regular">
  <cameras>
    <camera active="1" serial="left" viewrotation="0">
      <fov_marker_max bottom="1919" left="0" right="1087" top="0"/>
      <fov_video bottom="1919" left="0" right="1087" top="0"/>
      <transform r11="1" r12="0" r13="0" r21="0" r22="0" r23="1" r31="0" r32="-1" r33="0"
                 x="100" y="-3000" z="1500"/>
      <intrinsic centerPointU="34816" centerPointV="61440" focalLengthU="108800"
                 focalLengthV="108864" focallength="9.3" radialDistortion1="-0.05"
                 radialDistortion2="0.14" radialDistortion3="0" sensorMaxU="69568"
                 sensorMaxV="122816" sensorMinU="0" sensorMinV="0" skew="0"
                 tangentalDistortion1="0.0006" tangentalDistortion2="0.0007"/>
    </camera>
    <camera active="1" serial="right" viewrotation="0">
      <fov_video bottom="1919" left="0" right="1087" top="0"/>
      <transform r11="0" r12="-1" r13="0" r21="0" r22="0" r23="1" r31="-1" r32="0" r33="0"
                 x="-3000" y="0" z="1500"/>
      <intrinsic centerPointU="32000" centerPointV="64000" focalLengthU="96000"
                 focalLengthV="96000" sensorMaxU="69568" sensorMaxV="122816"
                 sensorMinU="0" sensorMinV="0"/>
    </camera>
    <camera active="0" serial="off" viewrotation="0"/>
  </cameras>
</calibration>
"""


def test_qualisys_calibration_is_read_in_pixels_and_opencv_axes():
    left, right = parse_qualisys(QCA)
    assert (left.name, right.name) == ("left", "right") and left.size == (1088, 1920)
    # sub-pixels: 69568 / 1087 = 64 per pixel
    np.testing.assert_allclose(left.K, [[1700.0, 0, 544.0], [0, 1701.0, 960.0], [0, 0, 1]])
    np.testing.assert_allclose(left.dist, [-0.05, 0.14, 0.0006, 0.0007, 0.0])
    np.testing.assert_allclose(left.centre, [100.0, -3000.0, 1500.0], atol=1e-9)
    # Qualisys camera axes: x right, y up, z back; the first camera looks along +Y
    np.testing.assert_allclose(left.R, [[1, 0, 0], [0, 0, -1], [0, 1, 0]], atol=1e-12)
    assert left.to_camera([100.0, 0.0, 1500.0])[2] == pytest.approx(3000.0)
    assert right.to_camera([0.0, 0.0, 1500.0])[2] == pytest.approx(3000.0)  # looks along +X
    np.testing.assert_allclose(right.K[:2, 2], [500.0, 1000.0])
    np.testing.assert_array_equal(right.dist, np.zeros(5))


@pytest.mark.parametrize("edit, message", [
    (('x="100"', 'x="a"'), "not a number"),
    (('r33="0"\n', '\n'), "missing 'r33'"),
    (('viewrotation="0"', 'viewrotation="90"'), "viewrotation"),
    (("<calibration", "<calib"), "not XML"),
    (('<fov_video bottom="1919" left="0" right="1087" top="0"/>\n      <transform r11="0"',
      '<transform r11="0"'), "fov_video"),
])
def test_malformed_qualisys_calibrations_are_refused(edit, message):
    with pytest.raises(ValueError, match=message):
        parse_qualisys(QCA.replace(*edit))


def predictions(camera, tracks, frames, fps=30.0):
    """A ``posenet infer`` predictions dict of ``camera`` seeing ``tracks``: {track id:
    (T, 17, 3) world mm}; posenet's px convention (top-left pixel's centre at 0.5)."""
    out = []
    for f in range(frames):
        people = []
        for track, points in tracks.items():
            px = camera.project(points[f]) + 0.5
            joints = np.concatenate([px, np.full((len(px), 1), 0.9)], axis=1)
            people.append({"track": track, "box": [0, 0, 1, 1], "score": 0.9,
                           "joints2d": joints.tolist(), "joints3d": None})
        out.append({"index": f, "time": f / fps, "people": people})
    return {"schema": "posenet-predictions/1", "source": camera.name, "kind": "video",
            "width": camera.size[0], "height": camera.size[1], "fps": fps,
            "num_frames": frames, "skeleton": {"name": "model17",
                                               "joints": list(SKELETON.joints)},
            "frames": out, "tracks": []}


def walkers(rng, frames=12):
    """Two people walking (T, 17, 3) mm, 10 mm per frame."""
    step = np.arange(frames)[:, None, None] * np.array([10.0, 0.0, 0.0])
    return person(rng, (-700, 0)) + step, person(rng, (600, 400)) - step


def test_the_pipeline_triangulates_and_follows_two_people(rng):
    cameras = rig()
    a, b = walkers(rng)
    views = [predictions(cameras[0], {0: a, 1: b}, 12), predictions(cameras[1], {4: b, 3: a}, 12),
             predictions(cameras[2], {1: a}, 12), predictions(cameras[3], {2: b, 0: a}, 12)]
    result = triangulate_predictions(views, cameras, smoothing=None)
    assert result.ids == [0, 1] and result.tracks == [{0: 0, 1: 3, 2: 1, 3: 0},
                                                      {0: 1, 1: 4, 3: 2}]
    np.testing.assert_allclose(result.points[0], a, atol=1e-3)
    np.testing.assert_allclose(result.points[1], b, atol=1e-3)
    assert np.nanmax(result.errors) < 1e-3 and result.used[1, :, :, 2].sum() == 0
    smoothed = triangulate_predictions(views, cameras)  # the One Euro filter lags a little
    assert np.abs(smoothed.points - result.points).max() < 20.0
    single = triangulate_predictions(views, cameras, multi_person=False, smoothing=None)
    assert single.ids == [0] and single.used[0].any(axis=(0, 1)).all()  # a: 4 views


def test_views_without_anyone_give_an_empty_result(tmp_path):
    cameras = rig(2)
    result = triangulate_predictions([predictions(c, {}, 5) for c in cameras], cameras)
    assert result.ids == [] and result.points.shape == (0, 5, 17, 3)
    assert result.summary() == "nobody triangulated over 5 frames"
    written = write_outputs(result, tmp_path)
    assert [p.rsplit("/", 1)[1] for p in written] == ["triangulation.json"]
    assert json.loads(open(written[0]).read())["people"] == []


def test_trc_has_openSims_header_columns_and_rows():
    points = np.arange(5 * 17 * 3, dtype=float).reshape(5, 17, 3)
    points[2, 4] = np.nan
    lines = trc_text(points, SKELETON.joints, 60.0, "p.trc").split("\n")
    assert lines[0].split("\t") == ["PathFileType", "4", "(X/Y/Z)", "p.trc"]
    assert lines[1].split("\t")[:5] == ["DataRate", "CameraRate", "NumFrames", "NumMarkers",
                                        "Units"]
    assert lines[2].split("\t") == ["60", "60", "5", "17", "mm", "60", "1", "5"]
    names = lines[3].split("\t")
    assert names[:3] == ["Frame#", "Time", "pelvis"] and names[5] == "thorax"
    assert len(names) == 2 + 3 * 17
    assert lines[4].split("\t")[2:5] == ["X1", "Y1", "Z1"] and lines[4].endswith("Z17")
    rows = [line.split("\t") for line in lines[6:] if line]
    assert len(rows) == 5 and all(len(r) == 2 + 3 * 17 for r in rows)
    assert rows[1][:3] == ["2", "0.016667", "51.00"]
    assert rows[2][2 + 12:2 + 15] == ["NaN"] * 3


def write_views(tmp_path, rng, frames=(12, 12, 12)):
    cameras = rig(3)
    a, b = walkers(rng, max(frames))
    paths = []
    for camera, n in zip(cameras, frames, strict=True):
        pred = predictions(camera, {0: a[:n], 1: b[:n]}, n)
        paths.append(tmp_path / f"{camera.name}.json")
        paths[-1].write_text(json.dumps(pred))
    write_json_calibration(cameras, tmp_path / "calibration.json")
    return [str(p) for p in paths], str(tmp_path / "calibration.json")


def test_cli_triangulates_predictions_files(tmp_path, rng):
    inputs, calibration = write_views(tmp_path, rng, frames=(12, 10, 12))
    result = CliRunner().invoke(main, ["triangulate", *inputs, "--calibration", calibration,
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "different frame counts" in result.stderr and "2 people over 10 frames" in result.stderr
    written = result.stdout.split()
    assert [p.rsplit("/", 1)[1] for p in written] == [
        "triangulation.json", "triangulation_person0.trc", "triangulation_person1.trc"]
    payload = json.loads((tmp_path / "out" / "triangulation.json").read_text())
    assert payload["num_frames"] == 10 and [v["camera"] for v in payload["views"]] == [
        "cam01", "cam02", "cam03"]
    entry = payload["frames"][3]["people"][0]
    assert entry["views"][0] == [0, 1, 2] and entry["error_px"][0] < 1.0


@pytest.mark.parametrize("args, message", [
    (lambda i, c: [i[0], "--calibration", c], "need 2 views or more"),
    (lambda i, c: [i[0], i[0], "--calibration", c], "given twice"),
    (lambda i, c: [*i, "--calibration", c, "--cameras", "cam01,cam02,camXX"],
     "unknown camera names camXX"),
    (lambda i, c: [*i, "--calibration", c, "--cameras", "cam01,cam02"], "2 camera names for 3"),
    (lambda i, c: [*i, "--calibration", i[0]], "--calibration"),
])
def test_cli_refuses_what_cannot_work(tmp_path, rng, args, message):
    inputs, calibration = write_views(tmp_path, rng)
    result = CliRunner().invoke(main, ["triangulate", *args(inputs, calibration)])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_cli_refuses_fewer_cameras_ambiguous_names_and_other_sizes(tmp_path, rng):
    inputs, calibration = write_views(tmp_path, rng)
    write_json_calibration(rig(2), tmp_path / "two.json")
    result = CliRunner().invoke(main, ["triangulate", *inputs, "--calibration",
                                       str(tmp_path / "two.json")])
    assert result.exit_code == 2 and "only 2 cameras" in result.output
    renamed = tmp_path / "other.json"
    renamed.write_text(open(inputs[2]).read())
    result = CliRunner().invoke(main, ["triangulate", *inputs[:2], str(renamed),
                                       "--calibration", calibration])
    assert result.exit_code == 2 and "some inputs are named after cameras" in result.output
    small = json.loads(open(inputs[2]).read()) | {"width": 640}
    (tmp_path / "cam03.json").write_text(json.dumps(small))
    result = CliRunner().invoke(main, ["triangulate", *inputs, "--calibration", calibration])
    assert result.exit_code == 2 and "calibrated for 1000x800 px" in result.output


@pytest.mark.data
@pytest.mark.slow
def test_pose2sim_videos_triangulate_within_the_measured_error(shared_data, tmp_path):
    folder = shared_data / "videos" / "pose2sim_multiperson"
    if not (folder / "Calib.qca.txt").is_file():
        pytest.skip(f"the Pose2Sim multi-person videos are not in {folder}")
    videos = [str(folder / f"cam0{i}.mp4") for i in range(1, 5)]
    result = CliRunner().invoke(main, [
        "triangulate", *videos, "--calibration", str(folder / "Calib.qca.txt"),
        "--out", str(tmp_path), "--max-frames", "10", "--runtime", "litert"])
    assert result.exit_code == 0, result.output
    payload = json.loads((tmp_path / "triangulation.json").read_text())
    errors = [e for f in payload["frames"] for p in f["people"] for e in p["error_px"]
              if e is not None]
    # measured (2026-12-08, LiteRT): 3 people (two in all 4 views, one in 2), per joint
    # median 11.8 px, 90th percentile 17.1 px
    assert len(payload["people"]) >= 2 and np.median(errors) < 20.0
    assert sum(len(p["tracks"]) == 4 for p in payload["people"]) >= 2
