"""Validation of a pose-only action run on its held-out videos, and the calibration of the
confidence under which inference calls a track's action "uncertain".

The held-out videos are those a recipe's ``validation.holdout`` keeps out of training
(never a test split).  Each video is cut into the windows inference cuts (T frames,
stride T // 2, the tail ending on the last frame: ``clips.model_clips``; a span network
its spans resampled) and read twice:

- ``clean``: ground-truth poses, as ``posenet evaluate`` reads the test split;
- ``noisy``: the same poses with the pose network's simulated error
  (``posenet.data.pose_noise``, ``pose_sequences.pose_error``, ``repeats`` seeded draws
  per video), standing for the predicted poses inference reads.

A video's probabilities are the mean of its windows' (inference's rule); its confidence
the top mean probability.  Accuracies are reported for the mean rule and for the product
(``posenet evaluate``'s multi-clip rule).  The threshold is the larger of two, both on the
noisy videos:

- the smallest confidence ``t`` such that the videos with confidence >= t are right at
  least ``precision`` of the time (:func:`threshold_for_precision`);
- the largest ``t`` that still keeps ``keep`` of the right videos (:func:`threshold_to_keep`):
  where the held-out videos are already right more often than ``precision``, the first
  rule gives 0 and a track of an action outside the classes would always get one (every
  Human3.6M sequence did with Penn Action's network, ``posenet tools out-of-class``);
  the second calls "uncertain" what is less sure than the network nearly always is when
  it is right.

It is stored with the network
(``ActionNetwork.uncertain_below``) by ``--write``::

    posenet tools action-calibration runs/span_actions_penn --write

``--model`` reads another network on a run's held-out videos, such as an ensemble of
that recipe's seeds (``posenet tools ensemble``, whose members share the held-out part
through ``validation.holdout_seed``).
"""

from __future__ import annotations

import json
import os

import numpy as np

from posenet.data.pose_sequences import normalised_sequence, pose_error
from posenet.data.targets import select_joints
from posenet.evaluation.clips import model_clips, video_label
from posenet.evaluation.defaults import KEEP, PRECISION  # noqa: F401 (the targets)

#: The simulated pose error's correlation between consecutive frames.
CORRELATION = 0.8


def holdout_videos(path, fraction, seed):
    """(dataset, [(frames, label)]) of the labelled held-out videos of ``path`` (the
    dataset's pose fields read into memory)."""
    from posenet.data.pose_sequences import _InMemory
    from posenet.data.prepared import PreparedDataset
    from posenet.training.data import _keys, held_out_keys

    keys = held_out_keys(path, fraction, seed)
    dataset = PreparedDataset(path)
    videos = []
    for frames in dataset.sequences().values():
        if int(_keys(dataset, frames[:1])[0]) in keys:
            label = video_label(dataset, frames)
            if label >= 0:
                videos.append((np.asarray(frames), label))
    memory = _InMemory(dataset)
    dataset.close()
    return memory, videos


def window_inputs(dataset, clip, num_joints, pose_dims, noise_model=None, rng=None,
                  correlation=CORRELATION):
    """``(poses (T, J, D), visibility (T, J, 1))`` of one window, with the simulated pose
    error when ``noise_model`` is given (hidden joints get coordinates and visibility 0)."""
    coords, valid, visible = normalised_sequence(dataset, clip, pose_dims)
    if noise_model is not None:
        offsets, hidden = pose_error(noise_model, valid.shape, rng, rho=correlation)
        coords[..., :2] += offsets
        valid, visible = valid & ~hidden, visible & ~hidden
    coords = np.where(valid[..., None], coords, 0.0)
    return (select_joints(coords, num_joints).astype(np.float32),
            select_joints(visible[..., None].astype(np.float32), num_joints))


def video_probabilities(model, dataset, videos, action_dataset, noise_model=None, seed=0,
                        batch_size=256, correlation=CORRELATION):
    """Per video, the (windows, classes) probabilities of the last action block."""
    rng = np.random.default_rng(seed)
    inputs, owner = [], []
    for v, (frames, _) in enumerate(videos):
        for clip in model_clips(frames, model):
            inputs.append(window_inputs(dataset, clip, model.num_joints, model.pose_dims,
                                        noise_model, rng, correlation))
            owner.append(v)
    last = max(int(k.rsplit("_", 1)[1]) for k in model.output_names
               if k.startswith(f"action_{action_dataset}_"))
    probs = []
    for start in range(0, len(inputs), batch_size):
        part = inputs[start:start + batch_size]
        out = model.predict_on_batch({"poses": np.stack([p for p, _ in part]),
                                      "visibility": np.stack([v for _, v in part])})
        probs.append(np.asarray(out[f"action_{action_dataset}_{last}"], np.float64))
    probs, owner = np.concatenate(probs), np.asarray(owner)
    return [probs[owner == v] for v in range(len(videos))]


def summarise(per_video, labels) -> dict:
    """Accuracies (mean and product rules) and the confidences of the mean rule."""
    labels = np.asarray(labels)
    mean = np.stack([p.mean(0) for p in per_video])
    logs = np.stack([np.log(np.maximum(p, 1e-12)).sum(0) for p in per_video])
    return {"videos": len(labels),
            "accuracy_mean": float(np.mean(mean.argmax(1) == labels)),
            "accuracy_product": float(np.mean(logs.argmax(1) == labels)),
            "confidence": mean.max(1), "correct": mean.argmax(1) == labels}


def threshold_for_precision(confidence, correct, precision=PRECISION) -> float:
    """The smallest ``t`` among the confidences such that the items with confidence >= t
    are right at least ``precision`` of the time (1, so every item is uncertain, when no
    ``t`` reaches it; 0 when every item together does)."""
    confidence = np.asarray(confidence, np.float64)
    correct = np.asarray(correct, bool)
    if not len(confidence):
        raise ValueError("no items to calibrate on")
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    sorted_conf = confidence[order]
    # Only cut between distinct confidences: ties pass or fail together.
    ends = np.r_[sorted_conf[1:] < sorted_conf[:-1], True]
    ok = np.flatnonzero(ends & (hits >= precision))
    if not len(ok):
        return 1.0
    if ok[-1] == len(order) - 1:
        return 0.0
    return float(sorted_conf[ok[-1]])


def threshold_to_keep(confidence, correct, keep=KEEP) -> float:
    """The largest ``t`` among the right items' confidences such that at least ``keep`` of
    the right items have confidence >= t (0 when no item is right)."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be a fraction in (0, 1], got {keep!r}")
    right = np.sort(np.asarray(confidence, np.float64)[np.asarray(correct, bool)])[::-1]
    if not len(right):
        return 0.0
    return float(right[int(np.ceil(keep * len(right))) - 1])


def calibrate_run(run, precision=PRECISION, repeats=5, noise_model=None, data_dir=None,
                  correlation=CORRELATION, model_path=None, keep=KEEP) -> tuple[object, dict]:
    """(the run's model, report) of a pose-only action run folder (see the module doc);
    ``model_path`` reads another network on the run's held-out videos (e.g. a shipped
    one, to compare)."""
    import keras

    import posenet.models  # noqa: F401  (registers the classes)
    from posenet.data.pose_noise import load_noise_model
    from posenet.training.data import holdout_seed, resolve

    with open(os.path.join(run, "config.json")) as f:
        config = json.load(f)
    val = config["validation"]
    if not val.get("holdout"):
        raise ValueError(f"{run}: the recipe validates on no held-out part of a file")
    data_dir = data_dir or config.get("data_dir") or "datasets"
    path = resolve(val["path"], data_dir)
    action_dataset = val["action_dataset"]
    model_path = model_path or os.path.join(run, "model.keras")
    model = keras.saving.load_model(model_path, compile=False)
    noise = load_noise_model(noise_model)
    dataset, videos = holdout_videos(path, val["holdout"],
                                     holdout_seed(val, config.get("seed", 0)))
    labels = [label for _, label in videos]
    clean = summarise(video_probabilities(model, dataset, videos, action_dataset), labels)
    noisy = [summarise(video_probabilities(model, dataset, videos, action_dataset, noise,
                                           seed=r, correlation=correlation), labels)
             for r in range(repeats)]
    confidence = np.concatenate([n["confidence"] for n in noisy])
    correct = np.concatenate([n["correct"] for n in noisy])
    for_precision = threshold_for_precision(confidence, correct, precision)
    to_keep = threshold_to_keep(confidence, correct, keep)
    threshold = max(for_precision, to_keep)
    passed = confidence >= threshold
    report = {
        "run": run, "model": model_path, "action_dataset": action_dataset, "validation": val,
        "videos": len(labels), "precision_target": precision, "keep_target": keep,
        "threshold_for_precision": round(for_precision, 4),
        "threshold_to_keep": round(to_keep, 4), "repeats": repeats,
        "noise_model": noise.source, "correlation": correlation,
        "clean": {k: clean[k] for k in ("accuracy_mean", "accuracy_product")},
        "noisy": {k: float(np.mean([n[k] for n in noisy]))
                  for k in ("accuracy_mean", "accuracy_product")},
        "uncertain_below": round(threshold, 4),
        "noisy_labelled_fraction": float(passed.mean()),
        "noisy_labelled_precision": float(correct[passed].mean()) if passed.any() else None,
        "noisy_right_kept": float(passed[correct].mean()) if correct.any() else None,
        "clean_labelled_fraction": float((clean["confidence"] >= threshold).mean()),
    }
    return model, report


#: The report's entries a summary line shows (:func:`summary`).
SUMMARY_KEYS = ("run", "model", "videos", "clean", "noisy", "uncertain_below",
                "threshold_for_precision", "threshold_to_keep", "noisy_labelled_fraction",
                "noisy_labelled_precision")


def calibrate_and_store(run, precision=PRECISION, keep=KEEP, repeats=5, noise_model=None,
                        data_dir=None, model_path=None, write=False) -> dict:
    """:func:`calibrate_run`'s report of ``run`` (or of ``model_path`` on the run's held-out
    videos), stored: the run's own network's in ``<run>/calibration.json``; another
    network's, with ``write``, in ``<model>.calibration.json`` beside it. ``write`` also
    saves the threshold into the network read (``<run>/model.keras`` or ``model_path``)."""
    from posenet.io import save_model_atomic, write_json_atomic

    if not 0 < keep <= 1:
        raise ValueError(f"keep must be a fraction in (0, 1], got {keep!r}")
    model, report = calibrate_run(run, precision, repeats, noise_model, data_dir,
                                  model_path=model_path, keep=keep)
    target = model_path or os.path.join(run, "model.keras")
    if not model_path:
        write_json_atomic(os.path.join(run, "calibration.json"), report)
    elif write:
        write_json_atomic(os.path.splitext(target)[0] + ".calibration.json", report)
    if write:
        model.uncertain_below = {**model.uncertain_below,
                                 report["action_dataset"]: report["uncertain_below"]}
        save_model_atomic(model, target)
    return report


def summary(report) -> dict:
    """The entries of a report that the command prints (:data:`SUMMARY_KEYS`)."""
    return {k: report[k] for k in SUMMARY_KEYS}
