"""Training: named recipes, their loaders and validation, and the resumable ``train`` loop.

The names below are imported on first use, so that reading the recipes (``posenet train
--help``) does not start Keras.
"""

import importlib

_EXPORTS = {
    "RECIPES": "recipes",
    "DataFileError": "data",
    "Recipe": "recipe",
    "RunDirError": "run_dir",
    "TrainResult": "trainer",
    "TrainingDiverged": "callbacks",
    "apply_overrides": "recipe",
    "get_recipe": "recipes",
    "parse_assignments": "recipe",
    "train": "trainer",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
