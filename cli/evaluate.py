"""``posenet evaluate``: score a saved network on prepared files by the standard protocols."""

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


@click.command()
@click.option("--weights", type=click.Path(dir_okay=False), default=None,
              help="Saved network (.keras) [default: the shipped network for the datasets: "
                   "the default bundle's action network for its action datasets, its pose "
                   "network otherwise].")
@click.option("--dataset", "datasets", multiple=True, required=True,
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
                   "[default: <datasets-dir>/lspet_train.h5, LSPet's training split].")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="JSON report to write (atomically).")
def evaluate(weights, datasets, splits, datasets_dir, block, flip, batch_size, clip_stride,
             find_person, finder, runtime, precision, calibration, out_path):
    """Evaluate a saved network (--weights) on prepared datasets.

    The protocol follows the file's dataset: PCKh@0.5 (mpii), PCK@0.2 with the torso
    (lsp, lspet) or the box (penn_action, jhmdb), MPJPE and PA-MPJPE in mm given the true
    root depth (h36m, rendered sets), single- and multi-clip action accuracy (penn_action,
    jhmdb, ntu, for models with that action output). Every block is scored unless --block.
    With --runtime litert or onnx the pose network runs through that runtime (single-frame
    pose networks only), the protocols unchanged.
    """
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
