"""Callbacks of a training run: loader epochs, NaN guard, checkpoints and the backup.

The run folder's ``backup/`` holds what ``--resume`` needs: the weights with the
optimizer state of the last finished epoch and ``training_metadata.json`` naming them.
Together with loaders whose batches depend only on (seed, epoch, batch) and an
epoch-indexed learning-rate schedule, a resumed run repeats exactly what the uninterrupted
run would have done.
"""

from __future__ import annotations

import glob
import json
import math
import os

import keras

from posenet.interrupts import reraise
from posenet.io import atomic_path, save_model_atomic, write_json_atomic


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class LoaderEpoch(keras.callbacks.Callback):
    """Sets ``loader.epoch`` to Keras' epoch before the epoch's batches are drawn.

    Keras also calls ``loader.on_epoch_end`` on its own schedule (once more before the
    first epoch), so the loader's own count cannot be trusted after a resume.
    """

    def __init__(self, loader):
        super().__init__()
        self.loader = loader

    def on_epoch_begin(self, epoch, logs=None):
        self.loader.epoch = int(epoch)


class NaNGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is not finite and remembers where.

    ``message`` (None while training is healthy) says the epoch and batch (1-based) and
    what to do about it.
    """

    def __init__(self):
        super().__init__()
        self.message = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)) and self.message is None:
            self.message = (f"loss became NaN at epoch {self._epoch + 1} batch {batch + 1}; "
                            "lower the learning rate (--set lr=...)")
            self.model.stop_training = True


class Checkpoints(keras.callbacks.Callback):
    """Writes ``last.keras`` every epoch and ``best.keras`` when ``monitor`` improves.

    ``best.json`` records the best epoch (1-based) and value, and is read back on a
    resume so that a resumed run keeps comparing against the earlier best. A NaN metric
    never counts as better; nothing is written after the NaN guard tripped.
    """

    def __init__(self, folder, monitor, higher_is_better, guard=None):
        super().__init__()
        self.folder, self.monitor, self.higher = os.fspath(folder), monitor, higher_is_better
        self.guard = guard
        self.state_path = os.path.join(self.folder, "best.json")
        self.best = None
        if os.path.exists(self.state_path):
            with open(self.state_path) as f:
                self.best = json.load(f)

    def _better(self, value):
        if value is None or not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value > self.best["value"] if self.higher else value < self.best["value"]

    def on_epoch_end(self, epoch, logs=None):
        if self.guard is not None and self.guard.message:
            return
        os.makedirs(self.folder, exist_ok=True)
        save_model_atomic(self.model, os.path.join(self.folder, "last.keras"))
        value = (logs or {}).get(self.monitor)
        if self._better(None if value is None else float(value)):
            save_model_atomic(self.model, os.path.join(self.folder, "best.keras"))
            self.best = {"epoch": epoch + 1, "monitor": self.monitor, "value": float(value)}
            write_json_atomic(self.state_path, self.best)


class AtomicBackup(keras.callbacks.BackupAndRestore):
    """BackupAndRestore whose backups survive a kill at any moment.

    Each epoch's weights (model and optimizer) go to a new ``epoch-<E>.weights.h5``
    through a rename; only then does the metadata, itself replaced atomically, point at
    them, and older weights are removed. The backup is kept after training (a resumed
    finished run then has nothing left to do) and not written once the NaN guard tripped,
    so it always holds the last healthy epoch.
    """

    def __init__(self, backup_dir, guard=None):
        super().__init__(os.fspath(backup_dir), save_freq="epoch", delete_checkpoint=False)
        self.guard = guard

    def _load_model(self):
        if not os.path.exists(self._training_metadata_path):
            return
        with open(self._training_metadata_path) as f:
            meta = json.load(f)
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(os.path.join(self.backup_dir, meta["weights"]))
        self.model._initial_epoch = int(meta["epoch"])  # what fit() reads to start from

    def _save_model(self):
        if self.guard is not None and self.guard.message:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        name = f"epoch-{self._current_epoch}.weights.h5"
        final = os.path.join(self.backup_dir, name)
        # Keras wants the .weights.h5 suffix, so the temporary name keeps it.
        tmp = os.path.join(self.backup_dir, f".tmp-{os.getpid()}.weights.h5")
        self.model.save_weights(tmp, overwrite=True)
        os.replace(tmp, final)
        write_json_atomic(self._training_metadata_path,
                          {"epoch": self._current_epoch, "weights": name})
        for old in glob.glob(os.path.join(self.backup_dir, "epoch-*.weights.h5")):
            if os.path.basename(old) != name:
                os.remove(old)


def restored_epoch(backup_dir) -> int:
    """Epochs finished according to a run's backup (0 without one)."""
    path = os.path.join(os.fspath(backup_dir), "training_metadata.json")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return int(json.load(f)["epoch"])


class ReRaiseSignals(keras.callbacks.Callback):
    """Raises, at the next batch or epoch end, a Ctrl-C or SIGTERM recorded in ``received``
    (``posenet.interrupts.remembered``) whose own KeyboardInterrupt was lost."""

    def __init__(self, received):
        super().__init__()
        self.received = received

    def on_train_batch_end(self, batch, logs=None):
        reraise(self.received)

    def on_test_batch_end(self, batch, logs=None):
        reraise(self.received)

    def on_epoch_end(self, epoch, logs=None):
        reraise(self.received)


def cosine_schedule(lr: float, epochs: int):
    """Epoch (0-based) -> ``lr * (1 + cos(pi * epoch / epochs)) / 2``: ``lr`` first, near 0
    last (set per epoch, so a resumed run continues on the same curve)."""
    def schedule(epoch, current=None):
        return float(lr * (1 + math.cos(math.pi * epoch / epochs)) / 2)

    return schedule


def step_schedule(lr: float, drops, factor: float):
    """Epoch (0-based) -> ``lr * factor ** (number of drops <= epoch)``."""
    drops = sorted(int(d) for d in drops)

    def schedule(epoch, current=None):
        return float(lr * factor ** sum(epoch >= d for d in drops))

    return schedule


class TruncateLog(keras.callbacks.Callback):
    """On a resume, drops the rows of ``log.csv`` for epochs that will run again.

    A kill between the log line and the backup of an epoch leaves a row the resumed run
    repeats; CSVLogger (appending) then writes it once more, so the stale row goes first.
    """

    def __init__(self, path, resumed_epoch: int):
        super().__init__()
        self.path, self.resumed_epoch = os.fspath(path), resumed_epoch

    def on_train_begin(self, logs=None):
        if not os.path.exists(self.path):
            return
        with open(self.path) as f:
            lines = f.read().splitlines()
        if not lines:
            return
        kept = [lines[0]] + [r for r in lines[1:] if r and int(r.split(",")[0]) <
                             self.resumed_epoch]
        with atomic_path(self.path) as tmp, open(tmp, "w") as f:
            f.write("\n".join(kept) + "\n")
