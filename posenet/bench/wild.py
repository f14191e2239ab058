"""Right on video from the wild? Composite clips of LSPet people and how to score them.

The clips (:mod:`posenet.render.composite`) put real LSPet *training* people (images
1-8000 only; 8001-9000 is the validation split of the reported numbers) off centre on wide
outdoor scenes with a bright light near the centre, entering late, leaving and coming
back, small and far, or two at once. :func:`score_clip` scores a predictions dict of
``posenet infer`` against a clip's truth; every distance is in units of the person's LSP
torso (left shoulder to right hip of the truth, the other diagonal where that one is
missing: ``posenet.metrics.torso_normaliser``, as ``evaluation.protocols.pck_torso``).

- **frames right**: of the *scored units* (single-person: frames where a person is
  visible; multi-person: visible person-frames), the share where the reported person has
  at least :data:`RIGHT_LIMBS` of the 12 limb joints (shoulders, elbows, wrists, hips,
  knees, ankles) within :data:`PCK_ALPHA` torso of the truth (a limb joint outside the
  frame cannot be right). "Visible" is the truth's: at least 10 limb joints in the frame.
  Single-person: the one reported person against the visible person it matches best;
  multi-person: each visible person against a reported person, matched one to one, best
  first (most joints right, then least mean error).
- **person found**: the same with :data:`GROSS_ALPHA` instead of :data:`PCK_ALPHA`: the
  reported person is the right one, roughly in the right pose (finding and following,
  apart from the pose network's precision; the shipped network has PCK@0.2 64.7 % on
  LSPet validation, so "frames right" of a person it gets wrong stays low however well
  the person is found: compare the ``true box`` configuration of ``posenet bench --wild``).
- **person missed**: scored units with nobody reported (or, multi-person, no reported
  person left to match). They count as not right, and are *not* part of the gross errors.
- **gross-error share**: of the in-frame annotated limb joints of the matched reported
  people, the share more than :data:`GROSS_ALPHA` torso off.
- **false people**: of the frames where nobody is in the frame at all, those where
  someone is reported. Frames where a person is only partly in are not scored.

Joint confidences are not used: a reported joint is a position.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from posenet.render.composite import KINDS, LAYOUT, LIMB_JOINTS, write_clip
from posenet.skeleton import get_skeleton

DEFAULT_LSPET = os.path.join("..", "shared", "data", "lspet")
PCK_ALPHA = 0.2
GROSS_ALPHA = 0.5
RIGHT_LIMBS = 10
#: The counts of a score (:func:`score_clip`).
KEYS = ("units", "right", "found", "missed", "joints", "gross", "empty", "false")
#: The clips of ``posenet bench --wild``: (kind, seed).
WILD_CLIPS: tuple[tuple[str, int], ...] = (("offcentre_flare", 1), ("enters_late", 2),
                                           ("leaves_and_returns", 3), ("small_far", 4),
                                           ("two_people", 5))


@functools.lru_cache(maxsize=2)
def lspet_people(folder=DEFAULT_LSPET) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(image paths, lsp joints (N, 14, 2), valid (N, 14)) of the LSPet *training* people
    (images 1-8000) fit to walk through a clip: all 14 joints annotated, at least 100 px
    tall in the photo, as tall as 1.3 times their width, and standing upright (from the top:
    head top, neck, shoulders, hips, knees, ankles; each thigh at least half the torso
    tall, not foreshortened). Gymnasts upside down, hurdlers and long jumpers are left
    out: the clips measure finding and following people who walk, not hard poses.
    FileNotFoundError / ValueError from the LSP reader."""
    from posenet.data.readers.lsp import LSPET_TRAIN_END, read_lsp

    data = read_lsp(os.fspath(folder), extended=True, allow_missing_images=True)
    train = data.indices < LSPET_TRAIN_END
    joints, valid = data.joints[train], data.valid[train]
    images = [name for name, keep in zip(data.images, train, strict=True) if keep]
    with np.errstate(invalid="ignore"):
        wide = np.nanmax(joints, 1) - np.nanmin(joints, 1) if len(joints) else joints[:, 0]
        y = joints[..., 1]  # lsp: 0-5 r/l ankle, knee, hip; 8, 9 shoulders; 12 neck; 13 head
        hips, knees = y[:, [2, 3]], y[:, [1, 4]]
        torso = hips.mean(1) - y[:, [8, 9]].mean(1)
        upright = ((y[:, 13] < y[:, 12]) & (y[:, 12] < y[:, [8, 9]].min(1) + 5)
                   & (y[:, [8, 9]].max(1) < hips.min(1)) & (hips.max(1) < knees.min(1))
                   & (y[:, 1] < y[:, 0]) & (y[:, 4] < y[:, 5])
                   & ((knees - hips).min(1) > 0.5 * torso))
        keep = np.flatnonzero(valid.all(1) & upright & (wide[:, 1] >= 1.3 * wide[:, 0])
                              & (wide[:, 1] >= 100))
    if not len(keep):
        raise ValueError(f"{folder}: no upright, fully annotated LSPet training person")
    return tuple(images[i] for i in keep), joints[keep], valid[keep]


def clip_people(kind, seed, lspet_folder=DEFAULT_LSPET):
    """(people, photo) of a clip: ``KINDS[kind]`` LSPet people and a backdrop photo with
    its person's box, all different, drawn by ``seed``."""
    import cv2

    images, joints, valid = lspet_people(os.fspath(lspet_folder))
    rng = np.random.default_rng([int(seed), list(KINDS).index(kind)])
    picks = rng.choice(len(images), KINDS[kind] + 1, replace=False)
    loaded = []
    for i in picks:
        image = cv2.imread(images[i])
        if image is None:
            raise FileNotFoundError(f"{images[i]}: cannot read the image")
        loaded.append((image, joints[i], valid[i]))
    box = np.concatenate([joints[picks[-1]].min(0), joints[picks[-1]].max(0)])
    pad = 0.3 * (box[2:] - box[:2]).max()
    return loaded[:-1], (loaded[-1][0], box + [-pad, -pad, pad, pad])


def wild_clip(kind, seed, base, num_frames=90, size=(960, 540), fps=30.0,
              lspet_folder=DEFAULT_LSPET) -> dict:
    """Write the composite clip ``kind`` of ``seed`` made of LSPet training people to
    ``<base>.mp4`` (or ``.avi``) and ``<base>_truth.npz``; returns its truth
    (``posenet.render.composite.write_clip``)."""
    people, photo = clip_people(kind, seed, lspet_folder)
    return write_clip(base, kind, people, seed, num_frames, size, fps, photo)


def _limb_index(layout) -> np.ndarray:
    skel = get_skeleton(layout)
    return np.array([skel.index(name) for name in LIMB_JOINTS])


def limb_errors(pred_xy, truth_xy, truth_valid, torso) -> np.ndarray:
    """(12,) distances of the limb joints in torso units: NaN where the truth joint is not
    valid (not annotated or outside the frame), inf where the prediction is not finite.
    ``pred_xy``, ``truth_xy`` (12, 2) px, ``truth_valid`` (12,) bool."""
    dist = np.linalg.norm(np.asarray(pred_xy, float) - np.asarray(truth_xy, float), axis=-1)
    dist = np.where(np.isfinite(dist), dist / float(torso), np.inf)
    return np.where(np.asarray(truth_valid, bool), dist, np.nan)


def _rank(err):
    """Sort key of a match: most joints right, then least mean error."""
    finite = err[np.isfinite(err)]
    return (-int(np.sum(err <= PCK_ALPHA)), float(finite.mean()) if len(finite) else np.inf)


def score_clip(predictions, truth, multi_person=False) -> dict:
    """Score ``predictions`` (a ``posenet infer`` dict, ``model17`` or ``model16``) against
    a clip's ``truth`` (:func:`posenet.render.composite.composite_clip`'s arrays); see the
    module docstring. Returns the counts and shares (:func:`summarise`)."""
    frames = predictions["frames"]
    visible, present = np.asarray(truth["visible"]), np.asarray(truth["present"])
    if len(frames) < len(visible):
        raise ValueError(f"{len(frames)} predicted frames for {len(visible)} truth frames")
    pick = _limb_index(predictions["skeleton"]["name"])
    limbs = _limb_index(truth.get("layout", LAYOUT))
    gt = np.asarray(truth["joints"])[..., limbs, :]
    gt_valid = np.asarray(truth["valid"])[..., limbs]
    counts = dict.fromkeys(KEYS, 0)

    def judge(err):
        counts["right"] += int(np.sum(err <= PCK_ALPHA) >= RIGHT_LIMBS)
        counts["found"] += int(np.sum(err <= GROSS_ALPHA) >= RIGHT_LIMBS)
        counts["joints"] += int(np.sum(~np.isnan(err)))
        counts["gross"] += int(np.sum(err > GROSS_ALPHA))

    for t in range(len(visible)):
        reported = [np.asarray(p["joints2d"], float)[pick, :2] for p in frames[t]["people"]]
        if not present[t].any():
            counts["empty"] += 1
            counts["false"] += bool(reported)
            continue
        targets = np.flatnonzero(visible[t])
        errs = {(p, q): limb_errors(reported[q], gt[t, p], gt_valid[t, p],
                                    truth["torso"][t, p])
                for p in targets for q in range(len(reported))}
        if not multi_person:
            if not len(targets):
                continue
            counts["units"] += 1
            if not reported:
                counts["missed"] += 1
            else:
                judge(min((errs[p, 0] for p in targets), key=_rank))
            continue
        counts["units"] += len(targets)
        taken, matched = set(), set()
        for p, q in sorted(errs, key=lambda pq: _rank(errs[pq])):
            if p not in matched and q not in taken:
                matched.add(p)
                taken.add(q)
                judge(errs[p, q])
        counts["missed"] += len(targets) - len(matched)
    return summarise(counts)


def summarise(counts) -> dict:
    """The counts with their shares: ``frames_right`` = right / units, ``found_share``,
    ``missed_share``, ``gross_share`` = gross / joints, ``false_share`` = false / empty
    (NaN over 0)."""
    counts = {k: int(counts[k]) for k in KEYS}

    def share(a, b):
        return counts[a] / counts[b] if counts[b] else float("nan")

    return {**counts, "frames_right": share("right", "units"),
            "found_share": share("found", "units"),
            "missed_share": share("missed", "units"), "gross_share": share("gross", "joints"),
            "false_share": share("false", "empty")}


def combine(scores) -> dict:
    """One score of several clips' (their counts added)."""
    return summarise({k: sum(s[k] for s in scores) for k in KEYS})
