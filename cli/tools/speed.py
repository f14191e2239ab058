"""``posenet tools runtime-speed``: the pose network's model-only speed per runtime."""

import click

from posenet.engine.runtimes import RUNTIMES
from posenet.export.quantize import PRECISIONS


@click.command("runtime-speed",
               short_help="Model-only frames/s of the pose network per runtime.")
@click.argument("weights", required=False, default=None)
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True)
@click.option("--repeats", type=click.IntRange(1), default=5, show_default=True,
              help="Timed rounds (the median is kept).")
@click.option("--runtime", "runtimes", multiple=True, type=click.Choice(RUNTIMES),
              help="A runtime to time (repeatable; default: all).")
@click.option("--precision", "precisions", multiple=True, type=click.Choice(PRECISIONS),
              help="litert's precisions to measure (repeatable; default: float32).")
@click.option("--calibration", default=None, help="int8's prepared file.")
@click.option("--all-outputs", is_flag=True,
              help="Time every output, person heads included.")
def runtime_speed(weights, batch_size, repeats, runtimes, precisions, calibration,
                  all_outputs):
    """Model-only frames/s of the pose network of WEIGHTS (default: the shipped ones) per
    runtime (litert at each --precision; timed in interleaved rounds) and the ratio to
    Keras.

    The network computes what the Predictor reads (the last block's pose and visibility),
    or with --all-outputs every output (as `posenet export` writes it).
    """
    from posenet.bench.runtimes import runtime_speeds
    from posenet.engine.errors import ExportError, WeightsError

    try:
        rates, size = runtime_speeds(weights, batch_size, repeats, runtimes or None,
                                     precisions or None, calibration, all_outputs)
    except (ExportError, WeightsError) as error:
        raise click.ClickException(str(error)) from None
    for label, rate in rates.items():
        ratio = rate / rates["keras"] if "keras" in rates else float("nan")
        click.echo(f"{label}: {rate:.1f} frames/s (batch {batch_size}, {size} px), "
                   f"{ratio:.2f}x keras")
