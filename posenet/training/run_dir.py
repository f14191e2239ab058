"""The run folder of a training run and its rules: never overwrite, resume only what exists.

Layout of ``RUN_DIR``::

    config.json            the resolved recipe (and the data folder it read)
    log.csv                one row per epoch: loss, learning rate, val_<metric>...
    tensorboard/           TensorBoard logs (when the recipe asks for them)
    checkpoints/last.keras the model after the latest epoch
    checkpoints/best.keras the model of the best validation epoch (best.json says which)
    backup/                weights, optimizer state and epoch for --resume
    model.keras            the final model, written when training completes

A run stopped before its first finished epoch (NaN, a crash, Ctrl-C, a kill) leaves only
an *unfinished* folder: nothing in it is worth keeping, so a new run may start afresh
there (without --resume), and --resume starts it from epoch 1.
"""

from __future__ import annotations

import json
import os
import shutil

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


#: What a run writes before its first finished epoch.
_UNFINISHED_PARTS = {"config.json", "log.csv", "tensorboard", "backup", "checkpoints"}


def _files(folder) -> list[str]:
    return [name for _, _, names in os.walk(folder) for name in names]


def unfinished(run_dir) -> bool:
    """True when ``run_dir`` holds a run that never finished an epoch and nothing else.

    That is: only the parts a run writes (config.json, log.csv, tensorboard/, backup/,
    checkpoints/), no backup metadata (written after each finished epoch), no checkpoint
    model and no final model. A NaN first epoch's log row does not count.
    """
    p = paths(run_dir)
    if not os.path.isdir(p["root"]) or not set(os.listdir(p["root"])) <= _UNFINISHED_PARTS:
        return False
    if os.path.exists(os.path.join(p["backup"], "training_metadata.json")):
        return False
    return not any(name.endswith(".keras") or name == "best.json"
                   for name in _files(p["checkpoints"]))


def check_new(run_dir) -> bool:
    """Whether ``run_dir`` holds an unfinished run (:func:`unfinished`) to start afresh.

    False when it is absent or empty; RunDirError when it holds anything else (nothing is
    touched).
    """
    root = os.fspath(run_dir)
    if not os.path.exists(root) or (os.path.isdir(root) and not os.listdir(root)):
        return False
    if unfinished(root):
        return True
    raise RunDirError(f"run folder {root} already exists; pass --resume to continue it "
                      "or choose another --out")


def clear_unfinished(run_dir) -> None:
    """Remove the parts of an unfinished run (:func:`unfinished`), keeping the folder."""
    if not unfinished(run_dir):
        raise RunDirError(f"run folder {os.fspath(run_dir)} has finished epochs; "
                          "refusing to clear it")
    p = paths(run_dir)
    for name in os.listdir(p["root"]):
        path = os.path.join(p["root"], name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


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
