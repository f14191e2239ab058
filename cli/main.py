"""Entry point of the ``posenet`` command."""

import os

import click

from cli.bench import bench
from cli.evaluate import evaluate
from cli.export import export
from cli.infer import infer
from cli.prepare import prepare
from cli.pretrained import pretrained
from cli.quiet import VERBOSE_ENV
from cli.quiet import configure as configure_output
from cli.render import render
from cli.tools import tools
from cli.train import train
from cli.triangulate import triangulate
from cli.visualize import visualize

BACKENDS = ("tensorflow", "jax")


def _check_backend(name, chosen=True):
    """Refuse a Keras backend posenet does not run on, or one whose package is missing,
    before Keras fails on its import with a traceback. The default backend (``chosen``
    False) is not required: a LiteRT or ONNX run of cached exports needs no Keras
    (``posenet.export.runtime_index``)."""
    import importlib.util

    if name not in BACKENDS:
        raise click.UsageError(f"KERAS_BACKEND={name} is not supported: posenet runs on "
                               f"{' and '.join(BACKENDS)} (--backend, or $KERAS_BACKEND)")
    if chosen and importlib.util.find_spec(name) is None:
        extra = " (pip install 'posenet[jax]')" if name == "jax" else ""
        raise click.UsageError(f"the {name} backend is not installed{extra}")


class PosenetGroup(click.Group):
    """Commands that stop on Ctrl-C or SIGTERM with one line and status 130 or 143.

    SIGTERM raises like Ctrl-C (``posenet.interrupts``), so the commands' clean-up of
    temporary files runs for both.
    """

    def invoke(self, ctx):
        from posenet.interrupts import exit_status, raise_on_sigterm

        raise_on_sigterm()
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as error:
            status = exit_status(error)
            click.echo("interrupted" + (" (SIGTERM)" if status == 143 else ""), err=True)
            raise click.exceptions.Exit(status) from None


@click.group(cls=PosenetGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Keras backend (default: $KERAS_BACKEND, else tensorflow).")
@click.option("--verbose", is_flag=True, default=False, envvar=VERBOSE_ENV,
              help="Show the libraries' logs and warnings on stderr (TensorFlow, absl, "
                   f"OpenCV/FFmpeg); also ${VERBOSE_ENV}=1. Errors show either way.")
@click.version_option(package_name="posenet")
def main(backend, verbose):
    """2D/3D human pose estimation and action recognition with one multitask network."""
    # Keras reads the backend once, at its first import: set it before any command runs.
    if backend:
        os.environ["KERAS_BACKEND"] = backend
    _check_backend(os.environ.get("KERAS_BACKEND", "tensorflow"),
                   chosen="KERAS_BACKEND" in os.environ)
    # Before any command imports TensorFlow or OpenCV: they read their settings on loading.
    configure_output(verbose)


main.add_command(bench)
main.add_command(evaluate)
main.add_command(export)
main.add_command(infer)
main.add_command(prepare)
main.add_command(pretrained)
main.add_command(render)
main.add_command(tools)
main.add_command(train)
main.add_command(triangulate)
main.add_command(visualize)
