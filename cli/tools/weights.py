"""``posenet tools manifest | softargmax-window | ensemble``: making the shipped files."""

import os

import click

from cli.paths import check_out_file


@click.command(short_help="Write weights/manifest.json from the runs and reports.")
@click.argument("folder", default="weights", type=click.Path(exists=True, file_okay=False))
@click.option("--rewritten", multiple=True, metavar="FILE",
              help="A file of the folder rewritten without training (repeatable).")
def manifest(folder, rewritten):
    """Write FOLDER/manifest.json (default: weights) from the runs and the reports.

    The mobile bundle is the default and the CPU bundle the small alternative; a bundle
    whose files or runs are absent keeps its entry. --rewritten FILE: FILE was rewritten
    from the shipped one without training (e.g. `posenet tools softargmax-window`), so it
    keeps its training details. Prints each figure against its target.
    """
    from posenet.inference.manifest import figure_lines, write_manifest

    try:
        written, kept = write_manifest(folder, rewritten)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from None
    for line in [*kept, *figure_lines(written)]:
        click.echo(line)


@click.command("softargmax-window",
               short_help="Copy a pose network with another soft-argmax window.")
@click.argument("network", type=click.Path(exists=True, dir_okay=False))
@click.option("--window", type=click.IntRange(0), required=True,
              help="Radius in heatmap cells (0: the whole map, as trained).")
@click.option("--out", required=True, help="The .keras file to write (atomically).")
def softargmax_window(network, window, out):
    """Write a copy of a single-frame pose network (.keras) whose soft-argmax heads read
    only the cells around each heatmap's peak."""
    from cli.evaluate import load_model
    from posenet.io import save_model_atomic
    from posenet.models.softargmax_window import with_window

    check_out_file(out)
    try:
        copy = with_window(load_model(network), window)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="NETWORK") from None
    save_model_atomic(copy, out)
    click.echo(f"{out}: {type(copy).__name__} with soft-argmax window {window}")


@click.command(short_help="Join action networks of several seeds into one.")
@click.argument("networks", nargs=-1, required=True)
@click.option("--out", required=True, help="The ensemble's .keras file.")
def ensemble(networks, out):
    """Join pose-only action networks (run folders or .keras files) of one recipe and
    several seeds into one network averaging them."""
    if len(networks) < 2:
        raise click.UsageError("an ensemble needs at least two networks")
    check_out_file(out)
    from cli.evaluate import load_model
    from posenet.io import save_model_atomic
    from posenet.models.ensemble import join, model_file

    for path in networks:
        if not os.path.isfile(model_file(path)):
            raise click.BadParameter(f"{model_file(path)}: no such file", param_hint="NETWORKS")
    members = [load_model(model_file(path)) for path in networks]
    stem = os.path.splitext(os.path.basename(out))[0]
    try:
        joined = join(members, name=stem)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    save_model_atomic(joined, out)
    click.echo(f"{out}: {len(members)} members of {', '.join(networks)}")
