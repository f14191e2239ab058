"""2D-to-3D lifting: a temporal network from a window of 2D joints to one frame's 3D joints.

After the temporal convolutional model of VideoPose3D (Pavllo et al., CVPR 2019), in the
spirit of Martinez et al.'s "simple baseline" (ICCV 2017) but over time.  Written for
this project; no code copied.

Input ``joints2d`` (B, T, J, 3): per frame and joint ``(x, y, confidence)`` with x, y the
2D joints *normalised* by :func:`posenet.data.lifting.normalise_2d`: relative to the
frame's 2D root (the pelvis, joint 0) and divided by one person-size measure of the
window (the median over its frames of the longer side of the box spanning the joints), so
x right and y down in units of the person's size; confidence in [0, 1] (0: the joint is
missing, its x and y are then 0).  Joints in the ``model17`` layout of
``posenet.skeleton``.

Output ``joints3d`` (B, J, 3): the target frame's 3D joints in millimetres, relative to
the root (pelvis), in the camera's axes (x right, y down, z forward: the convention of
the pose network's 3D output, ``posenet.inference.pose_stage``).  The target frame is the
window's centre frame, or its last frame with ``causal=True`` (a real-time network that
never reads future frames).

Architecture: the T frames' joints are flattened into channels (J * 3), a convolution of
``kernel_size`` frames and ``num_blocks`` residual blocks of a dilated convolution
(dilation ``kernel_size ** b``) and a 1x1 convolution, each followed by batch
normalisation, ReLU and dropout.  All convolutions are "valid", so the receptive field is
``kernel_size ** (num_blocks + 1)`` frames (27 for 3 and 2); residuals are the centre
frames (or, causal, the latest frames) of the block's input.

Two equivalent builds share their weights layer by layer (same names, same shapes):

- ``strided=True`` (training): the input is exactly one receptive field, and each
  convolution takes ``kernel_size`` frames with stride ``kernel_size`` instead of a
  dilation; only the frames the single output needs are computed (VideoPose3D's
  training trick, about 4x cheaper for 27 frames);
- ``strided=False`` (default, sequences): dilated convolutions; ``num_frames`` may be
  longer than the receptive field R, and the output is then (B, T - R + 1, J, 3), the
  3D joints of frames ``c .. c + T - R`` where ``c`` is ``(R - 1) // 2`` (centre) or
  ``R - 1`` (causal): one pass over a whole clip.
"""

from __future__ import annotations

import keras
from keras import layers

from posenet.layers.time import TimeSlice

#: Name of the input and of the output.
INPUT_NAME, OUTPUT_NAME = "joints2d", "joints3d"


def receptive_field(kernel_size: int, num_blocks: int) -> int:
    """Frames one output reads: ``kernel_size ** (num_blocks + 1)``."""
    return int(kernel_size) ** (int(num_blocks) + 1)


def _conv_unit(x, filters, kernel, name, dropout, momentum, strides=1, dilation=1):
    x = layers.Conv1D(filters, kernel, strides=strides, dilation_rate=dilation,
                      padding="valid", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    x = layers.ReLU(name=f"{name}_relu")(x)
    return layers.Dropout(dropout, name=f"{name}_drop")(x) if dropout else x


@keras.saving.register_keras_serializable(package="posenet")
class LifterNetwork(keras.Model):
    """Temporal 2D-to-3D lifter (see the module docstring for inputs, outputs, layout).

    ``num_frames`` defaults to the receptive field; ``filters`` is the width of every
    convolution; ``frame_rate`` (frames/s the network was trained at, saved with it) lets
    inference resample its input to the same rate.
    """

    def __init__(self, num_joints=17, num_frames=None, kernel_size=3, num_blocks=2,
                 filters=256, dropout=0.25, causal=False, strided=False, bn_momentum=0.9,
                 frame_rate=None, **kwargs):
        k, nb = int(kernel_size), int(num_blocks)
        if k < 2 or nb < 1 or int(filters) < 1 or not 0 <= float(dropout) < 1:
            raise ValueError("need kernel_size >= 2, num_blocks >= 1, filters >= 1 and "
                             f"dropout in [0, 1); got {k}, {nb}, {filters}, {dropout}")
        field = receptive_field(k, nb)
        num_frames = field if num_frames is None else int(num_frames)
        if num_frames < field or (strided and num_frames != field):
            raise ValueError(f"num_frames must be >= the receptive field {field} (== it "
                             f"when strided); got {num_frames}")
        inputs = keras.Input((num_frames, num_joints, 3), name=INPUT_NAME)
        x = layers.Reshape((num_frames, num_joints * 3), name="flatten_joints")(inputs)
        common = {"dropout": float(dropout), "momentum": float(bn_momentum)}
        if strided:
            x = _conv_unit(x, filters, k, "expand", strides=k, **common)
        else:
            x = _conv_unit(x, filters, k, "expand", **common)
        for b in range(1, nb + 1):
            name, dilation = f"block{b}", k ** b
            if strided:
                residual = TimeSlice(k - 1 if causal else k // 2, None, k,
                                     name=f"{name}_residual")(x)
                y = _conv_unit(x, filters, k, f"{name}_temporal", strides=k, **common)
            else:
                frames, cut = x.shape[1], dilation * (k - 1)
                start = cut if causal else cut // 2
                residual = TimeSlice(start, start + frames - cut, 1,
                                     name=f"{name}_residual")(x)
                y = _conv_unit(x, filters, k, f"{name}_temporal", dilation=dilation, **common)
            y = _conv_unit(y, filters, 1, f"{name}_pointwise", **common)
            x = layers.Add(name=f"{name}_add")([residual, y])
        x = layers.Conv1D(num_joints * 3, 1, kernel_initializer="zeros", name="joints_conv")(x)
        x = layers.Rescaling(1000.0, name="to_mm")(x)  # the convolution works in metres
        frames_out = num_frames - field + 1
        shape = (num_joints, 3) if frames_out == 1 else (frames_out, num_joints, 3)
        out = layers.Reshape(shape, name=OUTPUT_NAME)(x)
        super().__init__(inputs={INPUT_NAME: inputs}, outputs={OUTPUT_NAME: out}, **kwargs)
        self.num_joints, self.num_frames = int(num_joints), num_frames
        self.kernel_size, self.num_blocks, self.filters = k, nb, int(filters)
        self.dropout, self.causal, self.strided = float(dropout), bool(causal), bool(strided)
        self.bn_momentum = float(bn_momentum)
        self.frame_rate = None if frame_rate is None else float(frame_rate)
        self.receptive_field = field

    @property
    def target_offset(self) -> int:
        """Index, within a receptive field, of the frame whose 3D joints are predicted."""
        return self.receptive_field - 1 if self.causal else (self.receptive_field - 1) // 2

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "num_joints": self.num_joints,
            "num_frames": self.num_frames,
            "kernel_size": self.kernel_size,
            "num_blocks": self.num_blocks,
            "filters": self.filters,
            "dropout": self.dropout,
            "causal": self.causal,
            "strided": self.strided,
            "bn_momentum": self.bn_momentum,
            "frame_rate": self.frame_rate,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def sequence_lifter(model: LifterNetwork, num_frames: int, strided: bool = False):
    """A copy of ``model`` (its weights) reading ``num_frames`` frames: a dilated one for
    a whole clip, or the strided window build (``num_frames`` = the receptive field)."""
    config = {**model.get_config(), "num_frames": int(num_frames), "strided": bool(strided)}
    config.pop("name", None)
    copy = LifterNetwork(**config)
    copy.set_weights(model.get_weights())
    return copy
