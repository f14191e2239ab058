"""Accuracy of the imported MoveNet on prepared 2D data: the conversion's proof.

A converted network decoded the MoveNet way must land COCO keypoints on real people: on
LSPet crops, PCK@0.2 (torso) over the 12 limb joints (shoulders, elbows, wrists, hips,
knees, ankles). A wrong conversion (transposed kernels, wrong padding or scaling) gives
near 0.
"""

from __future__ import annotations

import numpy as np

from posenet import metrics
from posenet.data.augment import DEFAULT_MARGIN
from posenet.engine.inputs import crop_batches
from posenet.pretrained.movenet import decode_single
from posenet.skeleton import get_skeleton, map_joints

LIMBS = ("r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "r_wrist", "r_elbow",
         "r_shoulder", "l_shoulder", "l_elbow", "l_wrist")


def predict_coco(model, dataset, indices, batch_size=16, margin=DEFAULT_MARGIN):
    """(N, 17, 3) MoveNet keypoints (x, y source-image px, score) on the samples' crops."""
    size = int(model.input_shape[1])
    out = []
    for _, transforms, x in crop_batches(dataset, indices, size, batch_size, margin):
        heads = {k: np.asarray(v) for k, v in model.predict_on_batch(x).items()}
        for row, t in enumerate(transforms):
            kp = decode_single(heads, row)
            kp[:, :2] = t.invert_points(kp[:, :2] * size)
            out.append(kp)
    return np.stack(out)


def limb_pck(model, dataset, indices, alpha=0.2) -> float:
    """PCK@``alpha`` (torso, LSP protocol) of the MoveNet ``model`` on the 12 limb joints."""
    indices = np.asarray(indices, np.int64)
    pred = predict_coco(model, dataset, indices)[..., :2]
    lsp = get_skeleton("lsp")
    pred_lsp, _ = map_joints(pred, "coco", "lsp", np.ones(pred.shape[:2], bool))
    gt, gt_valid = map_joints(dataset.arrays("joints2d", indices)[..., :2].astype(np.float64),
                              "model17", "lsp", dataset.arrays("valid2d", indices))
    limbs = np.array([name in LIMBS for name in lsp.joints])
    torso = metrics.torso_normaliser(gt, gt_valid, lsp.index("l_shoulder"), lsp.index("r_hip"),
                                     lsp.index("r_shoulder"), lsp.index("l_hip"))
    return metrics.pck(pred_lsp, gt, gt_valid & limbs[None], torso, alpha)["overall"]
