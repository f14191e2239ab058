"""The geometric action branch: joint distances and motion read by 1D convolutions.

An alternative to the method's pose branch (``posenet.models.action``) for pose-only
action recognition, after DD-Net (Yang et al., "Make Skeleton-based Action Recognition
Model Smaller, Faster and Better", 2019). Per frame it reads three streams (the pairwise
joint distances, the joints' motion over 1 frame and over 2 frames;
``posenet.layers.geometry``); each is embedded by 1D convolutions over time (kernel 1, 3,
1), the streams are concatenated and pass three pairs of convolutions with pooling over
time, then a global max over time and two dense layers give the class probabilities.
Channel dropout regularises the convolutions, as the small action datasets need.

The branch predicts once: dataset ``d`` has the single output ``action_<d>_1`` (B, C).
An ensemble of ``members`` such branches (``ActionNetwork(members=K)``) names member
``i``'s layers ``<d>_m<i>_geometry_*`` and averages their probabilities.
"""

from keras import layers

from posenet.layers import JointDistances, JointMotion
from posenet.outputs import action_output


def _conv(x, filters, kernel, name):
    x = layers.Conv1D(filters, kernel, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.LeakyReLU(0.2, name=f"{name}_act")(x)


def _embed(x, filters, dropout, name):
    """(B, T, F) one stream -> (B, T, filters)."""
    x = _conv(x, 2 * filters, 1, f"{name}_e1")
    x = layers.SpatialDropout1D(dropout, name=f"{name}_e1_drop")(x)
    x = _conv(x, filters, 3, f"{name}_e2")
    x = layers.SpatialDropout1D(dropout, name=f"{name}_e2_drop")(x)
    return _conv(x, filters, 1, f"{name}_e3")


def _dense(x, units, dropout, name):
    x = layers.Dense(units, use_bias=False, name=f"{name}_dense")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    x = layers.LeakyReLU(0.2, name=f"{name}_act")(x)
    return layers.Dropout(dropout, name=f"{name}_drop")(x)


def geometry_part(dataset, num_classes, poses, visibility, filters=16, dropout=0.1,
                  dense_units=128, dense_dropout=0.5, member=None):
    """Build the action output of one dataset from ``poses`` (B, T, J, D) and
    ``visibility`` (B, T, J, 1); returns ``{action_<dataset>_1: probabilities}``.

    ``filters``: width of the stream embeddings (the convolutions after them have 2, 4 and
    8 times as many); ``dropout``: channel dropout of the convolutions; ``dense_units`` and
    ``dense_dropout``: the two dense layers before the classifier. ``member`` (an index)
    builds one member of an ensemble: its layers are named ``<dataset>_m<member>_geometry_*``
    and its probabilities ``<dataset>_m<member>_geometry_probabilities``.
    """
    if poses.shape[1] % 8:  # pooled over time three times
        raise ValueError(f"the geometric branch needs a multiple of 8 frames, got "
                         f"{poses.shape[1]}")
    name = f"{dataset}_geometry" if member is None else f"{dataset}_m{int(member)}_geometry"
    streams = [
        _embed(JointDistances(name=f"{name}_distances")([poses, visibility]), filters,
               dropout, f"{name}_distances"),
        _embed(JointMotion(1, name=f"{name}_motion1")([poses, visibility]), filters,
               dropout, f"{name}_motion1"),
        _embed(JointMotion(2, name=f"{name}_motion2")([poses, visibility]), filters,
               dropout, f"{name}_motion2"),
    ]
    x = layers.Concatenate(name=f"{name}_streams")(streams)
    x = layers.MaxPooling1D(2, name=f"{name}_pool0")(x)
    x = layers.SpatialDropout1D(dropout, name=f"{name}_drop0")(x)
    for i, (width, pool) in enumerate(((2, True), (4, True), (8, False)), 1):
        x = _conv(x, width * filters, 3, f"{name}_block{i}a")
        x = _conv(x, width * filters, 3, f"{name}_block{i}b")
        if pool:
            x = layers.MaxPooling1D(2, name=f"{name}_pool{i}")(x)
        x = layers.SpatialDropout1D(dropout, name=f"{name}_drop{i}")(x)
    x = layers.GlobalMaxPooling1D(name=f"{name}_max")(x)
    x = _dense(x, dense_units, dense_dropout, f"{name}_fc1")
    x = _dense(x, dense_units, dense_dropout, f"{name}_fc2")
    scores = layers.Dense(num_classes, name=f"{name}_scores")(x)
    output = action_output(dataset, 1) if member is None else f"{name}_probabilities"
    return {output: layers.Softmax(name=output)(scores)}
