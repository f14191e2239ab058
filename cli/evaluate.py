"""``posenet evaluate``: score a saved network on prepared files by the standard protocols,
or (``--reference``) one view's ``posenet infer`` predictions against a triangulation."""

import os

import click

from cli.paths import check_out_file
from posenet.engine.runtimes import RUNTIMES
from posenet.export.quantize import PRECISIONS

#: Split evaluated when ``--dataset NAME`` is given without ``--split``.
DEFAULT_SPLITS = {
    "mpii": ("validation",),
    "lsp": ("test",),
    "lspet": ("validation",),
    "penn_action": ("test",),
    "jhmdb": ("test1", "test2", "test3"),
    "h36m": ("test",),
    "h36m-render": ("test",),
    "h36m_render": ("test",),
    "ntu": ("xsub-test",),
    "builtin-render": ("train",),
    "builtin_render": ("train",),
}


def _is_path(text):
    return text.endswith((".h5", ".hdf5")) or os.sep in text or os.path.exists(text)


def resolve_files(datasets, splits, folder):
    """(path, expected split or None) for every --dataset: a path as given (its split
    checked against a single --split), or NAME -> <folder>/NAME_<split>.h5 per split."""
    files = []
    for item in datasets:
        if _is_path(item):
            if len(splits) > 1:
                raise click.UsageError("give at most one --split with a dataset file path")
            files.append((item, splits[0] if splits else None))
            continue
        wanted = splits or DEFAULT_SPLITS.get(item)
        if not wanted:
            raise click.BadParameter(f"no default split for {item!r}: pass --split",
                                     param_hint="--split")
        files += [(os.path.join(folder, f"{item}_{s}.h5"), s) for s in wanted]
    return files


def _dataset_name(path):
    """The dataset name stored in a prepared file (None when unreadable: reported later)."""
    from posenet.data.prepared import PreparedDataset

    try:
        return PreparedDataset(path).attrs.get("dataset")
    except (OSError, ValueError):
        return None


def load_model(path):
    """A saved network (.keras); ClickException with the reason when it cannot be read."""
    import keras

    import posenet.layers  # noqa: F401  (registers the custom layers for deserialising)
    import posenet.models  # noqa: F401

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds on a foreign or corrupt file
        raise click.ClickException(f"cannot load the network from {path}: {error}. Expected "
                                   "a model saved with model.save('NAME.keras')") from None


def check_runtime_options(runtime, precision, calibration, datasets_dir="datasets"):
    """The int8 Calibration (None otherwise) of valid --runtime / --precision /
    --calibration; BadParameter or ClickException (a missing package or calibration file)
    before anything loads."""
    from cli.export import check_precision_options
    from posenet.engine.errors import ExportError, require
    from posenet.engine.runtimes import RUNTIME_NEEDS
    from posenet.export.convert import EXPORT_NEEDS
    from posenet.export.quantize import Calibration

    check_precision_options(precision, calibration, "--runtime", runtime)
    try:
        for needs in (EXPORT_NEEDS, RUNTIME_NEEDS):  # exported, then run
            if runtime in needs:
                require(*needs[runtime])
        if precision == "int8":
            found = Calibration(calibration or os.path.join(datasets_dir, "lspet_train.h5"))
            found.check()
            return found
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    return None


def check_exportable(weights, runtime):
    """ClickException unless the saved network is a single-frame pose network (what
    ``posenet export`` writes), read from its config before it loads."""
    from posenet.io import read_keras_config

    kind = read_keras_config(weights).get("class_name")
    if kind not in ("PoseNetwork", "MobilePoseNetwork"):
        raise click.ClickException(f"--runtime {runtime} runs single-frame pose networks "
                                   f"(PoseNetwork, MobilePoseNetwork); {weights} holds a "
                                   f"{kind}: use --runtime keras")


#: The options of the prepared-dataset mode, refused with --reference.
DATASET_OPTIONS = ("weights", "datasets", "splits", "datasets_dir", "block", "flip",
                   "batch_size", "clip_stride", "find_person", "finder", "runtime", "precision")
#: The options of the --reference mode, refused without it.
REFERENCE_OPTIONS = ("predictions", "camera", "person", "max_distance")


def _given(ctx, names):
    """The options of ``names`` set on the command line (or the environment)."""
    from click.core import ParameterSource

    return [n for n in names if ctx.get_parameter_source(n) not in (
        None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)]


def _flag(ctx, name):
    param = next(p for p in ctx.command.params if p.name == name)
    return param.opts[0] if isinstance(param, click.Option) else param.human_readable_name


def evaluate_reference(reference, predictions, calibration, camera, person, max_distance,
                       out_path):
    """``posenet evaluate --reference``: the checks (UsageError / BadParameter), then
    ``posenet.triangulation.reference`` does the work."""
    from posenet.inference.schema import load_predictions
    from posenet.io import write_json_atomic
    from posenet.triangulation import reference as ref
    from posenet.triangulation.calibration import read_calibration

    if predictions is None:
        raise click.UsageError("--reference needs the predictions to score: posenet "
                               "evaluate --reference REF.json PRED.json")
    if calibration is None:
        raise click.UsageError("--reference needs --calibration: triangulation.json names "
                               "its cameras but does not hold their calibration")
    if out_path is not None:
        check_out_file(out_path, "--json")
    try:
        payload = ref.read_reference(reference)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--reference") from None
    try:
        cameras = read_calibration(calibration)
    except (OSError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="--calibration") from None
    try:
        pred = load_predictions(predictions)
        missing = [k for k in ("frames", "skeleton", "width", "height") if k not in pred]
        if missing:
            raise ValueError(f"no {', '.join(missing)}")
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise click.BadParameter(f"not a posenet predictions file ({error})",
                                 param_hint="PRED") from None
    if not ref.has_3d(pred):
        raise click.BadParameter(f"{predictions} has no joints3d (a 2D network's): "
                                 "nothing to score in 3D", param_hint="PRED")
    tracks = sorted({int(p["track"]) for f in pred["frames"] for p in f["people"]})
    if person is not None and person not in tracks:
        raise click.BadParameter(f"no predicted person of track {person} in {predictions} "
                                 f"(tracks: {', '.join(map(str, tracks)) or 'none'})",
                                 param_hint="--person")
    try:
        chosen = ref.choose_camera(cameras, camera, pred, predictions)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--camera") from None
    try:
        warnings = ref.check_inputs(payload, pred, cameras, chosen)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    report = ref.evaluate_reference(payload, pred, chosen, person,
                                    ref.MAX_MATCH_PX if max_distance is None else max_distance)
    report.update(reference=reference, predictions=predictions, calibration=calibration)
    click.echo(ref.format_table(report), nl=False)
    if out_path is not None:
        write_json_atomic(out_path, report)
        click.echo(f"wrote {out_path}")


@click.command()
@click.argument("predictions", required=False, metavar="[PRED]",
                type=click.Path(exists=True, dir_okay=False))
@click.option("--weights", type=click.Path(dir_okay=False), default=None,
              help="Saved network (.keras) [default: the shipped network for the datasets: "
                   "the default bundle's action network for its action datasets, its pose "
                   "network otherwise].")
@click.option("--dataset", "datasets", multiple=True,
              help="Prepared file, or a dataset name resolved as "
                   "<datasets-dir>/<name>_<split>.h5. Repeat to evaluate several files.")
@click.option("--split", "splits", multiple=True,
              help="Split(s) of a dataset name (repeatable; default: its test split, all "
                   "three for jhmdb); with a file path, the split the file must hold.")
@click.option("--datasets-dir", default="datasets", show_default=True,
              type=click.Path(file_okay=False), help="Folder of the prepared files.")
@click.option("--block", type=click.IntRange(1), default=None,
              help="Evaluate only this block (default: every block).")
@click.option("--flip", is_flag=True,
              help="Flip test: average each image's prediction with its mirror's.")
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True,
              help="Images (or clips) per forward pass.")
@click.option("--clip-stride", type=click.IntRange(1), default=None,
              help="Frames between multi-clip clips (default: half the model's clip).")
@click.option("--find-person", is_flag=True,
              help="Pose protocols without the ground-truth box: the network finds the "
                   "person in the whole image, as `posenet infer` does (last block only).")
@click.option("--finder", type=click.Choice(["detector", "pose", "heads"]), default="detector",
              show_default=True,
              help="With --find-person: the person detector (as `posenet infer`), a first "
                   "pose on the letterboxed image, or the mobile presets' person heads.")
@click.option("--runtime", type=click.Choice(RUNTIMES), default="keras", show_default=True,
              help="What runs the pose network: Keras, or its export run by LiteRT or ONNX "
                   "Runtime (exported once per weights into $POSENET_CACHE).")
@click.option("--precision", type=click.Choice(PRECISIONS), default=None,
              help="--runtime litert: float32 (default), float16 weights, or int8 "
                   "(calibrated on --calibration).")
@click.option("--calibration", type=click.Path(dir_okay=False), default=None,
              help="--precision int8: prepared file whose person crops calibrate the ranges "
                   "[default: <datasets-dir>/lspet_train.h5, LSPet's training split]. With "
                   "--reference: the cameras (posenet's calibration JSON or a Qualisys "
                   ".qca.txt), required.")
@click.option("--out", "--json", "out_path", type=click.Path(dir_okay=False), default=None,
              help="JSON report to write (atomically).")
@click.option("--reference", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Score PRED (posenet infer's predictions of one view, with joints3d) "
                   "against this triangulation.json of posenet triangulate.")
@click.option("--camera", default=None,
              help="--reference: PRED's camera in --calibration [default: the stem of "
                   "PRED's source, cam01.mp4 -> cam01].")
@click.option("--person", type=click.IntRange(0), default=None,
              help="--reference: score only this predicted track [default: every predicted "
                   "person, each matched to the nearest reference person].")
@click.option("--max-distance", type=click.FloatRange(0, min_open=True), default=None,
              help="--reference: median px between a predicted person's 2D joints and a "
                   "reference person's projection over which they are not matched "
                   "(default 150, for people ~1000 px tall).")
@click.pass_context
def evaluate(ctx, predictions, weights, datasets, splits, datasets_dir, block, flip,
             batch_size, clip_stride, find_person, finder, runtime, precision, calibration,
             out_path, reference, camera, person, max_distance):
    """Evaluate a saved network (--weights) on prepared datasets.

    The protocol follows the file's dataset: PCKh@0.5 (mpii), PCK@0.2 with the torso
    (lsp, lspet) or the box (penn_action, jhmdb), MPJPE and PA-MPJPE in mm given the true
    root depth (h36m, rendered sets), single- and multi-clip action accuracy (penn_action,
    jhmdb, ntu, for models with that action output). Every block is scored unless --block.
    With --runtime litert or onnx the pose network runs through that runtime (single-frame
    pose networks only), the protocols unchanged.

    posenet evaluate --reference REF.json PRED.json --calibration CAL: PRED (posenet
    infer's predictions of one camera) against REF (posenet triangulate's, from other
    views of the same scene): each predicted person matched to the reference person whose
    projection is nearest its 2D joints; MPJPE (protocol 1, pelvis-aligned) and PA-MPJPE
    (protocol 2, Procrustes with scale) in mm in the camera's axes, and the median 2D
    distance in px, overall, per person and per joint; on all frames and on the joints
    triangulated without this camera (posenet/triangulation/reference.py).
    """
    if reference is not None:
        clash = _given(ctx, DATASET_OPTIONS)
        if clash:
            raise click.UsageError(f"{', '.join(_flag(ctx, n) for n in clash)}: options of "
                                   "prepared datasets, not of --reference")
        return evaluate_reference(reference, predictions, calibration, camera, person,
                                  max_distance, out_path)
    clash = _given(ctx, REFERENCE_OPTIONS)
    if clash:
        raise click.UsageError(f"{', '.join(_flag(ctx, n) for n in clash)} only go with "
                               "--reference REF.json")
    if not datasets:
        raise click.UsageError("Missing option '--dataset' (or --reference REF.json PRED.json "
                               "to score predictions against a triangulation)")
    if find_person and flip:
        raise click.UsageError("--find-person and --flip cannot be combined")
    calibration = check_runtime_options(runtime, precision, calibration, datasets_dir)
    precision = precision or "float32"
    from posenet.evaluation import (
        EvaluationError,
        build_report,
        evaluate_file,
        format_table,
        write_report,
    )
    from posenet.evaluation.defaults import default_weights_file, stored_blocks
    from posenet.io import read_keras_config, sha256_file

    files = resolve_files(datasets, splits, datasets_dir)
    if out_path is not None:
        check_out_file(out_path)
    # Everything that can be checked without the network is, before it loads (seconds).
    for path, _ in files:
        if not os.path.isfile(path):
            raise click.ClickException(f"prepared file {path} not found; make it with "
                                       "`posenet prepare` (see docs/prepared_format.md)")
    if weights is None:
        try:
            weights = str(default_weights_file([_dataset_name(p) for p, _ in files]))
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"weights: {weights}", err=True)
    try:
        count = stored_blocks(read_keras_config(weights))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--weights") from None
    if block is not None and count is not None and block > count:
        raise click.BadParameter(f"{block} is outside 1..{count}, the blocks of {weights}",
                                 param_hint="--block")
    if runtime != "keras":
        check_exportable(weights, runtime)
    model = load_model(weights)
    if runtime != "keras":
        from posenet.engine.errors import ExportError
        from posenet.evaluation.runtime_model import runtime_model

        try:
            model = runtime_model(model, runtime, sha256_file(weights), precision, calibration)
        except (ExportError, EvaluationError) as error:
            raise click.ClickException(str(error)) from None
    evaluations = []
    for path, split in files:
        try:
            evaluations.append(evaluate_file(model, path, block=block, flip=flip,
                                             batch_size=batch_size, clip_stride=clip_stride,
                                             split=split,
                                             find_person=finder if find_person else None))
        except (EvaluationError, FileNotFoundError, ValueError) as error:
            raise click.ClickException(f"{path}: {error}") from None
    options = {"block": block, "flip": flip, "batch_size": batch_size,
               "clip_stride": clip_stride,
               "find_person": finder if find_person else None, "runtime": runtime,
               "precision": precision if runtime != "keras" else None}
    report = build_report(weights, evaluations, options)
    click.echo(format_table(report), nl=False)
    if out_path is not None:
        write_report(out_path, report)
        click.echo(f"wrote {out_path}")
