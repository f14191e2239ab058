"""Views' 2D predictions -> people's 3D joints per frame in the world frame.

Each frame: the views' people (``docs/predictions_schema.md``; joints moved from posenet's
pixel convention to the cameras', ``x - 0.5``) are grouped across views (``association``),
each group gets an identity from its views' track ids, and its joints are triangulated
(``dlt``, all frames and joints in one batch). Each identity's trajectories then go
through the One Euro filter (``posenet.inference.smoothing``, the 3D parameters of
:class:`SmoothingConfig`, times ``frame / fps``: the views are frame-synchronised), and the
reprojection errors are measured again on the smoothed joints, in the views each joint
was triangulated from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from posenet.inference.smoothing import OneEuroFilter, SmoothingConfig
from posenet.skeleton import Skeleton, get_skeleton
from posenet.triangulation.association import (
    MAX_EPIPOLAR_PX,
    Identities,
    fundamental_matrices,
    group_people,
)
from posenet.triangulation.dlt import (
    MAX_ERROR_PX,
    MIN_CONFIDENCE,
    Triangulated,
    reprojection_errors,
    triangulate_views,
)

#: posenet's predictions put the top-left pixel's centre at (0.5, 0.5), cameras at (0, 0).
PIXEL_SHIFT = 0.5


@dataclass
class Triangulation:
    """People's 3D joints over frames (``pipeline`` module docstring).

    Attributes:
        cameras: the views' ``Camera``s (V).
        sources: the views' input paths.
        skeleton: the joint layout (J joints).
        fps: frames per second; frame ``f`` is at ``f / fps`` s.
        ids: the people's identities (N).
        points: (N, T, J, 3) world mm, NaN where a person or joint has no position.
        used: (N, T, J, V) bool, the views each joint was triangulated from.
        errors: (N, T, J, V) reprojection error in px of ``points`` in each used view
            (after smoothing), NaN elsewhere.
        raw_errors: the same for the joints as triangulated, before smoothing.
        tracks: per person, ``{view index: track id}`` (each view's most frequent track).
        settings: the options it was made with.
    """

    cameras: list
    sources: list[str]
    skeleton: Skeleton
    fps: float
    ids: list[int]
    points: np.ndarray
    used: np.ndarray
    errors: np.ndarray
    raw_errors: np.ndarray
    tracks: list[dict[int, int]]
    settings: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return self.points.shape[1]

    def present(self) -> np.ndarray:
        """(N, T) bool: the person has at least one joint in the frame."""
        return np.any(np.isfinite(self.points[..., 0]), axis=-1)

    def mean_errors(self, raw=False) -> np.ndarray:
        """(N, T, J) mean reprojection error over the views used, px (NaN: no joint)."""
        errors = self.raw_errors if raw else self.errors
        counts = self.used.sum(axis=-1)
        total = np.where(self.used, errors, 0.0).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, total / counts, np.nan)


    def summary(self) -> str:
        """One line: the people, frames, and the joints' reprojection errors and views."""
        errors = self.mean_errors()
        ok = np.isfinite(errors)
        if not ok.any():
            return f"nobody triangulated over {self.num_frames} frames"
        views = self.used.sum(axis=-1)[ok]
        people = int(self.present().any(axis=1).sum())
        return (f"{people} {'person' if people == 1 else 'people'} over {self.num_frames} "
                f"frames; reprojection error per joint: median {np.median(errors[ok]):.1f} "
                f"px, 90th percentile {np.percentile(errors[ok], 90):.1f} px; views per "
                f"joint: mean {views.mean():.2f}")


def _skeleton(predictions) -> Skeleton:
    layouts = {tuple(p["skeleton"]["joints"]) for p in predictions}
    if len(layouts) != 1:
        raise ValueError("the views' predictions have different skeletons: "
                         + ", ".join(sorted({p["skeleton"]["name"] for p in predictions})))
    skeleton = get_skeleton(predictions[0]["skeleton"]["name"])
    if skeleton.joints != next(iter(layouts)):
        raise ValueError(f"the predictions' joints differ from {skeleton.name}'s")
    return skeleton


def _people(frame, num_joints):
    """(tracks (P,), joints (P, J, 3) in the cameras' px convention) of one frame."""
    people = frame["people"] if frame is not None else []
    joints = np.array([p["joints2d"] for p in people], dtype=np.float64).reshape(-1, num_joints, 3)
    joints[..., :2] -= PIXEL_SHIFT
    return [int(p["track"]) for p in people], joints


def _groups(predictions, cameras, num_frames, max_epipolar, min_confidence):
    """Per frame, the groups of people across views: ``(frame, identity, {view: track},
    px (V, J, 2), confidence (V, J))`` items."""
    matrices = fundamental_matrices(cameras)
    identities = Identities()
    num_joints = len(predictions[0]["skeleton"]["joints"])
    found = []
    for f in range(num_frames):
        views = [_people(p["frames"][f] if f < len(p["frames"]) else None, num_joints)
                 for p in predictions]
        people = []
        for camera, (_, joints) in zip(cameras, views, strict=True):
            undistorted = camera.undistort_points(joints[..., :2], pixels=True)
            people.append(np.concatenate([undistorted, joints[..., 2:]], axis=-1))
        groups, _ = group_people(people, matrices, max_epipolar, min_confidence)
        tracks = [{v: views[v][0][i] for v, i in g.items()} for g in groups]
        ids = identities.assign([set(t.items()) for t in tracks])
        for ident, group, track in zip(ids, groups, tracks, strict=True):
            if ident is None:
                continue
            px = np.full((len(cameras), num_joints, 2), np.nan)
            conf = np.zeros((len(cameras), num_joints))
            for v, i in group.items():
                px[v], conf[v] = views[v][1][i, :, :2], views[v][1][i, :, 2]
            found.append((f, ident, track, px, conf))
    return found


def smooth(points, fps, config: SmoothingConfig | None) -> np.ndarray:
    """(T, J, 3) mm trajectories through the One Euro filter's 3D parameters, frame ``f``
    at ``f / fps`` s; NaN stays NaN. ``config`` None: unchanged."""
    if config is None:
        return points.copy()
    one_euro = OneEuroFilter(config.min_cutoff_3d, config.beta_3d, config.d_cutoff,
                             config.reset_after)
    return np.stack([one_euro(frame, f / fps) for f, frame in enumerate(points)])


def triangulate_predictions(predictions, cameras, sources=None, multi_person=True,
                            max_error=MAX_ERROR_PX, min_confidence=MIN_CONFIDENCE,
                            max_epipolar=MAX_EPIPOLAR_PX, smoothing="default",
                            num_frames=None) -> Triangulation:
    """People's 3D joints from the views' predictions (module docstring).

    Args:
        predictions: one predictions dict per view (``posenet infer``'s, same skeleton),
            frame ``f`` of each taken at the same time.
        cameras: the ``Camera`` of each view, in the same order.
        sources: the views' input paths (default: the predictions' ``source``).
        multi_person: everyone seen in 2 views or more; False: only the person of most
            joint views over the frames (everyone is still associated and followed first:
            one person per view, chosen in each view alone, is not the same person in all).
        max_error: px, see ``dlt``; min_confidence: see ``dlt``; max_epipolar: px, see
            ``association``.
        smoothing: a :class:`SmoothingConfig` (``"default"``: its defaults), or None.
        num_frames: frames to use (default: the shortest view's).
    """
    if len(predictions) != len(cameras) or len(cameras) < 2:
        raise ValueError(f"need one camera per view and 2 views or more, got "
                         f"{len(predictions)} views and {len(cameras)} cameras")
    skeleton = _skeleton(predictions)
    shortest = min(len(p["frames"]) for p in predictions)
    num_frames = shortest if num_frames is None else min(int(num_frames), shortest)
    fps = float(predictions[0].get("fps") or 30.0)
    config = SmoothingConfig() if smoothing == "default" else smoothing
    found = _groups(predictions, cameras, num_frames, max_epipolar, min_confidence)
    ids = sorted({item[1] for item in found})
    V, J = len(cameras), skeleton.num_joints
    px = np.full((len(ids), num_frames, J, V, 2), np.nan)
    conf = np.zeros((len(ids), num_frames, J, V))
    votes = [Counter() for _ in ids]
    row = {ident: k for k, ident in enumerate(ids)}
    for f, ident, track, obs, weights in found:
        px[row[ident], f] = obs.transpose(1, 0, 2)
        conf[row[ident], f] = weights.T
        votes[row[ident]].update(track.items())
    result = triangulate_views(cameras, px, conf, min_confidence, max_error)
    if not multi_person and ids:
        keep = [int(np.argmax(result.used.sum(axis=(1, 2, 3))))]
        ids, votes, px = [ids[keep[0]]], [votes[keep[0]]], px[keep]
        result = Triangulated(result.points[keep], result.used[keep], result.errors[keep])
    points = np.stack([smooth(p, fps, config) for p in result.points]) if ids else result.points
    errors = np.where(result.used, reprojection_errors(cameras, points, px), np.nan)
    tracks = []
    for counter in votes:
        best = {}
        for (view, track), _ in counter.most_common():
            best.setdefault(view, track)
        tracks.append(dict(sorted(best.items())))
    finite = max_error is not None and np.isfinite(max_error)
    settings = {"multi_person": bool(multi_person),
                "max_error_px": float(max_error) if finite else None,
                "min_confidence": min_confidence, "max_epipolar_px": max_epipolar,
                "smoothing": config is not None}
    return Triangulation(cameras=list(cameras),
                         sources=list(sources or [p.get("source", "") for p in predictions]),
                         skeleton=skeleton, fps=fps, ids=ids, points=points,
                         used=result.used, errors=errors, raw_errors=result.errors,
                         tracks=tracks, settings=settings)
