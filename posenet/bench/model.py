"""Speed benchmark of the presets, relative to the machine's own matrix-multiply rate.

Absolute times drift on a shared machine, so every row is measured between two readings of
this machine's float32 matrix-multiply rate (``matmul_gflops``): ``fraction`` is the model's
achieved GFLOP/s over the higher of the two, taken moments apart, so it holds when the
machine's speed changes during a run (a reading taken during a dip would inflate it).
"""

import dataclasses
import time

import numpy as np


def matmul_gflops(size=2048, repeats=5):
    """Best float32 matrix-multiply rate of NumPy's BLAS on this machine, in GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    a @ b  # warm up the BLAS threads
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def frames_per_second(model, batch_size, repeats=3, seed=0):
    """Frames per second of ``model.predict_on_batch`` at ``batch_size`` samples.

    A sample is one image for a pose network and one clip of T frames for a clip model.
    The first call (tracing and compilation) is not timed; the median of ``repeats`` is.
    """
    shape = (batch_size,) + tuple(model.inputs[0].shape[1:])
    batch = np.random.default_rng(seed).random(shape, dtype=np.float32)
    model.predict_on_batch(batch)
    seconds = float(np.median([_timed(lambda: model.predict_on_batch(batch))
                               for _ in range(repeats)]))
    frames = batch_size * (shape[1] if len(shape) == 5 else 1)
    return frames / seconds


@dataclasses.dataclass
class BenchRow:
    """One measured configuration; rates in frames/s, ``fraction`` of the matmul rate."""

    preset: str
    blocks: int
    params: int
    gflops: float
    fps_batch1: float
    batch_size: int
    fps_batch: float
    matmul_gflops: float
    fraction: float


def bench_preset(name, blocks="all", batch_size=8, repeats=3, input_size=None,
                 reference=matmul_gflops):
    """Measure a preset cut at every block (``blocks="all"``) or only whole; yields rows.

    ``reference()`` gives the machine's matmul GFLOP/s, read before and after every row.
    """
    from posenet.models import build_model, flops_per_frame, get_preset

    preset = get_preset(name)
    size = input_size or preset.input_size
    total = preset.pose["num_blocks"]
    cuts = range(1, total + 1) if blocks == "all" else [total]
    for k in cuts:
        before = reference()
        model = build_model(preset, num_blocks=k, input_size=size)
        gflops = flops_per_frame(model) / 1e9
        fps1 = frames_per_second(model, 1, repeats)
        # Clip models take clips: keep a "large batch" of clips near batch_size frames.
        samples = max(1, batch_size // preset.num_frames) if preset.is_multitask else batch_size
        fps_b = frames_per_second(model, samples, repeats)
        rate = max(before, reference())
        fraction = gflops * max(fps1, fps_b) / rate
        frames = samples * (preset.num_frames or 1)
        yield BenchRow(name, k, model.count_params(), gflops, fps1, frames, fps_b, rate, fraction)


HEADER = ("| preset | blocks | params (M) | GFLOPs/frame | frames/s @1 | batch | frames/s @batch "
          "| matmul GFLOP/s | % of matmul |")
RULE = "|" + "---|" * 9


def format_row(row):
    """A Markdown table row of a :class:`BenchRow`."""
    return (f"| {row.preset} | {row.blocks} | {row.params / 1e6:.2f} | {row.gflops:.2f} | "
            f"{row.fps_batch1:.1f} | {row.batch_size} | {row.fps_batch:.1f} | "
            f"{row.matmul_gflops:.0f} | {100 * row.fraction:.0f}% |")


def format_table(rows):
    """The Markdown table of a benchmark run."""
    return "\n".join([HEADER, RULE] + [format_row(r) for r in rows])
