"""The 2D-to-3D lifter on Human3.6M's test subjects: protocols 1 and 2 in millimetres.

For every take of the test subjects (S9, S11 by default; all actions) and each of the
subject's 4 real cameras, one window per *original* 10 Hz frame of the take (the 30 Hz
frames between them are interpolated motion and are not scored) is lifted, from

- ``gt2d``: the exact projection of the 17 joints through the calibrated camera (its lens
  distortion included), and
- ``noisy2d``: the same with the shipped pose network's simulated error
  (``posenet.data.lifting.noisy_2d``, seeded by (seed, take, camera)).

Scores: ``posenet.metrics.mpjpe`` (protocol 1, root-relative) and ``pa_mpjpe`` (protocol 2,
after a similarity alignment per pose), over all 17 joints, pooled over every pose
(``mpjpe``) and as the unweighted mean of the 15 actions' means (``mpjpe_actions``, the
papers' tables).  Windows at a take's ends repeat its first/last frame.
"""

from __future__ import annotations

import time

import numpy as np

from posenet.data.lifting import evaluation_windows, h36m_cameras, h36m_motion
from posenet.data.pose_noise import load_noise_model
from posenet.data.readers.h36m import H36M_TEST_SUBJECTS
from posenet.metrics import mpjpe, pa_mpjpe
from posenet.models.lifter import INPUT_NAME, OUTPUT_NAME, LifterNetwork, sequence_lifter

MODES = ("gt2d", "noisy2d")


def _window_model(model):
    if model.num_frames == model.receptive_field:
        return model
    return sequence_lifter(model, model.receptive_field, strided=True)


def _predict(model, x, batch_size):
    out = [np.asarray(model.predict_on_batch({INPUT_NAME: x[i:i + batch_size]})[OUTPUT_NAME])
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, model.num_joints, 3), np.float32)


def evaluate_lifter(model: LifterNetwork, data_root, subjects=H36M_TEST_SUBJECTS, seed=0,
                    noise_model=None, motion=None, batch_size=4096) -> dict:
    """Score ``model`` (see the module docstring); returns ``{"setup", "results"}`` with
    per mode ``mpjpe``, ``pa_mpjpe``, their per-action means, ``per_action`` and
    ``poses``.  ``motion`` (``h36m_motion`` takes) replaces reading ``data_root``."""
    start = time.perf_counter()
    model = _window_model(model)
    motion = h36m_motion(data_root, subjects) if motion is None else motion
    cameras = h36m_cameras(data_root)
    noise = load_noise_model(noise_model)
    results = {}
    for mode in MODES:
        preds, truths, actions = [], [], []
        for t, take in enumerate(motion):
            for c, camera in enumerate(cameras[take["subject"]]):
                rng = np.random.default_rng((seed, t, c)) if mode == "noisy2d" else None
                x, y, _ = evaluation_windows(take["world"], camera, model.num_frames,
                                             model.target_offset, every=take["factor"],
                                             rng=rng, noise_model=noise)
                preds.append(_predict(model, x, batch_size))
                truths.append(y)
                actions += [take["action"]] * len(y)
        pred, truth = np.concatenate(preds), np.concatenate(truths)
        p1 = mpjpe(pred, truth, root=0, actions=actions)
        p2 = pa_mpjpe(pred, truth, actions=actions)
        results[mode] = {
            "mpjpe": p1["overall"], "pa_mpjpe": p2["overall"],
            "mpjpe_actions": p1["mean_over_actions"], "pa_mpjpe_actions": p2["mean_over_actions"],
            "per_action": {a: {"mpjpe": p1["per_action"][a], "pa_mpjpe": p2["per_action"][a]}
                           for a in p1["per_action"]},
            "poses": int(len(pred)),
        }
    setup = {"subjects": [int(s) for s in subjects], "takes": len(motion),
             "cameras": "the 4 calibrated cameras", "frames": "original 10 Hz frames",
             "joints": int(model.num_joints), "receptive_field": int(model.receptive_field),
             "causal": bool(model.causal), "frame_rate": model.frame_rate, "seed": int(seed),
             "seconds": round(time.perf_counter() - start, 1)}
    return {"setup": setup, "results": results}


def evaluate_lifter_file(path, data_root, subjects=H36M_TEST_SUBJECTS, seed=0,
                         noise_model=None) -> dict:
    """:func:`evaluate_lifter` of the ``.keras`` file ``path`` (its SHA-256 in ``setup``)."""
    import keras

    from posenet.io import sha256_file

    model = keras.saving.load_model(path, compile=False)
    if not isinstance(model, LifterNetwork):
        raise ValueError(f"{path} is a {type(model).__name__}, not a LifterNetwork")
    report = evaluate_lifter(model, data_root, subjects, seed=seed, noise_model=noise_model)
    report["setup"].update(file=str(path), sha256=sha256_file(path))
    return report
