"""How often the Predictor reports a person on frames without anyone.

:func:`empty_frames` draws, from one seed, frames that hold nobody: flat colours, sky
gradients, plain walls (a flat colour with faint texture), procedural backgrounds, fully
transparent PNGs read as ``posenet infer`` reads them (OpenCV drops the alpha), tiny
frames, very dark and washed-out outdoor scenes, uniform noise, outdoor parks with and
without a light (``posenet.render.outdoor``) and, when the LSPet photos are there, photo
backdrops beside their annotated person (blurred, as ``posenet bench --wild`` draws them;
a photo may show someone unannotated in its background). :func:`reported` runs each frame
through ``Predictor.predict_image`` and counts the frames with a person reported;
:func:`people_kept` counts the LSPet validation photos with one::

    posenet tools empty-frames --data ../shared/data

The caller builds the Predictor (``posenet.inference.Predictor(weights)``).
"""

from __future__ import annotations

import os
import tempfile

import cv2
import numpy as np

from posenet.render import outdoor
from posenet.render.background import random_background

#: The kinds of :func:`empty_frames`, in order.
KINDS = ("flat", "sky", "wall", "background", "transparent", "tiny", "dark", "washed",
         "noise", "park", "photo")
#: The sizes (width, height) of the tiny frames.
TINY_SIZES = ((8, 8), (32, 24), (48, 48), (64, 48), (40, 30))


def _size(rng):
    return int(rng.integers(160, 800)), int(rng.integers(120, 600))  # width, height


def _sky(rng, size):
    width, height = size
    top, low = rng.uniform(60, 250, 3), rng.uniform(150, 255, 3)
    t = np.linspace(0.0, 1.0, height)[:, None, None]
    return np.broadcast_to(top + t * (low - top), (height, width, 3))


def _wall(rng, size):
    width, height = size
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0),
                             float(rng.uniform(0.5, 3.0)))
    grain *= float(rng.uniform(2, 8)) / max(float(grain.std()), 1e-6)
    return rng.uniform(30, 240, 3) + grain[..., None]


def _park(rng, size):
    img = outdoor.park(rng, size)
    if rng.random() < 0.5:  # a sun flare, glare or a lamp near the centre
        kind = outdoor.LIGHTS[int(rng.integers(len(outdoor.LIGHTS)))]
        centre = (size[0] * rng.uniform(0.3, 0.7), size[1] * rng.uniform(0.3, 0.7))
        img = img + outdoor.light(kind, rng, size, centre, min(size) * rng.uniform(0.03, 0.08),
                                  img)
    return img


def _transparent(rng, size, folder):
    """A fully transparent PNG (colour channels black, a flat colour or a gradient) read as
    ``posenet.inference.sources`` reads an image."""
    width, height = size
    pick = int(rng.integers(3))
    colour = (np.zeros((height, width, 3)) if pick == 0 else
              np.full((height, width, 3), rng.uniform(0, 255, 3)) if pick == 1 else
              _sky(rng, size))
    alpha = np.zeros((height, width, 1))
    path = os.path.join(folder, "clear.png")
    cv2.imwrite(path, np.concatenate([colour, alpha], -1).astype(np.uint8))
    return cv2.imread(path, cv2.IMREAD_COLOR)


def _photos(rng, data, count):
    """``count`` LSPet validation photos' backdrops beside their annotated person (none
    without the LSPet folder under ``data``)."""
    from posenet.data.readers.lsp import LSPET_TRAIN_END, LSPET_VAL_END, read_lsp

    folder = os.path.join(os.fspath(data), "lspet") if data else None
    if not folder or not os.path.isdir(folder):
        return []
    lsp = read_lsp(folder, extended=True, allow_missing_images=True)
    valid = np.flatnonzero((lsp.indices >= LSPET_TRAIN_END) & (lsp.indices < LSPET_VAL_END)
                           & (lsp.valid.sum(1) >= 2))
    found = []
    for i in rng.choice(valid, min(count, len(valid)), replace=False):
        photo = cv2.imread(lsp.images[i])
        if photo is None:
            continue
        joints = lsp.joints[i][lsp.valid[i]]
        box = np.concatenate([joints.min(0), joints.max(0)])
        pad = 0.3 * (box[2:] - box[:2]).max()
        found.append(outdoor.photo_backdrop(rng, photo, box + [-pad, -pad, pad, pad],
                                            _size(rng)))
    return found


def empty_frames(per_kind=30, seed=0, data=None) -> dict:
    """``{kind: [(H, W, 3) uint8 BGR frames]}`` of :data:`KINDS`, ``per_kind`` each, drawn
    by ``seed``; ``data``: the shared data folder (the photo backdrops; none without it)."""
    rng = np.random.default_rng(seed)
    out = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory() as folder:
        for n in range(per_kind):
            out["flat"].append(np.full((*_size(rng)[::-1], 3), rng.uniform(0, 255, 3)))
            out["sky"].append(_sky(rng, _size(rng)))
            out["wall"].append(_wall(rng, _size(rng)))
            width, height = _size(rng)
            out["background"].append(random_background(rng, height, width))
            out["transparent"].append(_transparent(rng, _size(rng), folder))
            tiny = TINY_SIZES[n % len(TINY_SIZES)]
            out["tiny"].append(cv2.resize(_park(rng, (256, 192)).clip(0, 255), tiny,
                                          interpolation=cv2.INTER_AREA)
                               if n % 2 else rng.integers(0, 256, (*tiny[::-1], 3)))
            out["dark"].append(_park(rng, _size(rng)) * rng.uniform(0.03, 0.12)
                               + rng.normal(0, 1.5, (1, 1, 3)))
            out["washed"].append(_park(rng, _size(rng)) * rng.uniform(0.1, 0.3)
                                 + rng.uniform(185, 215))
            out["noise"].append(rng.integers(0, 256, (*_size(rng)[::-1], 3)))
            out["park"].append(_park(rng, _size(rng)))
        out["photo"] = _photos(rng, data, per_kind)
    return {k: [np.clip(np.asarray(f, np.float32), 0, 255).round().astype(np.uint8)
                for f in v] for k, v in out.items() if len(v)}


def reported(predictor, frames) -> int:
    """How many of ``frames`` (uint8 BGR images) have a person reported by ``predictor``."""
    return sum(bool(predictor.predict_image(f)["frames"][0]["people"]) for f in frames)


def people_kept(predictor, data, first=8001, count=50) -> tuple[int, int]:
    """(photos with a person reported, photos read) of ``count`` LSPet validation photos
    from ``imFIRST.jpg`` under the shared data folder ``data``."""
    read = kept = 0
    for i in range(first, first + count):
        image = cv2.imread(os.path.join(os.fspath(data), "lspet", "images", f"im{i:05d}.jpg"))
        if image is None:
            continue
        read += 1
        kept += bool(predictor.predict_image(image)["frames"][0]["people"])
    return kept, read


def measure(predictor, per_kind=30, seed=0, data=None, photos=50) -> dict:
    """``{"empty": {kind: (reported, frames)}, "people": (kept, read)}``: :func:`reported`
    on :func:`empty_frames` and :func:`people_kept` on ``photos`` LSPet photos (when
    ``data`` holds them)."""
    frames = empty_frames(per_kind, seed, data)
    empty = {kind: (reported(predictor, v), len(v)) for kind, v in frames.items()}
    people = people_kept(predictor, data, count=photos) if data and photos else (0, 0)
    return {"empty": empty, "people": people}


def lines(result) -> list[str]:
    """The report of :func:`measure`: a line per kind, the total, the photos kept."""
    empty = result["empty"]
    out = [f"{kind:>12}: {hit:4d} of {n:4d} with a person" for kind, (hit, n) in empty.items()]
    hits, total = (sum(v[i] for v in empty.values()) for i in (0, 1))
    out.append(f"{'all':>12}: {hits:4d} of {total:4d} with a person ({hits / max(total, 1):.1%})")
    kept, read = result["people"]
    if read:
        out.append(f"LSPet validation photos with a person: {kept} of {read}")
    return out
