"""Scoring on composite outdoor clips (posenet.bench.wild) on hand-made predictions, and
``posenet bench --wild`` end to end on a tiny network."""

import json

import numpy as np
import pytest

from posenet.bench.wild import GROSS_ALPHA, combine, score_clip
from posenet.render.composite import truth_arrays
from posenet.skeleton import get_skeleton, map_joints

SIZE = (320, 180)
#: An upright person in the lsp layout, px of the frame: torso (l_shoulder - r_hip) = 62.6 px.
LSP = np.array([[135, 165], [138, 130], [140, 95], [160, 95], [163, 130], [166, 165],
                [120, 100], [124, 78], [132, 55], [168, 55], [176, 78], [180, 100],
                [150, 48], [150, 25]], dtype=np.float64)
SKEL = get_skeleton("model17")


def truth_of(frames_people):
    """Truth of T frames; ``frames_people[t]`` lists (person index, x shift) of who is in
    frame t (up to 2 people; the second stands 100 px right of the first)."""
    count = 2 if any(p == 1 for people in frames_people for p, _ in people) else 1
    t_len = len(frames_people)
    joints = np.full((t_len, count, 17, 2), np.nan)
    annotated = np.zeros((t_len, count, 17), bool)
    present = np.zeros((t_len, count), bool)
    for t, people in enumerate(frames_people):
        for p, shift in people:
            mapped, ok = map_joints(LSP + [shift + 100 * p, 0], "lsp", "model17")
            joints[t, p], annotated[t, p], present[t, p] = mapped, ok, True
    return {**truth_arrays(joints, annotated, present, SIZE), "layout": "model17"}


def person(xy, layout="model17"):
    """A reported person with the joints (17, 2) (model17) in ``layout``."""
    xy = np.asarray(xy, float)
    if layout == "model16":
        xy = xy[:16]
    joints = np.concatenate([np.nan_to_num(xy, nan=0.0), np.ones((len(xy), 1))], axis=1)
    return {"joints2d": joints.tolist()}


def predictions(frames, layout="model17"):
    return {"skeleton": {"name": layout}, "frames": [{"people": people} for people in frames]}


def exact(truth, t, p=0):
    return truth["joints"][t, p]


def torso(truth, t=0, p=0):
    return float(truth["torso"][t, p])


def test_the_torso_is_the_left_shoulder_to_right_hip_distance():
    truth = truth_of([[(0, 0)]])
    assert torso(truth) == pytest.approx(np.hypot(168 - 140, 55 - 95))


def test_a_perfect_prediction_is_right_on_every_frame_without_gross_errors():
    truth = truth_of([[], [(0, 0)], [(0, 5)], [(0, 10)]])
    pred = predictions([[]] + [[person(exact(truth, t))] for t in (1, 2, 3)])
    score = score_clip(pred, truth)
    assert score["frames_right"] == 1.0 and score["units"] == 3 and score["found"] == 3
    assert score["gross"] == 0 and score["joints"] == 36 and score["gross_share"] == 0.0
    assert score["missed"] == 0 and score["false"] == 0 and score["empty"] == 1


def test_one_joint_moved_by_more_than_half_a_torso_is_one_gross_error():
    truth = truth_of([[(0, 0)]])
    moved = exact(truth, 0).copy()
    moved[SKEL.index("l_wrist"), 0] += 0.6 * torso(truth)
    score = score_clip(predictions([[person(moved)]]), truth)
    assert 0.6 > GROSS_ALPHA and score["gross"] == 1 and score["joints"] == 12
    assert score["frames_right"] == 1.0  # 11 of 12 limb joints within 0.2 torso


def test_three_limb_joints_off_make_the_frame_wrong():
    truth = truth_of([[(0, 0)], [(0, 0)]])
    two, three = exact(truth, 0).copy(), exact(truth, 1).copy()
    for name in ("l_wrist", "r_knee"):
        two[SKEL.index(name), 1] += 0.3 * torso(truth)
        three[SKEL.index(name), 1] += 0.3 * torso(truth)
    three[SKEL.index("r_ankle"), 1] += 0.3 * torso(truth)
    score = score_clip(predictions([[person(two)], [person(three)]]), truth)
    assert score["right"] == 1 and score["units"] == 2  # 10 of 12 is right, 9 is not
    assert score["gross"] == 0  # 0.3 torso off: wrong, but not gross
    assert score["found"] == 2  # the right person, roughly in the right pose, both times


def test_nobody_reported_on_a_visible_person_is_a_missed_frame():
    truth = truth_of([[(0, 0)], [(0, 0)]])
    score = score_clip(predictions([[person(exact(truth, 0))], []]), truth)
    assert score["missed"] == 1 and score["right"] == 1 and score["frames_right"] == 0.5
    assert score["joints"] == 12  # the missed frame's joints are not gross errors


def test_someone_reported_in_an_empty_frame_is_a_false_person():
    truth = truth_of([[], [], [(0, 0)]])
    pred = predictions([[person(exact(truth, 2))], [], [person(exact(truth, 2))]])
    score = score_clip(pred, truth)
    assert score["false"] == 1 and score["empty"] == 2 and score["false_share"] == 0.5


def test_a_person_half_out_of_the_frame_is_not_scored():
    truth = truth_of([[(0, -150)], [(0, 0)]])  # frame 0: the left arm and leg are outside
    assert truth["present"][0, 0] and not truth["visible"][0, 0]
    score = score_clip(predictions([[], [person(exact(truth, 1))]]), truth)
    assert score["units"] == 1 and score["missed"] == 0 and score["empty"] == 0


def test_model16_predictions_are_scored_by_joint_name():
    truth = truth_of([[(0, 0)]])
    score = score_clip(predictions([[person(exact(truth, 0), "model16")]], "model16"), truth)
    assert score["frames_right"] == 1.0


def test_single_person_mode_matches_whichever_visible_person_is_reported():
    truth = truth_of([[(0, 0), (1, 0)], [(0, 0), (1, 0)]])
    pred = predictions([[person(exact(truth, 0, 1))], [person(exact(truth, 1, 0))]])
    score = score_clip(pred, truth)
    assert score["units"] == 2 and score["frames_right"] == 1.0


def test_multi_person_mode_scores_each_visible_person_once():
    truth = truth_of([[(0, 0), (1, 0)], [(0, 0), (1, 0)]])
    both = [person(exact(truth, 0, 1)), person(exact(truth, 0, 0))]  # in either order
    one = [person(exact(truth, 1, 0))]
    score = score_clip(predictions([both, one]), truth, multi_person=True)
    assert score["units"] == 4 and score["right"] == 3 and score["missed"] == 1
    twice = score_clip(predictions([[both[0], both[0]], one]), truth, multi_person=True)
    assert twice["right"] == 2  # one reported person cannot be right for two people


def test_clips_combine_by_adding_their_counts():
    truth = truth_of([[(0, 0)], []])
    good = score_clip(predictions([[person(exact(truth, 0))], []]), truth)
    bad = score_clip(predictions([[], [person(exact(truth, 0))]]), truth)
    total = combine([good, bad])
    assert total["units"] == 2 and total["right"] == 1 and total["frames_right"] == 0.5
    assert total["false"] == 1 and total["empty"] == 2


def test_too_few_predicted_frames_are_refused():
    truth = truth_of([[(0, 0)], [(0, 0)]])
    with pytest.raises(ValueError, match="1 predicted frames for 2"):
        score_clip(predictions([[]]), truth)


@pytest.mark.data
@pytest.mark.slow
def test_bench_wild_prints_a_row_per_configuration_and_clip(shared_data, tmp_path):
    from click.testing import CliRunner

    from cli.main import main
    from tests.inference_fixtures import save_networks

    lspet = shared_data / "lspet"
    if not (lspet / "joints.mat").is_file():
        pytest.skip(f"LSPet not found at {lspet}")
    _, bundle = save_networks(tmp_path)
    out = tmp_path / "wild.json"
    args = ["bench", "--wild", "--weights", str(bundle), "--runtime", "keras", "--frames", "6",
            "--wild-clip", "enters_late", "--wild-clip", "offcentre_flare",
            "--wild-config", "pose", "--wild-config", "detector", "--lspet", str(lspet),
            "--json", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if line.startswith("| configuration"))
    assert header.split("|")[3:8] == [" frames right ", " person found ", " gross errors ",
                                       " person missed ", " false people "]
    rows = [line for line in lines if line.startswith("| single")]
    before = [r for r in rows if r.startswith("| single, whole-frame pose finder (before)")]
    assert [r.split("|")[2].strip() for r in before] == ["offcentre_flare", "enters_late",
                                                         "all"]
    assert all(r.count("|") == header.count("|") for r in before)
    assert any(r.startswith("| single, detector") for r in rows)
    assert "pose network runtime: keras" in result.output and "MediaPipe" in result.output
    saved = json.loads(out.read_text())["wild"]
    assert {r["config"] for r in saved["rows"]} == {"single, whole-frame pose finder (before)",
                                                    "single, detector"}
    first = saved["rows"][0]
    assert first["available"] and first["units"] >= 0 and first["fps"] > 0


@pytest.mark.data
def test_an_option_the_predictor_does_not_know_is_reported_not_available(shared_data,
                                                                         tmp_path):
    from posenet.bench.wild_run import format_row, run_wild
    from tests.inference_fixtures import save_networks

    lspet = shared_data / "lspet"
    if not (lspet / "joints.mat").is_file():
        pytest.skip(f"LSPet not found at {lspet}")
    _, bundle = save_networks(tmp_path)
    result = run_wild(str(bundle), "keras", {"tomorrow": {"finder": "crystal_ball"}},
                      clips=(("small_far", 1),), num_frames=2, size=(320, 180),
                      lspet_folder=str(lspet))
    (row,) = result["rows"]
    assert not row["available"] and "crystal_ball" in row["reason"]
    assert format_row(row).startswith("| tomorrow | all | not available: ")
