"""``posenet visualize``: overlay video, 3D view, action plot and heatmaps of predictions.

Missing inputs: a ``--video`` that does not exist is an error; when ``--video`` is not
given and the source recorded in the predictions is missing, the overlay is skipped with a
note and the plots are still written.  Outputs are written atomically and, if any output
fails, those already written by this run are removed: a run leaves all or nothing.
"""

import json
import os

import click

SCHEMA = "posenet-predictions/1"


def _load(path):
    """The predictions dict of ``path``; ClickException with the reason otherwise."""
    if not os.path.isfile(path):
        raise click.ClickException(f"predictions file not found: {path}")
    try:
        from posenet.inference.schema import load_predictions
    except ImportError:  # the inference package is not there: only JSON can be read
        load_predictions = None
    try:
        if load_predictions is not None:
            data = load_predictions(path)
        else:
            with open(path) as f:
                data = json.load(f)
    except (ValueError, KeyError, TypeError, OSError) as err:
        raise click.ClickException(f"{path} is not a predictions file: {err}") from err
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise click.ClickException(
            f"{path} is not a predictions file (schema {found!r}, expected {SCHEMA!r})")
    from posenet.visualize.validation import PredictionsError, check_predictions

    try:
        return check_predictions(data)
    except PredictionsError as error:
        raise click.ClickException(f"{path} does not follow the predictions schema "
                                   f"(docs/predictions_schema.md): {error}") from None


def _video_path(video, data, predictions_path):
    """The video to draw on, or None (with a note) when only the recorded one is missing."""
    if video:
        if not os.path.isfile(video):
            raise click.ClickException(f"video not found: {video}")
        return video
    source = data.get("source")
    if not source:
        return None
    if not os.path.isabs(source):  # a relative source is relative to the predictions file
        beside = os.path.join(os.path.dirname(os.path.abspath(predictions_path)), source)
        source = beside if os.path.isfile(beside) else source
    if os.path.isfile(source):
        return source
    click.echo(f"note: source {data.get('source')} not found; skipping the overlay "
               "(pass --video)", err=True)
    return None


def _out_folder(out):
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as err:
        raise click.ClickException(f"cannot create output folder {out}: {err}") from err
    if not os.access(out, os.W_OK | os.X_OK):
        raise click.ClickException(f"output folder {out} is not writable")


def _write_png(path, image):
    import cv2

    from posenet.io import atomic_path

    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise click.ClickException(f"cannot encode {path}")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data.tobytes())
    return path


@click.command()
@click.argument("predictions", type=click.Path(dir_okay=False))
@click.option("--video", type=click.Path(dir_okay=False), default=None,
              help="The input video or image (default: the source recorded in PREDICTIONS).")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Output folder (created if needed).")
@click.option("--no-video", is_flag=True, help="Do not write the overlay video.")
@click.option("--frame", type=click.IntRange(0), default=None,
              help="Frame of the 3D view (default: the middle frame).")
@click.option("--azimuth", type=float, default=30.0, show_default=True,
              help="Rotation of the 3D view about the vertical axis, degrees.")
@click.option("--top-k", type=click.IntRange(1), default=3, show_default=True,
              help="Classes plotted per track and dataset.")
@click.option("--heatmaps-frame", type=click.IntRange(0), default=None,
              help="Frame whose joint probability maps are drawn (needs --weights).")
@click.option("--weights", type=click.Path(dir_okay=False), default=None,
              help="A saved .keras pose network (for --heatmaps-frame).")
@click.option("--block", type=click.IntRange(1), default=None,
              help="Block of the heatmaps (default: the last).")
def visualize(predictions, video, out, no_video, frame, azimuth, top_k, heatmaps_frame,
              weights, block):
    """Draw the predictions of `posenet infer`: overlay video, 3D view, action plot.

    Writes OUT/<stem>_overlay.mp4 (.avi without an mp4 codec; .png for an image source),
    for a video OUT/<stem>_frame.png (one annotated frame beside its 3D view),
    OUT/<stem>_3d.png, OUT/<stem>_actions.png and, with --weights and --heatmaps-frame,
    OUT/<stem>_heatmaps.png.
    """
    data = _load(predictions)
    if (heatmaps_frame is None) != (weights is None):
        raise click.UsageError("--heatmaps-frame and --weights go together")
    if weights is not None and not os.path.isfile(weights):
        raise click.ClickException(f"weights not found: {weights}")
    needs_video = heatmaps_frame is not None or not no_video
    video_path = _video_path(video, data, predictions) if needs_video else None
    if heatmaps_frame is not None and video_path is None:
        raise click.ClickException("--heatmaps-frame needs the video (pass --video)")
    _out_folder(out)

    from posenet.visualize.actions import action_figure
    from posenet.visualize.figures import (
        heatmaps_image,
        overlay_output,
        still_image,
        view3d_image,
    )

    stem = os.path.join(out, os.path.splitext(os.path.basename(predictions))[0])
    written = []
    try:
        if video_path is not None and not no_video:
            written.append(overlay_output(data, video_path, stem + "_overlay"))
            if data.get("kind") != "image":
                still = still_image(data, video_path, frame, azimuth)
                written.append(_write_png(stem + "_frame.png", still))
        view = view3d_image(data, frame, azimuth)
        if view is None:
            click.echo("note: no 3D joints in the predictions; skipping the 3D view", err=True)
        else:
            written.append(_write_png(stem + "_3d.png", view))
        written.append(_write_png(stem + "_actions.png", action_figure(data, top_k)))
        if heatmaps_frame is not None:
            figure = heatmaps_image(data, video_path, heatmaps_frame, weights, block)
            written.append(_write_png(stem + "_heatmaps.png", figure))
    except BaseException as err:
        for path in written:  # all or nothing: no half set of outputs
            if os.path.exists(path):
                os.remove(path)
        if isinstance(err, (ValueError, OSError)):
            raise click.ClickException(str(err)) from err
        raise
    for path in written:
        click.echo(path)
