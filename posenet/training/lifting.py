"""Training the 2D-to-3D lifter (``posenet.models.lifter``) on Human3.6M motion capture.

``train_lifter`` runs ``model.fit`` on :class:`posenet.data.lifting.LiftingWindows` of the
training subjects (S1, S5, S6, S7, S8), with the run folder's callbacks of
``posenet.training.callbacks``: ``last.keras`` every epoch (and ``best.keras`` on the
lowest training loss: no test subject is looked at while training), ``log.csv``, and the
``backup/`` that ``resume=True`` continues from exactly (batches depend only on
(seed, epoch, batch) and the learning rate only on the epoch: a cosine from ``lr``).

Loss: the mean over joints of the Euclidean distance in mm (protocol 1's MPJPE on the
root-relative target; :func:`mpjpe_loss`).
"""

from __future__ import annotations

import os
import time

import keras
from keras import ops

from posenet.data.lifting import FRAME_RATE, LiftingWindows, h36m_cameras, h36m_motion
from posenet.data.readers.h36m import H36M_TRAIN_SUBJECTS
from posenet.models.lifter import OUTPUT_NAME, LifterNetwork
from posenet.training.callbacks import (
    AtomicBackup,
    Checkpoints,
    LoaderEpoch,
    NaNGuard,
    TruncateLog,
    cosine_schedule,
    restored_epoch,
)


@keras.saving.register_keras_serializable(package="posenet")
def mpjpe_loss(y_true, y_pred):
    """Mean per-joint Euclidean distance (..., J, 3) -> (...,), in the targets' units."""
    squared = ops.sum(ops.square(y_pred - y_true), axis=-1)
    return ops.mean(ops.sqrt(squared + 1e-6), axis=-1)


class _Throughput(keras.callbacks.Callback):
    """Adds ``samples_per_s`` and ``seconds`` (of the epoch) to the epoch's logs."""

    def __init__(self, batch_size, steps):
        super().__init__()
        self.samples = batch_size * steps

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        if logs is not None:
            logs["seconds"] = seconds
            logs["samples_per_s"] = self.samples / seconds


def build_lifter(filters=256, num_blocks=2, kernel_size=3, causal=False, dropout=0.25,
                 num_joints=17) -> LifterNetwork:
    """The training (strided) build of the lifter at ``FRAME_RATE``."""
    return LifterNetwork(num_joints=num_joints, kernel_size=kernel_size,
                         num_blocks=num_blocks, filters=filters, dropout=dropout,
                         causal=causal, strided=True, frame_rate=FRAME_RATE)


def compile_lifter(model, lr=1e-3) -> None:
    model.compile(optimizer=keras.optimizers.Adam(lr, clipnorm=1.0),
                  loss={OUTPUT_NAME: mpjpe_loss})


def save_lifter(model, path) -> None:
    """Write ``model``'s weights as the shipped form: the dilated build of one receptive
    field (outputs identical to the strided training build), uncompiled, atomically."""
    from posenet.io import save_model_atomic
    from posenet.models.lifter import sequence_lifter

    save_model_atomic(sequence_lifter(model, model.receptive_field), path)


def train_lifter(data_root, run_dir, epochs=40, steps=100, batch_size=256, lr=1e-3,
                 seed=0, filters=256, num_blocks=2, causal=False, virtual=0.5, noisy=0.7,
                 noise_model=None, resume=False, subjects=H36M_TRAIN_SUBJECTS, motion=None,
                 workers=2, verbose=2):
    """Train a lifter in ``run_dir``; returns ``(model, history dict)``.

    ``motion`` (``h36m_motion`` takes) replaces reading ``data_root`` (tests).  With
    ``resume``, a run folder's backup continues where it stopped; without it, a folder
    holding a backup is refused.
    """
    run_dir = os.fspath(run_dir)
    backup = os.path.join(run_dir, "backup")
    if not resume and restored_epoch(backup):
        raise FileExistsError(f"{run_dir} holds a training run; resume it or use another "
                              "folder")
    os.makedirs(run_dir, exist_ok=True)
    motion = h36m_motion(data_root, subjects) if motion is None else motion
    cameras = h36m_cameras(data_root)
    model = build_lifter(filters=filters, num_blocks=num_blocks, causal=causal)
    compile_lifter(model, lr)
    loader = LiftingWindows(motion, cameras, num_frames=model.num_frames,
                            target=model.target_offset, batch_size=batch_size, steps=steps,
                            seed=seed, virtual=virtual, noisy=noisy, noise_model=noise_model,
                            workers=workers, max_queue_size=8)
    guard = NaNGuard()
    log = os.path.join(run_dir, "log.csv")
    callbacks = [
        LoaderEpoch(loader), guard, _Throughput(batch_size, steps),
        keras.callbacks.LearningRateScheduler(cosine_schedule(lr, epochs)),
        AtomicBackup(backup, guard),
        TruncateLog(log, restored_epoch(backup)),
        keras.callbacks.CSVLogger(log, append=True),
        Checkpoints(run_dir, "loss", higher_is_better=False, guard=guard),
    ]
    history = model.fit(loader, epochs=epochs, callbacks=callbacks, verbose=verbose)
    if guard.message:
        from posenet.training.callbacks import TrainingDiverged

        raise TrainingDiverged(guard.message)
    return model, history.history
