"""Training throughput on 1 and N devices, measured in one run (``posenet bench --train``).

Every row trains the same recipe model with ``model.fit`` on the same global batch (drawn
once by the recipe's loader from a small built-in render, then repeated, so that data
loading is not measured), under data parallelism over the first k devices (TensorFlow:
``MirroredStrategy``; JAX: ``keras.distribution.DataParallel``). The speed-up is the
samples/s on k devices over the samples/s on one, both from this run; the efficiency is
the speed-up over k. On a CPU split into virtual devices (``--cpu-devices``) the devices
share the same cores, so a speed-up near 1 is what to expect there: the figure only means
something on real accelerators.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import time

import keras
import numpy as np

from posenet.training.distribution import check_batch, visible_devices


@dataclasses.dataclass
class ScalingRow:
    """One device count: ``samples_per_s`` of training, ``speedup`` over one device."""

    devices: int
    global_batch: int
    per_device: int
    samples_per_s: float
    speedup: float = 1.0

    @property
    def efficiency(self) -> float:
        return self.speedup / self.devices


@contextlib.contextmanager
def _on_devices(count):
    """Data parallel over the first ``count`` devices for the block."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.distribute.MirroredStrategy(visible_devices()[:count]).scope():
            yield
        return
    import jax

    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=jax.devices()[:count]))
    try:
        yield
    finally:
        keras.distribution.set_distribution(None)


def _one_batch(recipe, folder):
    """A global batch of the recipe's loader on a small built-in render in ``folder``."""
    from posenet.data.render_dataset import prepare_builtin_render
    from posenet.training.data import training_loader
    from posenet.training.model import build

    for source in recipe.sources:
        prepare_builtin_render(f"{folder}/{source['path']}", num_clips=2, frames=8,
                               size=recipe.model.get("input_size", 64) * 2)
    return training_loader(recipe, build(recipe, folder), folder)[0]


def _rate(recipe, folder, batch, count, steps, repeats) -> float:
    from posenet.training.model import build, compile_model

    x, y = batch
    xs = np.concatenate([x] * steps)
    ys = {name: np.concatenate([value] * steps) for name, value in y.items()}
    with _on_devices(count):
        keras.utils.set_random_seed(recipe.seed)
        model = build(recipe, folder)
        compile_model(model, recipe)
        seconds = []
        for k in range(repeats + 1):  # the first epoch traces and compiles: not timed
            start = time.perf_counter()
            model.fit(xs, ys, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
            if k:
                seconds.append(time.perf_counter() - start)
    return steps * len(x) / float(np.median(seconds))


def measure(recipe, counts, steps=8, repeats=3) -> list[ScalingRow]:
    """Training samples/s of ``recipe`` (a Recipe, its sources' files rendered here) on
    each device count of ``counts`` (1 first for the speed-ups); median of ``repeats``
    epochs of ``steps`` batches after one untimed epoch."""
    available = len(visible_devices())
    counts = sorted(set(counts))
    if counts[-1] > available:
        raise ValueError(f"{counts[-1]} devices asked, {available} visible")
    for count in counts:
        check_batch(recipe.batch_size, count)
    with tempfile.TemporaryDirectory(prefix="posenet-scaling-") as folder:
        batch = _one_batch(recipe, folder)
        rows = [ScalingRow(k, recipe.batch_size, recipe.batch_size // k,
                           _rate(recipe, folder, batch, k, steps, repeats)) for k in counts]
    for row in rows:
        row.speedup = row.samples_per_s / rows[0].samples_per_s
    return rows


HEADER = "| devices | global batch | per device | samples/s | speed-up | efficiency |"
RULE = "|" + "---|" * 6


def format_row(row: ScalingRow) -> str:
    """A Markdown table row of a :class:`ScalingRow`."""
    return (f"| {row.devices} | {row.global_batch} | {row.per_device} | "
            f"{row.samples_per_s:.1f} | {row.speedup:.2f}x | {100 * row.efficiency:.0f}% |")
