"""Training and evaluation windows for the 2D-to-3D lifter (``posenet.models.lifter``).

Motion: Human3.6M motion capture (``posenet.data.readers.h36m``), the standard 17 joints
re-ordered to the ``model17`` layout of ``posenet.skeleton`` (the pose network's).

Frame rate: the shared copy is 10 Hz; motion capture is smooth, so every take is
resampled to ``FRAME_RATE`` = 30 Hz (video rate) by a cubic spline through the 10 Hz
samples (``upsample``; original frame ``i`` is frame ``3 i``).  A 27-frame window is then
0.9 s.  Evaluation scores only the original (measured) frames.

Cameras: the subject's 4 calibrated cameras (``posenet.data.camera``, with their lens
distortion), and random *virtual* cameras (``virtual_camera``): no distortion, image
1000 x 1000 px with the principal point within +-50 px of its centre, focal length
uniform in ``VIRTUAL["focal"]`` px, placed at a horizontal distance uniform in
``VIRTUAL["distance"]`` mm from the person, at any azimuth, at a height uniform in
``VIRTUAL["height"]`` mm above the floor, aimed at the window's mean pelvis moved by a
Gaussian of ``VIRTUAL["aim"]`` mm per axis (the person is not always in the image's
centre), then rolled about its optical axis by up to ``VIRTUAL["roll"]`` degrees.

Normalisation (``normalise_2d``, inverted by ``denormalise_2d``): each frame's 2D joints
minus that frame's root (pelvis) 2D (the hips' midpoint when the pelvis is
missing, else the mean of the present joints), divided by the window's person size ``s``: the
median over the window's frames of the longer side of the box spanning the frame's
present joints (px).  The third channel is the joint's confidence (1 present, 0 missing;
a missing joint has x = y = 0).

Pose-network noise (``noisy_2d``): the measured error model of the shipped pose network
(``weights/pose_noise.json``, ``posenet.data.pose_noise``) in units of the person's box
side, drawn by ``posenet.data.pose_sequences.pose_error``: per joint a Gaussian of
``sigma``, with probability ``miss_rate`` a gross miss of ``miss_sigma``, with
probability ``hidden_rate`` a missing joint (confidence 0); the Gaussians are AR(1) over
frames with correlation ``NOISE_RHO`` (a network's errors persist between video frames).
On top, each left/right pair is swapped with probability ``SWAP_RATE`` per frame (a
pose network's typical left/right confusion; this rate is assumed, not measured).

Every random choice is drawn from generators seeded by (seed, epoch, batch): a batch is
the same whenever it is drawn, so a resumed training repeats the uninterrupted one.
"""

from __future__ import annotations

import keras
import numpy as np
from scipy.interpolate import CubicSpline

from posenet.data.camera import Camera, read_h36m_cameras
from posenet.data.pose_noise import load_noise_model
from posenet.data.pose_sequences import pose_error
from posenet.data.readers.h36m import read_h36m_sequences, to_h36m17
from posenet.skeleton import get_skeleton, joint_mapping

#: Rate of the shared Human3.6M copy, and the rate windows are made at.
SOURCE_RATE, FRAME_RATE = 10.0, 30.0
#: Root joint (pelvis) of ``model17``.
ROOT = 0
#: Ranges of the virtual cameras (see the module docstring): mm, px, degrees.
VIRTUAL = {"distance": (2500.0, 7000.0), "height": (300.0, 2800.0), "focal": (600.0, 1800.0),
           "roll": 15.0, "aim": 300.0, "size": 1000, "centre": 50.0}
#: Frame-to-frame correlation of the simulated pose-network error, and the swap rate.
NOISE_RHO, SWAP_RATE = 0.5, 0.02
_MODEL17 = get_skeleton("model17")
_FROM_H36M17 = joint_mapping("h36m17", "model17")


def upsample(poses, factor: int) -> np.ndarray:
    """(T, ...) samples -> ((T - 1) * factor + 1, ...) by a cubic spline over time;
    frame ``i`` of the input is frame ``i * factor`` of the output (unchanged)."""
    poses = np.asarray(poses, np.float64)
    if factor == 1 or len(poses) < 2:
        return poses.copy()
    spline = CubicSpline(np.arange(len(poses)), poses, axis=0)
    return spline(np.arange((len(poses) - 1) * factor + 1) / factor)


def h36m_motion(root, subjects, frame_rate=FRAME_RATE) -> list[dict]:
    """Every take of ``subjects``: dicts with ``subject``, ``action``, ``subaction`` and
    ``world`` ((T, 17, 3) float32 world mm, ``model17`` joints, at ``frame_rate``)."""
    factor = int(round(frame_rate / SOURCE_RATE))
    out = []
    for seq in read_h36m_sequences(root, subjects, frame_rate=SOURCE_RATE):
        joints = to_h36m17(seq.poses)[:, _FROM_H36M17]
        out.append({"subject": seq.subject, "action": seq.action, "subaction": seq.subaction,
                    "world": upsample(joints, factor).astype(np.float32), "factor": factor})
    return out


def h36m_cameras(root) -> dict[int, list[Camera]]:
    """``{subject: its 4 calibrated cameras}`` of ``<root>/cameras.h5``."""
    from pathlib import Path

    return read_h36m_cameras(Path(root) / "cameras.h5")


def virtual_camera(rng, target_world, ranges=None) -> Camera:
    """A random camera looking at ``target_world`` (3,) mm, world z up (see ``VIRTUAL``)."""
    v = {**VIRTUAL, **(ranges or {})}
    aim = np.asarray(target_world, np.float64) + rng.normal(0.0, v["aim"], 3)
    azimuth = rng.uniform(0.0, 2 * np.pi)
    distance = rng.uniform(*v["distance"])
    centre = np.array([aim[0] + distance * np.cos(azimuth),
                       aim[1] + distance * np.sin(azimuth), rng.uniform(*v["height"])])
    forward = (aim - centre) / np.linalg.norm(aim - centre)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    roll = np.deg2rad(rng.uniform(-v["roll"], v["roll"]))
    spin = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0],
                     [0, 0, 1]])
    f = rng.uniform(*v["focal"])
    c = v["size"] / 2 + rng.uniform(-v["centre"], v["centre"], 2)
    return Camera(R=spin @ np.stack([right, down, forward]), T=centre, f=[f, f], c=c,
                  name="virtual", width=v["size"], height=v["size"])


def person_side(uv, present=None) -> np.ndarray:
    """(..., J, 2) px -> (...,) the longer side of the box spanning the present joints."""
    uv = np.asarray(uv, np.float64)
    if present is None:
        present = np.isfinite(uv).all(-1)
    lo = np.where(present[..., None], uv, np.inf).min(-2)
    hi = np.where(present[..., None], uv, -np.inf).max(-2)
    side = (hi - lo).max(-1)
    return np.where(np.isfinite(side), side, 0.0)


def _root_2d(uv, present) -> np.ndarray:
    """(..., J, 2) -> (..., 2): the pelvis, else the hips' midpoint, else the present
    joints' mean (a missing pelvis must not move the window to the image origin)."""
    hips = [_MODEL17.index("r_hip"), _MODEL17.index("l_hip")]
    safe = np.where(present[..., None], uv, 0.0)
    count = present.sum(-1)[..., None]
    mean = safe.sum(-2) / np.maximum(count, 1)
    both = present[..., hips].all(-1)[..., None]
    root = np.where(both, safe[..., hips, :].mean(-2), mean)
    return np.where(present[..., ROOT, None], uv[..., ROOT, :], root)


def normalise_2d(uv, confidence=None):
    """Window(s) of 2D joints (..., T, J, 2) px and confidence (..., T, J) -> ``(x
    (..., T, J, 3), root (..., T, 2), scale (...,))``; see the module docstring.

    ``x[..., :2] = (uv - root) / scale`` for present joints (0 for missing ones) and
    ``x[..., 2]`` the confidence; :func:`denormalise_2d` inverts it.
    """
    uv = np.asarray(uv, np.float64)
    conf = (np.ones(uv.shape[:-1]) if confidence is None
            else np.asarray(confidence, np.float64))
    present = conf > 0
    root = _root_2d(uv, present)
    scale = np.median(person_side(uv, present), axis=-1)
    scale = np.where(scale > 1e-6, scale, 1.0)
    xy = (uv - root[..., None, :]) / scale[..., None, None, None]
    xy = np.where(present[..., None], xy, 0.0)
    return np.concatenate([xy, conf[..., None]], -1).astype(np.float32), root, scale


def denormalise_2d(x, root, scale) -> np.ndarray:
    """Inverse of :func:`normalise_2d` for present joints: (..., T, J, 3) -> px (..., T, J, 2)."""
    x = np.asarray(x, np.float64)
    return x[..., :2] * np.asarray(scale)[..., None, None, None] + np.asarray(root)[..., None, :]


def noisy_2d(uv, rng, noise_model, rho=NOISE_RHO, swap_rate=SWAP_RATE):
    """(T, J, 2) clean px of one take or window -> ``(noisy px, confidence (T, J))`` with
    the pose network's error (see the module docstring)."""
    uv = np.asarray(uv, np.float64)
    offsets, hidden = pose_error(noise_model, uv.shape[:2], rng, rho=rho)
    side = person_side(uv)
    noisy = uv + offsets * side[:, None, None]
    pairs = np.asarray(_MODEL17.flip_pairs)
    swap = rng.random((uv.shape[0], len(pairs))) < swap_rate
    for p, (a, b) in enumerate(pairs):
        rows = swap[:, p]
        noisy[rows, a], noisy[rows, b] = noisy[rows, b], noisy[rows, a].copy()
    confidence = (~hidden).astype(np.float64)
    return np.where(hidden[..., None], 0.0, noisy), confidence


def camera_targets(camera: Camera, world):
    """World mm (..., J, 3) -> (2D px (..., J, 2), root-relative camera mm (..., J, 3))."""
    cam = camera.world_to_camera(world)
    return camera.project(cam), cam - cam[..., ROOT:ROOT + 1, :]


def flip_windows(x, y):
    """Mirror normalised windows x (B, T, J, 3) and targets y (B, J, 3) left-right."""
    perm = _MODEL17.flip_permutation()
    x, y = x[..., perm, :].copy(), y[..., perm, :].copy()
    x[..., 0] *= -1
    y[..., 0] *= -1
    return x, y


class LiftingWindows(keras.utils.PyDataset):
    """Batches ``({"joints2d": (B, T, J, 3)}, {"joints3d": (B, J, 3)})`` of random windows.

    ``motion``: :func:`h36m_motion` takes; ``cameras``: :func:`h36m_cameras`.  Each
    window: a take (chosen in proportion to its length), a start frame, a camera (a
    virtual one with probability ``virtual``, else one of the subject's 4), pose noise
    with probability ``noisy`` (else the exact projection), a left-right mirror with
    probability 0.5.  ``target`` is the index in the window of the predicted frame (the
    centre, or ``num_frames - 1`` for a causal network).  ``epoch`` is set by
    ``posenet.training.callbacks.LoaderEpoch``.
    """

    def __init__(self, motion, cameras, num_frames=27, target=None, batch_size=256,
                 steps=200, seed=0, virtual=0.5, noisy=0.7, noise_model=None, **kwargs):
        super().__init__(**kwargs)
        self.motion = [m for m in motion if len(m["world"]) >= 1]
        self.cameras, self.num_frames = cameras, int(num_frames)
        self.target = (self.num_frames - 1) // 2 if target is None else int(target)
        self.batch_size, self.steps, self.seed = int(batch_size), int(steps), int(seed)
        self.virtual, self.noisy = float(virtual), float(noisy)
        self.noise_model = load_noise_model(noise_model)
        lengths = np.array([len(m["world"]) for m in self.motion], np.float64)
        self.weights = lengths / lengths.sum()
        self.epoch = 0

    def __len__(self):
        return self.steps

    def window(self, rng):
        """One window drawn from ``rng``: (2D px (T, J, 2), confidence (T, J), target
        (J, 3) root-relative camera mm)."""
        take = self.motion[rng.choice(len(self.motion), p=self.weights)]
        world = take["world"]
        start = rng.integers(0, max(1, len(world) - self.num_frames + 1))
        frames = np.clip(np.arange(start, start + self.num_frames), 0, len(world) - 1)
        clip = world[frames]
        if rng.random() < self.virtual:
            camera = virtual_camera(rng, clip[:, ROOT].mean(0))
        else:
            cams = self.cameras[take["subject"]]
            camera = cams[rng.integers(len(cams))]
        uv, rel = camera_targets(camera, clip)
        conf = np.ones(uv.shape[:2])
        if rng.random() < self.noisy:
            uv, conf = noisy_2d(uv, rng, self.noise_model)
        return uv, conf, rel[self.target]

    def __getitem__(self, index):
        rng = np.random.default_rng((self.seed, int(self.epoch), int(index)))
        uv, conf, y = (np.stack(a) for a in zip(*(self.window(rng)
                                                   for _ in range(self.batch_size)), strict=True))
        x, _, _ = normalise_2d(uv, conf)
        flip = rng.random(self.batch_size) < 0.5
        x[flip], y[flip] = flip_windows(x[flip], y[flip])
        return {"joints2d": x}, {"joints3d": y.astype(np.float32)}


def evaluation_windows(world, camera, num_frames, target, every=1, rng=None,
                       noise_model=None):
    """Windows of one take seen by ``camera``, one per ``every``-th frame (edges repeat the
    first/last frame): ``(x (N, T, J, 3), y (N, J, 3) root-relative camera mm, frames
    (N,))``.  With ``rng``, the 2D joints get the pose-network noise (``noisy_2d``)."""
    uv, rel = camera_targets(camera, world)
    conf = None
    if rng is not None:
        uv, conf = noisy_2d(uv, rng, load_noise_model(noise_model))
    frames = np.arange(0, len(world), int(every))
    index = np.clip(frames[:, None] + np.arange(num_frames) - int(target), 0, len(world) - 1)
    x, _, _ = normalise_2d(uv[index], None if conf is None else conf[index])
    return x, rel[frames].astype(np.float32), frames
