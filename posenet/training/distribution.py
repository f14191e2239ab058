"""Data parallel training (``posenet train --distribute``): several devices, or machines.

Modes:

* ``devices``: every visible device of this process. TensorFlow runs
  ``tf.distribute.MirroredStrategy`` over the GPUs (the CPU when there are none); JAX runs
  ``keras.distribution.DataParallel`` over ``jax.devices()``.
* ``multi-worker``: several processes, one per machine, described by ``TF_CONFIG``
  (``{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": i}}``).
  TensorFlow reads it in ``tf.distribute.MultiWorkerMirroredStrategy``; under JAX the first
  worker's address is the coordinator of ``jax.distributed.initialize`` and ``index`` the
  process id, so one ``TF_CONFIG`` serves both backends.

The global batch is the recipe's ``batch_size`` in every mode, split evenly over all
devices of all workers; every worker draws the same (seed, epoch, batch) batches as a
one-device run and trains on its part of each, so N devices follow the one-device run
(to float rounding and, on TensorFlow, batch statistics gathered over all replicas:
:class:`SynchronizedBatchNorm`). ``cpu_devices`` splits the CPU into virtual devices, to
exercise all of this on a machine without accelerators.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys

import keras

MODES = ("devices", "multi-worker")
#: Seconds a worker waits for its peers before giving up.
DEFAULT_CONNECT_TIMEOUT = 120.0


class DistributionError(ValueError):
    """A distribution that cannot run: batch size, devices, ``TF_CONFIG``."""


@dataclasses.dataclass
class Plan:
    """How a run is spread: ``devices`` (names, all workers' when known), ``workers`` and
    this process's ``worker`` index, the ``global_batch`` and its ``per_device`` part."""

    mode: str | None
    devices: list
    workers: int = 1
    worker: int = 0
    global_batch: int = 0

    @property
    def replicas(self) -> int:
        return len(self.devices)

    @property
    def per_device(self) -> int:
        return self.global_batch // max(self.replicas, 1)

    def describe(self) -> str:
        names = ", ".join(str(d) for d in self.devices)
        where = (f"{self.workers} workers (this is worker {self.worker}), "
                 if self.workers > 1 else "")
        return (f"data parallel over {where}{self.replicas} device(s): {names}; global batch "
                f"{self.global_batch} = {self.replicas} x {self.per_device} per device")


def split_cpu(count: int) -> None:
    """Make ``count`` virtual CPU devices; call before the backend runs anything."""
    if count < 1:
        raise DistributionError(f"need at least one CPU device, got {count}")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
        except RuntimeError:
            if len(tf.config.list_logical_devices("CPU")) != count:
                raise DistributionError("the CPU can only be split before TensorFlow "
                                        "starts; pass --cpu-devices first thing") from None
    elif backend == "jax":
        import jax

        jax.config.update("jax_num_cpu_devices", count)
    else:
        raise DistributionError(f"--cpu-devices is not supported on the {backend} backend")


def check_batch(batch_size: int, replicas: int) -> None:
    """Refuse a global batch that does not split evenly over ``replicas`` devices."""
    if batch_size % replicas:
        lower = batch_size - batch_size % replicas
        raise DistributionError(
            f"batch size {batch_size} does not split over {replicas} devices "
            f"({batch_size} = {replicas} x {batch_size // replicas} + "
            f"{batch_size % replicas}); use a multiple of {replicas}, e.g. "
            f"{lower or replicas} or {lower + replicas}")


def cluster(environ=None) -> tuple[list[str], int]:
    """(worker addresses, this worker's index) from ``TF_CONFIG``."""
    environ = os.environ if environ is None else environ
    text = environ.get("TF_CONFIG")
    if not text:
        raise DistributionError("--distribute multi-worker needs TF_CONFIG, e.g. "
                                '{"cluster": {"worker": ["localhost:12345", "localhost:12346"]},'
                                ' "task": {"type": "worker", "index": 0}}')
    try:
        config = json.loads(text)
        workers = [str(a) for a in config["cluster"]["worker"]]
        index = int(config["task"]["index"])
        kind = config["task"].get("type", "worker")
    except (ValueError, KeyError, TypeError) as error:
        raise DistributionError(f"TF_CONFIG is not a cluster description ({error!r}): "
                                f"{text}") from None
    if set(config["cluster"]) - {"worker"} or kind != "worker":
        raise DistributionError("TF_CONFIG: only a cluster of 'worker' tasks is supported")
    if not workers or not 0 <= index < len(workers):
        raise DistributionError(f"TF_CONFIG: task index {index} outside the "
                                f"{len(workers)} workers")
    return workers, index


#: The watchdog of :func:`deadline`: kills its parent unless stdin closes in time.
_WATCHDOG = """
import os, select, signal, sys
parent, seconds, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
if not select.select([sys.stdin], [], [], seconds)[0]:
    sys.stderr.write("error: " + message + chr(10))
    sys.stderr.flush()
    os.kill(parent, signal.SIGKILL)
"""


@contextlib.contextmanager
def deadline(seconds: float, message: str):
    """Kills the process (SIGKILL, exit status 137) with ``message`` on stderr unless the
    block ends within ``seconds``.

    Joining a TensorFlow cluster blocks in C++ holding the GIL, where neither a Python
    thread nor a signal handler can run, so a separate watchdog process keeps the time.
    """
    watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()),
                                 str(seconds), message], stdin=subprocess.PIPE)
    try:
        yield
    finally:
        watchdog.stdin.close()  # end of file: the watchdog returns at once
        watchdog.wait()


class SynchronizedBatchNorm(keras.callbacks.Callback):
    """Batch statistics over the global batch (all replicas) while training on TensorFlow.

    ``MirroredStrategy`` normalises each replica's part of the batch on its own; JAX's
    sharded arrays give the global statistics already. ``synchronized`` is only set while
    an epoch trains, so that the checkpoints saved at its end load on every backend.
    Put this callback first: it must run before the ones that save.
    """

    def __init__(self, layers):
        super().__init__()
        self.layers = list(layers)

    def _set(self, value):
        for layer in self.layers:
            layer.synchronized = value

    def on_epoch_begin(self, epoch, logs=None):
        self._set(True)

    def on_epoch_end(self, epoch, logs=None):
        self._set(False)

    def on_train_end(self, logs=None):
        self._set(False)


def prepare(model, plan: Plan) -> list:
    """Readies ``model`` (built and compiled) for ``plan``; returns the callbacks that the
    run needs (:class:`SynchronizedBatchNorm` on TensorFlow, none otherwise)."""
    if plan.replicas < 2 or keras.backend.backend() != "tensorflow":
        return []
    if plan.workers > 1:
        # Keras' fit reduces the first batch over the replicas to build the model
        # symbolically, which MultiWorkerMirroredStrategy cannot do with a nested batch;
        # the model is built already, and fit runs in the strategy's scope anyway.
        model._distribute_strategy = None
        model.train_step = _vector_logs(model.train_step)
    layers = [layer for layer in _all_layers(model)
              if isinstance(layer, keras.layers.BatchNormalization)]
    return [SynchronizedBatchNorm(layers)] if layers else []


def _vector_logs(step):
    """``step`` with its logged values as 1-vectors: Keras averages the replicas' logs
    of a multi-worker step along axis 0, which a scalar lacks (tensorflow issue 72388);
    the mean of the vectors is the scalar the one-device run logs."""
    def train_step(data):
        return {name: keras.ops.reshape(value, (1,)) for name, value in step(data).items()}

    return train_step


def _all_layers(layer):
    for sub in getattr(layer, "layers", ()):
        yield sub
        yield from _all_layers(sub)


class ProcessShard(keras.utils.PyDataset):
    """This process's part of every batch of ``loader`` (JAX multi-worker: each process
    feeds its slice and Keras assembles the global batch). Every worker draws the whole
    batch, so the slices are those of the one-process run."""

    def __init__(self, loader, index: int, count: int):
        super().__init__(workers=loader.workers, use_multiprocessing=loader.use_multiprocessing,
                         max_queue_size=loader.max_queue_size)
        self.loader, self.index, self.count = loader, index, count

    def __len__(self):
        return len(self.loader)

    def on_epoch_end(self):
        self.loader.on_epoch_end()

    def _part(self, value):
        if isinstance(value, dict):
            return {k: self._part(v) for k, v in value.items()}
        if isinstance(value, (tuple, list)):
            return type(value)(self._part(v) for v in value)
        size = len(value) // self.count
        return value[self.index * size:(self.index + 1) * size]

    def __getitem__(self, index):
        return self._part(self.loader[index])


def visible_devices() -> list[str]:
    """The devices ``--distribute`` spreads over in this process: the accelerators, else
    the CPU's (several once split by :func:`split_cpu`)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        return [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    import jax

    return [str(d) for d in jax.devices()]


@contextlib.contextmanager
def _tensorflow(mode, batch_size, log, connect_timeout):
    import tensorflow as tf

    if mode == "devices":
        devices = visible_devices()
        if len(devices) < 2:
            log(f"--distribute: one device ({devices[0]}), training normally")
            yield Plan(None, devices, global_batch=batch_size)
            return
        check_batch(batch_size, len(devices))
        strategy = tf.distribute.MirroredStrategy(devices)
        plan = Plan(mode, devices, global_batch=batch_size)
    else:
        workers, index = cluster()
        with deadline(connect_timeout, f"worker {index} could not reach its peers "
                      f"{', '.join(workers)} within {connect_timeout:g} s"):
            strategy = tf.distribute.MultiWorkerMirroredStrategy()
            # An all-reduce: returns once every worker has joined.
            strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)
        replicas = strategy.num_replicas_in_sync
        check_batch(batch_size, replicas)
        local = strategy.extended.worker_devices
        devices = [f"worker {w} device {d}" for w in range(len(workers))
                   for d in range(len(local))]
        plan = Plan(mode, devices, len(workers), index, batch_size)
    log(plan.describe())
    with strategy.scope():
        yield plan


@contextlib.contextmanager
def _jax(mode, batch_size, log, connect_timeout):
    import jax

    if mode == "multi-worker":
        workers, index = cluster()
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        with deadline(connect_timeout + 5, f"worker {index} could not reach the coordinator "
                      f"{workers[0]} within {connect_timeout:g} s"):
            jax.distributed.initialize(workers[0], num_processes=len(workers),
                                       process_id=index,
                                       initialization_timeout=int(connect_timeout))
    devices = jax.devices()
    if len(devices) < 2:
        log(f"--distribute: one device ({devices[0]}), training normally")
        yield Plan(None, [str(d) for d in devices], global_batch=batch_size)
        return
    check_batch(batch_size, len(devices))
    plan = Plan(mode, [str(d) for d in devices], jax.process_count(), jax.process_index(),
                batch_size)
    log(plan.describe())
    parallel = keras.distribution.DataParallel(devices=devices)
    # Each process feeds its own part of the batch (ProcessShard), already sharded.
    parallel.auto_shard_dataset = False
    keras.distribution.set_distribution(parallel)
    try:
        yield plan
    finally:
        keras.distribution.set_distribution(None)


@contextlib.contextmanager
def distribution(mode, batch_size: int, log=None, connect_timeout=DEFAULT_CONNECT_TIMEOUT):
    """Runs the block under data parallelism ``mode`` (None, or one of :data:`MODES`);
    yields the :class:`Plan`. Raises :class:`DistributionError` for what cannot run."""
    log = log or (lambda message: None)
    if mode is None:
        yield Plan(None, [], global_batch=batch_size)
        return
    if mode not in MODES:
        raise DistributionError(f"unknown distribution {mode!r}; use one of {MODES}")
    backend = keras.backend.backend()
    runner = {"tensorflow": _tensorflow, "jax": _jax}.get(backend)
    if runner is None:
        raise DistributionError(f"--distribute is not supported on the {backend} backend")
    with runner(mode, batch_size, log, connect_timeout) as plan:
        yield plan
