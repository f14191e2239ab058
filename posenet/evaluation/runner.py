"""Evaluate one model on one prepared file: pick the protocols, predict, score per block.

Protocols by the file's ``dataset`` attribute (pose ones need pose outputs; action ones
an ``action_<dataset>_k`` output of the model):

    dataset                          pose protocol                action protocol
    mpii                             PCKh@0.5 (mpii layout)       -
    lsp, lspet                       PCK@0.2 torso (lsp layout)   -
    penn_action, jhmdb               PCK@0.2 bbox (own layout)    single/multi-clip accuracy
    h36m, h36m_render, builtin_render MPJPE, PA-MPJPE (mm)        (if the model has one)
    ntu                              -                            single/multi-clip accuracy

Pose protocols score every block's ``pose_k`` (one forward pass gives all of them), so
the cost of cutting the network after block k is visible; action protocols score every
action block ``action_<dataset>_k``.  ``block`` restricts both to one block.
"""

from __future__ import annotations

import os

import numpy as np

from posenet.data.augment import DEFAULT_MARGIN
from posenet.data.prepared import PreparedFileError, open_prepared
from posenet.engine.inputs import batched, usable_boxes
from posenet.evaluation import protocols
from posenet.evaluation.clips import (
    clip_images,
    clip_poses,
    middle_clip,
    model_clips,
    video_label,
)
from posenet.evaluation.model_spec import EvaluationError, ModelSpec, frame_model, model_spec
from posenet.evaluation.predict import predict_found, predict_frames

#: dataset attribute -> (protocol name, scoring function of (pred, dataset, indices)).
POSE_PROTOCOLS = {
    "mpii": ("PCKh@0.5", protocols.pckh),
    "lsp": ("PCK@0.2 torso", lambda p, d, i: protocols.pck_torso(p[..., :2], d, i, "lsp")),
    "lspet": ("PCK@0.2 torso", lambda p, d, i: protocols.pck_torso(p[..., :2], d, i, "lsp")),
    "penn_action": ("PCK@0.2 bbox",
                    lambda p, d, i: protocols.pck_bbox(p[..., :2], d, i, "penn_action")),
    "jhmdb": ("PCK@0.2 bbox", lambda p, d, i: protocols.pck_bbox(p[..., :2], d, i, "jhmdb")),
    "h36m": ("MPJPE", protocols.mpjpe),
    "h36m_render": ("MPJPE", protocols.mpjpe),
    "builtin_render": ("MPJPE", protocols.mpjpe),
}
ACTION_PROTOCOL = "action accuracy"


def _blocks(count: int, block: int | None, what: str) -> list[int]:
    if block is None:
        return list(range(1, count + 1))
    if not 1 <= block <= count:
        raise EvaluationError(f"--block {block} is outside 1..{count}, the {what} blocks of "
                              "this model")
    return [block]


def plan(spec: ModelSpec, dataset_name: str) -> list[str]:
    """Protocols to run for this model on this dataset; EvaluationError when none fits."""
    todo = []
    has_pose = spec.pose_blocks > 0 and spec.input_kind != "sequences"
    if has_pose and dataset_name in POSE_PROTOCOLS:
        name = POSE_PROTOCOLS[dataset_name][0]
        if name == "MPJPE" and spec.pose_dims != 3:
            raise EvaluationError(f"{dataset_name} is scored by MPJPE in mm, which needs a 3D "
                                  f"model; this model predicts {spec.pose_dims}D poses")
        todo.append(name)
    if dataset_name in spec.actions:
        todo.append(ACTION_PROTOCOL)
    if todo:
        return todo
    if spec.actions:
        raise EvaluationError(f"the model recognises actions of {sorted(spec.actions)}, not of "
                              f"{dataset_name!r} (no action_{dataset_name}_k output)")
    raise EvaluationError(f"no protocol evaluates this model on {dataset_name!r}: pose "
                          f"protocols exist for {sorted(POSE_PROTOCOLS)}")


def evaluate_pose(model, spec, dataset, block=None, batch_size=16, flip=False,
                  margin=DEFAULT_MARGIN, find_person=None) -> dict:
    """The pose protocol of ``dataset`` for every pose block (or ``block``).

    With ``find_person`` (a ``Predictor`` finder: ``pose`` or ``heads``), the network
    finds the person in the whole image as ``posenet infer`` does (no ground-truth box;
    the last block, or ``block``, only).
    """
    name, score = POSE_PROTOCOLS[dataset.attrs["dataset"]]
    blocks = _blocks(spec.pose_blocks, block, "pose")
    if find_person:
        if flip:
            raise EvaluationError("--find-person has no flip test")
        blocks = blocks[-1:]
        indices = np.flatnonzero(dataset.arrays("valid2d").any(axis=1))
        if not len(indices):
            raise EvaluationError(f"{dataset.path}: no sample has an annotated joint")
        preds = {blocks[0]: predict_found(model, dataset, indices, blocks[0], batch_size,
                                          find_person)}
        return {"protocol": name, "flip": False, "find_person": find_person,
                "samples": int(len(indices)), "skipped_samples": int(len(dataset) - len(indices)),
                "blocks": {str(k): score(preds[k], dataset, indices) for k in blocks}}
    ok = usable_boxes(dataset.arrays("bbox")) & dataset.arrays("valid2d").any(axis=1)
    indices = np.flatnonzero(ok)
    if not len(indices):
        raise EvaluationError(f"{dataset.path}: no sample has a usable bbox and a joint")
    try:
        preds = predict_frames(frame_model(model, spec), spec, dataset, indices, blocks,
                               batch_size, flip, margin)
    except KeyError as err:
        raise EvaluationError(f"the model has no output {err}") from None
    return {"protocol": name, "flip": bool(flip), "samples": int(len(indices)),
            "skipped_samples": int(len(ok) - len(indices)),
            "blocks": {str(k): score(preds[k], dataset, indices) for k in blocks}}


def _videos(dataset):
    """(frames of each labelled video, their labels)."""
    videos, labels = [], []
    for frames in dataset.sequences().values():
        label = video_label(dataset, frames)
        if label >= 0:
            videos.append(frames)
            labels.append(label)
    return videos, np.array(labels, np.int64)


def _clip_input(dataset, clip, video, spec, margin):
    if spec.input_kind == "sequences":
        return clip_poses(dataset, clip, spec.num_joints, spec.pose_dims)
    return clip_images(dataset, clip, video, spec.input_size, margin)


def _stack(inputs):
    if isinstance(inputs[0], dict):
        return {key: np.stack([x[key] for x in inputs]) for key in inputs[0]}
    return np.stack(inputs)


def evaluate_actions(model, spec, dataset, block=None, batch_size=16, clip_stride=None,
                     margin=DEFAULT_MARGIN) -> dict:
    """Single- and multi-clip accuracy of every action block (or ``block``)."""
    name = dataset.attrs["dataset"]
    classes, count = spec.actions[name]
    blocks = _blocks(count, block, "action")
    listed = dataset.attrs.get("action_classes") or []
    if listed and len(listed) != classes:
        raise EvaluationError(f"{dataset.path} lists {len(listed)} action classes, the "
                              f"model's action_{name} output has {classes}")
    videos, labels = _videos(dataset)
    if not len(videos):
        raise EvaluationError(f"{dataset.path}: no video has an action label")
    if labels.max() >= classes:
        raise EvaluationError(f"{dataset.path} has action labels up to {labels.max()}, the "
                              f"model's action_{name} output has {classes} classes")
    clips, owner, single = [], [], []
    for v, frames in enumerate(videos):
        mine = model_clips(frames, spec, clip_stride)
        single.append(len(clips) + middle_clip(mine))
        clips += [(clip, frames) for clip in mine]
        owner += [v] * len(mine)
    probs = {k: [] for k in blocks}
    for part in batched(clips, batch_size):
        x = _stack([_clip_input(dataset, c, f, spec, margin) for c, f in part])
        out = model.predict_on_batch(x)
        for k in blocks:
            probs[k].append(np.asarray(out[f"action_{name}_{k}"], np.float64))
    return {"protocol": ACTION_PROTOCOL, "videos": len(videos), "clips": len(clips),
            "clip_frames": spec.num_frames, "clip_span": spec.clip_span,
            "blocks": {str(k): protocols.action_accuracy(np.concatenate(probs[k]), owner,
                                                         single, labels, listed)
                       for k in blocks}}


def evaluate_file(model, path, *, block=None, flip=False, batch_size=16, clip_stride=None,
                  margin=DEFAULT_MARGIN, split=None, find_person=None) -> dict:
    """Every protocol that fits ``model`` and the prepared file at ``path``.

    Returns ``{"file", "dataset", "split", "num_samples", "protocols": {name: result}}``
    where each result has ``blocks`` -> {block: {"summary": ..., details}}.
    ``split``, when given, must match the file's ``split`` attribute. ``find_person``:
    pose protocols find the person in the whole image (see :func:`evaluate_pose`).
    """
    if batch_size < 1:
        raise EvaluationError(f"batch size must be >= 1, got {batch_size}")
    spec = model_spec(model)
    try:
        dataset = open_prepared(path)
    except PreparedFileError as error:
        raise EvaluationError(str(error)) from None
    attrs = dataset.attrs
    if split is not None and attrs.get("split") != split:
        raise EvaluationError(f"{dataset.path} holds split {attrs.get('split')!r}, not {split!r}")
    results = {}
    try:
        for name in plan(spec, attrs["dataset"]):
            if name == ACTION_PROTOCOL:
                results[name] = evaluate_actions(model, spec, dataset, block, batch_size,
                                                 clip_stride, margin)
            else:
                results[name] = evaluate_pose(model, spec, dataset, block, batch_size, flip,
                                              margin, find_person)
    finally:
        dataset.close()
    return {"file": os.path.abspath(dataset.path), "dataset": attrs["dataset"],
            "split": attrs.get("split"), "num_samples": int(attrs.get("num_samples", 0)),
            "protocols": results}
