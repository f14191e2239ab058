"""Where the shipped weights are: the repository's top-level ``weights/`` folder in a
checkout (or an editable install), or its copy installed with the package as
``posenet/_weights`` (package data of the wheel, see ``pyproject.toml``)."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
#: The copy a wheel installs beside the modules (absent in a checkout).
INSTALLED_WEIGHTS = _PACKAGE / "_weights"
#: The repository's folder, beside the package (absent in an installed wheel).
CHECKOUT_WEIGHTS = _PACKAGE.parent / "weights"


def weights_dir() -> Path:
    """The folder of the shipped weights: the installed copy if there is one, else the
    checkout's ``weights/`` (returned even when absent, so that messages name it)."""
    # Both lie beside the running modules, so the weights always match the code in use.
    if INSTALLED_WEIGHTS.is_dir():
        return INSTALLED_WEIGHTS
    return CHECKOUT_WEIGHTS


#: The folder of the shipped weights, found once at import.
WEIGHTS_DIR = weights_dir()


def project_path(path) -> Path:
    """A project-relative path such as ``weights/pose_noise.json`` (as recipes name the
    shipped files): ``weights/...`` resolves into :data:`WEIGHTS_DIR`, anything else
    relative to the checkout's root. Absolute paths are returned as they are."""
    path = Path(os.fspath(path))
    if path.is_absolute():
        return path
    if path.parts[:1] == ("weights",):
        return WEIGHTS_DIR.joinpath(*path.parts[1:])
    return CHECKOUT_WEIGHTS.parent / path
