"""Training: named recipes, their loaders and validation, and the resumable ``train`` loop."""

from posenet.training.callbacks import TrainingDiverged
from posenet.training.data import DataFileError
from posenet.training.recipe import Recipe, apply_overrides, parse_assignments
from posenet.training.recipes import RECIPES, get_recipe
from posenet.training.run_dir import RunDirError
from posenet.training.trainer import TrainResult, train

__all__ = [
    "RECIPES",
    "DataFileError",
    "Recipe",
    "RunDirError",
    "TrainResult",
    "TrainingDiverged",
    "apply_overrides",
    "get_recipe",
    "parse_assignments",
    "train",
]
