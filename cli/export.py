"""``posenet export``: the pose network, or an action network, as a SavedModel, a LiteRT or
an ONNX file."""

import os

import click

from posenet.export.quantize import DEFAULT_CALIBRATION, DEFAULT_SAMPLES, DEFAULT_SEED, PRECISIONS

EXPORT_FORMATS = ("savedmodel", "litert", "onnx")


def check_precision_options(precision, calibration, option, value):
    """BadParameter when --precision (None: not given) is asked of ``option`` ``value``
    (--format or --runtime) other than litert, or --calibration without int8."""
    if precision is not None and value != "litert":
        raise click.BadParameter(f"--precision is for {option} litert, not {value}",
                                 param_hint="--precision")
    if calibration is not None and precision != "int8":
        raise click.BadParameter("--calibration is for --precision int8",
                                 param_hint="--calibration")


@click.command()
@click.argument("weights")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True,
              help="savedmodel (a folder), litert (.tflite) or onnx (.onnx; pip install "
                   "'posenet[onnx]').")
@click.option("--out", "out", required=True,
              help="The file (or SavedModel folder) to write; the metadata goes to "
                   "OUT.json (inside the folder for a SavedModel: posenet_export.json).")
@click.option("--block", type=click.IntRange(1), default=None,
              help="Cut the network after this block (default: its last).")
@click.option("--batch-size", type=click.IntRange(1), default=None,
              help="Fix the batch size of the exported input (default: any).")
@click.option("--input-size", type=click.IntRange(32), default=None,
              help="Side of the input crops, a multiple of 32 (default: the network's).")
@click.option("--precision", type=click.Choice(PRECISIONS), default=None,
              help="litert only: float32 (default), float16 (float16 weights, half the "
                   "file) or int8 (integer inside, float32 input and outputs; calibrated on "
                   "--calibration).")
@click.option("--calibration", type=click.Path(dir_okay=False), default=None,
              help="int8: prepared file whose person crops calibrate the ranges "
                   f"[default: {DEFAULT_CALIBRATION}, LSPet's training split].")
@click.option("--calibration-samples", type=click.IntRange(1), default=DEFAULT_SAMPLES,
              show_default=True, help="int8: crops drawn from --calibration.")
@click.option("--calibration-seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="int8: seed of the draw of the calibration crops.")
@click.option("--network", "network", default=None, metavar="pose|action:DATASET",
              help="Which network of a bundle JSON, a manifest or 'default' (the shipped "
                   "weights) to export: the pose network or the action network of DATASET "
                   "(e.g. action:jhmdb). Default: the pose network, or the action network "
                   "when WEIGHTS is an ActionNetwork .keras file.")
def export(weights, fmt, out, block, batch_size, input_size, precision, calibration,
           calibration_samples, calibration_seed, network):
    """Export the pose network of WEIGHTS (a .keras PoseNetwork, MobilePoseNetwork or
    MultitaskModel) for LiteRT, ONNX Runtime or TensorFlow Serving; or an action network
    (a pose-only ActionNetwork .keras file, or --network action:DATASET).

    The pose input is float32 RGB in [0, 1], (N, S, S, 3); the outputs are the network's
    pose_k and visibility_k. An action network takes windows of normalised poses, `poses`
    (N, T, J, D) and `visibility` (N, T, J, 1), and outputs action_DATASET_k; its sidecar
    lists the classes and the window length (--block, --input-size and int8 do not apply).
    Nothing is left half-written on failure.
    """
    from posenet.engine.errors import ExportError, WeightsError
    from posenet.export.actions import action_config, parse_network
    from posenet.export.network import export_network
    from posenet.export.quantize import Calibration
    from posenet.inference.sources import check_weights

    if weights != "default" and not os.path.isfile(weights):
        raise click.BadParameter(f"{weights}: no such file", param_hint="WEIGHTS")
    weights = None if weights == "default" else weights
    check_precision_options(precision, calibration, "--format", fmt)
    try:
        dataset = parse_network(network)
        is_action = dataset is not None or (
            network is None and weights is not None and not weights.lower().endswith(".json")
            and action_config(weights) is not None)
    except ExportError as error:
        raise click.BadParameter(str(error), param_hint="--network") from None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="WEIGHTS") from None
    if is_action:
        return _export_action(weights, fmt, out, dataset, block, batch_size, input_size,
                              precision)
    try:
        check_weights(weights)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="WEIGHTS") from None
    precision = precision or "float32"
    try:
        info = export_network(weights, fmt, out, block, batch_size, input_size, precision,
                              Calibration(calibration, calibration_samples, calibration_seed))
    except (ExportError, WeightsError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"wrote {out} ({fmt} {precision}, block {info['block']} of "
               f"{info['num_blocks']}, {info['input_size']} px, outputs "
               f"{', '.join(info['outputs'])})")
    used = info.get("calibration")
    if used:
        click.echo(f"calibrated on {used['samples']} crops of {used['file']} (split "
                   f"{used['split']}, seed {used['seed']})")
        if used["split"] and any(w in str(used["split"]) for w in ("test", "val")):
            click.echo(f"warning: calibrated on a {used['split']} split; figures measured on "
                       "it are not held out", err=True)


def _export_action(weights, fmt, out, dataset, block, batch_size, input_size, precision):
    """``posenet export`` of an action network (see posenet.export.actions)."""
    from posenet.engine.errors import ExportError, WeightsError
    from posenet.export.actions import ACTION_PRECISIONS, export_action_network

    for name, value in (("--block", block), ("--input-size", input_size)):
        if value is not None:
            raise click.BadParameter(f"{name} is for a pose network; an action network reads "
                                     "windows of poses, exported whole", param_hint=name)
    if precision not in (None, *ACTION_PRECISIONS):
        raise click.BadParameter(f"an action network exports at float32 or float16, not "
                                 f"{precision} (int8 calibrates on person crops)",
                                 param_hint="--precision")
    precision = precision or "float32"
    try:
        info = export_action_network(weights, fmt, out, dataset, batch_size, precision)
    except (ExportError, WeightsError) as error:
        raise click.ClickException(str(error)) from None
    classes = ", ".join(f"{d}: {len(a['classes'])} classes" for d, a in info["actions"].items())
    click.echo(f"wrote {out} ({fmt} {precision}, action network, {classes}, "
               f"{info['num_frames']} frames of {info['num_joints']} joints in "
               f"{info['pose_dims']}D, outputs {', '.join(info['outputs'])})")
