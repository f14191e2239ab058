"""The per-epoch validation metric, computed with ``posenet.metrics`` on a fixed loader.

Pose metrics compare the *last* pose block's prediction with the loader's targets, both
in crop-normalised coordinates (x, y in crop sides; z over the 2 m depth range of
``posenet.data.targets``), on the joints whose target flags are set:

- ``pck``: PCK@0.2 with the torso normaliser (left shoulder to right hip, else right
  shoulder to left hip); samples without a usable torso are skipped. Fraction in [0, 1].
- ``pckh``: PCKh@0.5 where the head size is the ground-truth head-top-to-neck distance
  (the loader carries no MPII head boxes, so this is a proxy of the official measure,
  which ``posenet evaluate`` computes). Fraction in [0, 1].
- ``mpjpe``: root-relative (pelvis) mean 3D joint error of the normalised (x, y, z) on
  joints with all three flags; normalised units, lower is better (a ranking proxy, not mm).
- ``accuracy``: top-1 accuracy of the last action block of ``validation.action_dataset``
  on the labelled clips (one-hot rows). Fraction in [0, 1].

Pose recipes also log ``val_joint_error``: the mean 2D error in crop sides.
"""

from __future__ import annotations

import keras
import numpy as np

from posenet import metrics
from posenet.outputs import output_kind
from posenet.skeleton import get_skeleton

#: Whether a larger value of the metric is better.
HIGHER_IS_BETTER = {"pck": True, "pckh": True, "accuracy": True, "mpjpe": False}

_M17 = get_skeleton("model17")


def _last(names, prefix):
    """The output of ``names`` starting with ``prefix`` with the highest block number."""
    found = [n for n in names if n.startswith(prefix) and n[len(prefix):].isdigit()]
    if not found:
        raise ValueError(f"the model has no output {prefix}<k>; outputs: {sorted(names)}")
    return max(found, key=lambda n: int(n[len(prefix):]))


def _frames(array):
    """(..., J, D) with any clip axis folded into the sample axis -> (N, J, D)."""
    return array.reshape(-1, *array.shape[-2:])


def pose_metrics(pred, target, metric: str) -> dict:
    """``{metric: value, "joint_error": value}`` of predictions (N, [T,] J, D) against
    targets (N, [T,] J, 2D) in the target conventions; NaN when nothing is evaluable."""
    pred, target = _frames(np.asarray(pred, np.float64)), _frames(np.asarray(target))
    dims = pred.shape[-1]
    coords, flags = target[..., :dims], target[..., dims:] > 0
    valid2d = flags[..., 0] & flags[..., 1]
    out = {"joint_error": np.nan, metric: np.nan}
    if valid2d.any():
        err = np.linalg.norm(pred[..., :2] - coords[..., :2], axis=-1)
        out["joint_error"] = float(err[valid2d].mean())
    try:
        if metric == "pck":
            idx = [_M17.index(j) for j in ("l_shoulder", "r_hip", "r_shoulder", "l_hip")]
            norm = metrics.torso_normaliser(coords[..., :2], valid2d, *idx)
            out[metric] = metrics.pck(pred[..., :2], coords[..., :2], valid2d, norm, 0.2)[
                "overall"]
        elif metric == "pckh":
            head, neck = _M17.index("head_top"), _M17.index("neck")
            size = np.linalg.norm(coords[:, head, :2] - coords[:, neck, :2], axis=-1)
            size = np.where(valid2d[:, head] & valid2d[:, neck] & (size > 0), size, np.nan)
            # pck with alpha 0.5 of the head size is PCKh@0.5 with that head size.
            out[metric] = metrics.pck(pred[..., :2], coords[..., :2], valid2d, size, 0.5)[
                "overall"]
        elif metric == "mpjpe":
            if dims != 3:
                raise ValueError("mpjpe needs a 3D model")
            valid3d = flags.all(-1)
            out[metric] = metrics.mpjpe(pred, coords, root=0, valid=valid3d)["overall"]
    except ValueError as error:
        if "no valid joints" not in str(error) and "empty" not in str(error):
            raise
    return out


def accuracy(probs, onehot) -> float:
    """Top-1 accuracy of (N, C) ``probs`` on the rows of ``onehot`` that hold a label."""
    onehot = np.asarray(onehot)
    labelled = onehot.sum(-1) > 0
    if not labelled.any():
        return float("nan")
    return metrics.action_accuracy(np.asarray(probs)[labelled],
                                   onehot[labelled].argmax(-1))["overall"]


def _predict(model, x):
    """The model's outputs on the batch ``x``, under a distribution strategy too."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.distribute.has_strategy():
            # predict_on_batch hands every replica the whole batch and concatenates the
            # replicas' outputs; predict splits the batch.
            size = len(next(iter(x.values())) if isinstance(x, dict) else x)
            return model.predict(x, batch_size=size, verbose=0)
    return model.predict_on_batch(x)


def evaluate(model, batches, metric: str, action_dataset=None) -> dict:
    """``{metric: value, ...}`` of ``model`` over ``batches`` [(inputs, targets)]."""
    names = list(model.output_names)
    if metric == "accuracy":
        key = _last(names, f"action_{action_dataset}_")
    else:
        key = _last([n for n in names if _kind(n) == "pose"], "pose_")
    preds, targets = [], []
    for x, y in batches:
        out = _predict(model, x)
        out = out if isinstance(out, dict) else dict(zip(names, out, strict=True))
        preds.append(np.asarray(out[key], np.float64))
        targets.append(y[key])
    pred, target = np.concatenate(preds), np.concatenate(targets)
    if metric == "accuracy":
        return {"accuracy": accuracy(pred, target)}
    return pose_metrics(pred, target, metric)


def _kind(name):
    try:
        return output_kind(name)
    except ValueError:
        return None


class ValidationCallback(keras.callbacks.Callback):
    """Adds ``val_<metric>`` (and ``val_joint_error`` for pose) to each epoch's logs.

    The validation batches are made once (the loader is fixed), then predicted every
    epoch, so the values of different epochs compare the same items.
    """

    def __init__(self, loader, metric: str, action_dataset=None):
        super().__init__()
        self.batches = [loader[i] for i in range(len(loader))]
        self.metric, self.action_dataset = metric, action_dataset

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or self.model.stop_training:
            return
        values = evaluate(self.model, self.batches, self.metric, self.action_dataset)
        for name, value in values.items():
            logs[f"val_{name}"] = value
