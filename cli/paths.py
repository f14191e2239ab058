"""Checks of output paths, made before any work starts (a typo must not cost a long run)."""

import os

import click


def check_out_file(path, param_hint="--out", force=None):
    """Refuse an output file path that cannot be written: a name ending in a separator (a
    folder), an existing folder, a missing or read-only folder, and (``force`` False) an
    existing file. ``force`` None: existing files may be replaced. Returns ``path``."""
    text = os.fspath(path)
    if text.endswith(("/", os.sep)) or os.path.isdir(text):
        raise click.BadParameter(f"{text} is a folder; give a file name", param_hint=param_hint)
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise click.BadParameter(f"folder {folder} does not exist", param_hint=param_hint)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise click.BadParameter(f"folder {folder} is not writable", param_hint=param_hint)
    if os.path.exists(text) and not os.access(text, os.W_OK):
        raise click.BadParameter(f"{text} exists and is not writable", param_hint=param_hint)
    if force is False and os.path.exists(text):
        raise click.UsageError(f"{text} exists; pass --force to replace it")
    return text


def check_out_folder(path, param_hint="--out"):
    """Create the output folder ``path`` if needed; refuse one that cannot hold files."""
    text = os.fspath(path)
    if os.path.exists(text) and not os.path.isdir(text):
        raise click.BadParameter(f"{text} exists and is not a folder", param_hint=param_hint)
    try:
        os.makedirs(text, exist_ok=True)
    except OSError as error:
        raise click.BadParameter(f"cannot create the folder {text}: {error.strerror}",
                                 param_hint=param_hint) from None
    if not os.access(text, os.W_OK | os.X_OK):
        raise click.BadParameter(f"folder {text} is not writable", param_hint=param_hint)
    return text
