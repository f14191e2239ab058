"""``posenet infer``: 2D/3D poses, tracks and actions of people in videos and images."""

import contextlib
import os
import sys
import time

import click

FORMATS = ("json", "csv", "npz", "jsonl")


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


def overlay_writer(path, out_base, info, save_video):
    """The OverlayWriter of ``--save-video`` (None without it) and the drawing function."""
    if not save_video:
        return None, None
    from posenet.video_writer import OverlayWriter
    from posenet.visualize.overlay import draw_people

    writer = OverlayWriter(f"{out_base}_overlay", info.fps or 1.0, (info.width, info.height))
    if writer.fell_back:
        click.echo(f"{path}: OpenCV cannot write mp4v/.mp4 here; the overlay is "
                   "Motion-JPEG .avi instead", err=True)
    return writer, draw_people


def progress_bar(label, length):
    """A progress display on stderr with the frame rate; returns (context, update(n)).
    ``length`` None (an endless stream): a count of the frames done instead of a bar."""
    started = time.perf_counter()
    done = [0]

    def rate():
        return f"{done[0] / max(time.perf_counter() - started, 1e-9):.1f} frames/s"

    if length is None:
        @contextlib.contextmanager
        def counting():
            try:
                yield
            finally:
                if done[0]:
                    click.echo(err=True)  # end the line the count rewrites

        def count(n):
            done[0] += n
            click.echo(f"\r{label}: {done[0]} frames, {rate()}", nl=False, err=True)

        return counting(), count
    bar = click.progressbar(length=length, label=label, item_show_func=lambda _: rate(),
                            file=sys.stderr)

    def update(n):
        done[0] += n
        bar.update(n, current_item=done[0])

    return bar, update


def process(predictor, path, out_base, fmt, save_video, max_frames=None):
    """Predict one input and write its files atomically; returns the paths written."""
    from posenet.inference import write_predictions
    from posenet.inference.sources import probe

    info = probe(path)
    writer, draw = overlay_writer(path, out_base, info, save_video)
    skeleton = predictor.skeleton.name

    def on_frame(index, frame, people):
        if writer is not None:
            writer.write(draw(frame, people, skeleton=skeleton))

    try:
        length = min(info.frame_count, max_frames or info.frame_count)
        bar, update = progress_bar(os.path.basename(path), length)
        with bar:
            predictions = predictor.predict_video(path, progress=update, on_frame=on_frame,
                                                  max_frames=max_frames, stream=False)
        written = [f"{out_base}.{fmt}"]
        write_predictions(predictions, written[0], fmt)
        if writer is not None:
            written.append(writer.close())
            writer = None
        return written
    finally:
        if writer is not None:  # an error or Ctrl-C: no partial overlay
            writer.abort()


def process_stream(predictor, source, out_base, save_video, max_frames=None):
    """Predict a stream, appending each frame to ``<out_base>.jsonl`` as it is done;
    returns the paths written. On Ctrl-C the frames done stay (and the overlay is
    finished) before the interruption goes on."""
    from posenet.inference.schema import JsonLinesWriter
    from posenet.inference.sources import open_stream

    info, frames = open_stream(source)
    writer, draw = overlay_writer(source, out_base, info, save_video)
    skeleton = predictor.skeleton.name
    lines = JsonLinesWriter(f"{out_base}.jsonl", predictor.header(
        info.kind, source, info.fps, info.width, info.height))

    def on_frame(index, frame, people):
        lines.frame({"index": int(index), "time": round(index / info.fps, 6), "people": people})
        if writer is not None:
            writer.write(draw(frame, people, skeleton=skeleton))

    written, interrupted = [lines.path], False
    try:
        bar, update = progress_bar(str(source), max_frames)
        with bar:
            predictions = predictor.predict_frames(frames, info, progress=update,
                                                   on_frame=on_frame, max_frames=max_frames)
        lines.close(predictions["tracks"])
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        frames.close()
        lines.close()  # stopped: the frames done stay, without the tracks' line
        if writer is not None:
            written.append(writer.close())  # the overlay of the frames done
        if interrupted:
            click.echo(f"{source}: stopped after {lines.count} frames, kept in "
                       f"{', '.join(written)}", err=True)
    return written


def check_options(inputs, source, fmt, weights, block):
    """UsageError / BadParameter for options that cannot work, before anything loads."""
    from posenet.inference.sources import check_weights

    ctx = click.get_current_context()
    if inputs and source is not None:
        raise click.UsageError("give INPUTS or --source, not both")
    if not inputs and source is None:
        raise click.UsageError("missing INPUTS (videos, images or folders) or --source")
    explicit = ctx.get_parameter_source("fmt") == click.core.ParameterSource.COMMANDLINE
    if source is not None and explicit and fmt != "jsonl":
        raise click.BadParameter("a --source stream is written as JSON Lines (jsonl), "
                                 "frame by frame", param_hint="--format")
    try:
        blocks = check_weights(weights)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--weights") from None
    if block is not None and blocks is not None and block > blocks:
        raise click.BadParameter(f"{block} is not in 1..{blocks} (the pose network has "
                                 f"{blocks} blocks)", param_hint="--block")


def readable_inputs(inputs):
    """``(path, error or None)`` of each input file, each probed (decoded) right away."""
    from posenet.inference.sources import InputError, expand_inputs, probe

    items = []
    for path, error in expand_inputs(inputs):
        if error is None:
            try:
                probe(path)
            except InputError as failure:
                error = str(failure)
        items.append((path, error))
    return items


@click.command()
@click.argument("inputs", nargs=-1)
@click.option("--source", default=None,
              help="Instead of INPUTS: a camera index (0), a stream URL (rtsp://, http://, "
                   "...) or a video file, read as a stream: each frame is appended to "
                   "OUT/<stem>.jsonl as soon as it is done (camera<N>.jsonl for a camera), "
                   "so Ctrl-C stops it and keeps every frame done.")
@click.option("--max-frames", type=click.IntRange(1), default=None,
              help="Stop each input after this many frames.")
@click.option("--weights", default=None,
              help="A .keras network (PoseNetwork or MultitaskModel) or a JSON bundle "
                   '{"pose": ..., "actions": {dataset: ...}}; default: weights/manifest.json.')
@click.option("--out", "out_dir", default="predictions", show_default=True,
              type=click.Path(file_okay=False), help="Folder of the outputs.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json",
              show_default=True, help="Predictions file format (docs/predictions_schema.md); "
                                      "a --source stream is always jsonl.")
@click.option("--save-video", is_flag=True,
              help="Also write <stem>_overlay.mp4 with the people drawn on every frame.")
@click.option("--multi-person", is_flag=True,
              help="Detect people (MoveNet MultiPose, weights/person_detector.keras) every "
                   "--detect-every frames and track them.")
@click.option("--detect-every", type=click.IntRange(1), default=4, show_default=True,
              help="Frames between detector runs (--multi-person); people are followed by "
                   "their joints in between.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None,
              help="Person score under which no person is reported (default 0.28, "
                   "calibrated: keeps 98% of people, rejects 91% of empty images; 0: a person "
                   "in every frame; see docs/predictions_schema.md).")
@click.option("--no-smoothing", is_flag=True,
              help="Report the joints as estimated, without the One Euro filter on videos.")
@click.option("--block", type=click.IntRange(1), default=None,
              help="Pose block to use (the network is cut after it; default: last).")
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True,
              help="Person crops per network call.")
@click.option("--device", type=click.Choice(("cpu", "gpu")), default=None,
              help="cpu hides the GPUs; gpu fails when none is visible (default: any).")
@click.option("--runtime", type=click.Choice(("keras", "litert", "onnx")), default="litert",
              show_default=True, envvar="POSENET_RUNTIME",
              help="What runs the networks: litert (the pose network and, with "
                   "--multi-person, the detector) and onnx (the pose network) export them "
                   "first, once (cached in $POSENET_CACHE, default ~/.cache/posenet), and run "
                   "on the CPU; keras runs the Keras models (GPU too). litert is the default: "
                   "the same joints within 1e-3 px, 1.4-2.3x the network's speed (weights/"
                   "README.md). Environment: POSENET_RUNTIME.")
@click.option("--precision", type=click.Choice(("float32", "float16", "int8")),
              default="float32", show_default=True,
              help="With --runtime litert: int8 runs the pose network ~3.4x Keras's speed "
                   "for 0.7 PCK points on LSPet (calibrated on datasets/lspet_train.h5); "
                   "float16 halves the file.")
def infer(inputs, source, max_frames, weights, out_dir, fmt, save_video, multi_person,
          detect_every, min_score, no_smoothing, block, batch_size, device, runtime,
          precision):
    """Estimate 2D/3D poses (and actions) of people in videos, images, folders or streams.

    INPUTS are video files, images, or folders of them (not recursive, sorted by name).
    Each gives OUT/<stem>.<format>, written whole at its end; a bad input is reported and
    skipped (exit status 1). Inputs, --weights and --block are checked before the model
    loads. Ctrl-C leaves no partial file (a stream keeps its frames done) and exits 130.
    """
    check_options(inputs, source, fmt, weights, block)
    if precision != "float32" and runtime != "litert":
        raise click.BadParameter(f"{precision} is for --runtime litert, not {runtime}",
                                 param_hint="--precision")
    created = not os.path.isdir(out_dir)
    check_out_dir(out_dir)
    try:
        options = dict(block=block, multi_person=multi_person, batch_size=batch_size,
                       detect_every=detect_every, runtime=runtime, precision=precision)
        if min_score is not None:
            options["min_score"] = min_score
        if no_smoothing:
            options["smoothing"] = None
        run_infer(inputs, source, max_frames, weights, out_dir, fmt, save_video, options,
                  device)
    except BaseException:
        if created:  # a failure or Ctrl-C before any output leaves no empty folder
            try:
                os.rmdir(out_dir)
            except OSError:  # not empty: outputs were written
                pass
        raise


def run_infer(inputs, source, max_frames, weights, out_dir, fmt, save_video, options, device):
    """Check the inputs, load the model, and process each input (see ``infer``)."""
    from posenet.inference.sources import InputError, stream_stem

    items = [(source, None)] if source is not None else readable_inputs(inputs)
    failed = [(p, e) for p, e in items if e is not None]
    for _, error in failed:
        click.echo(f"error: {error}", err=True)
    todo = [p for p, e in items if e is None]
    if not todo:
        raise click.ClickException("nothing to do: no readable input")
    setup_device(device)
    from posenet.engine.errors import ExportError, WeightsError
    from posenet.inference.predictor import Predictor

    try:
        predictor = Predictor(weights, **options)
    except (WeightsError, ExportError, ValueError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    stems = [stream_stem(source)] if source is not None else output_stems(todo)
    for path, stem in zip(todo, stems, strict=True):
        base = os.path.join(out_dir, stem)
        try:
            if source is not None:
                written = process_stream(predictor, path, base, save_video, max_frames)
            else:
                written = process(predictor, path, base, fmt, save_video, max_frames)
        except InputError as error:
            failed.append((path, str(error)))
            click.echo(f"error: {error}", err=True)
            continue
        except (OSError, ValueError) as error:
            # the message, not the exception: it would name a hidden temporary file
            reason = getattr(error, "strerror", None) or str(error)
            failed.append((path, reason))
            click.echo(f"error: {path}: cannot write its outputs to {out_dir}: {reason}",
                       err=True)
            continue
        click.echo(f"{path}: wrote {', '.join(written)}")
    if failed:
        click.echo(f"{len(failed)} of {len(items)} inputs failed", err=True)
        sys.exit(1)
