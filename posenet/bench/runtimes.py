"""Model-only speed of the pose network's runtimes, timed in interleaved rounds."""

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


def main(argv=None):
    """``python -m posenet.inference.runtime [WEIGHTS] [--batch-size N] [--runtime K ...]
    [--precision P ...] [--all-outputs]``: model-only frames/s of the pose network per
    runtime (litert at each ``--precision``; timed in interleaved rounds) and the ratio to
    Keras; the network computes what the Predictor reads (the last block's pose and
    visibility), or with ``--all-outputs`` every output (as ``posenet export`` writes it)."""
    import argparse

    from posenet.engine.weights import load_weights
    from posenet.export.quantize import PRECISIONS, Calibration
    from posenet.outputs import pose_output, visibility_output

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("weights", nargs="?", default=None)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--runtime", action="append", choices=RUNTIMES)
    parser.add_argument("--precision", action="append", choices=PRECISIONS,
                        help="litert's precisions to measure (default: float32)")
    parser.add_argument("--calibration", default=None, help="int8's prepared file")
    parser.add_argument("--all-outputs", action="store_true",
                        help="time every output, person heads included")
    args = parser.parse_args(argv)
    loaded = load_weights(args.weights)
    pose = loaded.pose
    size = pose.input_size
    batch = np.random.default_rng(0).integers(0, 256, (args.batch_size, size, size, 3),
                                              dtype=np.uint8)
    outputs = None if args.all_outputs else [pose_output(pose.num_blocks),
                                             visibility_output(pose.num_blocks)]
    runtimes = {}
    for kind in args.runtime or RUNTIMES:
        for precision in (args.precision or ["float32"]) if kind == "litert" else ["float32"]:
            label = kind if precision == "float32" else f"{kind} {precision}"
            runtimes[label] = runtime_for(kind, pose, pose.num_blocks, pose.num_blocks,
                                          sha256=loaded.sha256, precision=precision,
                                          calibration=Calibration(args.calibration),
                                          outputs=outputs)
    rates = interleaved_fps(runtimes, batch, args.repeats)
    for label, rate in rates.items():
        ratio = rate / rates["keras"] if "keras" in rates else float("nan")
        print(f"{label}: {rate:.1f} frames/s (batch {args.batch_size}, {size} px), "
              f"{ratio:.2f}x keras", flush=True)


if __name__ == "__main__":
    main()
