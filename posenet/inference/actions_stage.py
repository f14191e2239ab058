"""The actions stage: each track's poses (or crops) in sliding windows through the action
models, and the tracks' list of the predictions (``posenet.inference.actions`` has the
windows and how a track's actions are decided).
"""

from __future__ import annotations

from posenet.data.action_labels import class_names
from posenet.data.time_sampling import frames_read
from posenet.inference.actions import ActionRunner, ActionWindows


def action_models(weights) -> tuple[dict, dict, int]:
    """``(models, classes, num_frames)`` of loaded ``weights`` (``engine.weights``):
    ``{dataset: ActionNetwork}`` plus a multitask model under None, ``{dataset: class
    names}``, and the most video frames a model reads (0 without models).

    Raises ValueError when an action network is filed under a dataset it does not predict.
    """
    models = dict(weights.actions)
    multitask = weights.multitask
    if multitask is not None and multitask.actions:
        models[None] = multitask
    counts = dict(multitask.actions) if multitask is not None else {}
    for dataset, net in weights.actions.items():
        if dataset not in net.actions:  # else a KeyError deep in the pipeline
            raise ValueError(f"the action network given for {dataset!r} predicts "
                             f"{', '.join(map(repr, net.actions))} actions, not {dataset!r}: "
                             "fix the dataset name in the weights bundle")
    counts |= {ds: net.actions[ds] for ds, net in weights.actions.items()}
    classes = {ds: class_names(ds, n) for ds, n in counts.items()}
    frames = {frames_read(m) for m in models.values()}
    return models, classes, max(frames) if frames else 0


class TrackActions:
    """The action windows of every track of one video.

    Args:
        models: ``{dataset: ActionNetwork}`` and/or a multitask model under None
            (:func:`action_models`); empty: no actions (as for a still image: an action
            is a motion).
        dims: the pose network's coordinates per joint (2 or 3).
        fps: the video's frame rate (frames/s; None for an image).

    After :meth:`tracks`, ``warnings`` says which tracks were too short for a network to
    label (``actions.min_frames``).
    """

    def __init__(self, models, dims, fps):
        self.models, self.fps = models, fps
        self.runner = ActionRunner(models, dims, fps=fps)
        self.windows: dict[int, ActionWindows] = {}
        self.warnings: list[str] = []

    def add(self, index, result) -> None:
        """The pose ``result`` of track ``result["track"]`` in frame ``index``: its
        ``joints2d``, ``z`` and ``box`` (and ``crop`` for a multitask model)."""
        if not self.models:
            return
        track_id = result["track"]
        if track_id not in self.windows:
            self.windows[track_id] = ActionWindows(self.runner)
        crop = result["crop"] if None in self.models else None
        self.windows[track_id].add(index, result["joints2d"], result["z"], result["box"], crop)

    def tracks(self, finished, frames, classes) -> list[dict]:
        """The predictions' ``tracks``: per track of ``finished`` (``tracking.Track``) that
        has people in ``frames`` (the predictions' frame dicts), ``id``, ``first_frame``,
        ``last_frame`` and ``actions`` (``{dataset: ...}``, over ``classes``). Runs the
        windows still waiting."""
        for windows in self.windows.values():
            windows.close()
        self.runner.flush()
        tracks, short = [], {}
        for track in sorted(finished, key=lambda t: t.id):
            seen = [f for f in frames if any(p["track"] == track.id for p in f["people"])]
            if not seen:  # a detection never confirmed by a pose
                continue
            windows = self.windows.get(track.id)
            tracks.append({"id": track.id, "first_frame": seen[0]["index"],
                           "last_frame": seen[-1]["index"],
                           "actions": windows.result(classes) if windows else {}})
            for dataset in (windows.windows if windows else ()):
                if windows.too_short(dataset):
                    short.setdefault(dataset, []).append(track.id)
        self.warnings = [self._short_warning(dataset, ids) for dataset, ids in short.items()]
        return tracks

    def _short_warning(self, dataset, ids) -> str:
        key = self.runner.key(dataset)
        model, count = self.models[key], self.runner.min_frames[key]
        rate = getattr(model, "frame_rate", None)
        seconds = count / self.fps if self.fps else (model.num_frames / rate if rate else None)
        span = f"{count} frames" + (f" ({seconds:.2f} s)" if seconds else "")
        which = "track" + ("s" if len(ids) > 1 else "") + " " + ", ".join(map(str, ids))
        return (f"{which}: seen in fewer than {span}, the {model.num_frames} frames the "
                f"{dataset} action network reads: {dataset} label \"uncertain\" (the "
                "probabilities are kept)")
