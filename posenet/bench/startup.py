"""Cold start-up: how long a user waits for one photo from a fresh ``posenet`` process.

``posenet bench --startup`` writes one rendered 640x480 photo, then runs
``posenet infer PHOTO --out OUT --runtime R`` in a new process for each runtime and times
it (wall time around the whole process, ``time.perf_counter``), against a cold
``posenet --version``: the floor of Python, click and the CLI's own imports.

Before any timed run, each runtime runs once untimed: that warm-up fills the export cache
(a LiteRT or ONNX runtime exports the network on its first use), so the timed runs are
what a user waits for every time after the first. The timed runs alternate (``--version``,
then each runtime, ``repeats`` rounds), so a drift of a shared machine's speed hits every
command alike; the median of each is kept, and the ratios of the runtimes to Keras measured
in one call are the figures to quote (absolute seconds drift from run to run).

One more untimed child per runtime runs the same command in-process and reports which of
TensorFlow, Keras and JAX it had imported by the end.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNTIMES = ("litert", "keras")
PHOTO_SIZE = (640, 480)
#: The heavy libraries whose import a runtime may or may not need.
HEAVY = ("tensorflow", "keras", "jax")
#: The prefix of the line on which the imports child prints its list.
IMPORTS_MARK = "posenet-bench-imports:"
#: Seconds after which one child is given up on.
CHILD_TIMEOUT_S = 900.0


class StartupError(RuntimeError):
    """A child ``posenet`` process failed; the message ends with its stderr's tail."""


def write_photo(folder, size=PHOTO_SIZE, seed=0) -> str:
    """One rendered person (the built-in walk, seeded) as ``folder/photo.jpg``; its path."""
    import cv2

    from posenet.render.scene import demo_clip

    frame = demo_clip(1, size=size, seed=seed)["frames"][0]
    path = os.path.join(folder, "photo.jpg")
    if not cv2.imwrite(path, frame):
        raise StartupError(f"cannot write the test photo {path}")
    return path


def posenet_command() -> list[str]:
    """The argv prefix of a cold ``posenet``: the console script beside this Python, else
    ``python -m cli`` (the same command without the script)."""
    script = Path(sys.executable).parent / "posenet"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "cli"]


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "(nothing on stderr)"


def run_command(argv, timeout=CHILD_TIMEOUT_S) -> tuple[float, str]:
    """Run ``argv`` in a new process; ``(wall seconds, stdout)``. StartupError when it
    fails, with the tail of its stderr."""
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as error:
        stderr = error.stderr.decode(errors="replace") if isinstance(error.stderr, bytes) \
            else (error.stderr or "")
        raise StartupError(f"{' '.join(map(str, argv))}: no end after {timeout:g} s\n"
                           f"{_tail(stderr)}") from None
    seconds = time.perf_counter() - start
    if done.returncode:
        raise StartupError(f"{' '.join(map(str, argv))}: exit status {done.returncode}\n"
                           f"{_tail(done.stderr)}")
    return seconds, done.stdout


def imports_code(photo, out, runtime) -> str:
    """Python source that runs ``posenet infer`` in-process, then prints which of
    ``HEAVY`` were imported, as JSON after ``IMPORTS_MARK``."""
    args = ["infer", str(photo), "--out", str(out), "--runtime", runtime]
    return ("import json, sys\n"
            "from cli.main import main\n"
            f"status = main({args!r}, prog_name='posenet', standalone_mode=False)\n"
            f"print({IMPORTS_MARK!r}, json.dumps(sorted(m for m in {HEAVY!r} "
            "if m in sys.modules)))\n"
            "sys.exit(status if isinstance(status, int) else 0)\n")


def parse_imports(stdout: str) -> list[str]:
    """The list the imports child printed (its last ``IMPORTS_MARK`` line)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(IMPORTS_MARK):
            return json.loads(line[len(IMPORTS_MARK):])
    raise StartupError(f"the imports child printed no {IMPORTS_MARK!r} line:\n"
                       f"{_tail(stdout)}")


def measure_startup(runtimes=RUNTIMES, repeats=3, run=run_command, folder=None,
                    command=None, size=PHOTO_SIZE) -> dict:
    """Median wall seconds of a cold ``posenet infer`` on one photo per runtime, and of a
    cold ``posenet --version``.

    ``run(argv) -> (seconds, stdout)`` runs one child (``run_command``; tests pass a fake);
    ``folder`` holds the photo and outputs (default: a temporary folder, removed after);
    ``command`` is the ``posenet`` argv prefix (default ``posenet_command()``). Returns
    ``{"photo": {"width", "height"}, "repeats", "startup_s", "startup_runs", "runtimes":
    {R: {"photo_s", "runs", "imports"}}, "ratios": {"R/keras": photo_s ratio}}`` (ratios
    only when keras was measured).
    """
    runtimes = tuple(dict.fromkeys(runtimes))
    if not runtimes:
        raise ValueError("no runtime to measure")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="posenet-startup-") as tmp:
            return measure_startup(runtimes, repeats, run, tmp, command, size)
    command = list(command or posenet_command())
    photo = write_photo(folder, size)

    def infer(runtime, tag):
        out = os.path.join(folder, f"out-{runtime}-{tag}")  # a fresh folder each run
        return command + ["infer", photo, "--out", out, "--runtime", runtime]

    imports = {}
    for runtime in runtimes:  # untimed: fills the export cache
        run(infer(runtime, "warm-up"))
    for runtime in runtimes:
        code = imports_code(photo, os.path.join(folder, f"out-{runtime}-imports"), runtime)
        imports[runtime] = parse_imports(run([sys.executable, "-c", code])[1])
    startup_runs, runs = [], {r: [] for r in runtimes}
    for i in range(repeats):  # alternated rounds: a drift hits every command alike
        startup_runs.append(run(command + ["--version"])[0])
        for runtime in runtimes:
            runs[runtime].append(run(infer(runtime, i))[0])
    result = {
        "photo": {"width": int(size[0]), "height": int(size[1])},
        "repeats": repeats,
        "startup_s": statistics.median(startup_runs),
        "startup_runs": startup_runs,
        "runtimes": {r: {"photo_s": statistics.median(runs[r]), "runs": runs[r],
                         "imports": imports[r]} for r in runtimes},
    }
    result["ratios"] = ratios(result["runtimes"])
    return result


def ratios(rows) -> dict:
    """``{"R/keras": photo_s ratio}`` for each runtime but keras, when keras is there."""
    if "keras" not in rows:
        return {}
    base = rows["keras"]["photo_s"]
    return {f"{r}/keras": row["photo_s"] / base for r, row in rows.items() if r != "keras"}


def format_startup(result) -> list[str]:
    """The lines ``posenet bench --startup`` prints: a table and the ratios."""
    photo = result["photo"]
    floor = result["startup_s"]

    def runs(values):
        return " ".join(f"{v:.2f}" for v in values)

    lines = [f"one {photo['width']}x{photo['height']} photo, a fresh process each run: "
             f"median of {result['repeats']}, after one untimed warm-up run per runtime",
             "",
             "| command | median s | over start-up s | runs s | imported |",
             "|---|---|---|---|---|",
             f"| posenet --version | {floor:.2f} | - | {runs(result['startup_runs'])} | - |"]
    for runtime, row in result["runtimes"].items():
        lines.append(f"| posenet infer --runtime {runtime} | {row['photo_s']:.2f} | "
                     f"{row['photo_s'] - floor:.2f} | {runs(row['runs'])} | "
                     f"{', '.join(row['imports']) or 'none of ' + '/'.join(HEAVY)} |")
    if result["ratios"]:
        lines.append("")
        lines.extend(f"{name}: {value:.2f}x the wall time"
                     for name, value in result["ratios"].items())
    return lines
