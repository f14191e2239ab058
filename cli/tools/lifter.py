"""``posenet tools lifter-train | lifter-eval``: the 2D-to-3D lifter on Human3.6M motion
capture (``posenet.training.lifting``, ``posenet.evaluation.lifting``)."""

import json
import os

import click

DEFAULT_H36M = "../shared/data/h36m"


@click.command("lifter-train", short_help="Train the 2D-to-3D lifter on Human3.6M mocap.")
@click.option("--data", default=DEFAULT_H36M, show_default=True,
              help="The Human3.6M '3D_positions' folder (with cameras.h5).")
@click.option("--run-dir", required=True, help="Run folder (checkpoints, log, backup).")
@click.option("--out", default=None,
              help="Also write the last network here (.keras, uncompiled, dilated build).")
@click.option("--epochs", type=click.IntRange(1), default=30, show_default=True)
@click.option("--steps", type=click.IntRange(1), default=100, show_default=True,
              help="Batches per epoch.")
@click.option("--batch-size", type=click.IntRange(1), default=256, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--filters", type=click.IntRange(1), default=256, show_default=True)
@click.option("--blocks", type=click.IntRange(1), default=2, show_default=True,
              help="Residual blocks (receptive field 3 ** (blocks + 1) frames).")
@click.option("--causal", is_flag=True, help="Predict the window's last frame.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--resume", is_flag=True, help="Continue the run folder's backup.")
def lifter_train(data, run_dir, out, epochs, steps, batch_size, lr, filters, blocks, causal,
                 seed, resume):
    """Train the lifter on S1, S5, S6, S7, S8 (real and virtual cameras, pose noise)."""
    from posenet.training.lifting import save_lifter, train_lifter

    try:
        model, history = train_lifter(data, run_dir, epochs=epochs, steps=steps,
                                      batch_size=batch_size, lr=lr, seed=seed,
                                      filters=filters, num_blocks=blocks, causal=causal,
                                      resume=resume)
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    if out:
        save_lifter(model, out)
        click.echo(f"wrote {out}")
    if history.get("loss"):
        click.echo(f"final training loss {history['loss'][-1]:.1f} mm")


@click.command("lifter-eval", short_help="Score a lifter on Human3.6M S9/S11 (mm).")
@click.argument("network")
@click.option("--data", default=DEFAULT_H36M, show_default=True,
              help="The Human3.6M '3D_positions' folder (with cameras.h5).")
@click.option("--subjects", default="9,11", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the simulated pose-network noise.")
@click.option("--out", default=None, help="Write the report here (JSON).")
def lifter_eval(network, data, subjects, seed, out):
    """Protocols 1 and 2 (MPJPE, PA-MPJPE) from ground-truth and noisy 2D joints on the
    4 real cameras, every original (10 Hz) frame of every take."""
    if not os.path.isfile(network):
        raise click.UsageError(f"{network}: no such file")
    from posenet.evaluation.lifting import evaluate_lifter_file

    try:
        report = evaluate_lifter_file(network, data, [int(s) for s in subjects.split(",")],
                                      seed=seed)
    except (FileNotFoundError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    for name, row in report["results"].items():
        click.echo(f"{name:6s} MPJPE {row['mpjpe']:.1f} mm  PA-MPJPE {row['pa_mpjpe']:.1f} mm"
                   f"  (per-action means {row['mpjpe_actions']:.1f} / "
                   f"{row['pa_mpjpe_actions']:.1f}; {row['poses']} poses)")
    if out:
        from posenet.io import write_json_atomic

        write_json_atomic(out, report)
        click.echo(f"wrote {out}")
    else:
        click.echo(json.dumps(report["setup"]))
