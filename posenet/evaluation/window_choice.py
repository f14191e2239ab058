"""Choose a pose network's soft-argmax window (``posenet tools softargmax-window`` sets it).

Scores the network's last block on every ``--every``-th sample of a prepared file (its
pose protocol, as ``posenet evaluate``; ground-truth boxes) once per window radius, and
prints the table. Choose on a training file, never on the split the figures are given for:

    posenet tools window-choice weights/mobile_pose.keras \\
        --data datasets/lspet_train.h5 --every 8 --window 0 3 4 5 6 7 8

Measured 2026-12-07 with the shipped network (1000 LSPet training photos, PCK@0.2):
0 (the whole map) 0.626; 3: 0.640, 4: 0.642, **5: 0.643**, 6: 0.642, 7: 0.641, 8: 0.640.

``--alpha 0.1 0.5`` adds PCK at other thresholds (PCK protocols), to see which errors a
window changes: on LSPet validation (``--data datasets/lspet_validation.h5 --window 0 5``)
it raises PCK@0.1 and @0.2 and leaves @0.5 as it was (weights/README.md).
"""

from __future__ import annotations

import numpy as np

from posenet.engine.inputs import usable_boxes
from posenet.evaluation import protocols
from posenet.evaluation.model_spec import EvaluationError, frame_model, model_spec
from posenet.evaluation.predict import predict_frames

#: PCK protocols at another threshold: dataset -> f(pred, dataset, indices, alpha).
PCK_AT = {
    "lsp": lambda p, d, i, a: protocols.pck_torso(p[..., :2], d, i, "lsp", a),
    "lspet": lambda p, d, i, a: protocols.pck_torso(p[..., :2], d, i, "lsp", a),
    "penn_action": lambda p, d, i, a: protocols.pck_bbox(p[..., :2], d, i, "penn_action", a),
    "jhmdb": lambda p, d, i, a: protocols.pck_bbox(p[..., :2], d, i, "jhmdb", a),
    "mpii": lambda p, d, i, a: protocols.pckh(p, d, i, a),
}


def score_windows(network, dataset, windows, every: int = 1, batch_size: int = 16,
                  alphas=()) -> dict:
    """``{window: summary}`` of the last block's pose protocol on every ``every``-th
    sample (with a usable box and a joint) of ``dataset``, for each window radius; with
    ``alphas``, a PCK protocol's summaries at those thresholds too."""
    from posenet.evaluation.runner import POSE_PROTOCOLS
    from posenet.models.softargmax_window import with_window

    name = dataset.attrs["dataset"]
    if name not in POSE_PROTOCOLS:
        raise EvaluationError(f"{dataset.path}: no pose protocol for dataset {name!r}")
    if alphas and name not in PCK_AT:
        raise EvaluationError(f"{dataset.path}: {name!r} has no PCK protocol for --alpha")
    _, score = POSE_PROTOCOLS[name]
    ok = usable_boxes(dataset.arrays("bbox")) & dataset.arrays("valid2d").any(axis=1)
    indices = np.flatnonzero(ok)[::every]
    if not len(indices):
        raise EvaluationError(f"{dataset.path}: no sample has a usable bbox and a joint")
    out = {}
    for window in windows:
        copy = with_window(network, window)
        spec = model_spec(copy)
        block = spec.pose_blocks
        preds = predict_frames(frame_model(copy, spec), spec, dataset, indices, [block],
                               batch_size)
        out[window] = dict(score(preds[block], dataset, indices)["summary"])
        for alpha in alphas:
            out[window] |= PCK_AT[name](preds[block], dataset, indices, alpha)["summary"]
    return out


def score_window_file(network_path, data_path, windows, every: int = 1, alphas=(),
                      batch_size: int = 16) -> dict:
    """:func:`score_windows` of the single-frame pose network saved at ``network_path`` on
    the prepared file at ``data_path`` (WeightsError or PreparedFileError when one cannot
    be read)."""
    from posenet.data.prepared import open_prepared
    from posenet.engine.weights import load_keras

    network = load_keras(network_path)
    dataset = open_prepared(data_path)
    try:
        return score_windows(network, dataset, windows, every, batch_size, alphas)
    finally:
        dataset.close()
