"""Evaluation metrics for 2D/3D pose estimation and action recognition (pure NumPy).

Every metric returns a plain, JSON-serialisable dict of Python floats / ints / lists with at
least ``"overall"``, ``"per_joint"`` (or ``"per_class"`` for actions) and ``"count"``.
Per-joint / per-class entries are NaN when nothing could be evaluated for them.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "pck",
    "torso_normaliser",
    "bbox_normaliser",
    "pckh",
    "mpjpe",
    "procrustes_align",
    "pa_mpjpe",
    "action_accuracy",
    "multi_clip_accuracy",
]

# Floor used before taking logs of clip probabilities, so a single zero does not veto a class.
_LOG_FLOOR = 1e-12


# --------------------------------------------------------------------------- helpers


def _float_array(x, name: str, ndim: int | None = None) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if arr.ndim > 0 and arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (zero samples)")
    return arr


def _int_array(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (zero samples)")
    if not np.issubdtype(arr.dtype, np.integer):
        # Accept integral floats (e.g. labels loaded from CSV), reject anything else.
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must contain integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _pose_pair(pred, gt, ndim: int = 3) -> tuple[np.ndarray, np.ndarray]:
    pred = _float_array(pred, "pred", ndim)
    gt = _float_array(gt, "gt", ndim)
    if pred.shape != gt.shape:
        raise ValueError(f"pred and gt must have the same shape, got {pred.shape} and {gt.shape}")
    if pred.shape[-2] == 0:
        raise ValueError("pred and gt have zero joints")
    return pred, gt


def _mask(valid, shape: tuple[int, ...]) -> np.ndarray:
    if valid is None:
        return np.ones(shape, dtype=bool)
    valid = np.asarray(valid)
    if valid.shape != shape:
        raise ValueError(f"valid must have shape {shape} (samples, joints), got {valid.shape}")
    return valid.astype(bool)


def _per_sample(x, name: str, n: int, width: int | None = None) -> np.ndarray:
    arr = _float_array(x, name, 1 if width is None else 2)
    expected = (n,) if width is None else (n, width)
    if arr.shape != expected:
        raise ValueError(f"{name} must have shape {expected}, got {arr.shape}")
    return arr


def _floats(values) -> list[float]:
    return [float(v) for v in values]


def _masked_mean(values: np.ndarray, mask: np.ndarray, axis=None):
    """Mean of ``values`` where ``mask``; NaN where the mask is empty (no warnings)."""
    total = np.where(mask, values, 0.0).sum(axis=axis)
    count = mask.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


# --------------------------------------------------------------------------- 2D: PCK


def _pck_core(pred, gt, valid, thresholds: np.ndarray) -> dict:
    n, j = pred.shape[:2]
    usable = np.isfinite(thresholds)
    if np.any(thresholds[usable] <= 0):
        raise ValueError("normalising lengths must be positive (or NaN to skip a sample)")
    mask = valid & usable[:, None]
    if not mask.any():
        raise ValueError("no valid joints to evaluate (all joints invalid or samples skipped)")
    dist = np.linalg.norm(pred - gt, axis=-1)
    # NaN distances (missing predictions) compare False, i.e. count as wrong, as they should.
    with np.errstate(invalid="ignore"):
        correct = (dist <= thresholds[:, None]) & mask
    return {
        "overall": float(correct.sum() / mask.sum()),
        "per_joint": _floats(_masked_mean(correct.astype(float), mask, axis=0)),
        "count": int(mask.sum()),
        "skipped": int((~usable).sum()),
    }


def pck(pred, gt, valid, normaliser, alpha: float = 0.2) -> dict:
    """PCK@alpha (Percentage of Correct Keypoints), e.g. LSP (torso) or Penn Action (bbox).

    ``pred``/``gt`` are (N, J, 2) image coordinates in pixels, ``valid`` (N, J) bool,
    ``normaliser`` (N,) reference lengths in pixels (see :func:`torso_normaliser`,
    :func:`bbox_normaliser`). A valid joint is correct when ``||pred - gt|| <= alpha *
    normaliser``. Samples whose normaliser is NaN are skipped entirely.

    Returns ``overall`` (fraction in [0, 1] over all evaluated joints), ``per_joint`` (J
    fractions, NaN for joints never evaluated), ``count`` (evaluated joints), ``skipped``
    (samples with a NaN normaliser) and ``alpha``.
    """
    pred, gt = _pose_pair(pred, gt)
    mask = _mask(valid, pred.shape[:2])
    norm = _per_sample(normaliser, "normaliser", pred.shape[0])
    out = _pck_core(pred, gt, mask, float(alpha) * norm)
    out["alpha"] = float(alpha)
    return out


def torso_normaliser(
    gt, valid, left_shoulder: int, right_hip: int, right_shoulder=None, left_hip=None
) -> np.ndarray:
    """LSP "torso size" per sample, in pixels: distance left shoulder -> right hip.

    ``gt`` is (N, J, 2) in pixels, ``valid`` (N, J) bool (None = all valid). When that
    diagonal is unusable for a sample (an endpoint invalid, or zero length) and the other
    diagonal's indices are given, the right shoulder -> left hip distance is used instead.
    Samples with neither diagonal usable get NaN; :func:`pck` skips them and reports how many
    under ``"skipped"``. Returns an (N,) float array.
    """
    gt = _float_array(gt, "gt", 3)
    if gt.shape[1] == 0:
        raise ValueError("gt has zero joints")
    mask = _mask(valid, gt.shape[:2])
    if (right_shoulder is None) != (left_hip is None):
        raise ValueError("give both right_shoulder and left_hip for the fallback diagonal")

    def diagonal(a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        length = np.linalg.norm(gt[:, a] - gt[:, b], axis=-1)
        ok = mask[:, a] & mask[:, b] & np.isfinite(length) & (length > 0)
        return length, ok

    length, ok = diagonal(left_shoulder, right_hip)
    out = np.where(ok, length, np.nan)
    if right_shoulder is not None:
        other, other_ok = diagonal(right_shoulder, left_hip)
        out = np.where(~ok & other_ok, other, out)
    return out


def bbox_normaliser(boxes) -> np.ndarray:
    """Penn Action / J-HMDB PCK reference length: max(width, height) of the person box.

    ``boxes`` is (N, 4) as (x1, y1, x2, y2) in pixels. Returns an (N,) float array in pixels.
    """
    boxes = _float_array(boxes, "boxes", 2)
    if boxes.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4) as (x1, y1, x2, y2), got {boxes.shape}")
    wh = boxes[:, 2:] - boxes[:, :2]
    if np.any(wh < 0):
        raise ValueError("boxes must satisfy x2 >= x1 and y2 >= y1")
    return wh.max(axis=1)


def pckh(pred, gt, valid, head_boxes, alpha: float = 0.5) -> dict:
    """MPII PCKh@alpha: PCK normalised by head size (alpha = 0.5 is the standard protocol).

    ``pred``/``gt`` are (N, J, 2) in pixels, ``valid`` (N, J) bool, ``head_boxes`` (N, 4) as
    (x1, y1, x2, y2) in pixels. Head size = 0.6 * head-box diagonal (the MPII convention); a
    valid joint is correct when ``||pred - gt|| <= alpha * head size``. Returns the same keys
    as :func:`pck` (samples with a NaN head box are skipped).
    """
    pred, gt = _pose_pair(pred, gt)
    mask = _mask(valid, pred.shape[:2])
    boxes = _per_sample(head_boxes, "head_boxes", pred.shape[0], width=4)
    head_size = 0.6 * np.linalg.norm(boxes[:, 2:] - boxes[:, :2], axis=-1)
    out = _pck_core(pred, gt, mask, float(alpha) * head_size)
    out["alpha"] = float(alpha)
    return out


# --------------------------------------------------------------------------- 3D: MPJPE


def _error_summary(err: np.ndarray, mask: np.ndarray, actions) -> dict:
    """Summarise per-joint errors (N, J) into overall / per-joint / per-action means."""
    if not mask.any():
        raise ValueError("no valid joints to evaluate")
    out = {
        "overall": float(err[mask].mean()),
        "per_joint": _floats(_masked_mean(err, mask, axis=0)),
        "count": int(mask.sum()),
        "per_action": {},
        "mean_over_actions": float("nan"),
    }
    if actions is not None:
        actions = np.asarray(actions)
        if actions.shape != (err.shape[0],):
            raise ValueError(f"actions must have shape ({err.shape[0]},), got {actions.shape}")
        per_action = {}
        for action in np.unique(actions):
            rows = actions == action
            per_action[str(action)] = float(_masked_mean(err[rows], mask[rows]))
        out["per_action"] = per_action
        means = np.array(list(per_action.values()))
        # Literature tables average the per-action means (each action weighs equally).
        if np.isfinite(means).any():
            out["mean_over_actions"] = float(np.nanmean(means))
    return out


def mpjpe(pred, gt, root: int | None = 0, valid=None, actions=None) -> dict:
    """Human3.6M protocol 1: Mean Per Joint Position Error, in the input units (mm).

    ``pred``/``gt`` are (N, J, 3) camera-frame coordinates in millimetres. Each is made
    root-relative by subtracting its own joint ``root`` (``root=None``: no centring); the
    root then contributes a zero error, as in the usual 17-joint average. The error is the
    mean Euclidean distance over valid joints; when ``valid`` (N, J) marks a sample's root
    invalid, that sample cannot be centred and is excluded. ``actions`` (N,) optional labels.

    Returns ``overall``, ``per_joint``, ``count`` (evaluated joints), ``per_action`` (str
    label -> mean error, NaN if no valid joint) and ``mean_over_actions`` (unweighted mean of
    the per-action means; NaN without ``actions``).
    """
    pred, gt = _pose_pair(pred, gt)
    mask = _mask(valid, pred.shape[:2])
    if root is not None:
        if not -pred.shape[1] <= root < pred.shape[1]:
            raise ValueError(f"root index {root} out of range for {pred.shape[1]} joints")
        pred = pred - pred[:, root : root + 1]
        gt = gt - gt[:, root : root + 1]
        mask = mask & mask[:, root : root + 1]
    err = np.linalg.norm(pred - gt, axis=-1)
    return _error_summary(err, mask, actions)


def procrustes_align(pred, gt, valid=None) -> np.ndarray:
    """Similarity-align ``pred`` to ``gt`` (Umeyama 1991 / orthogonal Procrustes), same units.

    ``pred``/``gt`` are (J, D) for one sample or (N, J, D) batched (D = 3 for poses). Finds
    the rotation (proper, det = +1: reflections are not allowed), isotropic scale and
    translation minimising the squared error on the ``valid`` joints ((J,) or (N, J); None =
    all), and applies it to every joint of ``pred``. Samples without any valid joint come
    back as NaN. Returns the aligned prediction with the shape of ``pred``.
    """
    single = np.ndim(pred) == 2
    pred, gt = _pose_pair(np.asarray(pred)[None] if single else pred,
                          np.asarray(gt)[None] if single else gt)
    if valid is not None and single:
        valid = np.asarray(valid)[None]
    mask = _mask(valid, pred.shape[:2])
    w = mask[..., None].astype(np.float64)  # (N, J, 1)
    n_valid = w.sum(axis=1, keepdims=True)  # (N, 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu_p = (np.where(mask[..., None], pred, 0.0)).sum(axis=1, keepdims=True) / n_valid
        mu_g = (np.where(mask[..., None], gt, 0.0)).sum(axis=1, keepdims=True) / n_valid
    x = np.where(mask[..., None], pred - mu_p, 0.0)
    y = np.where(mask[..., None], gt - mu_g, 0.0)

    # Maximise trace(R H) with H = sum_i x_i y_i^T = U S V^T  ->  R = V D U^T, where D flips
    # the last singular direction when V U^T would be a reflection.
    h = np.einsum("nji,njk->nik", x, y)
    u, s, vt = np.linalg.svd(h)
    v = np.swapaxes(vt, -1, -2)
    sign = np.sign(np.linalg.det(v @ np.swapaxes(u, -1, -2)))
    sign[sign == 0] = 1.0
    d = np.ones_like(s)
    d[:, -1] = sign
    rot = (v * d[:, None, :]) @ np.swapaxes(u, -1, -2)  # (N, D, D)
    var_p = (x**2).sum(axis=(1, 2))
    # A degenerate (single-point) prediction has no scale to fit: collapse it onto mu_g.
    scale = np.where(var_p > 0, (s * d).sum(axis=1) / np.where(var_p > 0, var_p, 1.0), 0.0)

    aligned = scale[:, None, None] * np.einsum("nik,njk->nji", rot, pred - mu_p) + mu_g
    return aligned[0] if single else aligned


def pa_mpjpe(pred, gt, valid=None, actions=None) -> dict:
    """Human3.6M protocol 2: PA-MPJPE, MPJPE after per-sample Procrustes alignment (mm).

    ``pred``/``gt`` are (N, J, 3) in millimetres; each prediction is similarity-aligned to
    its ground truth (:func:`procrustes_align`, fitted on the valid joints), then the mean
    Euclidean distance over valid joints is taken (no root centring needed: the alignment
    removes translation). Returns the same keys as :func:`mpjpe`.
    """
    pred, gt = _pose_pair(pred, gt)
    mask = _mask(valid, pred.shape[:2])
    aligned = procrustes_align(pred, gt, mask)
    err = np.linalg.norm(aligned - gt, axis=-1)
    return _error_summary(err, mask, actions)


# --------------------------------------------------------------------------- actions


def _classification_summary(pred_cls: np.ndarray, labels: np.ndarray, num_classes: int) -> dict:
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got range "
                         f"[{labels.min()}, {labels.max()}]")
    correct = pred_cls == labels
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (labels, pred_cls), 1)
    support = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(support > 0, np.diag(confusion) / np.maximum(support, 1), np.nan)
    return {
        "overall": float(correct.mean()),
        "per_class": _floats(per_class),
        "count": int(labels.shape[0]),
        "predictions": [int(p) for p in pred_cls],
        "confusion": confusion.tolist(),  # rows: true class, columns: predicted class
    }


def _scores(probs, name: str = "probs") -> np.ndarray:
    probs = _float_array(probs, name, 2)
    if probs.shape[1] == 0:
        raise ValueError(f"{name} has zero classes")
    return probs


def action_accuracy(probs, labels, num_classes: int | None = None) -> dict:
    """Single-clip top-1 action classification accuracy (fraction in [0, 1]).

    ``probs`` is (N, C) class probabilities or scores, ``labels`` (N,) int class indices.
    ``num_classes``, if given, must equal C. Returns ``overall``, ``per_class`` (C recalls,
    NaN for classes absent from ``labels``), ``count`` (samples), ``predictions`` and
    ``confusion`` (C x C counts, rows = true class).
    """
    probs = _scores(probs)
    labels = _int_array(labels, "labels")
    if labels.shape[0] != probs.shape[0]:
        raise ValueError(f"probs has {probs.shape[0]} samples but labels has {labels.shape[0]}")
    if num_classes is not None and num_classes != probs.shape[1]:
        raise ValueError(f"num_classes={num_classes} but probs has {probs.shape[1]} columns")
    return _classification_summary(probs.argmax(axis=1), labels, probs.shape[1])


def multi_clip_accuracy(probs, clip_to_video, labels) -> dict:
    """Multi-clip (video-level) top-1 accuracy, fraction in [0, 1].

    ``probs`` is (M, C) per-clip softmax probabilities, ``clip_to_video`` (M,) the video index
    in [0, V) of each clip, ``labels`` (V,) int class per video; every video needs at least one
    clip. A video's prediction is the argmax of the product of its clips' probabilities,
    computed as a sum of ``log(max(p, 1e-12))`` to avoid underflow. Returns ``overall``,
    ``per_class``, ``count`` (videos), ``predictions`` (V ints) and ``confusion``.
    """
    probs = _scores(probs)
    clips = _int_array(clip_to_video, "clip_to_video")
    labels = _int_array(labels, "labels")
    if clips.shape[0] != probs.shape[0]:
        raise ValueError(f"probs has {probs.shape[0]} clips but clip_to_video has "
                         f"{clips.shape[0]}")
    if np.any(probs < 0):
        raise ValueError("probs must be non-negative probabilities (e.g. softmax outputs)")
    n_videos = labels.shape[0]
    if clips.min() < 0 or clips.max() >= n_videos:
        raise ValueError(f"clip_to_video must lie in [0, {n_videos}) (one label per video)")
    clips_per_video = np.bincount(clips, minlength=n_videos)
    if np.any(clips_per_video == 0):
        missing = np.flatnonzero(clips_per_video == 0)[:10].tolist()
        raise ValueError(f"every video needs at least one clip; videos without clips: {missing}")
    log_scores = np.zeros((n_videos, probs.shape[1]))
    np.add.at(log_scores, clips, np.log(np.maximum(probs, _LOG_FLOOR)))
    return _classification_summary(log_scores.argmax(axis=1), labels, probs.shape[1])
