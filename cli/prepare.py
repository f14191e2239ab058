"""``posenet prepare``: convert a dataset from its published format into a prepared file."""

import os

import click

from cli.paths import check_out_file


def _catalogue():
    """Preparers by dataset name, with their splits and source descriptions."""
    from posenet.data.converters import DATASET_INFO, PREPARERS, SPLITS
    from posenet.data.render_dataset import prepare_builtin_render, prepare_h36m_render

    preparers = {**PREPARERS, "h36m-render": prepare_h36m_render,
                 "builtin-render": prepare_builtin_render}
    splits = {**SPLITS, "h36m-render": SPLITS["h36m"], "builtin-render": ("train",)}
    info = {
        **DATASET_INFO,
        "h36m-render": "people rendered over Human3.6M motion capture seen by its real "
        "cameras; --source is the Human3.6M folder (S<k>/MyPoses/3D_positions, cameras.h5)",
        "builtin-render": "people rendered over the project's built-in motions; no source",
    }
    return preparers, splits, info


#: Human3.6M's four cameras, indexed as in its published calibration.
H36M_CAMERAS = 4


def _cameras(ctx, param, value):
    """``--cameras 0,2`` -> (0, 2): distinct indices within 0..3."""
    if value is None:
        return None
    try:
        cameras = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected camera indices like 0,2, got {value!r}") from None
    bad = [c for c in cameras if not 0 <= c < H36M_CAMERAS]
    if bad:
        raise click.BadParameter(f"camera {bad[0]} is outside 0..{H36M_CAMERAS - 1}")
    if len(set(cameras)) != len(cameras):
        raise click.BadParameter(f"camera listed twice in {value!r}")
    return cameras


@click.command()
@click.argument("dataset")
@click.option("--source", type=click.Path(file_okay=False), default=None,
              help="Folder of the dataset in its published layout.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True,
              help="Prepared HDF5 file to write (written to a temporary name, then renamed).")
@click.option("--split", default=None,
              help="Split to prepare (default: the dataset's first; lspet: 'all' for every "
                   "image of any LSP-format folder).")
@click.option("--every", type=click.IntRange(1), default=None,
              help="Human3.6M: keep every N-th pose frame.")
@click.option("--cameras", default=None, metavar="I,J", callback=_cameras,
              help="Human3.6M: camera indices (0-3) to use, comma-separated.")
@click.option("--seed", type=int, default=0, show_default=True, help="Rendering seed.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def prepare(dataset, source, out_path, split, every, cameras, seed, force):
    """Convert DATASET into the prepared HDF5 format (see docs/prepared_format.md).

    DATASET is one of: lspet, lsp, mpii, coco, penn_action, jhmdb, h36m, ntu,
    h36m-render, builtin-render.
    """
    preparers, splits, info = _catalogue()
    if dataset not in preparers:
        raise click.BadParameter(
            f"unknown dataset {dataset!r}; known datasets: {', '.join(sorted(preparers))}",
            param_hint="DATASET",
        )
    split = split or splits[dataset][0]
    if split not in splits[dataset]:
        raise click.BadParameter(
            f"{dataset} has no split {split!r}; its splits: {', '.join(splits[dataset])}",
            param_hint="--split",
        )
    check_out_file(out_path, force=force)
    if dataset != "builtin-render":
        if source is None:
            raise click.UsageError(f"{dataset} needs --source: {info[dataset]}")
        if not os.path.isdir(source):
            raise click.BadParameter(
                f"{source} is not a folder. Expected: {info[dataset]}", param_hint="--source"
            )

    options = {}
    if dataset.startswith("h36m"):
        if every:
            options["every"] = every
        if cameras:
            options["cameras"] = cameras
    if dataset.endswith("render"):
        options["seed"] = seed
    with click.progressbar(length=1, label=f"{dataset} {split}", show_pos=True,
                           file=click.get_text_stream("stderr")) as bar:

        def progress(done, total):
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            if dataset == "builtin-render":
                count = preparers[dataset](out_path, progress, **options)
            else:
                count = preparers[dataset](source, out_path, split, progress, **options)
        except (FileNotFoundError, ValueError) as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"wrote {count} samples to {out_path}")
