"""``posenet tools window-choice | pose-noise | person-score | empty-frames | joint-speed``:
measurements that set the pose network's soft-argmax window, the action recipes' noise
model, the Predictor's ``min_score`` (and how often it reports a person on frames without
anyone) and its gating threshold."""

import os

import click

from cli.paths import check_out_file
from cli.tools.options import OneOrMore
from posenet.data.pose_noise import DEFAULT_NOISE_MODEL, MISS_THRESHOLD

#: The radii ``window-choice`` scores by default (``posenet.evaluation.window_choice``).
DEFAULT_WINDOWS = (0, 3, 4, 5, 6, 7, 8)


@click.command("window-choice", short_help="Score a pose network per soft-argmax window.")
@click.argument("network")
@click.option("--data", required=True, help="A prepared file (a training split).")
@click.option("--every", type=int, default=1, show_default=True,
              help="Score every N-th sample.")
@click.option("--window", "windows", cls=OneOrMore, type=int, default=DEFAULT_WINDOWS,
              show_default=True, metavar="R...",
              help="Radii in heatmap cells (0: the whole map).")
@click.option("--alpha", "alphas", cls=OneOrMore, type=float, default=(), metavar="A...",
              help="PCK protocols: also score at these thresholds.")
def window_choice(network, data, every, windows, alphas):
    """Score a pose network's last block (NETWORK: a single-frame pose network, .keras)
    with several soft-argmax windows, and print a line per window."""
    if every < 1 or min(windows) < 0 or any(a <= 0 for a in alphas):
        raise click.UsageError("--every must be >= 1, every --window >= 0 and every "
                               "--alpha > 0")
    for path in (network, data):
        if not os.path.isfile(path):
            raise click.UsageError(f"{path}: no such file")
    from posenet.engine.errors import WeightsError
    from posenet.evaluation.model_spec import EvaluationError
    from posenet.evaluation.window_choice import score_window_file

    try:
        table = score_window_file(network, data, windows, every, alphas)
    except (EvaluationError, WeightsError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    for window, summary in table.items():
        click.echo(f"window {window:3d}  "
                   + "  ".join(f"{k} {v:.4f}" for k, v in summary.items()))


@click.command("pose-noise", short_help="Measure a pose network's per-joint 2D error.")
@click.option("--weights", default="weights/mobile_pose.keras", show_default=True,
              help="The pose network (a .keras or bundle file).")
@click.option("--data", default="datasets/lspet_validation.h5", show_default=True,
              help="A prepared file with 2D annotations.")
@click.option("--out", default=str(DEFAULT_NOISE_MODEL), show_default=True,
              help="The PoseNoise JSON to write.")
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True)
@click.option("--miss-threshold", type=float, default=MISS_THRESHOLD, show_default=True,
              help="An error above this share of the person's box is a gross miss.")
def pose_noise(weights, data, out, batch_size, miss_threshold):
    """Measure a pose network's per-joint 2D error in the action loader's units and write
    it as JSON (posenet/evaluation/pose_noise.py); prints a line per joint."""
    check_out_file(out)
    for path, hint in ((weights, "--weights"), (data, "--data")):
        if not os.path.isfile(path):
            raise click.BadParameter(f"{path}: no such file", param_hint=hint)
    from posenet.engine.errors import WeightsError
    from posenet.evaluation.pose_noise import measure_file

    command = f"posenet tools pose-noise --weights {weights} --data {data} --out {out}"
    try:
        noise = measure_file(weights, data, batch_size, miss_threshold, command=command)
    except (ValueError, WeightsError) as error:  # PreparedFileError, too few samples
        raise click.ClickException(str(error)) from None
    noise.save(out)
    for j, name in enumerate(noise.joints):
        click.echo(f"{name:>11}  sigma {noise.sigma[j]:.4f}  miss {noise.miss_rate[j]:.3f}  "
                   f"miss_sigma {noise.miss_sigma[j]:.3f}  hidden {noise.hidden_rate[j]:.3f}"
                   + ("" if name in noise.measured else "  (filled)"))
    click.echo(f"wrote {out}")


@click.command("person-score",
               short_help="Person scores on people and empty images (min_score).")
@click.option("--data", default="../shared/data", show_default=True,
              type=click.Path(exists=True, file_okay=False), help="The shared data folder.")
@click.option("--weights", default=None, help="Default: the shipped weights.")
@click.option("--every", type=click.IntRange(1), default=1, show_default=True,
              help="Use every n-th LSPet photo.")
def person_score(data, weights, every):
    """Print the Predictor's person scores' rates on LSPet validation photos and on images
    without anyone: the calibration of min_score (posenet/evaluation/person_score.py)."""
    from posenet.engine.errors import WeightsError
    from posenet.evaluation.person_score import measure, rate_lines
    from posenet.inference import Predictor

    try:
        predictor = Predictor(weights=weights)
        people, empty = measure(predictor, data, every)
    except (FileNotFoundError, WeightsError) as error:
        raise click.ClickException(str(error)) from None
    for line in rate_lines(people, empty):
        click.echo(line)


@click.command("empty-frames", short_help="How often a person is reported on empty frames.")
@click.option("--data", default="../shared/data", show_default=True,
              help="The shared data folder (LSPet photos: backdrops and people kept); "
                   "without it, only the drawn frames.")
@click.option("--weights", default=None, help="Default: the shipped weights.")
@click.option("--runtime", type=click.Choice(["keras", "litert", "onnx"]), default="keras",
              show_default=True)
@click.option("--per-kind", type=click.IntRange(1), default=30, show_default=True,
              help="Frames of each kind.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--photos", type=click.IntRange(0), default=50, show_default=True,
              help="LSPet validation photos (from im08001.jpg) that must keep their person.")
@click.option("--finder", type=click.Choice(["detector", "pose", "heads"]),
              default="detector", show_default=True, help="How the person is found.")
@click.option("--no-frame-check", is_flag=True,
              help="Without the frame-quality check (the figure before it).")
def empty_frames(data, weights, runtime, per_kind, seed, photos, finder, no_frame_check):
    """Count the frames without anyone (flat, sky, walls, transparent PNGs, tiny, dark,
    washed out, noise, parks, photo backdrops) on which the Predictor reports a person,
    and the LSPet photos on which it still does (posenet/evaluation/empty_frames.py)."""
    from posenet.engine.errors import WeightsError
    from posenet.evaluation.empty_frames import lines, measure
    from posenet.inference import Predictor

    data = data if os.path.isdir(data) else None
    try:
        predictor = Predictor(weights=weights, runtime=runtime, finder=finder,
                              frame_check=not no_frame_check)
        result = measure(predictor, per_kind, seed, data, photos)
    except (FileNotFoundError, WeightsError) as error:
        raise click.ClickException(str(error)) from None
    for line in lines(result):
        click.echo(line)


@click.command("joint-speed", short_help="Measure how far limb joints move between frames.")
@click.option("--data", default="../shared/data/penn_action", show_default=True,
              help="The Penn Action folder (with labels/).")
@click.option("--split", type=click.Choice(["train", "test"]), default="train",
              show_default=True)
def joint_speed(data, split):
    """Percentiles of the limb joints' moves between consecutive ground-truth frames of
    Penn Action (torso lengths per frame at 30 frames/s): the gating stage's MAX_JUMP is
    the 99.9th (``posenet.evaluation.joint_speed``)."""
    if not os.path.isdir(os.path.join(data, "labels")):
        raise click.BadParameter(f"{data} has no labels/ folder", param_hint="--data")
    from posenet.evaluation.joint_speed import penn_moves, percentiles

    moves = penn_moves(data, split)
    click.echo(f"{len(moves)} limb joint moves ({split} clips)")
    for level, value in percentiles(moves).items():
        click.echo(f"{level:g}th percentile: {value:.3f} torso per frame")
