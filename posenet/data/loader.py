"""Keras data loaders of single frames, clips and pose sequences from prepared files.

``FrameLoader`` feeds the single-frame :class:`PoseNetwork`, ``ClipLoader`` the
:class:`MultitaskModel` and ``PoseSequenceLoader`` (``posenet.data.pose_sequences``) the
pose-only :class:`ActionNetwork`.  Batches mix the :class:`Source` s in proportion (see
``posenet.data.sources``); batch ``i`` of epoch ``e`` depends only on ``(seed, e, i)``.

Images are cropped around the sample's box (the union of the clip's boxes for a clip) by
``augment.crop_transform``; inputs are float32 RGB in [0, 1].  Targets follow
``posenet.data.targets`` and are repeated for every block's output.
"""

from __future__ import annotations

import numpy as np

from posenet.data.augment import DEFAULT_MARGIN, crop_transform, normalise, warp_joints
from posenet.data.pose_sequences import PoseSequenceLoader, window
from posenet.data.sources import MixedLoader, Source, output_spec, read_images
from posenet.data.targets import pose_target, replicate, visibility_target
from posenet.skeleton import get_skeleton

__all__ = ["ClipLoader", "FrameLoader", "PoseSequenceLoader", "Source"]

_MODEL17 = get_skeleton("model17")


def _finite_boxes(boxes) -> np.ndarray:
    """(N,) bool: box is finite with positive width and height."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return (np.isfinite(boxes).all(-1) & (boxes[:, 2] > boxes[:, 0])
            & (boxes[:, 3] > boxes[:, 1]))


def _union(boxes) -> np.ndarray:
    """(4,) union of the usable boxes among (N, 4), NaN when there is none."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)[_finite_boxes(boxes)]
    if not len(boxes):
        return np.full(4, np.nan)
    return np.concatenate([boxes[:, :2].min(0), boxes[:, 2:].max(0)])


class _ImageLoader(MixedLoader):
    """Shared cropping of frames and their targets (see FrameLoader for the arguments)."""

    def __init__(self, sources, outputs, batch_size, steps, crop_size, seed, pose_dims,
                 num_joints, num_classes, margin, **kwargs):
        self.spec = output_spec(outputs, pose_dims, num_joints, num_classes)
        # Without pose outputs the pose targets are computed but never emitted.
        self.pose_dims = self.spec.pose_dims or 2
        self.num_joints = self.spec.num_joints or 17
        if crop_size is None:
            shapes = list(self.spec.input_shapes.values())
            if not shapes:
                raise ValueError("pass crop_size (or a model to read it from)")
            crop_size = shapes[0][-2]
        self.crop_size, self.margin = int(crop_size), float(margin)
        super().__init__(sources, batch_size, steps, seed, **kwargs)
        self.num_classes = self.class_counts(self.spec)

    def _crop(self, k: int, frames, box, rng):
        """Samples ``frames`` (T,) of source ``k`` under one transform of ``box``.

        Returns inputs (T, S, S, 3) float32 RGB in [0, 1], pose targets (T, J, 2D) and
        visibility targets (T, J, 2).
        """
        ds, s = self.datasets[k], self.crop_size
        joints2d = ds.arrays("joints2d", frames).astype(np.float64)
        valid2d = ds.arrays("valid2d", frames)
        joints3d, valid3d = ds.arrays("joints3d", frames), ds.arrays("valid3d", frames)
        t = crop_transform(box, s, rng, self.configs[k], _MODEL17, self.margin)
        pts, visible, inside = warp_joints(joints2d[..., :2], joints2d[..., 2] > 0, t, _MODEL17)
        if t.flipped:  # per-joint fields follow the mirrored labels, like the 2D joints
            perm = _MODEL17.flip_permutation()
            valid2d, joints3d, valid3d = valid2d[:, perm], joints3d[:, perm], valid3d[:, perm]
        # Joints outside the crop are unreachable by the soft-argmax: no x, y supervision,
        # but they still teach "not visible" and keep their depth.
        pose = pose_target(normalise(pts, s), valid2d & inside, joints3d, valid3d,
                           self.pose_dims, self.num_joints)
        vis = visibility_target(visible, valid2d, self.num_joints)
        # OpenCV decodes BGR; the network reads RGB.
        crops = [t.apply_image(img)[..., ::-1] for img in read_images(ds, frames)]
        return np.stack(crops).astype(np.float32) / 255.0, pose, vis

    def _batch(self, index, draw):
        """Assemble batch ``index``: ``draw(k, unit, rng)`` -> (frames, box, label)."""
        rng = self.batch_rng(index)
        images, poses, vis, labels, source_ids = [], [], [], [], []
        for k, unit in self.plan(index):
            frames, box, label = draw(k, unit, rng)
            x, p, v = self._crop(k, frames, box, rng)
            images.append(x)
            poses.append(p)
            vis.append(v)
            labels.append(label)
            source_ids.append(k)
        # Single frames drop the time axis of the one-frame "clips".
        stack = (lambda a: np.stack(a)[:, 0]) if self.single_frames else np.stack
        targets = {"pose": stack(poses), "visibility": stack(vis)}
        targets.update(self.action_targets(labels, source_ids, self.num_classes))
        return stack(images), replicate(targets, self.spec.names)


class FrameLoader(_ImageLoader):
    """Batches of single frames: inputs (B, S, S, 3), pose (B, J, 2D), visibility (B, J, 2).

    Args:
        sources: :class:`Source` s (or paths) mixed by weight.
        outputs: the model, or its output names (then give ``pose_dims``, ``num_joints``,
            ``crop_size`` and, for action outputs, ``num_classes`` unless the files list
            their classes).
        batch_size: B; steps: batches per epoch (``len``).
        crop_size: S in pixels (default: the model's input side).
        seed: fixes every random draw with the epoch and the batch index.
        margin: crop side over the box's longer side.
        workers, use_multiprocessing, max_queue_size: passed to ``keras.utils.PyDataset``.

    Samples without a usable box or any annotated 2D joint are skipped.  Action outputs get
    the frame's label for its source's dataset, zero rows otherwise.
    """

    single_frames = True

    def __init__(self, sources, outputs, batch_size=32, steps=1000, crop_size=None, seed=0,
                 pose_dims=None, num_joints=None, num_classes=None, margin=DEFAULT_MARGIN,
                 **kwargs):
        super().__init__(sources, outputs, batch_size, steps, crop_size, seed, pose_dims,
                         num_joints, num_classes, margin, **kwargs)

    def _units(self, k, ds):
        usable = _finite_boxes(ds.arrays("bbox")) & ds.arrays("valid2d").any(axis=1)
        return np.flatnonzero(usable)

    def _draw(self, k, sample, rng):
        ds = self.datasets[k]
        return [sample], ds.arrays("bbox", [sample])[0], int(ds.arrays("action", [sample])[0])

    def __getitem__(self, index):
        return self._batch(index, self._draw)


class ClipLoader(_ImageLoader):
    """Batches of clips: inputs (B, T, S, S, 3), pose (B, T, J, 2D), visibility (B, T, J, 2)
    and one action one-hot per clip for its source's dataset (zero rows for the others).

    A clip takes T frames ``stride`` apart from a random start of a random sequence;
    a sequence shorter than ``(T - 1) * stride + 1`` frames is padded by repeating its last
    frame.  One augmentation transform, drawn around the union of the clip's boxes, is
    applied to all its frames.  ``num_frames`` T defaults to the model's; the other
    arguments are those of :class:`FrameLoader`.
    """

    single_frames = False

    def __init__(self, sources, outputs, batch_size=8, steps=1000, num_frames=None, stride=1,
                 crop_size=None, seed=0, pose_dims=None, num_joints=None, num_classes=None,
                 margin=DEFAULT_MARGIN, **kwargs):
        spec = output_spec(outputs, pose_dims, num_joints, num_classes)
        if num_frames is None:
            shapes = [s for s in spec.input_shapes.values() if len(s) == 4]
            if not shapes:
                raise ValueError("pass num_frames (or a clip model to read it from)")
            num_frames = shapes[0][0]
        if num_frames < 1 or stride < 1:
            raise ValueError(f"need num_frames, stride >= 1; got {num_frames}, {stride}")
        self.num_frames, self.stride = int(num_frames), int(stride)
        super().__init__(sources, outputs, batch_size, steps, crop_size, seed, pose_dims,
                         num_joints, num_classes, margin, **kwargs)

    def _units(self, k, ds):
        boxes = _finite_boxes(ds.arrays("bbox"))
        return [frames for frames in ds.sequences().values() if boxes[frames].any()]

    def _draw(self, k, frames, rng):
        ds = self.datasets[k]
        clip = window(frames, self.num_frames, self.stride, rng)
        box = _union(ds.arrays("bbox", clip))
        if not np.isfinite(box).all():  # no box in this window: use the sequence's
            box = _union(ds.arrays("bbox", frames))
        labels = ds.arrays("action", clip)
        label = int(labels[labels >= 0][0]) if (labels >= 0).any() else -1
        return clip, box, label

    def __getitem__(self, index):
        return self._batch(index, self._draw)
