"""``posenet export``: the pose network as a SavedModel, a LiteRT or an ONNX file."""

import os

import click

EXPORT_FORMATS = ("savedmodel", "litert", "onnx")


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
def export(weights, fmt, out, block, batch_size, input_size):
    """Export the pose network of WEIGHTS (a .keras PoseNetwork, MobilePoseNetwork or
    MultitaskModel) for LiteRT, ONNX Runtime or TensorFlow Serving.

    The input is float32 RGB in [0, 1], (N, S, S, 3); the outputs are the network's
    pose_k and visibility_k. Nothing is left half-written on failure.
    """
    from posenet.export import ExportError, export_network
    from posenet.inference.sources import check_weights
    from posenet.inference.weights import WeightsError

    if not os.path.isfile(weights):
        raise click.BadParameter(f"{weights}: no such file", param_hint="WEIGHTS")
    try:
        check_weights(weights)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="WEIGHTS") from None
    try:
        info = export_network(weights, fmt, out, block, batch_size, input_size)
    except (ExportError, WeightsError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"wrote {out} ({fmt}, block {info['block']} of {info['num_blocks']}, "
               f"{info['input_size']} px, outputs {', '.join(info['outputs'])})")
