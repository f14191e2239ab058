"""MPII Human Pose reader: ``mpii_human_pose_v1_u12_1.mat`` (MATLAB v5, struct ``RELEASE``).

Used fields: ``annolist(i).image.name``; ``annolist(i).annorect(r)`` with
``annopoints.point(p)`` (``x``, ``y`` in pixels, ``id`` 0-15 in the ``mpii`` layout,
``is_visible``), ``scale`` (person height / 200 px), ``objpos.x/.y`` (rough person centre,
pixels) and the head box ``x1 y1 x2 y2`` (pixels); ``img_train(i)`` (1 train, 0 test);
``single_person(i)`` (1-based indices of the image's well-separated persons).

Semantics: a joint is annotated (``valid``) when its id appears in the person's point
list; every other joint is absent (NaN).  ``is_visible`` is 1/0 as a number or a string,
and is sometimes empty: an empty flag is read as *not* visible (unknown), but the joint
stays valid because its position is annotated.  Test-set persons have no points, only
``objpos`` and ``scale``; fields a person lacks are NaN.

MATLAB squeezing is undone: a single ``annorect`` or ``point`` is a struct, not an
array, and a cell of ``single_person`` holding one index is a scalar.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from posenet.data.readers._common2d import load_mat, require_dir, require_file

MPII_HINT = (
    "download 'MPII Human Pose Dataset' annotations (mpii_human_pose_v1_u12_2.zip, "
    "human-pose.mpi-inf.mpg.de) and images (mpii_human_pose_v1.tar.gz)"
)
NUM_JOINTS = 16


@dataclass(frozen=True)
class MpiiPerson:
    """One annotated rectangle (person) of MPII in the dataset's 16-joint ``mpii`` layout.

    ``image``: image path (joined to ``images_dir`` when given, else the bare name);
    ``image_index``, ``rect``: 0-based image and person indices in the release;
    ``joints`` (16, 2) float32 x, y pixels, NaN where absent; ``visible``, ``valid``
    (16,) bool; ``head_box`` (4,) float32 x1, y1, x2, y2 pixels; ``scale``: person
    height / 200 px; ``center`` (2,) float32 ``objpos`` in pixels; ``train``: from
    ``img_train``; ``single``: listed in ``single_person``.
    """

    image: str
    image_index: int
    rect: int
    joints: np.ndarray
    visible: np.ndarray
    valid: np.ndarray
    head_box: np.ndarray
    scale: float
    center: np.ndarray
    train: bool
    single: bool
    layout: str = "mpii"


def read_mpii(mat_path, images_dir=None) -> list[MpiiPerson]:
    """Every person of every image of the MPII release, in release order."""
    mat_path = require_file(mat_path, "MPII annotation file", MPII_HINT)
    if images_dir is not None:
        images_dir = os.path.abspath(require_dir(images_dir, "MPII images folder", MPII_HINT))
    mat = load_mat(mat_path, struct_as_record=False, squeeze_me=True)
    try:
        release = mat["RELEASE"]
        annolist = _items(release.annolist)
        img_train = np.atleast_1d(np.asarray(release.img_train)).reshape(-1)
        single = release.single_person
    except (KeyError, AttributeError) as e:
        raise ValueError(f"{mat_path}: not an MPII release (missing {e})") from e
    n = len(annolist)
    if img_train.size != n:
        raise ValueError(f"{mat_path}: {n} images but {img_train.size} img_train flags")
    # With one image squeeze_me unwraps the whole cell array to its only cell.
    cells = [single] if n == 1 else list(np.asarray(single, dtype=object).reshape(-1))
    if len(cells) != n:
        raise ValueError(f"{mat_path}: {n} images but {len(cells)} single_person cells")

    persons = []
    for i, anno in enumerate(annolist):
        try:
            name = str(anno.image.name)
            singles = {int(k) - 1 for k in np.atleast_1d(np.asarray(cells[i])).reshape(-1)}
            rects = _items(getattr(anno, "annorect", None))
            for r, rect in enumerate(rects):
                persons.append(
                    _person(rect, name, images_dir, i, r, bool(img_train[i]), r in singles)
                )
        except (AttributeError, TypeError, ValueError) as e:
            raise ValueError(f"{mat_path}: annolist({i + 1}) is malformed ({e})") from e
    return persons


def _person(rect, name, images_dir, i, r, train, single) -> MpiiPerson:
    joints = np.full((NUM_JOINTS, 2), np.nan, dtype=np.float32)
    visible = np.zeros(NUM_JOINTS, dtype=bool)
    points = getattr(rect, "annopoints", None)
    for p in _items(getattr(points, "point", None)):
        jid = int(p.id)
        if not 0 <= jid < NUM_JOINTS:
            raise ValueError(f"joint id {jid} outside 0..{NUM_JOINTS - 1}")
        joints[jid] = (float(p.x), float(p.y))
        visible[jid] = _flag(getattr(p, "is_visible", None))
    valid = np.isfinite(joints).all(axis=1)
    objpos = getattr(rect, "objpos", None)
    center = np.array([_num(getattr(objpos, "x", None)), _num(getattr(objpos, "y", None))])
    head = np.array([_num(getattr(rect, k, None)) for k in ("x1", "y1", "x2", "y2")])
    return MpiiPerson(
        image=os.path.join(images_dir, name) if images_dir else name,
        image_index=i,
        rect=r,
        joints=joints,
        visible=visible & valid,
        valid=valid,
        head_box=head.astype(np.float32),
        scale=_num(getattr(rect, "scale", None)),
        center=center.astype(np.float32),
        train=train,
        single=single,
    )


def _items(value) -> list:
    """A squeezed MATLAB struct array as a list: struct -> [struct], empty -> []."""
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        return list(value.reshape(-1)) if value.dtype == object else []
    return [value]


def _num(value) -> float:
    """A squeezed MATLAB number; empty or absent -> NaN."""
    if value is None:
        return float("nan")
    arr = np.asarray(value)
    if arr.size == 0:
        return float("nan")
    if arr.size != 1 or arr.dtype.kind not in "fiub":
        raise ValueError(f"expected a number, got {value!r}")
    return float(arr.reshape(-1)[0])


def _flag(value) -> bool:
    """``is_visible`` (1/0, '1'/'0', True/False or empty = unknown) as a bool."""
    arr = np.asarray(value if value is not None else [])
    if arr.size == 0:
        return False
    item = arr.reshape(-1)[0]
    if isinstance(item, str | bytes):
        item = item.decode() if isinstance(item, bytes) else item
        return item.strip() not in ("", "0")
    return bool(item)


def mpii_single_person_split(persons, num_val: int = 3000, seed: int = 0) -> dict[str, np.ndarray]:
    """The single-person training and validation split, as indices into ``persons``.

    Candidates are the persons of training images listed in ``single_person`` with at
    least one annotated joint.  The standard 2,958-person validation subset needs its
    own file, which is not part of the release, so validation is instead a deterministic
    hold-out: training images are shuffled with ``numpy.random.default_rng(seed)`` and
    whole images are taken until at least ``num_val`` persons are held out (whole images,
    so no image is in both parts).  ``train`` is every other candidate.  Both arrays are
    sorted int64.
    """
    cand = [k for k, p in enumerate(persons) if p.train and p.single and bool(np.any(p.valid))]
    images = sorted({persons[k].image_index for k in cand})
    order = np.random.default_rng(seed).permutation(len(images))
    per_image: dict[int, int] = {}
    for k in cand:
        per_image[persons[k].image_index] = per_image.get(persons[k].image_index, 0) + 1
    held, count = set(), 0
    for j in order:
        if count >= num_val:
            break
        held.add(images[j])
        count += per_image[images[j]]
    val = [k for k in cand if persons[k].image_index in held]
    train = [k for k in cand if persons[k].image_index not in held]
    return {"train": np.array(train, dtype=np.int64), "validation": np.array(val, dtype=np.int64)}
