"""The reference outputs of ``posenet infer`` that ``test_golden_outputs`` compares against.

The inputs (tests/data/golden/) are small clips and a photo rendered once and kept as files,
so a change of the renderer does not move them. The expected JSON was written under
TensorFlow, with the shipped default weights on the Keras runtime, by the code before the
engine/ redesign (issue 26, which left it bit for bit unchanged), then again on purpose when
issues 27 and 31 changed the outputs (the person found by the detector, one-frame jumps held,
``warnings``, no actions on a still or a clip shorter than the action window).
``python tests/golden_outputs.py`` writes it again: only do so when an output is meant to
change, and say why in the commit.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "data" / "golden"

#: name -> (input file, extra ``posenet infer`` options)
RUNS = {
    "walk_single": ("walk.avi", []),
    "walk_multi": ("walk.avi", ["--multi-person"]),
    "pair_multi": ("pair.avi", ["--multi-person"]),
    "pair_single": ("pair.avi", []),
    "still": ("still.png", []),
}


def infer_args(name, out_dir) -> list[str]:
    """The ``posenet infer`` arguments of run ``name`` writing into ``out_dir``."""
    source, extra = RUNS[name]
    return [str(FOLDER / source), "--out", str(out_dir), "--runtime", "keras", *extra]


def comparable(predictions: dict) -> dict:
    """A predictions dict without what depends on where the files lie (``source``, the
    folder of ``model.weights``)."""
    out = {k: v for k, v in predictions.items() if k != "source"}
    out["model"] = {**out["model"], "weights": Path(out["model"]["weights"]).name}
    return out


def make_inputs() -> None:
    """Render the inputs (once; kept as files)."""
    import cv2
    import numpy as np

    from posenet.render.scene import demo_clip

    FOLDER.mkdir(parents=True, exist_ok=True)

    def write(path, frames, fps):
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps,
                                 (frames[0].shape[1], frames[0].shape[0]))
        for frame in frames:
            writer.write(frame)
        writer.release()

    walk = demo_clip(40, size=(320, 240), seed=1, fps=25.0)["frames"]
    write(FOLDER / "walk.avi", walk, 25.0)
    a = demo_clip(24, size=(160, 240), seed=3, fps=25.0)["frames"]
    b = demo_clip(24, size=(160, 240), seed=4, fps=25.0)["frames"]
    write(FOLDER / "pair.avi", np.concatenate([a, b], axis=2), 25.0)
    cv2.imwrite(str(FOLDER / "still.png"), demo_clip(1, size=(240, 320), seed=5)["frames"][0])


def make_expected() -> None:
    """Run every entry of :data:`RUNS` and keep its JSON as ``NAME.json``."""
    import tempfile

    from click.testing import CliRunner

    from cli.infer import infer

    for name, (source, _) in RUNS.items():
        with tempfile.TemporaryDirectory() as out:
            result = CliRunner().invoke(infer, infer_args(name, out))
            assert result.exit_code == 0, result.output
            stem = Path(source).stem
            written = Path(out) / f"{stem}.json"
            predictions = json.loads(written.read_text())
        (FOLDER / f"{name}.json").write_text(json.dumps(comparable(predictions), indent=1) + "\n")
        print(name, predictions["num_frames"], "frames", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "--inputs" in sys.argv:
        make_inputs()
    make_expected()
