"""Which detected people in different views are the same person, and who they are over time.

**Across views, in one frame.** Two people seen in views ``a`` and ``b`` are the same
person when their joints lie on each other's epipolar lines. Their distance is the median,
over the joints confident (>= ``min_confidence``) in both, of the symmetric epipolar
distance ``(d(x_b, F x_a) + d(x_a, F^T x_b)) / 2`` in undistorted px (``F``: the pair's
fundamental matrix); with fewer than :data:`MIN_COMMON_JOINTS` such joints the distance is
unknown (inf). The median, not the mean: a few swapped or occluded joints of the right
person must not outweigh the others. Groups are then built greedily: every person starts
alone; the pairs of people (in different views) closer than ``max_distance`` are taken
nearest first, and a pair's two groups merge when they share no view and the mean
distance between their members (over the pairs of members whose distance is known) is
under ``max_distance``. Groups seen in at least 2 views are people to triangulate.

:data:`MAX_EPIPOLAR_PX`: 60 px. On the Pose2Sim multi-person recording (1088 x 1920 px,
four views, the two people seen in 3-4 views, 100 frames, posenet's predictions) the same
person's distance between two views was median 15 px, 90th percentile 46, 95th 66, 99th
98; two different people's median 216 px, but 5% under 33 px: two people on one epipolar
plane of a pair of views are as close as the same person. A third view tells them apart,
as the merge counts every pair of members. With the mean over joints instead of the median
the same person's 95th percentile was 114 px, and the man who crosses in front of the
woman lost one view in 64 of the 100 frames (30 with the median; in the frames looked at,
his crop in that view also held the woman, and his joints there were off).

**Over time.** A group carries each view's track id (``posenet infer``'s tracks).
:class:`Identities` gives it the identity that its ``(view, track)`` pairs were given most
often in earlier frames (a majority vote, so one view's track switch is outvoted by the
others), each identity to at most one group a frame (``linear_sum_assignment`` on the
votes); a group none of whose pairs has been seen gets a new identity, and one whose
pairs voted only for identities given to other groups is a piece of a person split across
two groups that frame: it is left out (it would otherwise become a person of one frame).
"""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict

import numpy as np
from scipy.optimize import linear_sum_assignment

from posenet.triangulation.camera import fundamental_matrix

#: Symmetric epipolar distance in px over which two people are not the same (module).
MAX_EPIPOLAR_PX = 60.0
#: Joints confident in both views needed to compare two people.
MIN_COMMON_JOINTS = 3


def fundamental_matrices(cameras) -> dict[tuple[int, int], np.ndarray]:
    """``{(a, b): F}`` for every pair of views ``a < b`` (:func:`fundamental_matrix`)."""
    return {(a, b): fundamental_matrix(cameras[a], cameras[b])
            for a in range(len(cameras)) for b in range(a + 1, len(cameras))}


def _line_distance(lines, points) -> np.ndarray:
    """Distance in px of (..., 2) points to (..., 3) homogeneous lines."""
    norm = np.hypot(lines[..., 0], lines[..., 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(np.sum(lines[..., :2] * points, axis=-1) + lines[..., 2]) / norm


def epipolar_distance(F, xa, xb) -> np.ndarray:
    """(...,) symmetric epipolar distance in px of undistorted px ``xa`` (..., 2) in view
    a and ``xb`` (..., 2) in view b, ``F`` from a to b (``x_b^T F x_a = 0``)."""
    ha = np.concatenate([xa, np.ones(xa.shape[:-1] + (1,))], axis=-1)
    hb = np.concatenate([xb, np.ones(xb.shape[:-1] + (1,))], axis=-1)
    return 0.5 * (_line_distance(ha @ F.T, xb) + _line_distance(hb @ F, xa))


def person_distances(F, people_a, people_b, min_confidence) -> np.ndarray:
    """(Pa, Pb) mean symmetric epipolar distance in px between each person of view a and
    each of view b (inf with under :data:`MIN_COMMON_JOINTS` joints confident in both).

    ``people_*``: (P, J, 3) undistorted px and confidence."""
    a = np.asarray(people_a, dtype=np.float64)[:, None]
    b = np.asarray(people_b, dtype=np.float64)[None, :]
    distance = epipolar_distance(F, a[..., :2], b[..., :2])  # (Pa, Pb, J)
    both = (a[..., 2] >= min_confidence) & (b[..., 2] >= min_confidence) & np.isfinite(distance)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: no joint in common
        median = np.nanmedian(np.where(both, distance, np.nan), axis=-1)
    return np.where(both.sum(axis=-1) >= MIN_COMMON_JOINTS, median, np.inf)


def group_people(people, matrices, max_distance=MAX_EPIPOLAR_PX, min_confidence=0.3):
    """Groups of the same person across views, in one frame (module docstring).

    Args:
        people: per view, a (P_v, J, 3) array of undistorted px and confidences.
        matrices: :func:`fundamental_matrices` of the views.

    Returns:
        ``(groups, costs)``: each group a dict ``{view: person index}`` with 2 views or
        more, the groups with most views first; ``costs`` each group's mean distance, px.
    """
    distance = {}
    for (a, b), F in matrices.items():
        if len(people[a]) and len(people[b]):
            found = person_distances(F, people[a], people[b], min_confidence)
            for i, k in zip(*np.nonzero(np.isfinite(found)), strict=True):
                distance[(a, int(i)), (b, int(k))] = float(found[i, k])
    pair_cost = dict(distance)
    pair_cost.update({(q, p): d for (p, q), d in distance.items()})
    group_of = {(v, i): (v, i) for v, found in enumerate(people) for i in range(len(found))}
    members = {node: [node] for node in group_of}

    def linkage(ga, gb):
        known = [pair_cost[p, q] for p in members[ga] for q in members[gb]
                 if (p, q) in pair_cost]
        return sum(known) / len(known) if known else np.inf

    for (p, q), d in sorted(distance.items(), key=lambda item: item[1]):
        if d >= max_distance:
            break
        ga, gb = group_of[p], group_of[q]
        if ga == gb or {v for v, _ in members[ga]} & {v for v, _ in members[gb]}:
            continue
        if linkage(ga, gb) >= max_distance:
            continue
        for node in members[gb]:
            group_of[node] = ga
        members[ga] += members.pop(gb)
    groups = []
    for found in members.values():
        if len(found) >= 2:
            cost = [pair_cost[p, q] for p in found for q in found
                    if p < q and (p, q) in pair_cost]
            groups.append((dict(sorted(found)), float(np.mean(cost)) if cost else np.inf))
    groups.sort(key=lambda item: (-len(item[0]), item[1]))
    return [g for g, _ in groups], [c for _, c in groups]


class Identities:
    """Identities of the groups of successive frames, by their views' track ids (module
    docstring): ``assign(groups)`` with each group a set of ``(view, track)`` pairs."""

    def __init__(self):
        self.votes: dict[tuple[int, int], Counter] = defaultdict(Counter)
        self.count = 0

    def assign(self, groups) -> list[int | None]:
        """The identity of each group of one frame (new ones numbered 0, 1, ...; None for
        a piece of a person placed already, left out)."""
        groups = [list(g) for g in groups]
        known = sorted({i for g in groups for pair in g for i in self.votes.get(pair, ())})
        ids = [-1] * len(groups)
        if groups and known:
            score = np.array([[sum(self.votes[pair][i] for pair in g if pair in self.votes)
                               for i in known] for g in groups], dtype=np.float64)
            rows, cols = linear_sum_assignment(score, maximize=True)
            for r, c in zip(rows, cols, strict=True):
                if score[r, c] > 0:
                    ids[r] = known[c]
            # a group left without the identity it voted for is a piece of a person
            # placed already (their views split in two groups): left out this frame
            for r in range(len(groups)):
                if ids[r] < 0 and score[r].any():
                    ids[r] = None
        for k, g in enumerate(groups):
            if ids[k] is None:
                continue
            if ids[k] < 0:
                ids[k], self.count = self.count, self.count + 1
            for pair in g:
                self.votes[pair][ids[k]] += 1
        return ids
