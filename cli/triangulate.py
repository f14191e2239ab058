"""``posenet triangulate``: synchronised views of one scene and their calibration -> people's
3D joints in the world frame (``posenet/triangulation``)."""

import os

import click


def _names(value):
    return None if value is None else [n.strip() for n in value.split(",") if n.strip()]


def check_inputs(inputs, calibration, cameras_option):
    """``(cameras of the inputs, views, frames, warnings)``; BadParameter / UsageError for
    what cannot work, before any network loads."""
    from posenet.triangulation.calibration import read_calibration
    from posenet.triangulation.views import check_views, describe, match_cameras

    if len(inputs) < 2:
        raise click.BadParameter(f"need 2 views or more, got {len(inputs)}",
                                 param_hint="INPUTS")
    real = [os.path.realpath(p) for p in inputs]
    if len(set(real)) != len(real):
        raise click.BadParameter("an input is given twice", param_hint="INPUTS")
    try:
        all_cameras = read_calibration(calibration)
    except (OSError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="--calibration") from None
    try:
        cameras, how = match_cameras(inputs, all_cameras, _names(cameras_option))
    except ValueError as error:
        hint = "--cameras" if cameras_option is not None else "--calibration"
        raise click.BadParameter(str(error), param_hint=hint) from None
    if how == "order":
        click.echo("note: no input is named after a camera: they are taken in the "
                   f"calibration's order ({', '.join(c.name for c in cameras)})", err=True)
    try:
        views = [describe(p) for p in inputs]
        frames, warnings = check_views(views, cameras)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    return cameras, views, frames, warnings


def predictor_for(views, runtime, weights):
    """A multi-person ``Predictor`` when a view is a video (None when every view is
    predictions). Multi-person even for ``--single``: the person chosen in each view alone
    (the largest) is not the same person in every view (on the four Pose2Sim videos: one
    person in two views, another in the two others)."""
    if all(v.predictions is not None for v in views):
        return None
    from posenet.engine.errors import ExportError, WeightsError
    from posenet.inference.predictor import Predictor

    try:
        return Predictor(weights, multi_person=True, runtime=runtime)
    except (WeightsError, ExportError, ValueError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None


@click.command()
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--calibration", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The cameras: posenet's calibration JSON (its format: "
                   "posenet/triangulation/calibration.py) or a Qualisys .qca.txt.")
@click.option("--out", "out_dir", default="triangulation", show_default=True,
              type=click.Path(file_okay=False), help="Folder of the outputs.")
@click.option("--cameras", "cameras_option", default=None,
              help="The calibration's camera of each input, comma-separated in the inputs' "
                   "order (default: by name when every input's stem is a camera's name, "
                   "else in order).")
@click.option("--multi-person/--single", default=True, show_default=True,
              help="Everyone seen in 2 views or more, or only the person seen most (in "
                   "most views over the frames).")
@click.option("--max-error", type=click.FloatRange(0, min_open=True), default=None,
              help="Reprojection error in px over which a view of a joint is left out "
                   "(default 40, for people ~1000 px tall).")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=None,
              help="Joint confidence under which a view is not used (default 0.3).")
@click.option("--max-epipolar", type=click.FloatRange(0, min_open=True), default=None,
              help="Epipolar distance in px over which two views' people are not the same "
                   "(default 60).")
@click.option("--max-frames", type=click.IntRange(1), default=None,
              help="Use only the first N frames of each view.")
@click.option("--no-smoothing", is_flag=True,
              help="Write the joints as triangulated, without the One Euro filter.")
@click.option("--weights", default=None, help="The pose network for videos (see posenet "
                                              "infer --weights).")
@click.option("--runtime", type=click.Choice(("keras", "litert", "onnx")), default="litert",
              show_default=True, envvar="POSENET_RUNTIME",
              help="What runs the networks on videos (see posenet infer --runtime).")
def triangulate(inputs, calibration, out_dir, cameras_option, multi_person, max_error,
                min_confidence, max_epipolar, max_frames, no_smoothing, weights, runtime):
    """3D joints of the people seen in synchronised INPUTS of one calibrated scene:
    videos, or their posenet infer predictions files (.json, .csv, .npz, .jsonl).

    Writes OUT/triangulation.json (every frame's people: joints in world mm,
    reprojection errors, views used) and OUT/triangulation_person<ID>.trc (OpenSim
    markers) per person. Frame f of every input is taken at the same time; inputs of
    different lengths are cut to the shortest (with a warning). An input is the camera
    named in --cameras; else, when every input's file stem is a camera's name
    (cam01.mp4), that camera; else, when none is, the cameras in the calibration's order.
    """
    cameras, views, frames, warnings = check_inputs(inputs, calibration, cameras_option)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if max_frames is not None:
        frames = min(frames, max_frames)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as error:
        raise click.ClickException(f"cannot create the output folder {out_dir}: "
                                   f"{error.strerror}") from None
    from cli.infer_output import progress_bar
    from posenet.triangulation.association import MAX_EPIPOLAR_PX
    from posenet.triangulation.dlt import MAX_ERROR_PX, MIN_CONFIDENCE
    from posenet.triangulation.outputs import write_outputs
    from posenet.triangulation.pipeline import triangulate_predictions
    from posenet.triangulation.views import predict_views

    predictor = predictor_for(views, runtime, weights)
    predictions = []
    for view in views:
        if view.predictions is not None:
            predictions.append(view.predictions)
            continue
        bar, update = progress_bar(os.path.basename(view.path), frames)
        with bar:
            predictions += predict_views([view], predictor, frames,
                                         lambda _, n, update=update: update(n))
    result = triangulate_predictions(
        predictions, cameras, sources=list(inputs), multi_person=multi_person,
        max_error=MAX_ERROR_PX if max_error is None else max_error,
        min_confidence=MIN_CONFIDENCE if min_confidence is None else min_confidence,
        max_epipolar=MAX_EPIPOLAR_PX if max_epipolar is None else max_epipolar,
        smoothing=None if no_smoothing else "default", num_frames=frames)
    try:
        written = write_outputs(result, out_dir)
    except OSError as error:
        raise click.ClickException(f"cannot write to {out_dir}: {error.strerror}") from None
    click.echo(result.summary(), err=True)
    for path in written:
        click.echo(path)
