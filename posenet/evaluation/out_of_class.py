"""What pose-only action networks say about sequences of other datasets' actions.

A network names one of its classes for any sequence; its calibrated threshold
(``ActionNetwork.uncertain_below``, ``posenet tools action-calibration``) is meant to
call a track "uncertain" when the network is unsure. This reads the sequences of another
prepared file, such as Human3.6M's motion capture (``make data-h36m``: 2D joints through
its calibrated cameras, 10 frames/s in the shared copy; 15 everyday actions, none of them
a Penn Action class), as ``posenet infer`` reads a track: windows of the video frames the
network reads at the file's rate (``time_sampling.video_span``), ground-truth poses, the
sequence's probabilities the mean of its windows'. Reported per network:

- ``labelled``: the fraction of sequences given a class (confidence >= the threshold);
  for actions outside the network's classes, each one is a false label;
- ``windows_labelled``: the same for single windows;
- per action of the file: how many sequences, the fraction labelled and the label they
  get most often.

::

    posenet tools out-of-class weights/span_actions_penn.keras \\
        --data datasets/h36m_test.h5 --fps 10
"""

from __future__ import annotations

import collections

import numpy as np

from posenet.data.action_labels import class_names, uncertain_below
from posenet.data.time_sampling import sliding_spans, video_span
from posenet.evaluation.action_calibration import window_inputs
from posenet.evaluation.clips import sliding_clips
from posenet.evaluation.defaults import H36M_FPS


def sequences(path):
    """(in-memory dataset, [(frames, action name)]) of every sequence of a prepared file."""
    from posenet.data.pose_sequences import _InMemory
    from posenet.data.prepared import PreparedDataset

    dataset = PreparedDataset(path)
    names = list(dataset.attrs.get("action_classes") or [])
    videos = []
    for frames in dataset.sequences().values():
        labels = dataset.arrays("action", frames[:1])
        label = int(labels[0])
        videos.append((np.asarray(frames), names[label] if 0 <= label < len(names)
                       else "unlabelled"))
    memory = _InMemory(dataset)
    dataset.close()
    return memory, videos


def windows(frames, model, fps):
    """The windows ``posenet infer`` cuts from a track of ``frames`` at ``fps``."""
    span = video_span(model, fps)
    if getattr(model, "clip_span", None) or span != model.num_frames:
        return sliding_spans(frames, model.num_frames, span)
    return sliding_clips(frames, model.num_frames)


def read_network(model, dataset, videos, fps, batch_size=256):
    """Per sequence, the (windows, classes) probabilities of ``model``'s one dataset."""
    (name,) = model.actions
    inputs, owner = [], []
    for v, (frames, _) in enumerate(videos):
        for clip in windows(frames, model, fps):
            inputs.append(window_inputs(dataset, clip, model.num_joints, model.pose_dims))
            owner.append(v)
    probs = []
    for start in range(0, len(inputs), batch_size):
        part = inputs[start:start + batch_size]
        out = model.predict_on_batch({"poses": np.stack([p for p, _ in part]),
                                      "visibility": np.stack([v for _, v in part])})
        key = max((k for k in out if k.startswith(f"action_{name}_")),
                  key=lambda k: int(k.rsplit("_", 1)[1]))
        probs.append(np.asarray(out[key], np.float64))
    probs, owner = np.concatenate(probs), np.asarray(owner)
    return [probs[owner == v] for v in range(len(videos))]


def report(per_video, actions, classes, threshold) -> dict:
    """The figures of the module doc from per-sequence window probabilities."""
    means = np.stack([p.mean(0) for p in per_video])
    labelled = means.max(1) >= threshold
    window_conf = np.concatenate([p.max(1) for p in per_video])
    by_action = collections.defaultdict(list)
    for k, action in enumerate(actions):
        by_action[action].append(k)
    per_action = {}
    for action, ks in sorted(by_action.items()):
        names = collections.Counter(classes[int(means[k].argmax())] for k in ks)
        per_action[action] = {"sequences": len(ks),
                               "labelled": round(float(labelled[ks].mean()), 4),
                               "most_often": names.most_common(1)[0][0]}
    return {"sequences": len(per_video), "windows": int(len(window_conf)),
            "threshold": round(float(threshold), 4),
            "labelled": round(float(labelled.mean()), 4),
            "windows_labelled": round(float((window_conf >= threshold).mean()), 4),
            "mean_confidence": round(float(means.max(1).mean()), 4),
            "per_action": per_action}


def evaluate(model, path, fps=H36M_FPS) -> dict:
    """:func:`report` of one pose-only single-dataset action network on a prepared file."""
    if len(model.actions) != 1:
        raise ValueError("the network must predict the actions of exactly one dataset")
    (name,) = model.actions
    dataset, videos = sequences(path)
    if not videos:
        raise ValueError(f"{path} has no sequences")
    per_video = read_network(model, dataset, videos, fps)
    classes = class_names(name, model.actions[name])
    return {"dataset": name, "file": str(path), "fps": fps,
            **report(per_video, [a for _, a in videos], classes, uncertain_below(model, name))}
