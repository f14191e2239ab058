"""Model-only speed of the pose network's runtimes, timed in interleaved rounds.

``posenet tools runtime-speed [WEIGHTS] [--runtime K ...] [--precision P ...]`` prints
:func:`runtime_speeds` with each runtime's ratio to Keras.
"""

from __future__ import annotations

import numpy as np

from posenet.engine.runtimes import RUNTIMES
from posenet.export.cache import runtime_for


def model_fps(runtime, batch, repeats=5) -> float:
    """Frames/s of ``runtime.predict`` on ``batch`` (median of ``repeats`` after a warm-up)."""
    return interleaved_fps({"one": runtime}, batch, repeats)["one"]


def interleaved_fps(runtimes: dict, batch, repeats=5) -> dict:
    """Frames/s of each of ``runtimes`` (name -> runtime) on ``batch``: the median of
    ``repeats`` rounds, each timing every runtime once in turn after a warm-up, so a
    machine whose load drifts slows them all alike."""
    import time

    times: dict[str, list] = {name: [] for name in runtimes}
    for runtime in runtimes.values():
        runtime.predict(batch)
    for _ in range(repeats):
        for name, runtime in runtimes.items():
            start = time.perf_counter()
            runtime.predict(batch)
            times[name].append(time.perf_counter() - start)
    return {name: len(batch) / float(np.median(t)) for name, t in times.items()}


def runtime_speeds(weights=None, batch_size=16, repeats=5, runtimes=None, precisions=None,
                   calibration=None, all_outputs=False) -> tuple[dict, int]:
    """({label: frames/s}, the input side in px) of the pose network of ``weights`` (default:
    the shipped ones) model-only, per runtime of ``runtimes`` (default: all; litert at each
    of ``precisions``, default float32; ``calibration``: int8's prepared file), timed in
    interleaved rounds on a seeded random batch of ``batch_size``. The network computes
    what the Predictor reads (the last block's pose and visibility), or with
    ``all_outputs`` every output (as ``posenet export`` writes it)."""
    from posenet.engine.weights import load_weights
    from posenet.export.quantize import Calibration
    from posenet.outputs import pose_output, visibility_output

    loaded = load_weights(weights)
    pose = loaded.pose
    size = pose.input_size
    batch = np.random.default_rng(0).integers(0, 256, (batch_size, size, size, 3),
                                              dtype=np.uint8)
    outputs = None if all_outputs else [pose_output(pose.num_blocks),
                                        visibility_output(pose.num_blocks)]
    timed = {}
    for kind in runtimes or RUNTIMES:
        for precision in (precisions or ["float32"]) if kind == "litert" else ["float32"]:
            label = kind if precision == "float32" else f"{kind} {precision}"
            timed[label] = runtime_for(kind, pose, pose.num_blocks, pose.num_blocks,
                                       sha256=loaded.sha256, precision=precision,
                                       calibration=Calibration(calibration), outputs=outputs)
    return interleaved_fps(timed, batch, repeats), size
