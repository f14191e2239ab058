"""Choose a pose network's soft-argmax window (``posenet.models.softargmax_window``).

Scores the network's last block on every ``--every``-th sample of a prepared file (its
pose protocol, as ``posenet evaluate``; ground-truth boxes) once per window radius, and
prints the table. Choose on a training file, never on the split the figures are given for:

    python -m posenet.evaluation.window_choice weights/mobile_pose.keras \\
        --data datasets/lspet_train.h5 --every 8 --window 0 3 4 5 6 7 8

Measured 2026-12-07 with the shipped network (1000 LSPet training photos, PCK@0.2):
0 (the whole map) 0.626; 3: 0.640, 4: 0.642, **5: 0.643**, 6: 0.642, 7: 0.641, 8: 0.640.

``--alpha 0.1 0.5`` adds PCK at other thresholds (PCK protocols), to see which errors a
window changes: on LSPet validation (``--data datasets/lspet_validation.h5 --window 0 5``)
it raises PCK@0.1 and @0.2 and leaves @0.5 as it was (weights/README.md).
"""

from __future__ import annotations

import argparse
import os

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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m posenet.evaluation.window_choice",
        description="Score a pose network's last block with several soft-argmax windows.")
    parser.add_argument("network", help="a single-frame pose network (.keras)")
    parser.add_argument("--data", required=True, help="a prepared file (a training split)")
    parser.add_argument("--every", type=int, default=1, help="score every N-th sample")
    parser.add_argument("--window", type=int, nargs="+", default=[0, 3, 4, 5, 6, 7, 8],
                        help="radii in heatmap cells (0: the whole map)")
    parser.add_argument("--alpha", type=float, nargs="+", default=[],
                        help="PCK protocols: also score at these thresholds")
    args = parser.parse_args(argv)
    if args.every < 1 or min(args.window) < 0 or any(a <= 0 for a in args.alpha):
        parser.error("--every must be >= 1, every --window >= 0 and every --alpha > 0")
    for path in (args.network, args.data):
        if not os.path.isfile(path):
            parser.error(f"{path}: no such file")

    import keras

    import posenet.models  # noqa: F401  (registers the classes)
    from posenet.data.prepared import PreparedDataset

    network = keras.saving.load_model(args.network, compile=False)
    dataset = PreparedDataset(args.data)
    try:
        table = score_windows(network, dataset, args.window, args.every, alphas=args.alpha)
    except (EvaluationError, ValueError) as error:
        parser.error(str(error))
    finally:
        dataset.close()
    for window, summary in table.items():
        print(f"window {window:3d}  " + "  ".join(f"{k} {v:.4f}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
