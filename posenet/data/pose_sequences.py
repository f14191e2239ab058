"""Pose sequences (no images) for training the pose-only :class:`ActionNetwork`."""

from __future__ import annotations

import numpy as np

from posenet.data.action_input import extent
from posenet.data.sources import MixedLoader, output_spec
from posenet.data.targets import depth_to_normalised, replicate, select_joints
from posenet.data.time_sampling import random_span
from posenet.skeleton import get_skeleton

_MODEL17 = get_skeleton("model17")
_PELVIS = 0
#: Keeps the noise model's generator apart from the batch's (same seed, epoch, index):
#: clips, flips and drops are then the same with and without it.
_NOISE_STREAM = 104_729


def window(frames, num_frames: int, stride: int, rng: np.random.Generator) -> np.ndarray:
    """``num_frames`` entries of ``frames`` ``stride`` apart from a random start.

    A sequence shorter than the span ``(num_frames - 1) * stride + 1`` starts at 0 and
    repeats its last frame to fill the clip.  One ``rng.integers`` draw either way, so
    the draws that follow stay aligned.
    """
    frames = np.asarray(frames)
    span = (num_frames - 1) * stride + 1
    start = int(rng.integers(0, max(len(frames) - span, 0) + 1))
    return frames[np.minimum(start + stride * np.arange(num_frames), len(frames) - 1)]


def normalised_sequence(dataset, clip, pose_dims):
    """Ground-truth joints of the samples ``clip`` normalised as the action network reads
    them: ``(coords (T, 17, D), valid (T, 17), visible (T, 17))``.

    x, y are relative to the square around the union of the clip's valid joints and finite
    boxes (its longer side, centred), in [0, 1]; z (D = 3) is the pelvis-relative depth of
    ``targets.depth_to_normalised``, 0 where unknown. Unannotated joints stay in ``coords``
    (the caller zeroes them after its augmentation) and are False in ``valid``.
    """
    joints2d = dataset.arrays("joints2d", clip).astype(np.float64)
    valid = dataset.arrays("valid2d", clip) & np.isfinite(joints2d[..., :2]).all(-1)
    visible = valid & (joints2d[..., 2] > 0)
    x1, y1, x2, y2 = extent(joints2d, valid, dataset.arrays("bbox", clip))
    side = max(x2 - x1, y2 - y1)
    side = side if side > 0 else 1.0  # a single point: any scale keeps it at the centre
    origin = np.array([(x1 + x2 - side) / 2, (y1 + y2 - side) / 2])
    coords = np.zeros((*valid.shape, pose_dims))
    coords[..., :2] = (joints2d[..., :2] - origin) / side
    if pose_dims == 3:
        z = dataset.arrays("joints3d", clip)[..., 2].astype(np.float64)
        known = dataset.arrays("valid3d", clip) & np.isfinite(z)
        known &= known[:, _PELVIS : _PELVIS + 1]
        z = np.where(known, z, 0.0)
        coords[..., 2] = np.where(known, depth_to_normalised(z, z[:, _PELVIS:_PELVIS + 1]), 0)
    return coords, valid, visible


def _correlated(shape, rho, rng) -> np.ndarray:
    """Unit Gaussians of ``shape`` (T, ...), AR(1) over the first axis with ``rho``."""
    e = rng.normal(0.0, 1.0, shape)
    if rho > 0:
        scale = np.sqrt(1.0 - rho ** 2)
        for t in range(1, len(e)):
            e[t] = rho * e[t - 1] + scale * e[t]
    return e


def pose_error(noise_model, shape, rng, noise_scale=1.0, miss_scale=1.0, hide_scale=1.0,
               rho=0.0):
    """A pose network's simulated error on a (T, J) clip of ``noise_model`` (a
    :class:`posenet.data.pose_noise.PoseNoise`): ``(offsets (T, J, 2), hidden (T, J))``
    in normalised units, as :class:`PoseSequenceLoader` adds them (see its docstring)."""
    num = shape[1]
    sigma = noise_model.array("sigma", num) * noise_scale
    miss_sigma = noise_model.array("miss_sigma", num) * noise_scale
    miss_rate = np.clip(noise_model.array("miss_rate", num) * miss_scale, 0, 1)
    hidden_rate = np.clip(noise_model.array("hidden_rate", num) * hide_scale, 0, 1)
    small = _correlated((*shape, 2), rho, rng) * sigma[:, None]
    large = _correlated((*shape, 2), rho, rng) * miss_sigma[:, None]
    missed = rng.random(shape) < miss_rate
    hidden = rng.random(shape) < hidden_rate
    return np.where(missed[..., None], large, small), hidden


class _InMemory:
    """The per-sample fields ``normalised_sequence`` reads of a prepared file, read once:
    pose sequence files are small (tens of bytes a sample), and an HDF5 read per field
    per clip costs far more than the network's step."""

    FIELDS = ("joints2d", "valid2d", "bbox", "action", "joints3d", "valid3d")

    def __init__(self, dataset):
        self.path = dataset.path
        self._arrays = {name: dataset.arrays(name) for name in self.FIELDS
                        if name in dataset.names}

    def arrays(self, name, indices=None):
        return self._arrays[name] if indices is None else self._arrays[name][indices]


class PoseSequenceLoader(MixedLoader):
    """Batches of ground-truth pose sequences: inputs ``{"poses": (B, T, J, D),
    "visibility": (B, T, J, 1)}`` and one-hot action targets per dataset output.

    Joints are normalised to the clip's square union box (the box of all its valid joints
    and boxes, its longer side, centred): x, y in [0, 1] before noise.  With D = 3, z is the
    pelvis-relative depth of ``posenet.data.targets`` (0 where unknown).  Augmentation:
    Gaussian noise of ``noise`` (normalised units) on the coordinates, each joint dropped
    with probability ``drop`` (visibility 0 and coordinates 0), a horizontal flip with
    probability ``flip`` (x -> 1 - x and left/right labels swapped), frames ``stride``
    apart from a random start (short sequences repeat their last frame).  Joints that are
    not annotated get visibility 0 and coordinates 0 too.

    A pose network's error (``noise_model``: a :class:`posenet.data.pose_noise.PoseNoise`,
    its dict or JSON path, or ``"default"`` for the shipped ``weights/pose_noise.json``)
    adds, after the flip and on top of ``noise``, per joint ``j`` and frame: with
    probability ``miss_rate[j] * miss_scale`` a gross miss, Gaussian of ``miss_sigma[j] *
    noise_scale`` per coordinate, otherwise Gaussian of ``sigma[j] * noise_scale``; and,
    with probability ``hidden_rate[j] * hide_scale``, the joint is hidden (as a drop).
    With ``noise_correlation`` = rho in [0, 1) both Gaussians are AR(1) over the frames
    (``n_t = rho n_{t-1} + sqrt(1 - rho^2) e_t``: same std per frame, correlation rho^k
    k frames apart), as a network's errors persist over neighbouring frames.  With
    ``noise_fraction`` below 1, only that share of the clips (a seeded draw per clip) gets
    the error; the rest stay ground truth.

    Args:
        sources: :class:`Source` s (their ``augment`` is ignored; ``action_dataset`` names
            the outputs their labels train).
        outputs: the ActionNetwork, or its output names (then give ``num_frames``,
            ``num_joints``, ``pose_dims`` and ``num_classes`` unless the files list them).
        batch_size, steps, seed, workers, use_multiprocessing, max_queue_size: as in
            :class:`FrameLoader`.
    """

    def __init__(self, sources, outputs, batch_size=32, steps=1000, num_frames=None,
                 num_joints=None, pose_dims=None, num_classes=None, stride=1, noise=0.0,
                 drop=0.0, flip=0.5, seed=0, noise_model=None, noise_scale=1.0,
                 miss_scale=1.0, hide_scale=1.0, noise_correlation=0.0, rotate=0.0,
                 scale=0.0, clip_span=None, span_fraction=0.8, noise_fraction=1.0,
                 **kwargs):
        spec = output_spec(outputs, pose_dims, num_joints, num_classes)
        poses = spec.input_shapes.get("poses")
        num_frames = poses[0] if num_frames is None and poses else num_frames
        num_joints = spec.num_joints if num_joints is None else num_joints
        pose_dims = spec.pose_dims if pose_dims is None else pose_dims
        if None in (num_frames, num_joints, pose_dims):
            raise ValueError("pass num_frames, num_joints and pose_dims (or the model)")
        if not (num_frames >= 1 and stride >= 1 and noise >= 0 and 0 <= drop <= 1
                and 0 <= flip <= 1 and pose_dims in (2, 3)):
            raise ValueError("need num_frames, stride >= 1, noise >= 0, drop and flip in "
                             "[0, 1] and pose_dims 2 or 3")
        clip_span = getattr(outputs, "clip_span", None) if clip_span is None else clip_span
        if not (0 <= rotate <= 180 and 0 <= scale < 1 and 0 < span_fraction <= 1
                and (clip_span is None or clip_span >= 1) and 0 <= noise_fraction <= 1):
            raise ValueError("need rotate in [0, 180], scale in [0, 1), span_fraction in "
                             "(0, 1], clip_span >= 1 and noise_fraction in [0, 1]")
        self.noise_fraction = float(noise_fraction)
        self.rotate, self.scale = float(rotate), float(scale)
        self.clip_span = None if clip_span is None else int(clip_span)
        self.span_fraction = float(span_fraction)
        self.spec = spec
        self.num_frames, self.num_joints, self.pose_dims = num_frames, num_joints, pose_dims
        self.stride, self.noise, self.drop, self.flip = int(stride), noise, drop, flip
        if not (noise_scale >= 0 and miss_scale >= 0 and hide_scale >= 0
                and 0 <= noise_correlation < 1):
            raise ValueError("need noise_scale, miss_scale, hide_scale >= 0 and "
                             "noise_correlation in [0, 1)")
        self.noise_model = None
        if noise_model is not None:
            from posenet.data.pose_noise import load_noise_model

            self.noise_model = load_noise_model(None if noise_model == "default"
                                                else noise_model)
        self.noise_scale, self.miss_scale = float(noise_scale), float(miss_scale)
        self.hide_scale, self.rho = float(hide_scale), float(noise_correlation)
        super().__init__(sources, batch_size, steps, seed, **kwargs)
        self.num_classes = self.class_counts(spec)

    def _units(self, k, ds):
        valid = ds.arrays("valid2d").any(axis=1)
        return [frames for frames in ds.sequences().values() if valid[frames].any()]

    def _memory(self, k):
        cache = self.__dict__.setdefault("_in_memory", {})
        if k not in cache:
            cache[k] = _InMemory(self.datasets[k])
        return cache[k]

    def _clip(self, k, frames, rng, noise_rng=None):
        """(poses (T, J, D), visibility (T, J, 1), label) of one random clip (``noise_rng``
        draws the noise model's error)."""
        ds = self._memory(k)
        if self.clip_span:
            clip = random_span(frames, self.num_frames, self.clip_span, rng,
                               self.span_fraction)
        else:
            clip = window(frames, self.num_frames, self.stride, rng)
        coords, valid, visible = normalised_sequence(ds, clip, self.pose_dims)
        # Every draw is made whatever the settings, so a loader differing only in, e.g.,
        # the flip probability sees the same clips, noise and drops.
        flipped = rng.random() < self.flip
        noise = rng.normal(0.0, 1.0, (*valid.shape, 2)) * self.noise
        dropped = rng.random(valid.shape) < self.drop
        if self.rotate or self.scale:
            angle = np.deg2rad(rng.uniform(-self.rotate, self.rotate))
            factor = rng.uniform(1 - self.scale, 1 + self.scale)
            cos, sin = np.cos(angle) * factor, np.sin(angle) * factor
            xy = coords[..., :2] - 0.5
            coords[..., :2] = 0.5 + np.stack([cos * xy[..., 0] - sin * xy[..., 1],
                                              sin * xy[..., 0] + cos * xy[..., 1]], -1)
        if flipped:
            perm = _MODEL17.flip_permutation()
            coords, valid, visible = coords[:, perm], valid[:, perm], visible[:, perm]
            coords[..., 0] = 1.0 - coords[..., 0]
        coords[..., :2] += noise
        # a clip left clean keeps the network right on clean poses (drawn only when set,
        # so the noise model's stream is unchanged without it)
        spared = self.noise_fraction < 1 and noise_rng.random() >= self.noise_fraction
        if self.noise_model is not None and not spared:
            joint_noise, hidden = pose_error(
                self.noise_model, valid.shape, noise_rng, self.noise_scale, self.miss_scale,
                self.hide_scale, self.rho)
            coords[..., :2] += joint_noise
            dropped = dropped | hidden
        keep = valid & ~dropped
        coords = np.where(keep[..., None], coords, 0.0)
        visible = visible & ~dropped
        labels = ds.arrays("action", clip)
        label = int(labels[labels >= 0][0]) if (labels >= 0).any() else -1
        return (select_joints(coords, self.num_joints),
                select_joints(visible[..., None].astype(np.float64), self.num_joints), label)

    def __getitem__(self, index):
        rng = self.batch_rng(index)
        noise_rng = np.random.default_rng((self.seed, self.epoch, int(index), _NOISE_STREAM))
        poses, vis, labels, source_ids = [], [], [], []
        for k, frames in self.plan(index):
            p, v, label = self._clip(k, frames, rng, noise_rng)
            poses.append(p)
            vis.append(v)
            labels.append(label)
            source_ids.append(k)
        x = {"poses": np.stack(poses).astype(np.float32),
             "visibility": np.stack(vis).astype(np.float32)}
        y = replicate(self.action_targets(labels, source_ids, self.num_classes), self.spec.names)
        return x, y
