"""Inference speed: the whole pipeline against the network alone, in the same run.

The ratio ``end_to_end / model_only`` (frames/s) says how much of the network's speed
the pipeline keeps after decoding, cropping, tracking and bookkeeping (1.0 = no overhead).
With several people the model-only rate is the pose network's crops/s divided by the
people per frame, and the detector's own rate is measured beside it.
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


def detector_rate(detector, video_path, count=16) -> float:
    """Frames/s of the person detector alone on the video's first ``count`` frames."""
    from posenet.inference.sources import iter_frames

    frames = [f for _, f in zip(range(count), (f for _, f in iter_frames(video_path)),
                                strict=False)]
    detector(frames[0])  # warm-up: traces the graph of this frame size
    start = time.perf_counter()
    for frame in frames:
        detector(frame)
    return len(frames) / (time.perf_counter() - start)


def inference_rates(predictor, video_path, repeats=4, runs=3, seed=0, people=1) -> dict:
    """``{"end_to_end", "model_only", "ratio", "decode_only", "decode_bound"}``: frames/s,
    the best of ``runs`` alternated measurements each; the model-only batches are
    ``repeats`` random crop batches of ``batch_size``, their crops/s divided by
    ``people`` (the crops of one frame).

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
        model = max(model, model_only_rate(predictor, crops) / people)
    decode = decode_only_rate(video_path)
    return {"end_to_end": e2e, "model_only": model, "ratio": e2e / model,
            "decode_only": decode, "decode_bound": decode / (decode + model)}


class _Counting:
    """A detector that counts its calls."""

    def __init__(self, detector):
        self.detector, self.calls = detector, 0

    def __call__(self, frame):
        self.calls += 1
        return self.detector(frame)


def four_walkers():
    """The multi-person benchmark's scene: 4 people walking across, at 4-7 m."""
    from posenet.render.crowd import CrowdPerson

    return (CrowdPerson("walk", x_start=0.1, x_end=0.6, distance_mm=7000.0),
            CrowdPerson("walk", x_start=0.9, x_end=0.4, distance_mm=6000.0),
            CrowdPerson("walk", x_start=0.3, x_end=0.75, distance_mm=5000.0),
            CrowdPerson("walk", x_start=0.65, x_end=0.2, distance_mm=4000.0))


def bench_infer(weights, num_frames=256, size=(1280, 720), batch_size=16, repeats=4,
                multi_person=False, runtime="keras", precision="float32"):
    """End-to-end ``posenet infer`` (decode, find the person, crop, model, write the JSON)
    against the model alone, on a rendered ``size`` clip; returns the rates and the ratio.

    ``weights`` is anything :class:`Predictor` accepts (a path, a bundle, a keras model).
    ``multi_person``: 4 people walking (:func:`four_walkers`), detected and tracked as
    ``posenet infer --multi-person`` does; the row adds the detector's own frames/s, its
    calls per frame and the people found per frame. The detector runs on LiteRT with
    ``runtime="litert"``, else on Keras (``detector_runtime.for_pose_runtime``);
    ``precision`` is the litert network's (``posenet.export.quantize``).
    """
    import os
    import tempfile

    from posenet.bench.model import matmul_gflops
    from posenet.inference.predictor import Predictor
    from posenet.inference.schema import write_predictions
    from posenet.render.crowd import write_crowd_video
    from posenet.render.video import write_motion_video

    # runtime: keras, litert or onnx (posenet.engine.runtimes)
    predictor = Predictor(weights, batch_size=batch_size, multi_person=multi_person,
                          runtime=runtime, precision=precision)
    people = len(four_walkers()) if multi_person else 1
    found, detector_calls = [], []
    if multi_person:  # counted: the detector runs every detect_every frames, and more
        predictor._detector = _Counting(predictor.detector)  # where people overlap
    with tempfile.TemporaryDirectory() as folder:
        # Rendered at a quarter size and upscaled: quick to make, decodes like a real clip.
        base = os.path.join(folder, "clip")
        video = (write_crowd_video(base, four_walkers(), num_frames, size, render_scale=0.25)
                 if multi_person else write_motion_video(base, "walk", num_frames, size,
                                                         render_scale=0.25))["path"]

        class Writing:
            """The predictor plus writing its JSON, as `posenet infer` does."""

            batch_size, size = predictor.batch_size, predictor.size

            def predict_video(self, path):
                calls = predictor.detector.calls if multi_person else 0
                result = predictor.predict_video(path)
                write_predictions(result, os.path.join(folder, "clip.json"), "json")
                found.append(np.mean([len(f["people"]) for f in result["frames"]]))
                if multi_person:
                    detector_calls.append((predictor.detector.calls - calls)
                                          / result["num_frames"])
                return result

            def run_network(self, crops):
                return predictor.run_network(crops)

        # The machine's own matmul rate around the run, so that figures taken on different
        # days (a shared machine's speed drifts) can be compared.
        before = matmul_gflops()
        rates = inference_rates(Writing(), video, repeats=repeats, people=people)
        if multi_person:
            rates["detector_only"] = detector_rate(predictor.detector.detector, video)
            rates["detector_calls_per_frame"] = float(np.mean(detector_calls))
        rates["matmul_gflops"] = max(before, matmul_gflops())
    return {**rates, "frames": num_frames, "width": size[0], "height": size[1],
            "batch_size": batch_size, "people": people, "runtime": runtime,
            "precision": precision, "people_found": float(np.mean(found))}


def still_person_jitter(weights=None, num_frames=100, fps=25.0, size=(1280, 720),
                        noise=6.0, seed=0) -> dict:
    """Jitter of the joints of a rendered person standing still, without and with the
    One Euro filter (``posenet infer`` and ``--no-smoothing``).

    The person is rendered once and every frame gets fresh Gaussian pixel noise of
    ``noise`` grey levels (a camera's sensor noise; identical frames would give the network
    nothing to jitter on). Jitter is ``posenet.inference.smoothing.jitter``: the mean
    frame-to-frame motion of the joints (2D: confident joints, px; 3D: mm); on a still
    person all of it is jitter. Returns ``{"raw": {"2d", "3d"}, "smoothed": {...},
    "fps", "frames", "noise"}``.
    """
    import os
    import tempfile

    from posenet.inference.predictor import Predictor
    from posenet.inference.smoothing import jitter
    from posenet.render.crowd import CrowdPerson, render_crowd
    from posenet.render.motion import STAND
    from posenet.video_writer import OverlayWriter

    rng = np.random.default_rng(seed)
    frame = render_crowd((CrowdPerson(STAND, x_start=0.5),), 1, size, fps, seed)["frames"][0]
    out = {"fps": fps, "frames": num_frames, "noise": noise}
    with tempfile.TemporaryDirectory() as folder:
        writer = OverlayWriter(os.path.join(folder, "still"), fps, size)
        try:
            for _ in range(num_frames):
                noisy = frame + rng.normal(0.0, noise, frame.shape)
                writer.write(np.clip(np.rint(noisy), 0, 255).astype(np.uint8))
            path = writer.close()
        finally:
            writer.abort()
        for name, smoothing in (("raw", None), ("smoothed", "default")):
            pred = Predictor(weights, smoothing=smoothing).predict_video(path)
            people = [f["people"][0] for f in pred["frames"] if f["people"]]
            joints = np.array([p["joints2d"] for p in people])
            out[name] = {"2d": jitter(joints[..., :2], joints[..., 2] >= 0.5),
                         "reported": len(people)}
            if people[0]["joints3d"] is not None:
                out[name]["3d"] = jitter(np.array([p["joints3d"] for p in people]))
    return out
