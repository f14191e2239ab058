"""Inference speed: the whole pipeline against the network alone, in the same run.

The ratio ``end_to_end / model_only`` (frames/s) says how much of the network's speed
the pipeline keeps after decoding, cropping, tracking and bookkeeping (1.0 = no overhead).
"""

from __future__ import annotations

import time

import numpy as np


def end_to_end_rate(predictor, video_path) -> float:
    """Frames/s of one ``predictor.predict_video(video_path)`` run."""
    start = time.perf_counter()
    result = predictor.predict_video(video_path)
    return result["num_frames"] / (time.perf_counter() - start)


def model_only_rate(predictor, crop_batches) -> float:
    """Frames/s of the network alone on uint8 BGR crop batches (each (N, S, S, 3))."""
    batches = [np.asarray(b) for b in crop_batches]
    start = time.perf_counter()
    for batch in batches:
        predictor.run_network(batch)
    return sum(len(b) for b in batches) / (time.perf_counter() - start)


def decode_only_rate(video_path) -> float:
    """Frames/s of decoding the video alone (the pipeline's reader, nothing else)."""
    from posenet.inference.sources import iter_frames

    start = time.perf_counter()
    count = sum(1 for _ in iter_frames(video_path))
    return count / (time.perf_counter() - start)


def inference_rates(predictor, video_path, repeats=4, runs=3, seed=0) -> dict:
    """``{"end_to_end", "model_only", "ratio", "decode_only", "decode_bound"}``: frames/s,
    the best of ``runs`` alternated measurements each; the model-only batches are
    ``repeats`` random crop batches of ``batch_size``.

    ``decode_bound`` is the ratio a pipeline whose only cost besides the network is
    decoding would reach if the two took turns on the whole machine,
    ``decode_only / (decode_only + model_only)``: on a CPU, where decoding and the network
    share the cores, ``ratio`` can only exceed it by the cores the network leaves idle."""
    rng = np.random.default_rng(seed)
    shape = (predictor.batch_size, predictor.size, predictor.size, 3)
    crops = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(repeats)]
    predictor.predict_video(video_path)  # warm-up: traces the graphs, fills caches
    predictor.run_network(crops[0])
    # Alternated, best of each: a drift of the machine's speed hits both rates alike.
    e2e = model = 0.0
    for _ in range(runs):
        e2e = max(e2e, end_to_end_rate(predictor, video_path))
        model = max(model, model_only_rate(predictor, crops))
    decode = decode_only_rate(video_path)
    return {"end_to_end": e2e, "model_only": model, "ratio": e2e / model,
            "decode_only": decode, "decode_bound": decode / (decode + model)}


def bench_infer(weights, num_frames=256, size=(1280, 720), batch_size=16, repeats=4):
    """End-to-end ``posenet infer`` (decode, find the person, crop, model, write the JSON)
    against the model alone, on a rendered ``size`` clip; returns the rates and the ratio.

    ``weights`` is anything :class:`Predictor` accepts (a path, a bundle, a keras model).
    """
    import os
    import tempfile

    from posenet.inference.predictor import Predictor
    from posenet.inference.schema import write_predictions
    from posenet.render.video import write_motion_video

    predictor = Predictor(weights, batch_size=batch_size)
    with tempfile.TemporaryDirectory() as folder:
        # Rendered at a quarter size and upscaled: quick to make, decodes like a real clip.
        video = write_motion_video(os.path.join(folder, "clip"), "walk", num_frames, size,
                                   render_scale=0.25)["path"]

        class Writing:
            """The predictor plus writing its JSON, as `posenet infer` does."""

            batch_size, size = predictor.batch_size, predictor.size

            def predict_video(self, path):
                result = predictor.predict_video(path)
                write_predictions(result, os.path.join(folder, "clip.json"), "json")
                return result

            def run_network(self, crops):
                return predictor.run_network(crops)

        rates = inference_rates(Writing(), video, repeats=repeats)
    return {**rates, "frames": num_frames, "width": size[0], "height": size[1],
            "batch_size": batch_size}
