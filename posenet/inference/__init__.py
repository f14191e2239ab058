"""Inference on videos and images: ``Predictor``, input handling, prediction files.

``Predictor`` is imported lazily (it needs Keras), so ``load_predictions`` and the input
helpers stay light.
"""

from posenet.inference.schema import FORMATS, load_predictions, write_predictions

__all__ = ["FORMATS", "Predictor", "load_predictions", "write_predictions"]


def __getattr__(name):
    if name == "Predictor":
        from posenet.inference.predictor import Predictor

        return Predictor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
