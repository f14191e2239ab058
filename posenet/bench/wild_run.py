"""``posenet bench --wild``: the Predictor in several configurations on the composite
outdoor clips (:mod:`posenet.bench.wild`), one row per configuration and clip.

A configuration is a name and the keyword arguments of :class:`Predictor`; one that the
Predictor refuses (ValueError: an option this version does not know) is reported as not
available instead of ending the run. frames/s is ``predict_video`` end to end (decoding
the clip included) after a warm-up on the first clip's first frames.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import time

from posenet.bench.wild import DEFAULT_LSPET, WILD_CLIPS, combine, score_clip, wild_clip

#: The option of a configuration that runs the pose network on each visible person's
#: true box (the joints' extent, the crop margin of ``Predictor.estimate``) instead of
#: finding anyone: the ceiling of "frames right" that finding the person can reach.
TRUE_BOX = "true_box"
#: What ``posenet bench --wild`` compares (issue 27: before, with the detector, multi).
CONFIGS: dict[str, dict] = {
    "single, whole-frame pose finder (before)": {"finder": "pose"},
    "single, detector": {"finder": "detector"},
    "multi-person": {"multi_person": True},
    "pose network on the true box (ceiling)": {TRUE_BOX: True},
}
#: Short names of :data:`CONFIGS` (``posenet bench --wild --wild-config NAME``).
CONFIG_KEYS: dict[str, str] = dict(zip(("pose", "detector", "multi", "true_box"), CONFIGS,
                                       strict=True))
HEADER = ("| configuration | clip | frames right | person found | gross errors | "
          "person missed | false people | frames/s |")
RULE = "|---|---|---|---|---|---|---|---|"


def mediapipe_note() -> str:
    """Why MediaPipe has no row."""
    if importlib.util.find_spec("mediapipe") is None:
        return "MediaPipe: not installed, not measured"
    return "MediaPipe: installed, but this benchmark has no MediaPipe runner yet"


def _predictor(weights, runtime, options, notes):
    """(Predictor, runtime used); a LiteRT that cannot export or load falls back to Keras
    with a note. ValueError (an unknown option) goes to the caller."""
    from posenet.engine.errors import ExportError
    from posenet.inference.predictor import Predictor

    try:
        return Predictor(weights, runtime=runtime, **options), runtime
    except (ExportError, ImportError, RuntimeError, OSError) as error:
        if runtime == "keras":
            raise
        notes.append(f"{runtime} failed ({type(error).__name__}: {error}); fell back to keras")
        return Predictor(weights, runtime="keras", **options), "keras"


def true_box_predictions(predictor, clip) -> dict:
    """A predictions dict of the pose network on the true box of every visible person of
    ``clip`` (a :func:`posenet.bench.wild.wild_clip`), its frames decoded from the file."""
    import numpy as np

    from posenet.inference.sources import iter_frames

    frames = []
    for t, frame in iter_frames(clip["path"]):
        people = []
        for p in np.flatnonzero(clip["visible"][t]):
            points = clip["joints"][t, p][clip["annotated"][t, p]]
            (result,) = predictor.estimate([frame], [[*points.min(0), *points.max(0)]])
            people.append({"joints2d": result["joints2d"].tolist()})
        frames.append({"people": people})
    return {"skeleton": {"name": predictor.skeleton.name}, "frames": frames,
            "num_frames": len(frames)}


def run_wild(weights=None, runtime="litert", configs=None, clips=WILD_CLIPS, num_frames=90,
             size=(960, 540), fps=30.0, lspet_folder=DEFAULT_LSPET, on_row=None) -> dict:
    """Render ``clips`` ((kind, seed) pairs) of ``num_frames`` at ``size`` and run each of
    ``configs`` ({name: Predictor keyword arguments}, default :data:`CONFIGS`) on them.

    Returns ``{"rows": [...], "runtime": the runtime used, "notes": [...]}``; a row has
    ``config``, ``clip`` (a kind, or ``all`` for the configuration's clips together),
    ``available`` and, when available, the scores (:func:`posenet.bench.wild.score_clip`)
    and ``fps``, or ``crashed`` (the exception that ended the clip; the ``all`` row then
    counts the clips that finished and says how many did not); otherwise ``reason``.
    ``on_row(row)`` is called as each row is done.
    """
    configs = CONFIGS if configs is None else configs
    rows, notes = [], []

    def add(row):
        rows.append(row)
        if on_row is not None:
            on_row(row)

    with tempfile.TemporaryDirectory() as folder:
        made = [(kind, seed, wild_clip(kind, seed, os.path.join(folder, f"{kind}_{seed}"),
                                       num_frames, size, fps, lspet_folder))
                for kind, seed in clips]
        for name, options in configs.items():
            true_box = bool(options.get(TRUE_BOX))
            options = {k: v for k, v in options.items() if k != TRUE_BOX}
            try:
                predictor, runtime = _predictor(weights, runtime, options, notes)
            except ValueError as error:
                add({"config": name, "clip": "all", "available": False,
                     "reason": str(error)})
                continue
            multi = bool(options.get("multi_person")) or true_box
            run = (lambda c, p=predictor: true_box_predictions(p, c)) if true_box else (
                lambda c, p=predictor: p.predict_video(c["path"]))
            try:
                run(made[0][2])  # warm-up: every graph traced
            except Exception:  # noqa: BLE001, S110 (the clip's own run reports it)
                pass
            scores, total_frames, total_time = [], 0, 0.0
            for kind, seed, clip in made:
                start = time.perf_counter()
                try:
                    predictions = run(clip)
                except Exception as error:  # noqa: BLE001 (a crash is a result: issue 27)
                    add({"config": name, "clip": kind, "seed": seed, "available": True,
                         "crashed": f"{type(error).__name__}: {error}"})
                    continue
                spent = time.perf_counter() - start
                score = score_clip(predictions, clip, multi_person=multi)
                scores.append(score)
                total_frames += predictions["num_frames"]
                total_time += spent
                add({"config": name, "clip": kind, "seed": seed, "available": True,
                     "fps": predictions["num_frames"] / spent, **score})
            if len(made) > 1 and scores:
                add({"config": name, "clip": "all", "available": True,
                     "fps": total_frames / total_time, **combine(scores),
                     "crashes": len(made) - len(scores)})
    notes.append(mediapipe_note())
    return {"rows": rows, "runtime": runtime, "notes": notes, "frames": num_frames,
            "size": list(size), "fps": fps, "clips": [list(c) for c in clips]}


def to_json(result) -> dict:
    """``result`` of :func:`run_wild` with NaN shares as None (plain JSON)."""
    def clean(value):
        return None if isinstance(value, float) and value != value else value

    return {**result, "rows": [{k: clean(v) for k, v in row.items()}
                               for row in result["rows"]]}


def _percent(part, whole) -> str:
    return "n/a" if not whole else f"{100.0 * part / whole:.1f} % ({part}/{whole})"


def format_row(row) -> str:
    """One table line (:data:`HEADER`) of a :func:`run_wild` row."""
    if not row["available"]:
        return f"| {row['config']} | {row['clip']} | not available: {row['reason']} |" + " |" * 5
    if "crashed" in row:
        return f"| {row['config']} | {row['clip']} | crashed: {row['crashed']} |" + " |" * 5
    gross = ("n/a" if not row["joints"]
             else f"{100.0 * row['gross'] / row['joints']:.2f} % ({row['gross']}/{row['joints']})")
    clip = row["clip"] + (f" (without {row['crashes']} crashed)" if row.get("crashes") else "")
    return (f"| {row['config']} | {clip} | {_percent(row['right'], row['units'])} | "
            f"{_percent(row['found'], row['units'])} | {gross} | {row['missed']}/{row['units']} "
            f"| {row['false']}/{row['empty']} | {row['fps']:.1f} |")
