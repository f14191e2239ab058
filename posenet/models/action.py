"""The action part: pose and appearance branches of action prediction blocks.

Both branches read a clip as a (T, J, channels) image (time by joints). Each action
prediction block refines its features with residual convolutions, max-min pools them,
regresses one "action heatmap" per class whose global max-min pooling gives the class
scores, and re-injects the heatmaps into the features. The scores of the two branches at
each block are summed and softmaxed: block ``k`` of dataset ``d`` outputs
``action_<d>_<k>`` (B, C).
"""

import keras
from keras import layers

from posenet.layers import GlobalMaxMinPooling2D, MaxMinPooling2D
from posenet.models.action_geometry import geometry_part
from posenet.models.blocks import act_conv, act_conv_bn, conv_bn, conv_bn_act
from posenet.models.stem import scaled
from posenet.outputs import action_output


def pad_to_multiple(x, multiple, name):
    """Zero-pad the time and joint axes to multiples of ``multiple`` (pooling twice by 2)."""
    rows, cols = x.shape[1:3]
    pad_rows, pad_cols = -rows % multiple, -cols % multiple
    if not (pad_rows or pad_cols):
        return x
    return layers.ZeroPadding2D(((0, pad_rows), (0, pad_cols)), name=name)(x)


def action_block(x, num_classes, name, last):
    """One action prediction block: returns the re-injected features and the class scores."""
    width = x.shape[-1]
    shortcut = x
    x = act_conv_bn(x, width // 2, 1, f"{name}_reduce")
    x = act_conv_bn(x, width, 3, f"{name}_expand")
    x = layers.Add(name=f"{name}_residual")([shortcut, x])

    shortcut = x
    refined = act_conv_bn(x, width, 3, f"{name}_refine")
    pooled = MaxMinPooling2D(2, name=f"{name}_maxmin")(refined)
    heatmaps = act_conv(pooled, num_classes, 3, f"{name}_heatmaps")
    scores = GlobalMaxMinPooling2D(name=f"{name}_scores")(heatmaps)
    if last:
        return None, scores
    back = layers.UpSampling2D(2, name=f"{name}_up")(heatmaps)
    back = act_conv_bn(back, width, 3, f"{name}_remap")
    return layers.Add(name=f"{name}_reinject")([shortcut, refined, back]), scores


def pose_branch_entry(poses, visibility, width, name):
    """(B, T, J, D) poses masked by visibility (B, T, J, 1) -> (B, T/2, J/2, 112 * width)."""
    x = layers.Multiply(name=f"{name}_mask")([poses, visibility])
    x = pad_to_multiple(x, 4, f"{name}_pad")
    a = conv_bn_act(x, scaled(8, width), (3, 1), f"{name}_t3")
    b = conv_bn_act(x, scaled(16, width), 3, f"{name}_t3j3")
    c = conv_bn_act(x, scaled(24, width), (3, 5), f"{name}_t3j5")
    x = layers.Concatenate(name=f"{name}_concat1")([a, b, c])
    a = conv_bn(x, scaled(56, width), 3, f"{name}_a")
    b = conv_bn(x, scaled(32, width), 1, f"{name}_b1")
    b = conv_bn(b, scaled(56, width), 3, f"{name}_b2")
    x = layers.Concatenate(name=f"{name}_concat2")([a, b])
    return MaxMinPooling2D(2, name=f"{name}_maxmin")(x)


def appearance_branch_entry(features, width, name):
    """(B, T, J, C) pooled visual features -> (B, T/2, J/2, width)."""
    x = pad_to_multiple(features, 4, f"{name}_pad")
    x = conv_bn(x, width, 1, f"{name}_proj")
    return layers.MaxPooling2D(2, name=f"{name}_pool")(x)


def action_part(
    dataset, num_classes, poses, visibility, appearance=None, num_blocks=4, pose_width=1.0,
    appearance_width=256,
):
    """Build the action outputs of one dataset; returns ``{action_<dataset>_<k>: probs}``.

    ``appearance`` (B, T, J, C) is optional: without it, the action is predicted from the
    poses alone (the pose-only model trained on ground-truth sequences).
    """
    branches = [pose_branch_entry(poses, visibility, pose_width, f"{dataset}_pose")]
    if appearance is not None:
        branches.append(
            appearance_branch_entry(appearance, appearance_width, f"{dataset}_appearance")
        )
    names = ["pose", "appearance"]
    outputs = {}
    for block in range(1, num_blocks + 1):
        last = block == num_blocks
        scores = []
        for i, x in enumerate(branches):
            branches[i], s = action_block(
                x, num_classes, f"{dataset}_{names[i]}_block{block}", last
            )
            scores.append(s)
        if len(scores) > 1:
            merged = layers.Add(name=f"{dataset}_block{block}_merge")(scores)
        else:
            merged = scores[0]
        name = action_output(dataset, block)
        outputs[name] = layers.Softmax(name=name)(merged)
    return outputs


@keras.saving.register_keras_serializable(package="posenet")
class ActionNetwork(keras.Model):
    """Pose-only action recognition over sequences.

    Inputs ``poses`` (B, T, J, D) normalised coordinates and ``visibility`` (B, T, J, 1);
    outputs ``action_<dataset>_<k>`` (B, C) for every dataset of ``actions`` (a dict
    ``{dataset: number of classes}``) and block ``k``. ``bn_momentum`` is the momentum of
    every batch normalisation's moving statistics.

    ``branch``: ``"pose"``, the method's pose branch (``num_blocks`` action prediction
    blocks, ``pose_width``), or ``"geometry"``, joint distances and motion read by 1D
    convolutions (``posenet.models.action_geometry``, one output per dataset, so
    ``num_blocks`` is 1; ``filters`` its width, ``num_frames`` a multiple of 8).
    ``members`` > 1 (geometric branch only) makes it an ensemble: that many branches whose
    probabilities are averaged (``posenet.models.ensemble`` joins separately trained
    networks into one).

    ``clip_span`` (frames, saved with the network): the T input frames are resampled from
    up to ``clip_span`` video frames (a short video's whole length) instead of being T
    consecutive ones; training, evaluation and inference read it
    (``posenet.data.time_sampling``). ``frame_rate`` (frames/s of the training videos,
    saved with it) lets inference read the same seconds of a video at another rate.

    ``uncertain_below`` (``{dataset: threshold}``, saved with the network) is the
    calibrated confidence under which inference labels a track of that dataset
    "uncertain" (see ``posenet.evaluation.action_calibration``); empty for a network
    that was never calibrated.
    """

    def __init__(
        self, actions, num_frames=16, num_joints=16, pose_dims=2, num_blocks=4,
        pose_width=1.0, bn_momentum=0.9, uncertain_below=None, branch="pose", filters=16,
        clip_span=None, frame_rate=None, members=1, **kwargs,
    ):
        if branch not in ("pose", "geometry"):
            raise ValueError(f"branch must be 'pose' or 'geometry', got {branch!r}")
        if int(members) < 1 or (int(members) > 1 and branch != "geometry"):
            raise ValueError(f"members must be >= 1, and only the geometric branch has "
                             f"more than one; got {members!r} ({branch!r})")
        members = int(members)
        if branch == "geometry":
            num_blocks = 1
        poses = keras.Input((num_frames, num_joints, pose_dims), name="poses")
        visibility = keras.Input((num_frames, num_joints, 1), name="visibility")
        outputs = {}
        for dataset, num_classes in actions.items():
            if branch == "geometry" and members > 1:
                parts = [geometry_part(dataset, num_classes, poses, visibility,
                                       filters=filters, member=i) for i in range(members)]
                name = action_output(dataset, 1)
                outputs[name] = layers.Average(name=name)(
                    [p for part in parts for p in part.values()])
                continue
            if branch == "geometry":
                outputs.update(geometry_part(dataset, num_classes, poses, visibility,
                                             filters=filters))
                continue
            outputs.update(
                action_part(
                    dataset, num_classes, poses, visibility, num_blocks=num_blocks,
                    pose_width=pose_width,
                )
            )
        super().__init__(inputs={"poses": poses, "visibility": visibility}, outputs=outputs,
                         **kwargs)
        # Keras' default 0.99 lets the moving statistics trail SGD by ~100 steps, an epoch
        # of these small runs: inference-mode accuracy then lags training-mode accuracy.
        for layer in self.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = bn_momentum
        self.bn_momentum = bn_momentum
        self.actions = dict(actions)
        self.num_frames = num_frames
        self.num_joints = num_joints
        self.pose_dims = pose_dims
        self.num_blocks = num_blocks
        self.pose_width = pose_width
        self.branch, self.filters, self.members = branch, int(filters), members
        if clip_span is not None and int(clip_span) < 1:
            raise ValueError(f"clip_span must be a number of frames >= 1, got {clip_span!r}")
        self.clip_span = None if clip_span is None else int(clip_span)
        if frame_rate is not None and not float(frame_rate) > 0:
            raise ValueError(f"frame_rate must be > 0 frames/s, got {frame_rate!r}")
        self.frame_rate = None if frame_rate is None else float(frame_rate)
        self.uncertain_below = {str(k): float(v) for k, v in (uncertain_below or {}).items()}

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "actions": self.actions,
            "num_frames": self.num_frames,
            "num_joints": self.num_joints,
            "pose_dims": self.pose_dims,
            "num_blocks": self.num_blocks,
            "pose_width": self.pose_width,
            "branch": self.branch,
            "filters": self.filters,
            "members": self.members,
            "clip_span": self.clip_span,
            "frame_rate": self.frame_rate,
            "bn_momentum": self.bn_momentum,
            "uncertain_below": dict(self.uncertain_below),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
