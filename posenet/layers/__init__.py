"""Custom Keras layers of the network, all serialisable and written with ``keras.ops``."""

from posenet.layers.context import ContextAggregation
from posenet.layers.geometry import JointDistances, JointMotion
from posenet.layers.pooling import AppearancePooling, GlobalMaxMinPooling2D, MaxMinPooling2D
from posenet.layers.softargmax import (
    SoftArgmax1D,
    SoftArgmax2D,
    SpatialSoftmax,
    VolumetricSoftArgmax,
)
from posenet.layers.time import FoldTime, UnfoldTime
from posenet.layers.visibility import JointVisibility, VolumetricVisibility

__all__ = [
    "AppearancePooling",
    "ContextAggregation",
    "FoldTime",
    "GlobalMaxMinPooling2D",
    "JointDistances",
    "JointMotion",
    "JointVisibility",
    "MaxMinPooling2D",
    "SoftArgmax1D",
    "SoftArgmax2D",
    "SpatialSoftmax",
    "UnfoldTime",
    "VolumetricSoftArgmax",
    "VolumetricVisibility",
]
