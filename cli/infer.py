"""``posenet infer``: 2D/3D poses, tracks and actions of people in videos and images."""

import os
import sys
import time

import click

FORMATS = ("json", "csv", "npz")


def setup_device(device):
    """Pin the computation to the CPU or require a GPU; ClickException when none is seen.

    ``cpu`` hides the GPUs: CUDA_VISIBLE_DEVICES="" before the backend starts (and, if
    TensorFlow is already loaded, ``tf.config.set_visible_devices([], "GPU")``).
    """
    if device is None:
        return
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        if "tensorflow" in sys.modules:
            import tensorflow as tf

            try:
                tf.config.set_visible_devices([], "GPU")
            except RuntimeError:  # already initialised: the devices can no longer change
                pass
        return
    import keras

    if keras.backend.backend() == "jax":
        import jax

        found = [d for d in jax.devices() if d.platform == "gpu"]
    else:
        import tensorflow as tf

        found = tf.config.list_physical_devices("GPU")
    if not found:
        raise click.ClickException("--device gpu: no GPU is visible to the "
                                   f"{keras.backend.backend()} backend (check the driver and "
                                   "CUDA_VISIBLE_DEVICES), or use --device cpu")


def check_out_dir(out):
    """Create ``out`` if needed; ClickException when it cannot hold files."""
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:
        raise click.ClickException(f"cannot create the output folder {out}: "
                                   f"{error.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise click.ClickException(f"the output folder {out} is not writable")


def output_stems(paths):
    """A distinct output stem per input (``name``, or ``name_ext`` when names clash)."""
    stems = [os.path.splitext(os.path.basename(p))[0] for p in paths]
    return [s if stems.count(s) == 1 else f"{s}_{os.path.splitext(p)[1].lstrip('.')}"
            for s, p in zip(stems, paths, strict=True)]


def process(predictor, path, out_base, fmt, save_video):
    """Predict one input and write its files; returns the paths written."""
    from posenet.inference import write_predictions
    from posenet.inference.sources import probe

    info = probe(path)
    writer = draw = None
    if save_video:
        from posenet.video_writer import OverlayWriter
        from posenet.visualize.overlay import draw_people

        draw = draw_people
        writer = OverlayWriter(f"{out_base}_overlay", info.fps or 1.0, (info.width, info.height))
        if writer.fell_back:
            click.echo(f"{path}: OpenCV cannot write mp4v/.mp4 here; the overlay is "
                       "Motion-JPEG .avi instead", err=True)
    skeleton = predictor.skeleton.name

    def on_frame(index, frame, people):
        if writer is not None:
            writer.write(draw(frame, people, skeleton=skeleton))

    started = time.perf_counter()
    done = [0]

    def show(_):
        rate = done[0] / max(time.perf_counter() - started, 1e-9)
        return f"{rate:.1f} frames/s"

    try:
        with click.progressbar(length=info.frame_count, label=os.path.basename(path),
                               item_show_func=show, file=sys.stderr) as bar:
            def progress(n):
                done[0] += n
                bar.update(n, current_item=done[0])

            predictions = predictor.predict_video(path, progress=progress, on_frame=on_frame)
        written = [f"{out_base}.{fmt}"]
        write_predictions(predictions, written[0], fmt)
        if writer is not None:
            written.append(writer.close())
            writer = None
        return written
    finally:
        if writer is not None:
            writer.abort()


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--weights", default=None,
              help="A .keras network (PoseNetwork or MultitaskModel) or a JSON bundle "
                   '{"pose": ..., "actions": {dataset: ...}}; default: weights/manifest.json.')
@click.option("--out", "out_dir", default="predictions", show_default=True,
              type=click.Path(file_okay=False), help="Folder of the outputs.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json",
              show_default=True, help="Predictions file format (docs/predictions_schema.md).")
@click.option("--save-video", is_flag=True,
              help="Also write <stem>_overlay.mp4 with the people drawn on every frame.")
@click.option("--multi-person", is_flag=True,
              help="Detect people (MoveNet MultiPose, weights/person_detector.keras) every "
                   "--detect-every frames and track them.")
@click.option("--detect-every", type=click.IntRange(1), default=4, show_default=True,
              help="Frames between detector runs (--multi-person); people are followed by "
                   "their joints in between.")
@click.option("--no-smoothing", is_flag=True,
              help="Report the joints as estimated, without the One Euro filter on videos.")
@click.option("--block", type=click.IntRange(1), default=None,
              help="Pose block to use (the network is cut after it; default: last).")
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True,
              help="Person crops per network call.")
@click.option("--device", type=click.Choice(("cpu", "gpu")), default=None,
              help="cpu hides the GPUs; gpu fails when none is visible (default: any).")
def infer(inputs, weights, out_dir, fmt, save_video, multi_person, detect_every, no_smoothing,
          block, batch_size, device):
    """Estimate 2D/3D poses (and actions) of people in videos, images or folders.

    INPUTS are video files, images, or folders of them (not recursive, sorted by name).
    Each gives OUT/<stem>.<format>; a bad input is reported and skipped (exit status 1).
    """
    from posenet.inference.sources import InputError, expand_inputs

    check_out_dir(out_dir)
    items = expand_inputs(inputs)
    failed = [(p, e) for p, e in items if e is not None]
    for _, error in failed:
        click.echo(f"error: {error}", err=True)
    todo = [p for p, e in items if e is None]
    if not todo:
        raise click.ClickException("nothing to do: no readable input")
    setup_device(device)
    from posenet.inference.predictor import Predictor
    from posenet.inference.weights import WeightsError

    try:
        options = {"smoothing": None} if no_smoothing else {}
        predictor = Predictor(weights, block=block, multi_person=multi_person,
                              batch_size=batch_size, detect_every=detect_every, **options)
    except (WeightsError, ValueError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    for path, stem in zip(todo, output_stems(todo), strict=True):
        try:
            written = process(predictor, path, os.path.join(out_dir, stem), fmt, save_video)
        except (InputError, OSError, ValueError) as error:
            failed.append((path, str(error)))
            click.echo(f"error: {error}", err=True)
            continue
        click.echo(f"{path}: wrote {', '.join(written)}")
    if failed:
        click.echo(f"{len(failed)} of {len(items)} inputs failed", err=True)
        sys.exit(1)
