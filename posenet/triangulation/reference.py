"""One view's ``posenet infer`` predictions scored against a triangulated reference
(``posenet evaluate --reference``): how posenet does on a user's own calibrated rig.

The reference is a ``triangulation.json`` (``outputs``, ``posenet-triangulation/1``) of the
same scene; frame ``f`` of the predictions is taken at the time of its frame ``f``. It
names its views' cameras but does not hold their parameters: the calibration is given.

- **Matching**, per frame: each reference person's 3D joints are projected into the
  scored camera (:meth:`Camera.project`); a predicted person is the reference person whose
  projection lies nearest its 2D joints, by the median px distance over the joints it
  predicts with confidence >= ``dlt.MIN_CONFIDENCE`` (at least :data:`MIN_MATCH_JOINTS`),
  nearest pairs first, one predicted person per reference person. Farther than
  ``max_distance`` (:data:`MAX_MATCH_PX`) it is unmatched, and not scored.
- **3D**: the reference joints are turned into the camera's axes (``R``, world to camera:
  x right, y down, z forward, those of posenet's ``joints3d``) and both poses are made
  relative to the pelvis, posenet's root (its ``joints3d`` are pelvis-relative; the
  reference's pelvis is posenet's pelvis triangulated). Over the joints both have (a
  reference joint may be missing): protocol 1, MPJPE, the mean per-joint distance after
  that root alignment (``posenet.metrics.mpjpe``), and protocol 2, PA-MPJPE, after a
  Procrustes alignment with scale (``metrics.pa_mpjpe``), mm. A matched person-frame is
  scored in 3D when its reference pelvis is known and it has :data:`MIN_JOINTS_3D` joints.
- **2D**: the px distance between the predicted 2D joints and the reference projected
  into the view, over every joint both have (any confidence); its median.

Two variants: ``all``, and ``without_view``: only the reference joints triangulated from
views other than the scored camera (``triangulation.json`` records each joint's views). A
joint triangulated with the scored view is partly the prediction being scored; when the
reference does not use that camera, the two variants are the same. With it, the joints left
are few and skewed (those whose view ``dlt`` dropped, as it disagreed; 3D needs the pelvis
among them): triangulate without the scored camera for a fair test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from posenet.metrics import mpjpe, pa_mpjpe
from posenet.triangulation.dlt import MIN_CONFIDENCE
from posenet.triangulation.outputs import SCHEMA
from posenet.triangulation.pipeline import PIXEL_SHIFT
from posenet.triangulation.views import stem

REPORT_SCHEMA = "posenet-reference-evaluation/1"
#: px: a predicted person whose 2D joints lie farther (median) from every reference
#: person's projection is unmatched. For people ~1000 px tall: on the Pose2Sim videos
#: (each camera against the other three) the right person lay 16-63 px off in the median
#: frame, at most 102 px (cam01's calibration disagrees with the others'), another person
#: 369 px or more.
MAX_MATCH_PX = 150.0
#: Confident joints a predicted person needs to be matched (a median of fewer says little).
MIN_MATCH_JOINTS = 3
#: Joints (the root among them) a person-frame needs to be scored in 3D: a similarity
#: (7 parameters) fitted on fewer would absorb the error it is meant to measure.
MIN_JOINTS_3D = 6
ROOT = "pelvis"
VARIANTS = ("all", "without_view")


def read_reference(path) -> dict:
    """The parsed ``triangulation.json`` at ``path``; ValueError when it is not one."""
    try:
        with open(path) as f:
            payload = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(payload, dict) or payload.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a triangulation of posenet triangulate (schema "
                         f"{SCHEMA})")
    if not all(isinstance(payload.get(k), list) for k in ("views", "frames")):
        raise ValueError(f"{path}: a triangulation without its views or frames")
    return payload


def has_3d(pred) -> bool:
    """Whether a predictions dict holds 3D joints (a 3D network's)."""
    return any(p.get("joints3d") is not None for f in pred["frames"] for p in f["people"])


def choose_camera(cameras, name, pred, pred_path=None):
    """The ``Camera`` named ``name``; None: the one named by the predictions' source's stem
    (``cam01.mp4``), else by ``pred_path``'s. ValueError when there is none."""
    by_name = {c.name: c for c in cameras}
    known = ", ".join(by_name)
    if name is None:
        stems = [stem(s) for s in (pred.get("source"), pred_path) if s]
        name = next((s for s in stems if s in by_name), None)
        if name is None:
            raise ValueError(f"the predictions' source {pred.get('source')!r} is not named "
                             f"after a camera: give its camera (known: {known})")
    if name not in by_name:
        raise ValueError(f"camera {name!r} is not in the calibration (known: {known})")
    return by_name[name]


def check_inputs(reference, pred, cameras, camera) -> list[str]:
    """Warnings about ``pred`` scored in ``camera`` against ``reference``; ValueError for
    what cannot be scored (other cameras or joints, another frame size)."""
    names = {c.name for c in cameras}
    unknown = [v.get("camera") for v in reference["views"] if v.get("camera") not in names]
    if unknown:
        raise ValueError(f"the reference was triangulated from cameras not in the "
                         f"calibration: {', '.join(map(str, unknown))}")
    if list(pred["skeleton"]["joints"]) != list(reference["skeleton"]["joints"]):
        raise ValueError(f"the predictions' joints ({pred['skeleton']['name']}) are not the "
                         f"reference's ({reference['skeleton']['name']})")
    if (int(pred["width"]), int(pred["height"])) != camera.size:
        raise ValueError(f"the predictions' frames are {pred['width']}x{pred['height']} px, "
                         f"camera {camera.name} is calibrated for "
                         f"{camera.size[0]}x{camera.size[1]} px")
    warnings = []
    if len(pred["frames"]) != len(reference["frames"]):
        warnings.append(f"{len(pred['frames'])} predicted frames, {len(reference['frames'])} "
                        "in the reference: the frames both have are scored")
    rates = {round(float(r), 3) for r in (pred.get("fps"), reference.get("fps")) if r}
    if len(rates) > 1:
        warnings.append(f"different frame rates ({', '.join(map(str, sorted(rates)))} "
                        "frames/s): frames are paired by index")
    return warnings


@dataclass
class Matches:
    """The predicted people matched to reference people (N person-frames, J joints).

    Attributes:
        frames, people, tracks: (N,) frame index, reference person id, predicted track.
        distance: (N,) median px distance of the match.
        pred3d: (N, J, 3) the predicted ``joints3d``, mm, camera axes, pelvis-relative.
        ref3d: (N, J, 3) the reference joints in the camera frame, mm (NaN: missing).
        pred2d, ref2d: (N, J, 2) predicted and projected reference px (cameras' pixel
            convention, the top-left pixel's centre at (0, 0)).
        own: (N, J) bool, the reference joint was triangulated with the scored view.
        counts: frames, predicted / matched / unmatched person-frames, matched without
            ``joints3d``, frames without a predicted person.
    """

    frames: np.ndarray
    people: np.ndarray
    tracks: np.ndarray
    distance: np.ndarray
    pred3d: np.ndarray
    ref3d: np.ndarray
    pred2d: np.ndarray
    ref2d: np.ndarray
    own: np.ndarray
    counts: dict


def _costs(xy, conf, projected, min_confidence):
    """(P, R) median px between predicted people and projected reference people, NaN
    where fewer than MIN_MATCH_JOINTS confident joints can be compared."""
    dist = np.linalg.norm(xy[:, None] - projected[None], axis=-1)  # (P, R, J)
    ok = (conf >= min_confidence)[:, None] & np.isfinite(dist)
    costs = np.full(dist.shape[:2], np.nan)
    for p, r in zip(*np.nonzero(ok.sum(axis=-1) >= MIN_MATCH_JOINTS), strict=True):
        costs[p, r] = np.median(dist[p, r][ok[p, r]])
    return costs


def _pairs(costs, max_distance):
    """Nearest (predicted, reference) pairs first, each side used once, within the limit."""
    pairs, taken_p, taken_r = [], set(), set()
    for k in np.argsort(costs, axis=None):  # NaN sorts last
        p, r = divmod(int(k), costs.shape[1])
        if not costs[p, r] <= max_distance:
            break
        if p not in taken_p and r not in taken_r:
            pairs.append((p, r))
            taken_p.add(p)
            taken_r.add(r)
    return pairs


def match_people(reference, pred, camera, track=None, max_distance=MAX_MATCH_PX,
                 min_confidence=MIN_CONFIDENCE) -> Matches:
    """The predicted people of ``pred`` (only track ``track`` when given) matched to the
    reference people, frame by frame (module docstring)."""
    J = len(reference["skeleton"]["joints"])
    names = [v.get("camera") for v in reference["views"]]
    view = names.index(camera.name) if camera.name in names else None
    by_frame = {int(f["index"]): f["people"] for f in reference["frames"]}
    counts = dict.fromkeys(("frames", "predicted", "matched", "unmatched", "without_3d",
                            "empty_frames"), 0)
    rows = []
    for frame in pred["frames"]:
        if int(frame["index"]) not in by_frame:
            continue  # beyond the reference
        counts["frames"] += 1
        people = [p for p in frame["people"] if track is None or int(p["track"]) == track]
        if not people:
            counts["empty_frames"] += 1
            continue
        refs = by_frame[int(frame["index"])]
        world = np.array([[[np.nan] * 3 if q is None else q for q in r["joints3d"]]
                          for r in refs], dtype=np.float64).reshape(-1, J, 3)
        projected = camera.project(world)
        joints = np.array([p["joints2d"] for p in people], dtype=np.float64).reshape(-1, J, 3)
        xy = joints[..., :2] - PIXEL_SHIFT
        costs = _costs(xy, joints[..., 2], projected, min_confidence)
        pairs = _pairs(costs, max_distance)
        counts["predicted"] += len(people)
        counts["matched"] += len(pairs)
        counts["unmatched"] += len(people) - len(pairs)
        for p, r in pairs:
            if people[p].get("joints3d") is None:
                counts["without_3d"] += 1
                continue
            own = [view is not None and view in used for used in refs[r]["views"]]
            rows.append((int(frame["index"]), int(refs[r]["id"]), int(people[p]["track"]),
                         float(costs[p, r]), np.array(people[p]["joints3d"], dtype=np.float64),
                         camera.to_camera(world[r]), xy[p], projected[r], np.array(own)))
    if not rows:
        empty = np.zeros((0, J, 3))
        return Matches(np.zeros(0, int), np.zeros(0, int), np.zeros(0, int), np.zeros(0),
                       empty, empty, empty[..., :2], empty[..., :2],
                       np.zeros((0, J), bool), counts)
    columns = list(zip(*rows, strict=True))
    return Matches(*(np.array(c) for c in columns[:4]), *(np.stack(c) for c in columns[4:]),
                   counts=counts)


def _value(x, digits=1):
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def _protocol(fn, pred, ref, valid, **kwargs):
    """``fn`` (mpjpe, pa_mpjpe) of the rows given, None when nothing can be scored."""
    try:
        return fn(pred, ref, valid=valid, **kwargs)
    except ValueError:  # no sample or no valid joint
        return None


def _median(values):
    return float(np.median(values)) if values.size else float("nan")


def score(matches, joint_names, fair=False) -> dict:
    """One variant's figures (``fair``: without the joints triangulated with the scored
    view): overall, per reference person and per joint; mm and px."""
    root = list(joint_names).index(ROOT)
    m = matches
    valid = np.isfinite(m.ref3d).all(-1) & np.isfinite(m.pred3d).all(-1)
    valid2d = np.isfinite(m.ref2d).all(-1) & np.isfinite(m.pred2d).all(-1)
    if fair:
        valid, valid2d = valid & ~m.own, valid2d & ~m.own
    scored = valid[:, root] & (valid.sum(axis=1) >= MIN_JOINTS_3D)
    # zeros where invalid: NaN would leak through the alignment's sums
    ref = np.where(valid[..., None], m.ref3d, 0.0)
    pred = np.where(valid[..., None], m.pred3d, 0.0)
    px = np.linalg.norm(m.pred2d - m.ref2d, axis=-1)

    def summary(rows):
        keep = rows & scored
        p1 = _protocol(mpjpe, pred[keep], ref[keep], valid[keep], root=root)
        p2 = _protocol(pa_mpjpe, pred[keep], ref[keep], valid[keep])
        return {"samples": int(keep.sum()), "samples_2d": int((rows & valid2d.any(1)).sum()),
                "mpjpe_mm": _value(p1 and p1["overall"]),
                "pa_mpjpe_mm": _value(p2 and p2["overall"]),
                "px_median": _value(_median(px[rows[:, None] & valid2d])),
                "joints": p1["count"] if p1 else 0}, p1, p2

    overall, p1, p2 = summary(np.ones(len(px), bool))
    per_joint = {}
    for j, name in enumerate(joint_names):
        per_joint[name] = {
            "mpjpe_mm": _value(p1["per_joint"][j]) if p1 else None,
            "pa_mpjpe_mm": _value(p2["per_joint"][j]) if p2 else None,
            "px_median": _value(_median(px[:, j][valid2d[:, j]])),
            "count": int((valid[:, j] & scored).sum())}
    per_person = {str(i): summary(m.people == i)[0] for i in np.unique(m.people)}
    return {"overall": overall, "per_person": per_person, "per_joint": per_joint,
            "excluded_joints": int((m.own & np.isfinite(m.ref3d).all(-1)).sum()) if fair else 0}


def evaluate_reference(reference, pred, camera, track=None,
                       max_distance=MAX_MATCH_PX) -> dict:
    """The report of ``pred`` (a predictions dict with ``joints3d``) seen by ``camera``
    scored against ``reference`` (a parsed ``triangulation.json``); module docstring."""
    joints = list(reference["skeleton"]["joints"])
    matches = match_people(reference, pred, camera, track, max_distance)
    views = [v.get("camera") for v in reference["views"]]
    report = {"schema": REPORT_SCHEMA, "camera": camera.name, "reference_views": views,
              "camera_in_reference": camera.name in views, "track": track,
              "max_distance_px": float(max_distance), "root": ROOT,
              "min_joints_3d": MIN_JOINTS_3D, "joints": joints, "counts": matches.counts,
              "match_px_median": _value(_median(matches.distance), 2),
              "variants": {v: score(matches, joints, fair=v == "without_view")
                           for v in VARIANTS}}
    if camera.name not in views:
        report["note"] = (f"the reference was triangulated without {camera.name}: every "
                          "frame is a fair test ('without_view' = 'all')")
    return report


def _cells(entry):
    def cell(key, width):
        value = entry[key]
        return f"{'-' if value is None else f'{value:.1f}':>{width}}"
    return f"{cell('mpjpe_mm', 8)} {cell('pa_mpjpe_mm', 9)} {cell('px_median', 7)}"


def format_table(report) -> str:
    """Plain text: the counts, then overall, per person and per joint, MPJPE and PA-MPJPE
    in mm, 2D median in px, and samples, for each variant (one if they are the same)."""
    c = report["counts"]
    variants = VARIANTS if report["camera_in_reference"] else VARIANTS[:1]
    lines = [f"camera {report['camera']} against the reference of "
             f"{', '.join(report['reference_views'])} (root {report['root']})",
             f"{c['frames']} frames: {c['matched']} of {c['predicted']} predicted people "
             f"matched (median {report['match_px_median']} px), {c['unmatched']} unmatched "
             f"(over {report['max_distance_px']:g} px), {c['empty_frames']} frames without "
             "a prediction"]
    if "note" in report:
        lines.append(report["note"])
    titles = {"all": "all frames", "without_view": f"reference without {report['camera']}"}
    header = f"{'':<14}" + "".join(f" | {titles[v]:^34}" for v in variants)
    columns = f"{'':<14}" + " |    MPJPE  PA-MPJPE   2D px samples" * len(variants)
    lines += ["", header, columns]

    def row(label, pick):
        cells = []
        for v in variants:
            entry = pick(report["variants"][v])
            count = entry.get("samples", entry.get("count"))
            cells.append(f" | {_cells(entry)} {count:>7}")
        return f"{label:<14}" + "".join(cells)

    lines.append(row("overall", lambda r: r["overall"]))
    for person in report["variants"]["all"]["per_person"]:
        lines.append(row(f"person {person}",
                         lambda r, p=person: r["per_person"].get(p, _EMPTY)))
    lines.append("")
    for joint in report["joints"]:
        lines.append(row(joint, lambda r, j=joint: r["per_joint"][j]))
    return "\n".join(lines) + "\n"


_EMPTY = {"mpjpe_mm": None, "pa_mpjpe_mm": None, "px_median": None, "samples": 0}

