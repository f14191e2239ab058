"""The inference pipeline: frames -> person crops -> the network -> people, tracks, actions.

:class:`Predictor` composes the stages, chunk by chunk of ``batch_size`` frames (one batched
network call per chunk):

1. find people (``following``): single-person mode (the default) finds the person in the
   whole frame when there is no track (``finding``: a first pose on the letterboxed frame,
   or a mobile network's person heads, then refined crops) and follows the track's box;
   multi-person mode runs a person detector every ``detect_every`` frames and tracks the
   people in between (``tracking``);
2. crop and estimate (``pose_stage``): each person's crop through the pose network, the
   joints back in image px (3D joints in root-relative mm);
3. (a lift stage, 2D -> 3D, would go here: after the tracks are settled, before smoothing)
4. gate and smooth (``gating``, ``smoothing_stage``): a limb joint that jumps further in
   one frame than people move is held; each track's joints through a One Euro filter, on
   videos (``max_jump=None``, ``smoothing=None`` turn them off);
5. actions (``actions_stage``): each track's poses in sliding windows through the action
   models;
6. the predictions dict (``report``; ``docs/predictions_schema.md``).

A person is reported only when their score reaches ``min_score`` (:data:`MIN_SCORE`): in
single-person mode a newly found person's score is :func:`person_score`, the mean joint
confidence weighted by how well the whole-frame pose and the refined pose agree (the
confidence alone is high on noise and textured backgrounds); a tracked person's score is
the mean joint confidence. So a flat picture, a 1x1 image or an empty room reports
``people: []``. Boxes are clipped to the frame; a box under :data:`MIN_BOX_SIDE` px after
clipping is no person. A frame too small, dark, washed out or flat for the network to see
anyone in (``frame_quality``) is not looked at: nobody is reported in it, and the
predictions' ``warnings`` count such frames.

Coordinates: 2D joints in image px with the visibility as confidence; 3D joints in
root-relative mm, a crop's side spanning ``CROP_SIDE_MM`` (see ``pose_stage``).
"""

from __future__ import annotations

import os

import numpy as np

from posenet.data.augment import DEFAULT_MARGIN
from posenet.data.targets import DEPTH_RANGE_MM
from posenet.inference import report
from posenet.inference.actions_stage import TrackActions, action_models
from posenet.inference.detector import (
    DEFAULT_DETECTOR,
    FINDING_SIDES,
    MultiPoseDetector,
    at_scales,
)
from posenet.inference.detector_runtime import for_pose_runtime
from posenet.inference.finding import CHOICES, make_finder
from posenet.inference.following import FollowMany, FollowOne
from posenet.inference.frame_quality import FrameQuality
from posenet.inference.gating import MAX_JUMP, JumpGating
from posenet.inference.input_log import InputLog, size_warnings
from posenet.inference.networks import load_networks
from posenet.inference.people import (  # noqa: F401 (re-exported: the API was here)
    DRIFT_SCALE,
    MIN_BOX_SIDE,
    MIN_SCORE,
    clip_box,
    person_score,
)
from posenet.inference.person_finder import has_person_heads
from posenet.inference.pose_stage import PoseStage
from posenet.inference.smoothing import SmoothingConfig
from posenet.inference.smoothing_stage import JointSmoothing
from posenet.inference.sources import InputError, is_stream, iter_frames, open_stream, probe
from posenet.skeleton import get_skeleton, layout_name

SCHEMA = "posenet-predictions/1"
#: Ways of finding the single person in a whole frame (see ``Predictor.detect_single``):
#: the person detector (the default), the pose network on the letterboxed frame, or a
#: mobile network's person heads.
FINDERS = ("detector", "pose", "heads")
#: Millimetres spanned by the side of a person crop (weak perspective; see ``pose_stage``).
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
        max_jump: torso lengths a limb joint may move in one frame at 30 frames/s before
            it is held as an implausible jump (``gating``; default measured on Penn
            Action); None: no gating.
        redetect_below: mean joint confidence under which a track is re-detected.
        min_score: person score under which no person is reported (see the module
            docstring; default :data:`MIN_SCORE`, calibrated; 0 reports a person in every
            frame). In multi-person mode it applies to each detected person's mean joint
            confidence (the detector decides who is a person).
        finder: how the single person is found in a whole frame, on the first frame and
            whenever the pose is lost or unsure: ``detector`` (the person detector, the
            default; the same one as multi-person mode's), ``pose`` (the pose network on the
            letterboxed frame) or ``heads`` (the person heads of a mobile network). Without
            a detector (no ``detector`` given and no shipped detector file) ``detector``
            falls back to ``pose``.
        person: which detected person is the single person (``finder="detector"``):
            ``largest`` (the largest box) or ``central`` (nearest the frame's centre); a
            person who continues the one followed until then is always preferred
            (``finding.main_person``).
        refine_passes: times the found person's crop is re-centred on the joints estimated
            in it before the final estimate.
        runtime: what runs the pose network: ``keras``, or ``litert`` / ``onnx`` (exported
            on the fly, cached; ``posenet.engine.runtimes``). The default detector runs
            on LiteRT with ``litert``, else on Keras (``detector_runtime.for_pose_runtime``).
        precision: with ``litert``, ``float32``, ``float16`` or ``int8`` (calibrated on
            LSPet training crops; ``posenet.export.quantize``, accuracy cost in weights/README).
        frame_check: withhold people in frames too small, dark, washed out or flat for the
            network to see anyone in, and say so in ``warnings`` (``frame_quality``).
    """

    def __init__(self, weights=None, block=None, multi_person=False, batch_size=16,
                 detector=None, detect_every=4, max_missed=30, redetect_below=0.4,
                 min_score=MIN_SCORE, finder="detector", refine_passes=1, smoothing="default",
                 runtime="keras", crowded_every=2, precision="float32", person="largest",
                 max_jump=MAX_JUMP, frame_check=True):
        if finder == "detector" and detector is None and not DEFAULT_DETECTOR.is_file():
            finder = "pose"  # no detector to find people with: the whole-frame pose

        def check(info):
            _check_options(info, block, finder, detect_every, max_missed, crowded_every,
                           min_score, person)

        # from the exports alone when they are cached (no Keras), else loaded (``networks``)
        self.weights, self.block, self.runtime = load_networks(
            weights, block, runtime, precision, finder == "heads", check)
        info = self.weights.info
        self.size, self.num_joints, self.dims = info.input_size, info.num_joints, info.pose_dims
        self.skeleton = get_skeleton(layout_name(self.num_joints))
        self.multi_person, self.batch_size = bool(multi_person), int(batch_size)
        self.detect_every, self.max_missed = int(detect_every), int(max_missed)
        self.crowded_every = int(crowded_every)
        self.smoothing = SmoothingConfig() if smoothing == "default" else smoothing
        self.max_jump, self.frame_check = max_jump, bool(frame_check)
        self.redetect_below, self.min_score = float(redetect_below), float(min_score)
        self.finder, self.refine_passes = finder, int(refine_passes)
        self.detector_runtime = for_pose_runtime(runtime)  # the default detector's
        self._detector = detector
        if self.multi_person and detector is None:
            self._detector = MultiPoseDetector(runtime=self.detector_runtime)  # fails now
        # raises ValueError on an action network filed under a dataset it does not predict
        self.action_models, self.action_classes, self.num_frames = action_models(self.weights)
        # the stages that keep no state between inputs (the others are made per input)
        self.pose_stage = PoseStage(self.runtime, self.block, self.size, self.num_joints,
                                    self.dims, self.batch_size, CROP_SIDE_MM)
        # with the detector finder, the detector is built the first time someone is looked for
        self.finding_stage = make_finder(self.pose_stage, finder, self._find_people,
                                         person, self.refine_passes, self.redetect_below,
                                         self.min_score, self._glance)

    @property
    def detector(self):
        """The multi-person detector (the default one is made on first use)."""
        if self._detector is None:
            self._detector = MultiPoseDetector(runtime=self.detector_runtime)
        return self._detector

    def _find_people(self, frame):
        """The single-person finder's detections: the shipped detector at several scales
        (``detector.at_scales``), a detector given by the caller as it is."""
        detector = self.detector
        if isinstance(detector, MultiPoseDetector):
            return at_scales(detector, frame)
        return detector(frame)

    def _glance(self, frame, box):
        """The single-person finder's quick look for the person followed in ``box``: the
        shipped detector at its smallest finding scale when the person is at least a
        quarter of the frame tall (36 px or more there on a 16:9 frame, the size at which
        the larger scale finds people an eighth of the frame tall), else as
        :meth:`_find_people`. When the glance misses the person, a whole find follows."""
        detector = self.detector
        if isinstance(detector, MultiPoseDetector):
            if box[3] - box[1] >= frame.shape[0] / 4:
                return at_scales(detector, frame, FINDING_SIDES[:1])
            return at_scales(detector, frame)
        return detector(frame)

    def network_outputs(self, crops_bgr, names=None) -> dict:
        """See :meth:`PoseStage.network_outputs`."""
        return self.pose_stage.network_outputs(crops_bgr, names)

    def run_network(self, crops_bgr):
        """See :meth:`PoseStage.run_network`."""
        return self.pose_stage.run_network(crops_bgr)

    def estimate(self, frames, boxes, margin=DEFAULT_MARGIN):
        """See :meth:`PoseStage.estimate`."""
        return self.pose_stage.estimate(frames, boxes, margin)

    def detect_single(self, frames):
        """Single-person poses of whole frames: ``(results, boxes)``, see
        :meth:`SinglePersonFinder.detect` (with the detector finder,
        :meth:`DetectorFinder.detect`: None and None where nobody is detected)."""
        return self.finding_stage.detect(frames)

    def predict_video(self, path, progress=None, on_frame=None, max_frames=None, stream=None):
        """The predictions dict (``docs/predictions_schema.md``) of a video or image file,
        or of a stream (a camera index or URL, or with ``stream=True`` a video file read
        as one; see ``sources.open_stream``).

        ``progress(n)`` is called after every chunk of ``n`` frames; ``on_frame(index,
        frame, people)`` after each frame (e.g. to write an overlay, or a stream's lines);
        ``max_frames`` stops after that many frames.
        """
        log = InputLog()  # the decoder's timestamps and what it says (``input_log``)
        if stream or (stream is None and is_stream(path)):
            info, frames = open_stream(path, 2 * self.batch_size, log=log)
        else:
            info = probe(path)
            log.describe(info)
            frames = iter_frames(path, info.kind, 2 * self.batch_size, log=log)
        return self.predict_frames(frames, info, progress, on_frame, max_frames, log)

    def predict_frames(self, frames, info, progress=None, on_frame=None, max_frames=None,
                       log=None):
        """The predictions dict of ``frames``, a generator of ``(index, frame)`` (closed at
        the end), described by ``info`` (a ``sources.MediaInfo``); ``log``: the
        ``input_log.InputLog`` their decoding fills (None: times are ``index / fps``); see
        :meth:`predict_video`."""
        frames = _first(frames, max_frames)
        return self._predict(frames, info.kind, os.fspath(info.path), info.fps, progress,
                             on_frame, log)

    def predict_image(self, image_bgr):
        """The predictions dict of one (H, W, 3) uint8 BGR image."""
        image = np.asarray(image_bgr)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InputError(f"expected an (H, W, 3) uint8 BGR image, got {image.shape} "
                             f"{image.dtype}")
        return self._predict(iter([(0, image)]), "image", "<array>", None)

    def _predict(self, frames, kind, source, fps, progress=None, on_frame=None, log=None):
        log = log if log is not None else InputLog(fps)
        follow = (FollowMany(self.detector, self.detect_every, self.crowded_every,
                             self.max_missed, self.min_score) if self.multi_person
                  else FollowOne(self.finding_stage, self.max_missed, self.min_score))
        gating = JumpGating(self.skeleton, fps, self.max_jump, log.time)
        smoothing = JointSmoothing(self.smoothing, fps, log.time)
        # an action is a motion: none on a still image
        actions = TrackActions(self.action_models if kind != "image" else {}, self.dims, fps)
        written = report.Frames(fps, on_frame, log.time)
        quality = FrameQuality(self.frame_check)  # frames no one can be seen in: left out
        for chunk in _chunks(frames, self.batch_size):
            kept = quality.keep(chunk)
            plan = follow.plan(kept) if kept else []  # who is where: found, detected, followed
            results = self.pose_stage.estimate([p.frame for p in plan], [p.box for p in plan])
            found = follow.settle(kept, plan, results) if kept else []  # the people reported
            found = quality.spread(chunk, kept, found)
            # (a lift stage, 2D -> 3D, goes here: on the settled poses, before smoothing)
            for (index, _), people in zip(chunk, found, strict=True):
                for result in people:
                    gating.gate(index, result)
                    smoothing.smooth(index, result)
                    actions.add(index, result)
            written.add(chunk, found)
            if progress:
                progress(len(chunk))
        if not written.frames:
            raise InputError(f"{source}: no frames could be decoded")
        tracks = actions.tracks(follow.finish(), written.frames, self.action_classes)
        head = self.header(kind, source, fps, written.width, written.height)
        warnings = [*log.warnings(), *size_warnings(written.width, written.height, self.size),
                    *quality.warnings(), *actions.warnings]
        return report.predictions(head, written.frames, tracks, warnings)

    def header(self, kind, source, fps, width, height) -> dict:
        """The predictions' fields other than ``frames`` and ``tracks``; ``num_frames`` is
        None (unknown until the input ends)."""
        model = {"weights": self.weights.source, "sha256": self.weights.sha256,
                 "block": self.block}
        return report.header(SCHEMA, kind, source, fps, width, height, self.skeleton, model,
                             self.action_classes)


def _check_options(pose, block, finder, detect_every, max_missed, crowded_every, min_score,
                   person):
    """Raise ValueError on a :class:`Predictor` option out of range (``pose``: the pose
    network's ``NetworkInfo``, which bounds ``block`` and says whether it has person
    heads)."""
    if block is not None and not 1 <= block <= pose.num_blocks:
        raise ValueError(f"--block must be in 1..{pose.num_blocks}, got {block}")
    if finder not in FINDERS:
        raise ValueError(f"finder must be one of {', '.join(FINDERS)}, got {finder!r}")
    if finder == "heads" and not has_person_heads(pose.output_names):
        raise ValueError("finder 'heads' needs a network with person heads (a mobile "
                         "preset's)")
    if detect_every < 1 or max_missed < 0:
        raise ValueError("detect_every must be at least 1 and max_missed at least 0")
    if crowded_every < 1:
        raise ValueError("crowded_every must be at least 1")
    if not 0.0 <= min_score <= 1.0:
        raise ValueError(f"min_score must be in [0, 1], got {min_score}")
    if person not in CHOICES:
        raise ValueError(f"person must be one of {', '.join(CHOICES)}, got {person!r}")


def _chunks(frames, size):
    """Lists of ``size`` (the last of at most ``size``) consecutive items of ``frames``."""
    chunk = []
    for item in frames:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
