"""Does the data loader keep up with training? Loader and training rates of one run.

The loader's rate is measured in this process, i.e. per worker; the model's training rate
with ``train_on_batch`` on the loader's own batches. Their ratio is the number of loader
workers that training needs so that the accelerator never waits for data.
"""

import dataclasses
import math
import time

import numpy as np


@dataclasses.dataclass
class LoaderRow:
    """Samples/s of one loader worker and of training; ``workers`` = training / loader."""

    preset: str
    dataset: str
    batch_size: int
    loader_samples_per_s: float
    train_samples_per_s: float
    workers: int


def _median_rate(fn, samples, repeats):
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return samples / float(np.median(times))


def bench_loader(path, preset="cpu_3d", batch_size=16, repeats=5, augment="mpii", seed=0,
                 input_size=None):
    """Compare a loader over the prepared file ``path`` with training ``preset`` on it."""
    import keras

    from posenet.data.loader import ClipLoader, FrameLoader, Source
    from posenet.data.prepared import PreparedDataset
    from posenet.losses import loss_weights_for, losses_for
    from posenet.models import build_model, get_preset

    preset_obj = get_preset(preset)
    overrides = {"input_size": input_size} if input_size else {}
    model = build_model(preset, **overrides)
    names = list(model.output_names)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss=losses_for(names),
                  loss_weights=loss_weights_for(names))
    loader_cls = ClipLoader if preset_obj.is_multitask else FrameLoader
    samples = batch_size // preset_obj.num_frames if preset_obj.is_multitask else batch_size
    samples = max(samples, 1)
    loader = loader_cls([Source(path, augment=augment)], model, batch_size=samples,
                        steps=2 * repeats + 2, seed=seed)
    frames = samples * (preset_obj.num_frames or 1)
    loader_rate = _median_rate(lambda i: loader[i + 1], frames, repeats)
    x, y = loader[0]
    model.train_on_batch(x, y)  # tracing and compilation, not timed
    train_rate = _median_rate(lambda i: model.train_on_batch(x, y), frames, repeats)
    dataset = PreparedDataset(path).attrs.get("dataset", str(path))
    workers = max(1, math.ceil(train_rate / loader_rate))
    return LoaderRow(preset, dataset, frames, loader_rate, train_rate, workers)


LOADER_HEADER = ("| preset | dataset | batch (frames) | loader frames/s per worker "
                 "| training frames/s | workers needed |")
LOADER_RULE = "|" + "---|" * 6


def format_loader_row(row):
    """A Markdown table row of a :class:`LoaderRow`."""
    return (f"| {row.preset} | {row.dataset} | {row.batch_size} | "
            f"{row.loader_samples_per_s:.1f} | {row.train_samples_per_s:.1f} | {row.workers} |")
