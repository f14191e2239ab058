"""The inference pipeline: frames -> person crops -> the network -> people, tracks, actions.

Single-person mode (the default) follows the method's refinement: when there is no track
(first frame, or after the pose's confidence dropped below ``redetect_below``), the whole
frame letterboxed to a square crop gives a first pose, whose confident joints' box padded
by 20% is cropped and estimated, and the crop re-centred once more on those joints
(``refine_passes``). ``finder="heads"`` takes the first box from MoveNet's person heads
instead (mobile presets; ``person_finder``); weights/README.md compares the two on whole
LSPet photos. Later frames are cropped around the track's smoothed box, so a frame costs
one network call. Frames are processed in chunks of ``batch_size`` (one batched call per
chunk): a chunk's crops use the box known when the chunk starts, and a frame whose pose is
not confident is re-detected as above.

Multi-person mode runs a person detector (MoveNet MultiPose by default,
``posenet.inference.detector``, on LiteRT with the litert runtime) every ``detect_every``
frames, every ``crowded_every`` frames while tracks overlap, and follows the people in
between with the boxes of their predicted joints; ``posenet.inference.tracking`` assigns
detections to tracks, confirms new tracks before they are reported and ends the tracks the
detector no longer sees. When two tracks' poses land on the same person in a frame, the
younger one is not reported there.

A person is reported only when their score reaches ``min_score`` (:data:`MIN_SCORE`): in
single-person mode a newly found person's score is :func:`person_score`, the mean joint
confidence weighted by how well the whole-frame pose and the refined pose agree (the
confidence alone is high on noise and textured backgrounds); a tracked person's score is
the mean joint confidence. So a flat picture, a 1x1 image or an empty room reports
``people: []``. Boxes are clipped to the frame; a box under :data:`MIN_BOX_SIDE` px after
clipping is no person.

On videos each track's 2D and 3D joints go through a One Euro filter
(``posenet.inference.smoothing``; ``smoothing=None`` turns it off).

Coordinates: 2D joints in image px with the visibility as confidence. 3D joints (3D
models) are root-relative mm under a weak-perspective assumption: the crop's side spans
``CROP_SIDE_MM`` (2000 mm, the span of the normalised depth axis), so x, y offsets from
the pelvis in the crop scale to mm by that factor, and z comes from ``depth_to_mm``
relative to the pelvis.
"""

from __future__ import annotations

import os

import numpy as np

from posenet.data.action_labels import class_names
from posenet.data.augment import DEFAULT_MARGIN, crop_transform
from posenet.data.targets import DEPTH_RANGE_MM, PELVIS, depth_to_mm
from posenet.data.time_sampling import frames_read
from posenet.engine.weights import load_weights
from posenet.export.cache import runtime_for
from posenet.inference import people as P
from posenet.inference.actions import ActionRunner, ActionWindows
from posenet.inference.detector import MultiPoseDetector
from posenet.inference.detector_runtime import for_pose_runtime
from posenet.inference.people import (  # noqa: F401 (re-exported: the API was here)
    DRIFT_SCALE,
    MIN_BOX_SIDE,
    MIN_SCORE,
    clip_box,
    person_score,
)
from posenet.inference.person_finder import find_people, has_person_heads
from posenet.inference.smoothing import SmoothingConfig, TrackSmoother
from posenet.inference.sources import (
    InputError,
    is_stream,
    iter_frames,
    open_stream,
    probe,
)
from posenet.inference.tracking import Tracker, suppress_duplicates
from posenet.outputs import PERSON_CENTER, PERSON_REGRESS, pose_output, visibility_output
from posenet.skeleton import get_skeleton, layout_name

SCHEMA = "posenet-predictions/1"
#: Ways of finding the single person in a whole frame (see ``Predictor.detect_single``).
FINDERS = ("pose", "heads")
#: Millimetres spanned by the side of a person crop (weak perspective; see the docstring).
CROP_SIDE_MM = DEPTH_RANGE_MM


class Predictor:
    """Pose (2D, 3D) and action estimation on videos and images.

    Args:
        weights: None (the shipped default), a ``.keras`` path, a bundle JSON path or dict,
            or a Keras model (see ``posenet.engine.weights``).
        block: pose block whose output is used (the network is cut after it; default last).
        multi_person: detect and track several people (else one person, refined crops).
        batch_size: crops per network call.
        detector: multi-person detector, ``frame -> Detections`` (or boxes, or (boxes,
            scores)); default :class:`MultiPoseDetector` with the shipped weights.
        detect_every: frames between detector runs (multi-person).
        crowded_every: frames between detector runs while two tracks' boxes overlap
            (multi-person; a crop of two people is ambiguous). Measured on rendered
            scenes (2026-12-02): 2 kept the ids of the crossing and exit scenes as 1 did,
            the four walkers' track purity as well or better (3 clips), with 35-40% fewer
            detector runs; 4 (no extra runs) swapped the crossing pair's ids.
        max_missed: frames a track survives without a detection (multi-person).
        smoothing: :class:`SmoothingConfig` of the joints' One Euro filter on videos
            (default: its defaults); None: no smoothing.
        redetect_below: mean joint confidence under which a track is re-detected.
        min_score: person score under which no person is reported (see the module
            docstring; default :data:`MIN_SCORE`, calibrated; 0 reports a person in every
            frame). In multi-person mode it applies to each detected person's mean joint
            confidence (the detector decides who is a person).
        finder: how a person is found in a whole frame: ``pose`` (the pose network on the
            letterboxed frame) or ``heads`` (the person heads of a mobile network).
        refine_passes: times the found person's crop is re-centred on the joints estimated
            in it before the final estimate.
        runtime: what runs the pose network: ``keras``, or ``litert`` / ``onnx`` (exported
            on the fly, cached; ``posenet.engine.runtimes``). The default detector runs
            on LiteRT with ``litert``, else on Keras (``detector_runtime.for_pose_runtime``).
        precision: with ``litert``, ``float32``, ``float16`` or ``int8`` (calibrated on
            LSPet training crops; ``posenet.export.quantize``, accuracy cost in weights/README).
    """

    def __init__(self, weights=None, block=None, multi_person=False, batch_size=16,
                 detector=None, detect_every=4, max_missed=30, redetect_below=0.4,
                 min_score=MIN_SCORE, finder="pose", refine_passes=1, smoothing="default",
                 runtime="keras", crowded_every=2, precision="float32"):
        self.weights = load_weights(weights)
        pose = self.weights.pose
        if block is not None and not 1 <= block <= pose.num_blocks:
            raise ValueError(f"--block must be in 1..{pose.num_blocks}, got {block}")
        self.block = pose.num_blocks if block is None else int(block)
        self.network = pose if self.block == pose.num_blocks else pose.truncated(self.block)
        if finder not in FINDERS:
            raise ValueError(f"finder must be one of {', '.join(FINDERS)}, got {finder!r}")
        if finder == "heads" and not has_person_heads(pose.output_names):
            raise ValueError("finder 'heads' needs a network with person heads (a mobile "
                             "preset's)")
        # only the outputs the pipeline reads: a mobile network's person heads cost time
        needed = [pose_output(self.block), visibility_output(self.block)]
        if finder == "heads":
            needed += [PERSON_CENTER, PERSON_REGRESS]
        self.runtime = runtime_for(runtime, self.network, self.block, pose.num_blocks,
                                   sha256=self.weights.sha256, precision=precision,
                                   outputs=needed)
        self.size, self.num_joints, self.dims = pose.input_size, pose.num_joints, pose.pose_dims
        self.skeleton = get_skeleton(layout_name(self.num_joints))
        self.multi_person, self.batch_size = bool(multi_person), int(batch_size)
        if detect_every < 1 or max_missed < 0:
            raise ValueError("detect_every must be at least 1 and max_missed at least 0")
        if crowded_every < 1:
            raise ValueError("crowded_every must be at least 1")
        self.detect_every, self.max_missed = int(detect_every), int(max_missed)
        self.crowded_every = int(crowded_every)
        self.smoothing = SmoothingConfig() if smoothing == "default" else smoothing
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {min_score}")
        self.redetect_below, self.min_score = float(redetect_below), float(min_score)
        self.finder, self.refine_passes = finder, int(refine_passes)
        self.detector_runtime = for_pose_runtime(runtime)  # the default detector's
        self._detector = detector
        if self.multi_person and detector is None:
            self._detector = MultiPoseDetector(runtime=self.detector_runtime)  # fails now
        self.action_models = dict(self.weights.actions)
        multitask = self.weights.multitask
        if multitask is not None and multitask.actions:
            self.action_models[None] = multitask
        counts = dict(multitask.actions) if multitask is not None else {}
        for dataset, net in self.weights.actions.items():
            if dataset not in net.actions:  # else a KeyError deep in the pipeline
                raise ValueError(f"the action network given for {dataset!r} predicts "
                                 f"{', '.join(map(repr, net.actions))} actions, not {dataset!r}: "
                                 "fix the dataset name in the weights bundle")
        counts |= {ds: net.actions[ds] for ds, net in self.weights.actions.items()}
        self.action_classes = {ds: class_names(ds, n) for ds, n in counts.items()}
        frames = {frames_read(m) for m in self.action_models.values()}
        self.num_frames = max(frames) if frames else 0

    @property
    def detector(self):
        if self._detector is None:
            self._detector = MultiPoseDetector(runtime=self.detector_runtime)
        return self._detector

    # -- the network ------------------------------------------------------------------
    def network_outputs(self, crops_bgr, names=None) -> dict:
        """The outputs ``names`` (default: all) of the network, name -> (N, ...) array, on
        uint8 BGR crops."""
        parts: dict[str, list] = {}
        for start in range(0, len(crops_bgr), self.batch_size):
            out = self.runtime.predict(crops_bgr[start:start + self.batch_size])
            for name in names or out:
                parts.setdefault(name, []).append(np.asarray(out[name]))
        return {name: np.concatenate(v) for name, v in parts.items()}

    def run_network(self, crops_bgr):
        """(pose (N, J, D), visibility (N, J)) of uint8 BGR crops (N, S, S, 3)."""
        pose, vis = pose_output(self.block), visibility_output(self.block)
        out = self.network_outputs(crops_bgr, (pose, vis))
        return out[pose], out[vis][..., 0]

    def estimate(self, frames, boxes, margin=DEFAULT_MARGIN):
        """One pose per (frame, box): dicts with ``joints2d`` (J, 3), ``z``, ``score``,
        ``joints3d`` and ``crop`` (the uint8 crop)."""
        if not len(frames):
            return []
        transforms = [crop_transform(b, self.size, margin=margin) for b in boxes]
        crops = np.stack([t.apply_image(f) for t, f in zip(transforms, frames, strict=True)])
        poses, vis = self.run_network(crops)
        results = []
        for t, pose, v, crop in zip(transforms, poses, vis, crops, strict=True):
            xy = t.invert_points(pose[:, :2] * self.size)
            joints2d = np.concatenate([xy, v[:, None]], axis=1)
            joints3d, z = None, None
            if self.dims == 3:
                z = pose[:, 2].astype(np.float64)
                joints3d = np.empty((self.num_joints, 3))
                joints3d[:, :2] = (pose[:, :2] - pose[PELVIS, :2]) * CROP_SIDE_MM
                joints3d[:, 2] = depth_to_mm(z, 0.0) - depth_to_mm(z[PELVIS], 0.0)
            results.append({"joints2d": joints2d, "joints3d": joints3d, "z": z,
                            "score": float(v.mean()), "crop": crop})
        return results

    def detect_single(self, frames):
        """Single-person poses of whole frames: find the person, crop, estimate.

        The person's box comes from a first pose estimated on the letterboxed frame (its
        confident joints, padded), or with ``finder="heads"`` from the network's person
        heads (``person_finder``). Then ``refine_passes`` times the crop is re-centred on
        the joints estimated in it before the final estimate.
        """
        whole = [np.array([0.0, 0.0, f.shape[1], f.shape[0]]) for f in frames]
        first = None
        if self.finder == "heads":
            transforms = [crop_transform(w, self.size, margin=1.0) for w in whole]
            crops = np.stack([t.apply_image(f) for t, f in zip(transforms, frames, strict=True)])
            heads = self.network_outputs(crops, (PERSON_CENTER, PERSON_REGRESS))
            boxes = [box for box, _ in find_people(heads, transforms, self.size)]
        else:
            first = self.estimate(frames, whole, margin=1.0)
            boxes = [P.box_from_joints(r["joints2d"]) for r in first]
            boxes = [b if b is not None else w for b, w in zip(boxes, whole, strict=True)]
        results = self.estimate(frames, boxes)
        for _ in range(self.refine_passes):  # re-crop around the estimated joints
            refined = [P.box_from_joints(r["joints2d"]) for r in results]
            boxes = [b if r is None else r for b, r in zip(boxes, refined, strict=True)]
            first = first or results  # heads: the first crop's pose is the other estimate
            results = self.estimate(frames, boxes)
        for i, result in enumerate(results):
            result["person_score"] = result["score"] if first is None else person_score(
                result["score"], first[i]["joints2d"], result["joints2d"], boxes[i])
        return results, boxes

    # -- videos -----------------------------------------------------------------------
    def predict_video(self, path, progress=None, on_frame=None, max_frames=None,
                      stream=None):
        """The predictions dict (``docs/predictions_schema.md``) of a video or image file,
        or of a stream (a camera index or URL, or with ``stream=True`` a video file read
        as one; see ``sources.open_stream``).

        ``progress(n)`` is called after every chunk of ``n`` frames; ``on_frame(index,
        frame, people)`` after each frame (e.g. to write an overlay, or a stream's lines);
        ``max_frames`` stops after that many frames.
        """
        if stream or (stream is None and is_stream(path)):
            info, frames = open_stream(path, 2 * self.batch_size)
        else:
            info = probe(path)
            frames = iter_frames(path, info.kind, 2 * self.batch_size)
        return self.predict_frames(frames, info, progress, on_frame, max_frames)

    def predict_frames(self, frames, info, progress=None, on_frame=None, max_frames=None):
        """The predictions dict of ``frames``, a generator of ``(index, frame)`` (closed at
        the end), described by ``info`` (a ``sources.MediaInfo``); see
        :meth:`predict_video`."""
        frames = _first(frames, max_frames)
        return self._predict(frames, info.kind, os.fspath(info.path), info.fps, progress,
                             on_frame)

    def predict_image(self, image_bgr):
        """The predictions dict of one (H, W, 3) uint8 BGR image."""
        image = np.asarray(image_bgr)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InputError(f"expected an (H, W, 3) uint8 BGR image, got {image.shape} "
                             f"{image.dtype}")
        return self._predict(iter([(0, image)]), "image", "<array>", None)

    def _predict(self, frames, kind, source, fps, progress=None, on_frame=None):
        tracker = Tracker(self.max_missed)
        smooth = self.smoothing is not None and bool(fps)
        state = {"tracker": tracker, "windows": {}, "frames": [], "size": None,
                 "runner": ActionRunner(self.action_models, self.dims, fps=fps),
                 "smoothers": {} if smooth else None}
        chunk = []
        for index, frame in frames:
            state["size"] = frame.shape[1], frame.shape[0]
            chunk.append((index, frame))
            if len(chunk) == self.batch_size:
                self._chunk(chunk, state, fps, on_frame)
                if progress:
                    progress(len(chunk))
                chunk = []
        if chunk:
            self._chunk(chunk, state, fps, on_frame)
            if progress:
                progress(len(chunk))
        if not state["frames"]:
            raise InputError(f"{source}: no frames could be decoded")
        tracker.end_all()
        return self._result(state, kind, source, fps)

    def _chunk(self, chunk, state, fps, on_frame):
        tracker = state["tracker"]
        plan = []  # (position in chunk, track, box)
        for pos, (index, frame) in enumerate(chunk):
            if self.multi_person:
                # more often where people overlap: a crop of two people is ambiguous
                if index % self.detect_every == 0 or (index % self.crowded_every == 0
                                                      and tracker.crowded(index)):
                    tracker.update(self.detector(frame), index)
            elif not tracker.active:
                (result,), (box,) = self.detect_single([frame])
                box = clip_box(box, frame.shape[1], frame.shape[0])
                if result["person_score"] < self.min_score or box is None:
                    continue  # nobody here: try again on the next frame
                tracker.start(box, index)
            plan += [(pos, t, t.predicted(index)) for t in tracker.active]
        results = self.estimate([chunk[p][1] for p, _, _ in plan], [b for _, _, b in plan])
        if not self.multi_person:
            self._redetect(chunk, plan, results)
        candidates = [[] for _ in chunk]
        for (pos, track, _), result in zip(plan, results, strict=True):
            height, width = chunk[pos][1].shape[:2]
            result["box"] = clip_box(P.box_from_joints(result["joints2d"]), width, height)
            if result["score"] >= self.min_score and result["box"] is not None:
                candidates[pos].append((result, track))
            elif not self.multi_person:  # single person: lost, re-detect next chunk
                tracker.end(track)
            # multi-person: an unsure pose is not reported; the detector decides the rest
        found = [[] for _ in chunk]
        for pos, (index, _) in enumerate(chunk):
            pairs = candidates[pos]
            keep = suppress_duplicates([r for r, _ in pairs], [t for _, t in pairs])
            for (result, track), kept in zip(pairs, keep, strict=True):
                if not kept:
                    continue
                tracker.seen(track, result["box"], index, result["joints2d"])
                result["track"] = track.id
                self._smooth(state, track.id, index, fps, result)
                found[pos].append(result)
                self._add_to_windows(state, track.id, index, result)
        if self.multi_person:
            tracker.prune(chunk[-1][0])
        for pos, (index, frame) in enumerate(chunk):
            people = [self._person(r) for r in found[pos]]
            time = index / fps if fps else 0.0
            state["frames"].append({"index": int(index), "time": round(time, 6),
                                    "people": people})
            if on_frame is not None:
                on_frame(index, frame, people)

    def _redetect(self, chunk, plan, results):
        """Single person: re-detect the frames whose pose in the chunk's box is unsure."""
        weak = [i for i, r in enumerate(results) if r["score"] < self.redetect_below]
        if not weak:
            return
        again, boxes = self.detect_single([chunk[plan[i][0]][1] for i in weak])
        for i, result, box in zip(weak, again, boxes, strict=True):
            if result["score"] > results[i]["score"] and result["person_score"] >= self.min_score:
                results[i] = result
                plan[i][1].box = box  # the track continues from the re-detected box

    def _smooth(self, state, track_id, index, fps, result):
        """The track's One Euro filter over the result's joints (videos only)."""
        if state["smoothers"] is None:
            return
        if track_id not in state["smoothers"]:
            state["smoothers"][track_id] = TrackSmoother(self.smoothing)
        smoother = state["smoothers"][track_id]
        xy, joints3d = smoother(index / fps, result["joints2d"][:, :2], result["joints3d"])
        result["joints2d"] = np.concatenate([xy, result["joints2d"][:, 2:]], axis=1)
        if joints3d is not None:
            result["joints3d"] = joints3d

    def _add_to_windows(self, state, track_id, index, result):
        if not self.action_models:
            return
        if track_id not in state["windows"]:
            runner = state["runner"]
            state["windows"][track_id] = ActionWindows(runner)
        crop = result["crop"] if None in self.action_models else None
        state["windows"][track_id].add(index, result["joints2d"], result["z"],
                                       result["box"], crop)

    @staticmethod
    def _person(result):
        # Rounded by NumPy, whole arrays at once: per-value round() cost 0.17 ms a frame,
        # 5x this.
        joints2d = np.asarray(result["joints2d"], np.float64)
        joints2d = np.concatenate([np.round(joints2d[:, :2], 2), np.round(joints2d[:, 2:], 4)],
                                  axis=1)
        return {"track": int(result["track"]),
                "box": np.round(np.asarray(result["box"], np.float64), 2).tolist(),
                "score": round(float(result["score"]), 4), "joints2d": joints2d.tolist(),
                "joints3d": None if result["joints3d"] is None
                else np.round(np.asarray(result["joints3d"], np.float64), 1).tolist()}

    def _result(self, state, kind, source, fps):
        for windows in state["windows"].values():
            windows.close()
        state["runner"].flush()
        tracks = []
        for track in sorted(state["tracker"].finished, key=lambda t: t.id):
            seen = [f for f in state["frames"] if any(p["track"] == track.id
                                                      for p in f["people"])]
            if not seen:  # a detection never confirmed by a pose
                continue
            windows = state["windows"].get(track.id)
            tracks.append({"id": track.id, "first_frame": seen[0]["index"],
                           "last_frame": seen[-1]["index"],
                           "actions": windows.result(self.action_classes) if windows else {}})
        width, height = state["size"]
        return {**self.header(kind, source, fps, width, height),
                "num_frames": len(state["frames"]), "frames": state["frames"],
                "tracks": tracks}

    def header(self, kind, source, fps, width, height) -> dict:
        """The predictions' fields other than ``frames`` and ``tracks``; ``num_frames`` is
        None (unknown until the input ends)."""
        return {
            "schema": SCHEMA, "source": source, "kind": kind, "width": int(width),
            "height": int(height), "fps": fps, "num_frames": None,
            "skeleton": {"name": self.skeleton.name, "joints": list(self.skeleton.joints),
                         "links": [list(link) for link in self.skeleton.links]},
            "model": {"weights": self.weights.source, "sha256": self.weights.sha256,
                      "block": self.block},
            "action_classes": self.action_classes,
        }


def _first(frames, count=None):
    """The first ``count`` (default all) items of the generator ``frames``, which is then
    closed (its decoding thread stops)."""
    try:
        for n, item in enumerate(frames):
            if count is not None and n >= count:
                break
            yield item
    finally:
        frames.close()
