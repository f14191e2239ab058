"""``posenet render``: a short video of built-in motions, drawn by the project's renderer."""

import click

from cli.paths import check_out_file
from posenet.render.motion import BUILTIN_KINDS

#: The ready-made scenes of ``posenet.render.crowd.SCENES`` (named here so the command
#: does not import the renderer until it runs).
CROWD_SCENES = ("crossing", "exit")
#: Largest side of a rendered frame, px (8K UHD: a typo like 100000x100000 would otherwise
#: ask for a 30 GB frame).
MAX_SIDE = 7680


def _size(ctx, param, value):
    try:
        width, height = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"expected WIDTHxHEIGHT, got {value!r}") from None
    if width < 16 or height < 16:
        raise click.BadParameter(f"at least 16x16 px, got {value!r}")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise click.BadParameter(f"at most {MAX_SIDE} px a side, got {value!r}")
    return width, height


@click.command()
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--motion", type=click.Choice(BUILTIN_KINDS), default=None,
              help="Built-in motion of the one person (default: walk).")
@click.option("--crowd", type=click.Choice(CROWD_SCENES), default=None,
              help="A scene of several people instead: 'crossing' (two walkers crossing "
                   "mid-frame, the near one in front) or 'exit' (three people, one "
                   "standing still, one walking out of the frame).")
@click.option("--frames", "num_frames", type=click.IntRange(1), default=96, show_default=True)
@click.option("--size", default="1280x720", show_default=True, callback=_size,
              help="Video size WIDTHxHEIGHT, px.")
@click.option("--fps", type=click.FloatRange(min=1.0), default=25.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the people, background, light and viewpoint.")
@click.option("--force", is_flag=True, help="Replace an existing video.")
def render(out, motion, crowd, num_frames, size, fps, seed, force):
    """Render a person doing a built-in motion (or a scene of several, --crowd) to OUT (its
    extension is replaced by .mp4, or .avi where OpenCV has no mp4 codec). Needs no data:
    for demos and tests."""
    import os

    if motion is not None and crowd is not None:
        raise click.UsageError("--motion and --crowd exclude each other")
    check_out_file(out, param_hint="OUT")
    base = os.path.splitext(out)[0]
    existing = [base + ext for ext in (".mp4", ".avi") if os.path.exists(base + ext)]
    if existing and not force:
        raise click.UsageError(f"{existing[0]} exists; pass --force to replace it")
    try:
        if crowd is None:
            from posenet.render.video import write_motion_video

            motion = motion or "walk"
            result = write_motion_video(base, motion, num_frames, size, fps, seed)
        else:
            from posenet.render.crowd import SCENES, write_crowd_video

            result = write_crowd_video(base, SCENES[crowd], num_frames, size, fps, seed)
    except OSError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"wrote {result['path']} ({num_frames} frames, {size[0]}x{size[1]}, "
               f"{fps:g} frames/s, {motion or crowd})")
