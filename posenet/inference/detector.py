"""Person detectors for multi-person inference: a frame in, people's boxes and scores out.

A detector is any callable ``frame (H, W, 3) uint8 BGR -> Detections`` (or a plain
``(N, 4)`` array of boxes, or a ``(boxes, scores)`` pair: :func:`as_detections` accepts
all three), so another detector can be plugged into ``Predictor(detector=...)``.

The shipped one, :class:`MultiPoseDetector`, runs MoveNet MultiPose Lightning (Google,
Apache-2.0; imported into ``weights/person_detector.keras`` by ``posenet pretrained
--variant multipose``) on the frame scaled so that its longer side is ``long_side`` px and
padded to multiples of 32. Its CenterNet heads are decoded here: people are the local
maxima of the centre heatmap (3x3) above ``min_score``; a box is the centre refined by
``box_offset`` plus and minus half of ``box_scale`` (height, width), all in heatmap px
(4 input px); the 17 COCO keypoints are regressed from the centre and snapped to the
nearest heatmap peak, as MoveNet's own graph does. posenet's pose network then estimates
each person on a crop of its box (top-down). The model runs on Keras, LiteRT or ONNX
Runtime (``runtime``; ``posenet.inference.detector_runtime``), with the same heads within
float tolerance.

Boxes are ``(x1, y1, x2, y2)`` in continuous frame px (pixel ``i`` covers ``[i, i + 1)``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import cv2
import numpy as np

from posenet.inference.detector_runtime import DetectorRuntime
from posenet.paths import WEIGHTS_DIR

#: Offset (heatmap px) in the keypoints' distance weighting, as in MoveNet's graph.
_DISTANCE_OFFSET = 1.8
#: Heatmap stride of MoveNet's heads (input px per heatmap px).
STRIDE = 4
DEFAULT_DETECTOR = WEIGHTS_DIR / "person_detector.keras"


@dataclasses.dataclass
class Detections:
    """People found in one frame: ``boxes`` (N, 4) px, ``scores`` (N,) in [0, 1] and,
    when the detector gives them, ``keypoints`` (N, 17, 3): COCO x, y px and score."""

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray | None = None

    def __len__(self):
        return len(self.boxes)

    def select(self, keep) -> Detections:
        """The detections at the indices ``keep`` (possibly none), in that order."""
        keep = np.asarray(keep, np.int64).reshape(-1)  # [] would index as floats
        return Detections(self.boxes[keep], self.scores[keep],
                          None if self.keypoints is None else self.keypoints[keep])


def as_detections(result) -> Detections:
    """A detector's result as :class:`Detections`: Detections, ``(boxes, scores)`` or
    boxes alone (scores 1)."""
    if isinstance(result, Detections):
        return result
    if isinstance(result, tuple) and len(result) == 2:
        boxes, scores = result
    else:
        boxes, scores = result, None
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scores = np.ones(len(boxes)) if scores is None else np.asarray(scores, np.float64)
    if scores.shape != (len(boxes),):
        raise ValueError(f"a detector gave {len(boxes)} boxes but scores of shape "
                         f"{scores.shape}")
    return Detections(boxes, scores)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def _local_maxima(scores, min_score):
    """(rows, cols) of the 3x3 local maxima of ``scores`` at or above ``min_score``,
    highest first."""
    padded = np.pad(scores, 1, constant_values=-np.inf)
    rows, cols = scores.shape
    neighbours = np.max([padded[dy:dy + rows, dx:dx + cols] for dy in range(3)
                         for dx in range(3)], axis=0)
    ys, xs = np.nonzero((scores >= neighbours) & (scores >= min_score))
    order = np.argsort(-scores[ys, xs], kind="stable")
    return ys[order], xs[order]


def decode_people(heads: dict, min_score=0.25, max_people=6, index=0) -> Detections:
    """MultiPose heads of one image -> Detections in heatmap px (boxes clipped to the map).

    ``heads``: ``center`` (B, h, w, 1), ``box_scale``, ``box_offset`` (B, h, w, 2) and,
    optionally, ``heatmap`` (B, h, w, 17), ``regress`` and ``offset`` (B, h, w, 34) logits.
    """
    centre = _sigmoid(heads["center"][index][..., 0])
    rows, cols = centre.shape
    ys, xs = _local_maxima(centre, min_score)
    ys, xs = ys[:max_people], xs[:max_people]
    scale = np.maximum(np.asarray(heads["box_scale"][index], np.float64)[ys, xs], 0.0)
    offset = np.asarray(heads["box_offset"][index], np.float64)[ys, xs]
    cy, cx = ys + offset[:, 0], xs + offset[:, 1]
    boxes = np.stack([cx - scale[:, 1] / 2, cy - scale[:, 0] / 2,
                      cx + scale[:, 1] / 2, cy + scale[:, 0] / 2], axis=1)
    boxes = np.clip(boxes, 0, [cols, rows, cols, rows])
    keypoints = None
    if "heatmap" in heads and len(ys):
        keypoints = _keypoints(heads, index, ys, xs)
    return Detections(boxes.reshape(-1, 4), centre[ys, xs], keypoints)


def _keypoints(heads, index, ys, xs) -> np.ndarray:
    """(P, 17, 3) keypoints (x, y heatmap px, score) of the people centred at (ys, xs):
    each joint regressed from the centre, then snapped to the heatmap's highest score
    divided by the distance to the regressed point (plus :data:`_DISTANCE_OFFSET`)."""
    heat = _sigmoid(heads["heatmap"][index])  # once for every person
    rows, cols, joints = heat.shape
    centres = np.stack([ys, xs], axis=1).astype(np.float64)[:, None]  # (P, 1, 2)
    guess = centres + np.asarray(heads["regress"][index], np.float64)[ys, xs].reshape(
        len(ys), joints, 2)
    dy = np.arange(rows, dtype=np.float64)[None, :, None, None] - guess[:, None, None, :, 0]
    dx = np.arange(cols, dtype=np.float64)[None, None, :, None] - guess[:, None, None, :, 1]
    weighted = heat / (np.hypot(dy, dx) + _DISTANCE_OFFSET)  # (P, rows, cols, J)
    ky, kx = np.unravel_index(np.argmax(weighted.reshape(len(ys), -1, joints), axis=1),
                              (rows, cols))  # (P, J) each
    joint = np.arange(joints)
    off = np.asarray(heads["offset"][index], np.float64).reshape(rows, cols, joints, 2)
    off = off[ky, kx, joint]  # (P, J, 2)
    return np.stack([kx + off[..., 1], ky + off[..., 0], heat[ky, kx, joint]], axis=-1)


def input_shape(height, width, long_side) -> tuple[int, int]:
    """(rows, cols) of the detector's input for a ``height`` x ``width`` frame: the frame
    scaled to ``long_side`` on its longer side, each side rounded up to a multiple of 32."""
    scale = long_side / max(height, width)
    return (int(np.ceil(height * scale / 32)) * 32, int(np.ceil(width * scale / 32)) * 32)


class MultiPoseDetector:
    """MoveNet MultiPose as a person detector (see the module docstring).

    Args:
        model: the imported MultiPose Keras model or a ``.keras`` path (default: the
            shipped ``weights/person_detector.keras``).
        long_side: px of the frame's longer side at the detector's input (a multiple of 32
            is kept exact); larger finds smaller people, at a quadratic cost.
        min_score: centre score under which a peak is not a person.
        max_people: most people per frame.
        nms_iou: a box overlapping a higher-scored one by more than this IoU is dropped.
        runtime: what runs the model: ``keras``, ``litert`` or ``onnx`` (exported once per
            frame size into the runtime cache; ``posenet.inference.detector_runtime``).
            LiteRT ran it 1.3-1.4x as fast as Keras on a 2-core CPU (448 x 256 input).
    """

    def __init__(self, model=None, long_side=448, min_score=0.25, max_people=6, nms_iou=0.6,
                 runtime="keras"):
        if long_side < 32 or not 0 <= min_score <= 1 or max_people < 1:
            raise ValueError("need long_side >= 32, min_score in [0, 1] and max_people >= 1")
        if model is None or isinstance(model, (str, Path)):
            # the file is checked now; Keras loads it only when it runs or must be exported
            path, sha256 = detector_file(model)
            self.runtime = DetectorRuntime(None, runtime, sha256,
                                           loader=functools.partial(_load_keras, path))
            if runtime == "keras":
                self.runtime.model  # noqa: B018  (a bad file fails here, not at frame 1)
        else:
            self.runtime = DetectorRuntime(model, runtime)
        self.long_side, self.min_score = int(long_side), float(min_score)
        self.max_people, self.nms_iou = int(max_people), float(nms_iou)

    @property
    def model(self):
        """The MultiPose Keras model (loaded on first use)."""
        return self.runtime.model

    def __call__(self, frame, long_side=None) -> Detections:
        """The people of ``frame`` (H, W, 3) uint8 BGR, the frame scaled so that its
        longer side is ``long_side`` px (default: the detector's)."""
        height, width = frame.shape[:2]
        rows, cols = input_shape(height, width, long_side or self.long_side)
        scale = min(rows / height, cols / width)  # the frame keeps its aspect, padded
        inner = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = np.zeros((1, rows, cols, 3), np.float32)
        # pixel area: a bilinear resize, 5-10x cheaper, lost the woman far back in cam02
        small = cv2.resize(frame, inner, interpolation=cv2.INTER_AREA)
        cv2.cvtColor(small, cv2.COLOR_BGR2RGB, dst=small)
        np.multiply(small, np.float32(1 / 255), out=image[0, :inner[1], :inner[0]])
        heads = self.runtime.predict(image)
        found = decode_people(heads, self.min_score, self.max_people)
        to_frame = STRIDE / scale
        found.boxes = np.minimum(found.boxes * to_frame, [width, height, width, height])
        if found.keypoints is not None:
            found.keypoints[..., :2] *= to_frame
        return found.select(nms(found.boxes, found.scores, self.nms_iou))


#: Longer sides (px) at which the single-person finder runs the detector (:func:`at_scales`):
#: MultiPose finds the people of 200-300 px photos best near their own size (LSPet
#: validation photos: the person's box found in 93-96 % at 192-320 px, 80 % at 448, 46 % at
#: 640, upscaled), and people 1/8 of a wide frame tall only at 448 px or more.
FINDING_SIDES = (256, 512)


def at_scales(detector, frame, sides=FINDING_SIDES, nms_iou=0.6) -> Detections:
    """The people of ``frame`` found by ``detector`` (a :class:`MultiPoseDetector`) at
    each longer side of ``sides`` that does not enlarge the frame (the frame's own size
    instead), joined by non-maximum suppression (keypoints kept when every scale has
    them)."""
    longest = max(frame.shape[:2])
    found = [detector(frame, side) for side in sorted({min(s, longest) for s in sides})]
    boxes = np.concatenate([f.boxes for f in found])
    scores = np.concatenate([f.scores for f in found])
    keypoints = None
    if all(f.keypoints is not None or not len(f) for f in found):
        keypoints = np.concatenate([f.keypoints if f.keypoints is not None
                                    else np.zeros((0, 17, 3)) for f in found])
    return Detections(boxes, scores, keypoints).select(nms(boxes, scores, nms_iou))


def nms(boxes, scores, threshold) -> np.ndarray:
    """Indices (int64, possibly none) kept by greedy non-maximum suppression, highest score
    first: a box is dropped when its IoU with a kept one exceeds ``threshold``.

    OpenCV's ``cv2.dnn.NMSBoxes`` does the work (boxes as x, y, width, height; float px).
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if not len(boxes):
        return np.zeros(0, np.int64)
    rects = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
    keep = cv2.dnn.NMSBoxes(rects.tolist(), np.asarray(scores, np.float64).tolist(),
                            0.0, float(threshold))
    return np.asarray(keep, np.int64).reshape(-1)


def detector_file(path=None):
    """``(path, sha256)`` of the detector file ``path`` (default: the shipped one, checked
    against the SHA-256 in ``weights/manifest.json``), read without loading it;
    WeightsError when it is missing or corrupt."""
    from posenet.engine.errors import WeightsError
    from posenet.io import sha256_file

    default = path is None
    path = Path(DEFAULT_DETECTOR if default else path)
    if not path.is_file():
        raise WeightsError(f"person detector {path} not found: make it with `posenet "
                           "pretrained --detector --out weights/person_detector.keras` or "
                           "pass a detector")
    sha256 = _check_shipped(path) if default else None
    return path, sha256 or sha256_file(path)


def _load_keras(path):
    import keras

    from posenet.engine.errors import WeightsError

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds on a foreign or corrupt file
        raise WeightsError(f"cannot load the person detector from {path}: {error}") from None


def load_detector_model(path=None, with_sha256=False):
    """The MultiPose Keras model of ``path`` (default: the shipped one, checked against the
    SHA-256 in ``weights/manifest.json``); WeightsError when it is missing, corrupt or
    unreadable. ``with_sha256``: (model, the file's SHA-256)."""
    path, sha256 = detector_file(path)
    model = _load_keras(path)
    return (model, sha256) if with_sha256 else model


def _check_shipped(path) -> str | None:
    """WeightsError when the manifest beside ``path`` lists another SHA-256 for it; the
    checked SHA-256 (None when the manifest has none to check)."""
    from posenet.engine.errors import WeightsError
    from posenet.io import sha256_file

    manifest = path.parent / "manifest.json"
    try:
        entry = json.loads(manifest.read_text()).get("detector", {})
    except (OSError, ValueError):
        return None  # no manifest (a copied file): nothing to check against
    expected = entry.get("sha256") if entry.get("file") == path.name else None
    if not expected:
        return None
    if sha256_file(path) != expected:
        raise WeightsError(f"person detector {path} is corrupt (its SHA-256 differs from "
                           f"{manifest}'s); make it again with `posenet pretrained --detector`")
    return expected
