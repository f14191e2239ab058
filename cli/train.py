"""``posenet train``: train a named recipe into a run folder (resumable)."""

import json
import os
import re
import sys

import click


def _load_config_file(path):
    try:
        with open(path) as f:
            config = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise click.BadParameter(f"cannot read {path}: {error}", param_hint="--config") from None
    if not isinstance(config, dict):
        raise click.BadParameter(f"{path} must hold a JSON object of recipe keys",
                                 param_hint="--config")
    return config


def _summary(description: str) -> str:
    """The first sentence of a recipe's description."""
    return re.split(r"\.(?:\s|$)", description.strip(), maxsplit=1)[0]


class _TrainCommand(click.Command):
    """``train`` whose --help ends with the recipe names, read only when help is asked."""

    def format_epilog(self, ctx, formatter):
        from posenet.training.recipes import RECIPES

        with formatter.section("Recipes"):
            formatter.write_dl([(name, _summary(r.description))
                                for name, r in RECIPES.items()])
        super().format_epilog(ctx, formatter)


def _fail(error: click.ClickException):
    """Raise ``error``, or in the command's own process print it and exit at once.

    Training stopped mid-epoch leaves TensorFlow's generator-backed data pipeline to
    interpreter exit, where it has hung or aborted; the run folder and the loader workers
    are already cleaned up, so nothing is lost by skipping that exit. Under CliRunner or
    pytest (replaced streams) the error is raised as usual.
    """
    if sys.stdout is not sys.__stdout__ or sys.stderr is not sys.__stderr__:
        raise error
    error.show()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(error.exit_code)


def _resolve(name, out, config_path, assignments, epochs, batch_size, resume):
    """The recipe to run (with every override applied) and the run's saved data folder."""
    from posenet.training import apply_overrides, get_recipe, parse_assignments
    from posenet.training.run_dir import RunDirError, saved_recipe

    try:
        recipe = get_recipe(name)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="RECIPE") from None
    saved_data = None
    if resume:
        try:
            saved, saved_data = saved_recipe(out)
        except (RunDirError, ValueError) as error:
            raise click.UsageError(str(error)) from None
        if saved.name != recipe.name:
            raise click.UsageError(f"{out} ran recipe {saved.name!r}, not {recipe.name!r}")
        recipe = saved
    overrides = _load_config_file(config_path) if config_path else {}
    try:
        overrides.update(parse_assignments(assignments))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--set") from None
    if epochs is not None:
        overrides["epochs"] = epochs
    if batch_size is not None:
        overrides["batch_size"] = batch_size
    try:
        return apply_overrides(recipe, overrides), saved_data
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--set/--config") from None


@click.command(cls=_TrainCommand)
@click.argument("recipe_name", metavar="RECIPE")
@click.option("--out", "out", type=click.Path(), required=True,
              help="Run folder (config.json, log.csv, checkpoints/, model.keras...).")
@click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of the prepared files [default: datasets, or the resumed run's].")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="JSON object of recipe keys to override (dotted keys allowed).")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Override a recipe key (dotted, e.g. model.input_size=64); the value is "
              "read as JSON when it parses. Repeatable; applied after --config.")
@click.option("--resume", is_flag=True,
              help="Continue the run in --out from its last finished epoch.")
@click.option("--epochs", type=click.IntRange(1), default=None, help="Override the epochs.")
@click.option("--batch-size", type=click.IntRange(1), default=None,
              help="Override the batch size.")
@click.option("--mixed-precision", is_flag=True, help="Train with the mixed_float16 policy.")
@click.option("--distribute", type=click.Choice(["devices", "multi-worker"]),
              is_flag=False, flag_value="devices", default=None,
              help="Data parallel: over every visible device (--distribute alone), or over "
              "the workers of TF_CONFIG (--distribute multi-worker). The global batch "
              "(--batch-size) is split over all devices.")
@click.option("--cpu-devices", type=click.IntRange(1, 64), default=None,
              help="Split the CPU into N virtual devices (to try --distribute without "
              "accelerators).")
@click.option("--connect-timeout", type=click.FloatRange(1), default=120.0, show_default=True,
              help="Seconds a multi-worker run waits for its peers before it fails.")
@click.option("--verbose", type=click.IntRange(0, 2), default=None,
              help="Keras verbosity [default: progress bar on a terminal, else a line per "
              "epoch].")
def train(recipe_name, out, data_dir, config_path, assignments, resume, epochs, batch_size,
          mixed_precision, distribute, cpu_devices, connect_timeout, verbose):
    """Train RECIPE (one of the recipes below) into the run folder --out.

    An existing run folder is never overwritten: pass --resume to continue it, after an
    interruption or to extend it (--epochs). A folder whose run never finished an epoch
    (NaN, a crash, Ctrl-C) is started afresh. Ctrl-C or SIGTERM stops within seconds,
    ready for --resume (exit status 130 / 143).
    """
    recipe, saved_data = _resolve(recipe_name, out, config_path, assignments, epochs,
                                  batch_size, resume)
    data_dir = data_dir or saved_data or "datasets"
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2

    from posenet.training import DataFileError, RunDirError, TrainingDiverged
    from posenet.training import train as run
    from posenet.training.distribution import DistributionError, split_cpu

    if cpu_devices is not None:
        try:
            split_cpu(cpu_devices)
        except DistributionError as error:
            raise click.BadParameter(str(error), param_hint="--cpu-devices") from None

    def log(message):
        click.echo(message, err=True)

    try:
        result = run(recipe, out, data_dir, resume=resume, verbose=verbose,
                     distribute=distribute, mixed_precision=mixed_precision, log=log,
                     connect_timeout=connect_timeout)
    except (RunDirError, DistributionError) as error:
        raise click.UsageError(str(error)) from None
    except (DataFileError, FileNotFoundError, TrainingDiverged, ValueError) as error:
        _fail(click.ClickException(str(error)))
    best = result.best
    if best:
        click.echo(f"best {best['monitor']} {best['value']:.4f} at epoch {best['epoch']}")
    click.echo(f"wrote {result.paths['model']}")
