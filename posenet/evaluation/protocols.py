"""The evaluation protocols, one function each, on predictions already in the file's units.

Each returns ``{"summary": {metric: value}, ...details}`` for one block; the metrics
themselves are those of ``posenet.metrics``.  Ground truth comes from the prepared file
(model17 layout); predictions are in the model's layout (model16 or model17).  2D
protocols compare in the *dataset's own layout*: predictions and ground truth are both
mapped there with ``skeleton.map_joints``, and a joint counts only where the ground
truth has it and the model's layout has a counterpart (e.g. J-HMDB's ``face`` has none,
and ``belly`` is the model17 ``spine``, absent from a 16-joint model).
"""

from __future__ import annotations

import numpy as np

from posenet import metrics
from posenet.data.camera import Camera
from posenet.data.targets import PELVIS, depth_to_mm, select_joints
from posenet.evaluation.model_spec import EvaluationError
from posenet.evaluation.predict import crop_to_image
from posenet.skeleton import get_skeleton, joint_mapping, layout_name, map_joints

#: Joints outside MPII's "total" PCKh (the official evaluation leaves them out).
MPII_TOTAL_EXCLUDES = ("pelvis", "thorax")


def _named(values, names) -> dict[str, float]:
    return {name: float(v) for name, v in zip(names, values, strict=True)}


def _in_layout(pred_xy, dataset, indices, layout: str):
    """(pred, gt, valid, gt_valid) in ``layout``: mapped predictions and ground truth, the
    mask of joints annotated in the ground truth that the model's layout can predict, and
    the ground truth's own mask."""
    gt17 = dataset.arrays("joints2d", indices)[..., :2].astype(np.float64)
    valid17 = dataset.arrays("valid2d", indices)
    gt, gt_valid = map_joints(gt17, "model17", layout, valid17)
    model = layout_name(pred_xy.shape[-2])
    pred, _ = map_joints(pred_xy, model, layout, np.ones(pred_xy.shape[:-1], bool))
    predicted = _predictable(model, layout)
    return pred, gt, gt_valid & predicted[None], gt_valid


def _predictable(model: str, layout: str) -> np.ndarray:
    """(J_layout,) bool: layout joints the model's layout maps to (directly or derived)."""
    direct = joint_mapping(model, layout) >= 0
    _, ok = map_joints(np.zeros((get_skeleton(model).num_joints, 2)), model, layout)
    return direct | ok


def _pck_summary(result: dict, names, label: str) -> dict:
    return {"summary": {label: result["overall"]}, "per_joint": _named(result["per_joint"], names),
            "count": result["count"], "skipped": result["skipped"], "alpha": result["alpha"]}


def pckh(pred_xy, dataset, indices, alpha: float = 0.5) -> dict:
    """MPII PCKh@alpha in the ``mpii`` layout, px of the source image.

    Correct when the distance <= alpha x 0.6 x the head box diagonal (``head_box``).
    ``summary`` holds the total over every joint but pelvis and thorax (as the official
    MPII tables) and, under ``all joints``, the fraction over every joint.
    """
    pred, gt, valid, _ = _in_layout(pred_xy, dataset, indices, "mpii")
    heads = dataset.arrays("head_box", indices)
    all_joints = metrics.pckh(pred, gt, valid, heads, alpha)
    mpii = get_skeleton("mpii")
    keep = np.array([name not in MPII_TOTAL_EXCLUDES for name in mpii.joints])
    total = metrics.pckh(pred, gt, valid & keep[None], heads, alpha)
    out = _pck_summary(all_joints, mpii.joints, f"PCKh@{alpha:g}")
    out["summary"] = {f"PCKh@{alpha:g}": total["overall"],
                      f"PCKh@{alpha:g} all joints": all_joints["overall"]}
    return out


def pck_torso(pred_xy, dataset, indices, layout: str = "lsp", alpha: float = 0.2) -> dict:
    """LSP PCK@alpha in ``layout`` (lsp): distance <= alpha x torso, the left shoulder to
    right hip distance of the ground truth (the other diagonal where that one is
    missing; samples with neither are skipped)."""
    pred, gt, valid, gt_valid = _in_layout(pred_xy, dataset, indices, layout)
    skel = get_skeleton(layout)
    torso = metrics.torso_normaliser(gt, gt_valid, skel.index("l_shoulder"), skel.index("r_hip"),
                                     skel.index("r_shoulder"), skel.index("l_hip"))
    return _pck_summary(metrics.pck(pred, gt, valid, torso, alpha), skel.joints,
                        f"PCK@{alpha:g}")


def pck_bbox(pred_xy, dataset, indices, layout: str, alpha: float = 0.2) -> dict:
    """Penn Action / J-HMDB PCK@alpha in ``layout``: distance <= alpha x max(width,
    height) of the file's ``bbox`` (samples without a box are skipped)."""
    pred, gt, valid, _ = _in_layout(pred_xy, dataset, indices, layout)
    norm = metrics.bbox_normaliser(dataset.arrays("bbox", indices))
    return _pck_summary(metrics.pck(pred, gt, valid, norm, alpha), get_skeleton(layout).joints,
                        f"PCK@{alpha:g}")


def camera_table(dataset) -> list[Camera]:
    """The file's ``cameras/`` rows as :class:`Camera` s (EvaluationError without them)."""
    table = dataset.cameras()
    if not table:
        raise EvaluationError(f"{dataset.path} has no cameras/ table: MPJPE needs the "
                              "calibration to recover millimetres")
    return [Camera(R=table["R"][i], T=table["T"][i], f=table["f"][i], c=table["c"][i],
                   k=table["k"][i], p=table["p"][i]) for i in range(len(table["f"]))]


def lift_to_camera(pred, dataset, indices) -> np.ndarray:
    """Predictions (n, J, 3) -> camera-frame X, Y, Z in mm (n, J, 3).

    Protocol assumption (as in the method's TPAMI evaluation): the *absolute depth of the
    root is given* by the ground truth.  Z = (z - 0.5) x DEPTH_RANGE_MM + Z_pelvis(gt);
    x, y (px of the file's source image; for rendered sets taken to the full camera image
    by inverting the stored ``crop``) are unprojected at that Z through the sample's
    camera, lens distortion removed.
    """
    camera_rows = dataset.arrays("camera", indices)
    if (camera_rows < 0).any():
        raise EvaluationError(f"{dataset.path}: samples without a camera; MPJPE needs one")
    cameras = camera_table(dataset)
    root_z = dataset.arrays("joints3d", indices)[:, PELVIS, 2].astype(np.float64)
    xy = crop_to_image(pred[..., :2], dataset.arrays("crop", indices))
    z = depth_to_mm(pred[..., 2], root_z[:, None])
    out = np.empty(pred.shape, np.float64)
    for row in np.unique(camera_rows):
        sel = camera_rows == row
        out[sel] = cameras[row].unproject(xy[sel], z[sel])
    return out


def mpjpe(pred, dataset, indices) -> dict:
    """Human3.6M protocols 1 and 2 in mm, per joint and per action, pelvis root.

    MPJPE: ``metrics.mpjpe(lifted, gt, root=0)`` (both made pelvis-relative); PA-MPJPE:
    ``metrics.pa_mpjpe`` (per-sample similarity alignment); only ``valid3d`` joints of
    samples whose pelvis depth is known count.  ``mean over actions`` averages the
    per-action means (each action weighs equally, as the literature tables).
    """
    num_joints = pred.shape[-2]
    gt = select_joints(dataset.arrays("joints3d", indices).astype(np.float64), num_joints)
    valid = select_joints(dataset.arrays("valid3d", indices), num_joints, axis=-1)
    valid = valid & np.isfinite(gt).all(-1) & np.isfinite(gt[:, PELVIS:PELVIS + 1]).all(-1)
    lifted = lift_to_camera(pred, dataset, indices)
    classes = dataset.attrs.get("action_classes") or []
    labels = dataset.arrays("action", indices)
    actions = np.array([classes[a] if 0 <= a < len(classes) else "none" for a in labels])
    names = get_skeleton(layout_name(num_joints)).joints
    p1 = metrics.mpjpe(lifted, gt, root=PELVIS, valid=valid, actions=actions)
    p2 = metrics.pa_mpjpe(lifted, gt, valid=valid, actions=actions)

    def details(r):
        return {"overall": r["overall"], "mean_over_actions": r["mean_over_actions"],
                "per_joint": _named(r["per_joint"], names), "per_action": r["per_action"],
                "count": r["count"]}

    return {"summary": {"MPJPE mm": p1["overall"], "PA-MPJPE mm": p2["overall"],
                        "MPJPE mm (mean over actions)": p1["mean_over_actions"]},
            "mpjpe": details(p1), "pa_mpjpe": details(p2)}


def action_accuracy(probs, clip_to_video, single, labels, classes) -> dict:
    """Single- and multi-clip top-1 accuracy over videos.

    ``probs`` (M, C) per-clip softmaxes, ``clip_to_video`` (M,) video of each clip,
    ``single`` (V,) the clip row of each video's single clip, ``labels`` (V,).
    Multi-clip: argmax of the product of a video's clip probabilities
    (``metrics.multi_clip_accuracy``).
    """
    one = metrics.action_accuracy(np.asarray(probs)[single], labels)
    many = metrics.multi_clip_accuracy(probs, clip_to_video, labels)
    names = list(classes) if len(classes) == np.shape(probs)[1] else \
        [str(i) for i in range(np.shape(probs)[1])]
    return {"summary": {"single-clip": one["overall"], "multi-clip": many["overall"]},
            "per_class": {"single-clip": _named(one["per_class"], names),
                          "multi-clip": _named(many["per_class"], names)},
            "videos": one["count"], "clips": int(np.shape(probs)[0])}
