"""Inference speed: the whole pipeline against the network alone, in the same run.

The ratio ``end_to_end / model_only`` (frames/s) says how much of the network's speed
the pipeline keeps after decoding, cropping, tracking and bookkeeping (1.0 = no overhead).
"""

from __future__ import annotations

import time

import numpy as np


def end_to_end_rate(predictor, video_path) -> float:
    """Frames/s of ``predictor.predict_video(video_path)`` (after one warm-up run)."""
    predictor.predict_video(video_path)  # traces the graphs, warms caches
    start = time.perf_counter()
    result = predictor.predict_video(video_path)
    return result["num_frames"] / (time.perf_counter() - start)


def model_only_rate(predictor, crop_batches) -> float:
    """Frames/s of the network alone on uint8 BGR crop batches (each (N, S, S, 3))."""
    batches = [np.asarray(b) for b in crop_batches]
    predictor.run_network(batches[0])  # warm-up
    start = time.perf_counter()
    for batch in batches:
        predictor.run_network(batch)
    return sum(len(b) for b in batches) / (time.perf_counter() - start)


def inference_rates(predictor, video_path, repeats=4, seed=0) -> dict:
    """``{"end_to_end", "model_only", "ratio"}``: frames/s of both, measured back to back;
    the model-only batches are ``repeats`` random crop batches of ``batch_size``."""
    rng = np.random.default_rng(seed)
    shape = (predictor.batch_size, predictor.size, predictor.size, 3)
    crops = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(repeats)]
    e2e = end_to_end_rate(predictor, video_path)
    model = model_only_rate(predictor, crops)
    return {"end_to_end": e2e, "model_only": model, "ratio": e2e / model}
