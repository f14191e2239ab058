"""Actions of a track: sliding windows of T frames (stride T // 2) through the action models.

Two sources of actions:

- pose-only :class:`ActionNetwork` s of a bundle read windows of the track's predicted
  poses, normalised as ``posenet.data.pose_sequences`` normalises ground-truth sequences
  (x, y over the square box spanning the window's confident joints and boxes, z re-centred
  on the pelvis at 0.5; unconfident joints get coordinates 0 and visibility 0);
- a :class:`MultitaskModel` reads the window's T person crops as one clip (each frame
  keeps its own crop, which follows the person).

Per window the last action block's probabilities are kept; the track's probabilities are
the normalised product of its windows' (the method's multi-clip prediction).
"""

from __future__ import annotations

import collections

import numpy as np

from posenet.data.pose_sequences import _extent
from posenet.data.targets import PELVIS
from posenet.evaluation.predict import to_input
from posenet.outputs import action_output

#: Joints at least this visible count as visible in an action network's input.
VISIBLE = 0.5


def class_names(dataset, count) -> list[str]:
    """Class names of a dataset's action output (``class_<i>`` when not a known dataset)."""
    names = ()
    if dataset == "penn_action":
        from posenet.data.readers.penn_action import PENN_ACTION_CLASSES as names
    elif dataset == "jhmdb":
        from posenet.data.readers.jhmdb import JHMDB_CLASSES as names
    if len(names) == count:
        return list(names)
    return [f"class_{i}" for i in range(count)]


def normalise_window(joints2d, z, boxes, pose_dims):
    """ActionNetwork inputs of one window: (poses (T, J, D), visibility (T, J, 1)).

    ``joints2d`` (T, J, 3) image px and confidence; ``z`` (T, J) normalised depth or None;
    ``boxes`` (T, 4) the person boxes (px).
    """
    joints2d = np.asarray(joints2d, np.float64)
    visible = joints2d[..., 2] >= VISIBLE
    x1, y1, x2, y2 = _extent(joints2d, visible, boxes)
    side = max(x2 - x1, y2 - y1)
    side = side if side > 0 else 1.0
    origin = np.array([(x1 + x2 - side) / 2, (y1 + y2 - side) / 2])
    poses = np.zeros((*visible.shape, pose_dims))
    poses[..., :2] = (joints2d[..., :2] - origin) / side
    if pose_dims == 3:
        # Training sequences put the pelvis exactly at 0.5 (pelvis-relative depth).
        poses[..., 2] = z - z[:, PELVIS:PELVIS + 1] + 0.5
    poses = np.where(visible[..., None], poses, 0.0)
    return poses.astype(np.float32), visible[..., None].astype(np.float32)


def _last_block(outputs, dataset):
    blocks = [k for k in outputs if k.startswith(f"action_{dataset}_")]
    last = max(int(k.rsplit("_", 1)[1]) for k in blocks)
    return np.asarray(outputs[action_output(dataset, last)], np.float64)[0]


class ActionWindows:
    """Collects one track's frames and runs the action models on each full window.

    ``models``: ``{dataset: ActionNetwork}`` and/or the MultitaskModel under the key None.
    Call :meth:`add` per frame of the track, then :meth:`finish` for the result dict.
    """

    def __init__(self, models, num_frames, pose_dims):
        self.models, self.T, self.pose_dims = models, int(num_frames), pose_dims
        self.stride = max(self.T // 2, 1)
        self.buffer = collections.deque(maxlen=self.T)
        self.count = 0
        self.last_end = 0  # frames of the track covered by the windows so far
        self.windows = collections.defaultdict(list)

    def add(self, frame, joints2d, z, box, crop=None):
        """One frame of the track (its crop is kept only for a multitask model)."""
        self.buffer.append((frame, joints2d, z, box, crop))
        self.count += 1
        if self.count >= self.T and (self.count - self.T) % self.stride == 0:
            self._run(list(self.buffer))

    def _run(self, items):
        if len(items) < self.T:  # a short track: repeat its last frame, as training does
            items = items + [items[-1]] * (self.T - len(items))
        self.last_end = self.count
        start, end = items[0][0], items[-1][0]
        for key, model in self.models.items():
            if key is None:
                clip = to_input(np.stack([it[4] for it in items]))[None]
                outputs = model.predict_on_batch(clip)
                for dataset in model.actions:
                    self._store(dataset, start, end, _last_block(outputs, dataset))
                continue
            z = np.stack([it[2] for it in items]) if self.pose_dims == 3 else None
            poses, vis = normalise_window(np.stack([it[1] for it in items]), z,
                                          np.stack([it[3] for it in items]), model.pose_dims)
            outputs = model.predict_on_batch({"poses": poses[None], "visibility": vis[None]})
            self._store(key, start, end, _last_block(outputs, key))

    def _store(self, dataset, start, end, probs):
        self.windows[dataset].append({"start": int(start), "end": int(end),
                                      "probabilities": [round(float(p), 6) for p in probs]})

    def finish(self, classes) -> dict:
        """``{dataset: {"label", "probabilities", "windows"}}`` over the whole track."""
        if self.count and (self.count < self.T or self.last_end < self.count):
            self._run(list(self.buffer))  # the tail (or a short track) gets a window too
        result = {}
        for dataset, windows in self.windows.items():
            logs = np.sum([np.log(np.maximum(w["probabilities"], 1e-12)) for w in windows], 0)
            probs = np.exp(logs - logs.max())
            probs /= probs.sum()
            result[dataset] = {"label": classes[dataset][int(np.argmax(probs))],
                               "probabilities": [round(float(p), 6) for p in probs],
                               "windows": windows}
        return result
