"""``posenet infer``: 2D/3D poses, tracks and actions of people in videos and images."""

import os
import sys

import click

from cli.infer_output import progress_bar, say_native

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


def process(predictor, path, out_base, fmt, save_video, max_frames=None):
    """Predict one input and write its files atomically; returns the paths written and the
    predictions' warnings."""
    from posenet.inference import write_predictions
    from posenet.inference.outputs_plan import make_folder, remove_empty
    from posenet.inference.sources import probe

    info = probe(path)
    made = make_folder(os.path.dirname(out_base) or os.curdir)  # OUT/<sub-folder>
    writer = done = None
    try:
        writer, draw = overlay_writer(path, out_base, info, save_video)
        skeleton = predictor.skeleton.name

        def on_frame(index, frame, people):
            if writer is not None:
                writer.write(draw(frame, people, skeleton=skeleton))

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
        done = written, predictions["warnings"]
        return done
    finally:
        if writer is not None:  # an error or Ctrl-C: no partial overlay
            writer.abort()
        if done is None:  # nor an empty sub-folder
            remove_empty(made)


def process_stream(predictor, source, out_base, save_video, max_frames=None):
    """Predict a stream, appending each frame to ``<out_base>.jsonl`` as it is done;
    returns the paths written and the warnings. On Ctrl-C the frames done stay (and the
    overlay is finished) before the interruption goes on."""
    from posenet.inference.input_log import InputLog
    from posenet.inference.schema import JsonLinesWriter
    from posenet.inference.sources import open_stream

    log = InputLog()  # each frame's time from the decoder
    info, frames = open_stream(source, log=log)
    writer, draw = overlay_writer(source, out_base, info, save_video)
    skeleton = predictor.skeleton.name
    lines = JsonLinesWriter(f"{out_base}.jsonl", predictor.header(
        info.kind, source, info.fps, info.width, info.height))

    def on_frame(index, frame, people):
        lines.frame({"index": int(index), "time": round(log.time(index), 6), "people": people})
        if writer is not None:
            writer.write(draw(frame, people, skeleton=skeleton))

    written, interrupted = [lines.path], False
    try:
        bar, update = progress_bar(str(source), max_frames)
        with bar:
            predictions = predictor.predict_frames(frames, info, progress=update,
                                                   on_frame=on_frame, max_frames=max_frames,
                                                   log=log)
        lines.close(predictions["tracks"], predictions["warnings"])
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
    return written, predictions["warnings"]


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


def planned_outputs(inputs, source, out_dir, fmt, save_video):
    """``(items, plan)``: ``(path, error or None)`` of each input file (listed, not read
    yet) and the ``outputs_plan.OutputPlan`` of the good ones; UsageError (before anything
    is read or written) when an output would replace one of the inputs."""
    from posenet.inference.outputs_plan import (
        clash_message,
        clobbered_inputs,
        plan_outputs,
        plan_stream,
    )
    from posenet.inference.sources import expand_inputs, stream_stem

    if source is not None:
        items = [(source, None)]
        plan = plan_stream(source, stream_stem(source), out_dir, save_video)
        named = [source]
    else:
        items = expand_inputs(inputs)
        plan = plan_outputs([p for p, e in items if e is None], out_dir, fmt, save_video)
        named = [p for p, _ in items] + list(inputs)
    clashes = clobbered_inputs(plan, named)
    if clashes:
        raise click.UsageError(clash_message(clashes, out_dir))
    return items, plan


def readable_inputs(items, plan, take):
    """``(path, error or None)`` of each input file of ``items`` (an input given twice
    once), each probed (decoded) right away; ``take()`` -> the native lines the probe
    printed, kept per path in the returned dict."""
    from posenet.inference.sources import InputError, probe

    for path in plan.repeated:
        click.echo(f"note: {path} is given more than once: processed once", err=True)
    checked, native = [], {}
    for path, error in items:
        if error is None and (path not in plan.outputs or path in native):
            continue  # the repeat of an input
        if error is None:
            try:
                probe(path)
            except InputError as failure:
                error = str(failure)
            native[path] = take()
        checked.append((path, error))
    return checked, native


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
              help="Also write <name>_overlay.mp4 with the people drawn on every frame "
                   "(refused where that would replace an input).")
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
@click.option("--finder", type=click.Choice(("detector", "pose", "heads")), default="detector",
              show_default=True, help="How the single person is found when there is none "
              "(first frame, person lost): the person detector, or a pose of the whole frame.")
@click.option("--person", type=click.Choice(("largest", "central")), default="largest",
              show_default=True, help="The single person among those detected (the one "
              "followed until then is always preferred); see README, following people.")
@click.option("--no-gating", is_flag=True,
              help="Keep a limb joint's one-frame jumps (held by default on videos).")
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
          detect_every, min_score, finder, person, no_gating, no_smoothing, block, batch_size,
          device, runtime, precision):
    """Estimate 2D/3D poses (and actions) of people in videos, images, folders or streams.

    INPUTS are video files, images, or folders of them (not recursive, sorted by name).
    Each gives one OUT/<name>.<format>, written whole at its end: <name> is the input's
    file name without extension; inputs that share a name are told apart by their folder
    relative to the common parent folder of all the inputs (a/x.jpg b/x.jpg:
    OUT/a/x.json, OUT/b/x.json), or in one folder by their extension (x_jpg, x_png). The
    names are decided before any work; an output that would replace one of the inputs is
    refused (exit status 2), and outputs of an earlier run are replaced (said on stderr).
    A bad input is reported and skipped (exit status 1). Inputs, --weights and --block
    are checked before the model loads. stdout has only the written paths; warnings (a
    varying frame rate, a truncated video, ...; also in the file's "warnings") and the
    decoders' messages (in one line; all with posenet --verbose) go to stderr. Ctrl-C
    leaves no partial file (a stream keeps its frames done) and exits 130.
    """
    check_options(inputs, source, fmt, weights, block)
    if precision != "float32" and runtime != "litert":
        raise click.BadParameter(f"{precision} is for --runtime litert, not {runtime}",
                                 param_hint="--precision")
    planned = planned_outputs(inputs, source, out_dir, fmt, save_video)
    created = not os.path.isdir(out_dir)
    check_out_dir(out_dir)
    try:
        options = dict(block=block, multi_person=multi_person, batch_size=batch_size,
                       detect_every=detect_every, runtime=runtime, precision=precision,
                       finder=finder, person=person)
        if min_score is not None:
            options["min_score"] = min_score
        if no_smoothing:
            options["smoothing"] = None
        if no_gating:
            options["max_jump"] = None
        from posenet.native_output import NativeOutput, verbose

        with NativeOutput(verbose()) as native:  # the decoders' messages off stdout
            try:
                run_infer(inputs, source, max_frames, weights, out_dir, fmt, save_video,
                          options, device, planned, native.take)
            finally:
                say_native(None, native.take())  # what no input took (an error's)
    except BaseException:
        if created:  # a failure or Ctrl-C before any output leaves no empty folder
            try:
                os.rmdir(out_dir)
            except OSError:  # not empty: outputs were written
                pass
        raise


def run_infer(inputs, source, max_frames, weights, out_dir, fmt, save_video, options, device,
              planned=None, take=list):
    """Check the inputs, load the model, and process each input (see ``infer``);
    ``planned``: :func:`planned_outputs`; ``take()``: the native lines printed since the
    last call (``posenet.native_output.NativeOutput.take``)."""
    from posenet.inference.sources import InputError

    items, plan = planned or planned_outputs(inputs, source, out_dir, fmt, save_video)
    if source is None:
        items, native = readable_inputs(items, plan, take)
    else:
        native = {}
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
    finally:
        say_native(None, take())
    replaced = [os.path.relpath(p, out_dir) for path in todo
                for p in plan.outputs[path].paths if os.path.lexists(p)]
    if replaced:
        click.echo(f"note: replacing {len(replaced)} earlier output"
                   f"{'s' if len(replaced) > 1 else ''} in {out_dir}: "
                   f"{', '.join(replaced[:3])}{', ...' if len(replaced) > 3 else ''}", err=True)
    for path in todo:
        base = plan.outputs[path].base
        try:
            if source is not None:
                written, warnings = process_stream(predictor, path, base, save_video,
                                                   max_frames)
            else:
                written, warnings = process(predictor, path, base, fmt, save_video,
                                            max_frames)
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
        finally:
            say_native(path, native.get(path, []) + take())
        for warning in warnings:
            click.echo(f"warning: {path}: {warning}", err=True)
        click.echo(f"{path}: wrote {', '.join(written)}")
    if failed:
        click.echo(f"{len(failed)} of {len(items)} inputs failed", err=True)
        sys.exit(1)
