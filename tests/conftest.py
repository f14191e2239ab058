"""Shared test set-up: quiet TensorFlow logs, seeded randomness, the shared data folder."""

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# `posenet infer` runs LiteRT by default, exporting each network once: the suite's many
# small random networks would each be exported, so its commands default to Keras here
# (tests/test_cli_infer.py checks the real default; the LiteRT tests ask for it).
os.environ.setdefault("POSENET_RUNTIME", "keras")

#: Real datasets live beside the project (never inside it); CI has them, clones may not.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def rng():
    """A seeded NumPy generator, so every random test input is reproducible."""
    return np.random.default_rng(1234)


@pytest.fixture
def shared_data():
    """Path of ../shared/data; skips the test with a clear message when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (only CI and developers have it)")
    return SHARED_DATA
