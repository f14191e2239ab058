"""``posenet tools action-calibration | out-of-class``: the action networks' "uncertain"
threshold, and what they say about actions outside their classes."""

import json

import click

from posenet.evaluation.defaults import H36M_FPS, KEEP, PRECISION


@click.command("action-calibration",
               short_help="Calibrate action runs' 'uncertain' threshold.")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--precision", type=float, default=PRECISION, show_default=True,
              help="Labelled tracks are right this often.")
@click.option("--keep", type=float, default=KEEP, show_default=True,
              help="This share of the right tracks keeps its label.")
@click.option("--repeats", type=click.IntRange(1), default=5, show_default=True,
              help="Seeded draws of the simulated pose error per video.")
@click.option("--noise-model", default=None,
              help="PoseNoise JSON (default weights/pose_noise.json).")
@click.option("--data", default=None, help="Prepared files' folder (default: the run's).")
@click.option("--model", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Read this network instead of the run's (one run only), e.g. an ensemble "
                   "of the run's recipe; --write then stores the threshold in it, beside a "
                   "<model>.calibration.json.")
@click.option("--write", is_flag=True,
              help="Save the threshold into runs/<name>/model.keras (or --model).")
def action_calibration(runs, precision, keep, repeats, noise_model, data, model, write):
    """Validate pose-only action runs (RUNS: runs/<name> folders) on their held-out videos
    (clean and with the pose network's simulated error) and calibrate their 'uncertain'
    threshold; --write stores it in the run's model.keras.

    Writes runs/<name>/calibration.json and prints one JSON line per run.
    """
    if not 0 < keep <= 1:
        raise click.BadParameter("must be a fraction in (0, 1]", param_hint="--keep")
    if model and len(runs) != 1:
        raise click.UsageError("--model reads one run's held-out videos")
    from posenet.evaluation.action_calibration import calibrate_and_store, summary

    for run in runs:
        try:
            report = calibrate_and_store(run, precision, keep, repeats, noise_model, data,
                                         model_path=model, write=write)
        except (FileNotFoundError, ValueError) as error:
            raise click.ClickException(f"{run}: {error}") from None
        click.echo(json.dumps(summary(report)))


@click.command("out-of-class",
               short_help="Labels action networks give to other actions.")
@click.argument("weights", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False))
@click.option("--data", required=True, type=click.Path(exists=True, dir_okay=False),
              help="A prepared file with sequences.")
@click.option("--fps", type=float, default=H36M_FPS, show_default=True,
              help="Frames/s of the file's sequences (the default: the shared Human3.6M "
                   "copy).")
def out_of_class(weights, data, fps):
    """Read the sequences of another dataset (e.g. Human3.6M) through pose-only action
    networks (WEIGHTS: .keras files) and report how often they are given a class.

    Prints one JSON line per network (the figures: posenet/evaluation/out_of_class.py).
    """
    if not fps > 0:
        raise click.BadParameter("must be > 0", param_hint="--fps")
    from cli.evaluate import load_model
    from posenet.evaluation.out_of_class import evaluate

    for path in weights:
        try:
            result = evaluate(load_model(path), data, fps)
        except ValueError as error:
            raise click.ClickException(f"{path}: {error}") from None
        click.echo(json.dumps({"weights": path, **result}))
