"""What ``posenet infer`` shows while it runs: the progress on stderr, and the native
libraries' messages of each input summarised in one warning line."""

import contextlib
import sys
import time

import click


def progress_bar(label, length):
    """A progress display on stderr with the frame rate; returns (context, update(n)).
    ``length`` None (an endless stream): a count of the frames done instead of a bar."""
    started = time.perf_counter()
    done = [0]

    def rate():
        return f"{done[0] / max(time.perf_counter() - started, 1e-9):.1f} frames/s"

    if length is None:
        @contextlib.contextmanager
        def counting():
            try:
                yield
            finally:
                if done[0]:
                    click.echo(err=True)  # end the line the count rewrites

        def count(n):
            done[0] += n
            click.echo(f"\r{label}: {done[0]} frames, {rate()}", nl=False, err=True)

        return counting(), count
    bar = click.progressbar(length=length, label=label, item_show_func=lambda _: rate(),
                            file=sys.stderr)

    def update(n):
        done[0] += n
        bar.update(n, current_item=done[0])

    return bar, update


def say_native(path, lines):
    """One warning line on stderr for the native ``lines`` of ``path`` (library chatter
    that ``cli.quiet`` drops does not count)."""
    from cli.quiet import CHATTER
    from posenet.native_output import summary

    lines = [line for line in lines if not CHATTER.search(line)]
    if lines and path is not None:
        click.echo(f"warning: {path}: {summary(lines)}", err=True)
    elif lines:  # not an input's (loading the model): as the libraries said it
        click.echo("\n".join(lines), err=True)
