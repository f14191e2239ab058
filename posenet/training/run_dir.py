"""The run folder of a training run and its rules: never overwrite, resume only what exists.

Layout of ``RUN_DIR``::

    config.json            the resolved recipe (and the data folder it read)
    log.csv                one row per epoch: loss, learning rate, val_<metric>...
    tensorboard/           TensorBoard logs (when the recipe asks for them)
    checkpoints/last.keras the model after the latest epoch
    checkpoints/best.keras the model of the best validation epoch (best.json says which)
    backup/                weights, optimizer state and epoch for --resume
    model.keras            the final model, written when training completes
"""

from __future__ import annotations

import json
import os

from posenet.io import write_json_atomic
from posenet.training.recipe import recipe_from_dict


class RunDirError(ValueError):
    """The run folder cannot be used as asked (exists without resume, missing on resume)."""


def paths(run_dir) -> dict[str, str]:
    """Absolute paths of the run folder's parts, by name (see the module docstring)."""
    root = os.path.abspath(os.fspath(run_dir))
    parts = {"config": "config.json", "log": "log.csv", "tensorboard": "tensorboard",
             "checkpoints": "checkpoints", "backup": "backup", "model": "model.keras"}
    return {"root": root, **{k: os.path.join(root, v) for k, v in parts.items()}}


def check_new(run_dir) -> None:
    """RunDirError when ``run_dir`` exists and holds anything (nothing is touched)."""
    root = os.fspath(run_dir)
    if os.path.exists(root) and (not os.path.isdir(root) or os.listdir(root)):
        raise RunDirError(f"run folder {root} already exists; pass --resume to continue it "
                          "or choose another --out")


def load_config(run_dir) -> dict:
    """The ``config.json`` of an existing run; RunDirError when there is no such run."""
    path = paths(run_dir)["config"]
    if not os.path.isfile(path):
        raise RunDirError(f"cannot resume: {path} not found (no run was started in "
                          f"{os.fspath(run_dir)})")
    with open(path) as f:
        return json.load(f)


def saved_recipe(run_dir):
    """(Recipe, data folder) of an existing run."""
    config = load_config(run_dir)
    data_dir = config.pop("data_dir", "datasets")
    return recipe_from_dict(config), data_dir


def write_config(run_dir, recipe, data_dir) -> str:
    """Create the run folder and write the resolved recipe to ``config.json``."""
    p = paths(run_dir)
    os.makedirs(p["root"], exist_ok=True)
    write_json_atomic(p["config"], {**recipe.to_dict(), "data_dir": os.fspath(data_dir)})
    return p["config"]
