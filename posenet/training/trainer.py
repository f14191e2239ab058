"""``train``: run a recipe into a run folder with ``model.fit``, resumable at any epoch."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib.util
import os
import signal
import threading

import keras

from posenet.interrupts import remembered
from posenet.io import save_model_atomic
from posenet.training import callbacks as cb
from posenet.training import distribution as dist
from posenet.training import run_dir as rd
from posenet.training.data import check_file, recipe_files, training_loader, validation_loader
from posenet.training.model import build, compile_model, freeze, initialise
from posenet.training.validation import HIGHER_IS_BETTER, ValidationCallback


@dataclasses.dataclass
class TrainResult:
    """What a finished run produced: per-epoch ``history`` (this process's epochs only),
    the ``best`` epoch record (``best.json``) and the run folder's ``paths``."""

    history: dict
    best: dict | None
    paths: dict
    plan: dist.Plan | None = None


def _accelerators() -> list[str]:
    return [d for d in keras.distribution.list_devices() if not d.lower().startswith("cpu")]


@contextlib.contextmanager
def _precision(mixed: bool, log):
    """Sets the ``mixed_float16`` policy for the run, then restores the previous one."""
    if not mixed:
        yield
        return
    if not _accelerators():
        log("warning: mixed precision on a CPU is slow (float16 is emulated)")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


# True while ``fit`` runs (and its clean-up): a process forked then is a loader worker.
_fitting = False
# Per forking thread: whether this fork is guarded (SIGTERM blocked around it).
_fork = threading.local()


def _before_fork():
    _fork.guarded = _fitting
    if _fork.guarded:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


def _after_fork_in_parent():
    if getattr(_fork, "guarded", False):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def _after_fork_in_child():
    """In a loader worker forked during ``fit``: SIGTERM kills, Ctrl-C is the parent's.

    Forked workers inherited the parent's SIGTERM handler (``posenet.interrupts``), which
    only raises once Python runs: a worker blocked in C never did, and one forked as the
    pool was terminated lost the signal (Python clears pending signals after a fork), so
    ``terminate`` waited on it forever. SIGTERM stays blocked from before the fork until
    the default action is back, so a pending one kills the worker on unblocking. Ctrl-C
    reaches the whole process group: the parent stops and terminates the workers.
    """
    if getattr(_fork, "guarded", False):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def _install_fork_hooks():
    """Register the fork hooks once per process, on the first ``fit`` (not on import:
    ``os.register_at_fork`` cannot be undone, so importing posenet changes nothing)."""
    if getattr(_install_fork_hooks, "done", False) or not hasattr(signal, "pthread_sigmask"):
        return
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)
    _install_fork_hooks.done = True


def _keras_pools():
    """Keras' registry of the process pools of its PyDataset enqueuers (a WeakSet; a
    private name, so an empty set when a Keras version lacks it)."""
    try:
        from keras.src.trainers.data_adapters import py_dataset_adapter
    except ImportError:
        return set()
    return getattr(py_dataset_adapter, "_DATA_POOLS", set())


def _terminate(pool, timeout=10.0):
    """``pool.terminate()``, given up after ``timeout`` s: then its workers are killed and
    the pool is left to the ending process.

    After a Ctrl-C, ``terminate`` once waited forever on the result queue's lock, held by
    a worker stuck writing a batch (1 run in 15 to 30 under JAX); the command never exited.
    """
    stopping = threading.Thread(target=pool.terminate, daemon=True,
                                name="posenet-terminate-loader-pool")
    stopping.start()
    stopping.join(timeout)
    if stopping.is_alive():
        for process in getattr(pool, "_pool", ()):  # private; absent: nothing to kill
            if process.exitcode is None:
                process.kill()


@contextlib.contextmanager
def _loader_workers():
    """Terminates the loader worker pools started inside the block, however it ends.

    When ``fit`` stops mid-epoch (NaN guard, Ctrl-C, SIGTERM, an error) Keras abandons the
    epoch's iterator without stopping its enqueuer: the pool kept running and was only
    finalised at interpreter exit, next to TensorFlow's generator-backed tf.data iterator,
    where the process could hang or abort. Both are released here, while Python is whole.
    """
    global _fitting
    _install_fork_hooks()
    pools = _keras_pools()
    done = set(pools)
    _fitting = True
    try:
        yield
    finally:
        # Twice: a pool Keras was creating as fit stopped is registered late, and the
        # collection may finalise more of the abandoned enqueuer.
        for _ in range(2):
            for pool in set(pools) - done:
                _terminate(pool)  # SIGTERM to the workers, then joins them and its threads
                done.add(pool)
            gc.collect()  # the abandoned iterators and generators, now rather than at exit
        _fitting = False


def _callbacks(recipe, paths, loader, validation, resumed_epoch, log):
    guard = cb.NaNGuard()
    monitor = f"val_{recipe.metric}"
    schedule = (cb.cosine_schedule(recipe.lr, recipe.epochs) if recipe.lr_schedule == "cosine"
                else cb.step_schedule(recipe.lr, recipe.lr_drops, recipe.lr_factor))
    action_dataset = recipe.validation.get("action_dataset")
    out = [
        cb.LoaderEpoch(loader),
        guard,
        keras.callbacks.LearningRateScheduler(schedule),
        ValidationCallback(validation, recipe.metric, action_dataset),
        cb.Checkpoints(paths["checkpoints"], monitor, HIGHER_IS_BETTER[recipe.metric], guard),
        cb.TruncateLog(paths["log"], resumed_epoch),
        keras.callbacks.CSVLogger(paths["log"], append=True),
    ]
    if recipe.tensorboard and importlib.util.find_spec("tensorboard") is None:
        log("tensorboard is not installed: no TensorBoard logs (log.csv has everything)")
    elif recipe.tensorboard:
        out.append(keras.callbacks.TensorBoard(paths["tensorboard"], write_graph=False))
    out.append(cb.AtomicBackup(paths["backup"], guard))
    return out, guard


def train(recipe, run_dir, data_dir="datasets", *, resume=False, verbose=1,
          distribute=None, mixed_precision=False, callbacks=(), log=None,
          connect_timeout=dist.DEFAULT_CONNECT_TIMEOUT) -> TrainResult:
    """Train ``recipe`` into ``run_dir`` (layout: ``posenet.training.run_dir``).

    Without ``resume`` the folder must not exist, be empty or hold a run that never
    finished an epoch (``run_dir.unfinished``: started afresh); with it, the run restarts
    from its backup: the epoch after the last finished one, with its weights, optimizer
    state and learning rate, and the very batches the uninterrupted run would have drawn.
    ``callbacks`` are added after the run's own; ``log`` receives notices (str).
    ``distribute`` is None, ``"devices"`` or ``"multi-worker"`` (``distribution.MODES``;
    True means ``"devices"``); a multi-worker run waits ``connect_timeout`` s for its peers.

    Raises ``run_dir.RunDirError`` (folder), ``data.DataFileError`` (a dataset file),
    ``ValueError`` (recipe), ``FileNotFoundError`` (``init_weights``) and
    ``callbacks.TrainingDiverged`` (NaN loss; the backup keeps the last healthy epoch),
    ``distribution.DistributionError`` (a batch that does not split over the devices).
    """
    log = log or (lambda message: None)
    distribute = "devices" if distribute is True else (distribute or None)
    paths = rd.paths(run_dir)
    if resume:
        rd.load_config(run_dir)  # a clear error when there is nothing to resume
        stale = False
    else:
        stale = rd.check_new(run_dir)
    for path in recipe_files(recipe, data_dir):
        check_file(path)

    # The devices are known (and the batch checked) before anything is written.
    with (_precision(mixed_precision, log),
          dist.distribution(distribute, recipe.batch_size, log, connect_timeout) as plan):
        if stale:
            log(f"{paths['root']} holds a run that never finished an epoch: starting afresh")
            rd.clear_unfinished(run_dir)
        rd.write_config(run_dir, recipe, data_dir)
        resumed_epoch = cb.restored_epoch(paths["backup"]) if resume else 0
        if resumed_epoch:
            log(f"resuming after epoch {resumed_epoch} of {recipe.epochs}")
        keras.utils.set_random_seed(recipe.seed)
        model = build(recipe, data_dir)
        if recipe.init_weights and not resumed_epoch:
            initialise(model, recipe.init_weights)
        if recipe.frozen:
            freeze(model, recipe.frozen)
        compile_model(model, recipe)
        loader = training_loader(recipe, model, data_dir)
        validation = validation_loader(recipe, model, data_dir)
        own, guard = _callbacks(recipe, paths, loader, validation, resumed_epoch, log)
        own = [*dist.prepare(model, plan), *own]
        if plan.workers > 1 and keras.backend.backend() == "jax":
            # Each JAX process feeds its part of the batch (TensorFlow shards by itself).
            loader = dist.ProcessShard(loader, plan.worker, plan.workers)
        # shuffle=False: Keras would reorder the batches with Python's global random
        # state, which a resumed process does not share; the loader shuffles by seed.
        with _loader_workers(), remembered() as received:
            history = model.fit(loader, epochs=recipe.epochs, verbose=verbose, shuffle=False,
                                callbacks=[cb.ReRaiseSignals(received), *own, *callbacks])
    if guard.message:
        raise cb.TrainingDiverged(guard.message)
    save_model_atomic(model, paths["model"])
    best = next(c.best for c in own if isinstance(c, cb.Checkpoints))
    return TrainResult(history=dict(history.history), best=best, paths=paths, plan=plan)

