"""Entry point of the ``posenet`` command."""

import os

import click

from cli.bench import bench
from cli.evaluate import evaluate
from cli.infer import infer
from cli.prepare import prepare
from cli.pretrained import pretrained
from cli.render import render
from cli.train import train
from cli.visualize import visualize

BACKENDS = ("tensorflow", "jax")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Keras backend (default: $KERAS_BACKEND, else tensorflow).")
@click.version_option(package_name="posenet")
def main(backend):
    """2D/3D human pose estimation and action recognition with one multitask network."""
    # Keras reads the backend once, at its first import: set it before any command runs.
    if backend:
        os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


main.add_command(bench)
main.add_command(evaluate)
main.add_command(infer)
main.add_command(prepare)
main.add_command(pretrained)
main.add_command(render)
main.add_command(train)
main.add_command(visualize)
