"""Actions of a track: sliding windows through the action models.

:class:`ActionWindows` cuts one track into windows, for each action model its own: as
long as the video frames it reads (a span network's ``clip_span`` at the video's rate,
else its T frames), ``length // 2`` apart, plus a tail window ending on the track's last
frame; :class:`ActionRunner` batches the windows of all tracks through the models.

Two sources of actions:

- pose-only :class:`ActionNetwork` s of a bundle read windows of the track's predicted
  poses, normalised as ``posenet.data.pose_sequences`` normalises ground-truth sequences
  (x, y over the square box spanning the window's confident joints and boxes, z re-centred
  on the pelvis at 0.5; unconfident joints get coordinates 0 and visibility 0);
- a :class:`MultitaskModel` reads the window's T person crops as one clip (each frame
  keeps its own crop, which follows the person).

Per window the last action block's probabilities are kept; the track's probabilities are
the mean of its windows' (a product, the method's multi-clip rule, saturates at 1.00 after
a few windows and so says nothing about how sure the network is).  The track's ``label``
is its most probable class (``best``) when that class's mean probability (``confidence``)
reaches the action network's calibrated ``threshold`` (``ActionNetwork.uncertain_below``,
set by ``posenet.evaluation.action_calibration`` on validation data), else
``"uncertain"``; a network saved without one uses :data:`DEFAULT_UNCERTAIN_BELOW`.

An action is a motion: a track seen in fewer frames than the network reads
(:func:`min_frames`: its T input frames, in seconds ``T / frame_rate``) is labelled
``"uncertain"`` whatever its confidence (the probabilities are kept), since its windows
repeat frames to fill the network's input.
"""

from __future__ import annotations

import collections

import numpy as np

from posenet.data.action_input import fit_window, normalise_window
from posenet.data.action_labels import UNCERTAIN, uncertain_below
from posenet.data.time_sampling import video_span
from posenet.engine.inputs import to_input
from posenet.outputs import action_output


def min_frames(model, fps=None) -> int:
    """The fewest frames of a track for ``model`` to label its action: the T frames it
    reads (``num_frames``), scaled to a video of ``fps`` frames/s by ``fps /
    model.frame_rate`` when both are known (as :func:`~posenet.data.time_sampling.video_span`
    scales its span), so the same seconds: ``T / frame_rate``."""
    count = int(model.num_frames)
    rate = getattr(model, "frame_rate", None)
    if rate and fps and fps > 0:
        count = max(1, int(round(count * fps / rate)))
    return count


def track_actions(windows, classes, threshold, short=False) -> dict:
    """One dataset's actions of a track from its ``windows`` (dicts with
    ``probabilities``): ``{"label", "best", "confidence", "threshold", "probabilities"}``
    where ``probabilities`` is the mean of the windows' and ``label`` is ``best`` (the
    argmax) or ``"uncertain"`` when its mean probability is below ``threshold`` or the
    track is ``short`` (fewer frames than the network reads)."""
    probs = np.mean([np.asarray(w["probabilities"], np.float64) for w in windows], axis=0)
    best = int(np.argmax(probs))
    confidence = float(probs[best])
    sure = confidence >= threshold and not short
    return {"label": classes[best] if sure else UNCERTAIN,
            "best": classes[best], "confidence": round(confidence, 6),
            "threshold": round(float(threshold), 6),
            "probabilities": [round(float(p), 6) for p in probs]}


def _last_block(outputs, dataset):
    """(N, classes) probabilities of the last action block of ``dataset``."""
    blocks = [k for k in outputs if k.startswith(f"action_{dataset}_")]
    last = max(int(k.rsplit("_", 1)[1]) for k in blocks)
    return np.asarray(outputs[action_output(dataset, last)], np.float64)


class ActionWindows:
    """Collects one track's frames and hands each full window to an :class:`ActionRunner`.

    Each model of the runner gets windows of its own length (``runner.window_lengths``),
    half a window apart. Call :meth:`add` per frame of the track, :meth:`close` at its end
    (the tail gets a window too), and after the runner's :meth:`ActionRunner.flush`,
    :meth:`result`.
    """

    def __init__(self, runner):
        self.runner = runner
        self.lengths = dict(runner.window_lengths)
        self.buffer = collections.deque(maxlen=max(self.lengths.values(), default=1))
        self.count = 0
        self.last_end = dict.fromkeys(self.lengths, 0)  # frames covered, per model
        self.windows = collections.defaultdict(list)

    def add(self, frame, joints2d, z, box, crop=None):
        """One frame of the track (its crop is kept only for a multitask model)."""
        self.buffer.append((frame, joints2d, z, box, crop))
        self.count += 1
        for key, length in self.lengths.items():
            if self.count >= length and (self.count - length) % max(length // 2, 1) == 0:
                self._submit(key)

    def close(self):
        """The track ended: its tail (or the whole of a short track) gets a window too."""
        for key, length in self.lengths.items():
            if self.count and (self.count < length or self.last_end[key] < self.count):
                self._submit(key)

    def _submit(self, key):
        self.last_end[key] = self.count
        items = list(self.buffer)[-self.lengths[key]:]
        self.runner.submit(self, key, items)

    def store(self, dataset, start, end, probs):
        """The probabilities of one window (called by the runner, in submission order)."""
        self.windows[dataset].append({"start": int(start), "end": int(end),
                                      "probabilities": [round(float(p), 6) for p in probs]})

    def too_short(self, dataset) -> bool:
        """Whether the track has fewer frames than ``dataset``'s network reads
        (:func:`min_frames`)."""
        return self.count < self.runner.min_frames[self.runner.key(dataset)]

    def result(self, classes) -> dict:
        """``{dataset: {"label", "best", "confidence", "threshold", "probabilities",
        "windows"}}`` over the whole track (see :func:`track_actions`)."""
        result = {}
        for dataset, windows in self.windows.items():
            threshold = self.runner.threshold(dataset)
            result[dataset] = {**track_actions(windows, classes[dataset], threshold,
                                               self.too_short(dataset)),
                               "windows": windows}
        return result


class ActionRunner:
    """Runs the action models on the windows of every track, batched: a model's windows
    wait until ``max_pending`` have been submitted (or :meth:`flush`), then it reads them all
    in one call (clip models in calls of at most ``max_clip_frames`` frames), because one
    call per window costs far more than the small action networks' arithmetic.

    ``models``: ``{dataset: ActionNetwork}`` and/or the MultitaskModel under the key None.
    """

    def __init__(self, models, pose_dims, max_pending=64, max_clip_frames=64, fps=None):
        self.models, self.pose_dims = models, pose_dims
        # video frames each pose-only network reads at this video's rate (``fps``)
        self.spans = {key: video_span(model, fps) for key, model in models.items()
                      if key is not None}
        #: ``{model key: video frames of its windows}``
        self.window_lengths = {key: self.spans[key] if key is not None else model.num_frames
                               for key, model in models.items()}
        #: ``{model key: the fewest frames of a track it labels}`` (:func:`min_frames`)
        self.min_frames = {key: min_frames(model, fps) for key, model in models.items()}
        self.max_pending, self.max_clip_frames = int(max_pending), int(max_clip_frames)
        self.pending = {key: [] for key in models}  # key -> [(ActionWindows, items)]

    def key(self, dataset):
        """The key of the model that reads ``dataset``'s actions (None: the multitask
        model)."""
        return dataset if dataset in self.models else None

    def threshold(self, dataset) -> float:
        """The "uncertain" threshold of the model that reads ``dataset``'s actions."""
        return uncertain_below(self.models[self.key(dataset)], dataset)

    def submit(self, windows, key, items):
        """Queue one window of model ``key`` (``items``: its tuples ``(frame, joints2d, z,
        box, crop)``, fewer for a short track)."""
        self.pending[key].append((windows, items))
        if len(self.pending[key]) >= self.max_pending:
            self._run(key)

    def flush(self):
        """Run the models on every queued window and store the results in their tracks."""
        for key in self.models:
            self._run(key)

    def _run(self, key):
        pending, self.pending[key] = self.pending[key], []
        if not pending:
            return
        model = self.models[key]
        if key is None:
            per_call = max(self.max_clip_frames // model.num_frames, 1)
            for first in range(0, len(pending), per_call):
                part = pending[first:first + per_call]
                clips = np.stack([to_input(np.stack([it[4] for it in
                                                     fit_window(items, model.num_frames)]))
                                  for _, items in part])
                outputs = model.predict_on_batch(clips)
                for dataset in model.actions:
                    self._store(part, dataset, _last_block(outputs, dataset))
            return
        span = self.spans[key]
        resampled = getattr(model, "clip_span", None) or span != model.num_frames
        inputs = [self._normalised(fit_window(items, model.num_frames,
                                             span if resampled else None), model.pose_dims)
                  for _, items in pending]
        outputs = model.predict_on_batch({"poses": np.stack([p for p, _ in inputs]),
                                          "visibility": np.stack([v for _, v in inputs])})
        self._store(pending, key, _last_block(outputs, key))

    def _normalised(self, items, model_dims):
        z = np.stack([it[2] for it in items]) if self.pose_dims == 3 else None
        return normalise_window(np.stack([it[1] for it in items]), z,
                                np.stack([it[3] for it in items]), model_dims)

    @staticmethod
    def _store(part, dataset, probs):
        for (windows, items), p in zip(part, probs, strict=True):
            windows.store(dataset, items[0][0], items[-1][0], p)
