"""``posenet train --distribute`` on virtual CPU devices and on two local worker processes.

Every run is a fresh ``python -m cli train`` process: the CPU can only be split before the
backend starts. The runs train the tiny recipe with plain SGD (no Adam: its update
``m / sqrt(v)`` turns float rounding in near-zero gradients into whole steps).

Tolerance. Data parallel computes the same global-batch gradient as one device, summed in
another order, so the weights may differ by float rounding only. The test measures the
difference between two runs relative to the distance the weights travelled in training,
``|w_N - w_1| / |w_1 - w_0|``: measured 3e-4 on TensorFlow (MirroredStrategy and two
workers) and 5e-7 on JAX. A real error is far above: per-replica batch statistics (no
synchronised batch normalisation) give 8e-2, a loss averaged per replica rather than over
the global batch (gradients N times too large) gives about 1. The bound is 1e-2.
"""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from training_fixtures import render_file

import posenet.layers  # noqa: F401  (registers the custom layers for loading)
import posenet.losses  # noqa: F401
import posenet.models  # noqa: F401

pytestmark = pytest.mark.backend

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-2
#: Two epochs of two batches of 4 (split 2 x 2 over two devices), SGD.
RECIPE = ["tiny", "--set", "steps_per_epoch=2", "--set", "validation.steps=1", "--set",
          "optimizer=sgd", "--set", "lr=0.01", "--batch-size", "4", "--epochs", "2",
          "--verbose", "0"]


def _command(out, data, *extra):
    return [sys.executable, "-m", "cli", "train", *RECIPE, "--out", str(out), "--data",
            str(data), *extra]


def _run(out, data, *extra, env=None, timeout=600):
    done = subprocess.run(_command(out, data, *extra), cwd=ROOT, capture_output=True,
                          text=True, env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _weights(run):
    return keras.saving.load_model(Path(run) / "model.keras", compile=False).get_weights()


def _initial_weights(run):
    from posenet.training.model import build
    from posenet.training.run_dir import saved_recipe

    recipe, data = saved_recipe(run)
    keras.utils.set_random_seed(recipe.seed)
    return build(recipe, data).get_weights()


def _relative_difference(a, b, start):
    """|a - b| / |a - start| over all weights (L2)."""
    def norm(x, y):
        return np.sqrt(sum(float(((p - q) ** 2).sum()) for p, q in zip(x, y, strict=True)))

    return norm(a, b) / norm(a, start)


def _column(path, name):
    with open(path) as f:
        return [float(row[name]) for row in csv.DictReader(f)]


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _tf_config(addresses, index):
    return json.dumps({"cluster": {"worker": addresses},
                       "task": {"type": "worker", "index": index}})


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("distributed")
    render_file(root)
    return root


@pytest.fixture(scope="module")
def one(data):
    """The reference: one device. ``--distribute`` there says so and trains normally."""
    run = data / "one"
    done = _run(run, data, "--distribute")
    assert "one device" in done.stderr and "training normally" in done.stderr
    return run


@pytest.fixture(scope="module")
def two(data):
    """The same recipe on two virtual CPU devices."""
    run = data / "two"
    done = _run(run, data, "--distribute", "--cpu-devices", "2")
    return run, done.stderr


def test_two_devices_follow_one_device(one, two):
    run, log = two
    assert "data parallel over 2 device(s)" in log
    assert "global batch 4 = 2 x 2 per device" in log
    reference = _weights(one)
    assert _relative_difference(reference, _weights(run), _initial_weights(one)) < TOLERANCE
    # The logged losses are those of the global batch, as on one device.
    for column in ("loss", "pose_1_loss"):
        np.testing.assert_allclose(_column(run / "log.csv", column),
                                   _column(one / "log.csv", column), rtol=1e-3)


def test_a_killed_two_device_run_resumes_to_the_same_weights(data, two):
    run = data / "killed"
    command = _command(run, data, "--distribute", "--cpu-devices", "2")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    metadata = run / "backup" / "training_metadata.json"
    deadline = time.monotonic() + 300
    while not metadata.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)  # during epoch 2
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err[-3000:]
    assert not (run / "model.keras").exists()
    done = _run(run, data, "--distribute", "--cpu-devices", "2", "--resume")
    assert "resuming after epoch 1" in done.stderr
    straight, _ = two
    assert _relative_difference(_weights(straight), _weights(run),
                                _initial_weights(straight)) < 1e-4


def test_a_batch_that_does_not_split_is_refused(data):
    run = data / "odd"
    done = subprocess.run(_command(run, data, "--distribute", "--cpu-devices", "2",
                                   "--batch-size", "3"),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "batch size 3 does not split over 2 devices (3 = 2 x 1 + 1)" in done.stderr
    assert not run.exists()


def test_two_workers_on_loopback_finish_with_the_same_weights(data, one):
    addresses = [f"localhost:{port}" for port in _free_ports(2)]
    workers = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": _tf_config(addresses, index)}
        workers.append(subprocess.Popen(
            _command(data / f"worker{index}", data, "--distribute", "multi-worker"),
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    logs = [w.communicate(timeout=600)[1] for w in workers]
    for worker, log in zip(workers, logs, strict=True):
        assert worker.returncode == 0, log[-3000:]
    assert "2 workers (this is worker 0)" in logs[0]
    first, second = _weights(data / "worker0"), _weights(data / "worker1")
    for a, b in zip(first, second, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert _relative_difference(_weights(one), first, _initial_weights(one)) < TOLERANCE


def test_a_worker_without_peers_fails_in_time(data):
    run = data / "alone"
    env = {**os.environ, "TF_CONFIG": _tf_config(
        [f"localhost:{port}" for port in _free_ports(2)], 0)}
    start = time.monotonic()
    done = subprocess.run(_command(run, data, "--distribute", "multi-worker",
                                   "--connect-timeout", "5"),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=200)
    assert done.returncode != 0
    assert "could not reach" in done.stderr and "within 5 s" in done.stderr
    assert time.monotonic() - start < 120
    assert not run.exists()


def test_tf_config_is_read_or_refused_with_the_reason():
    from posenet.training.distribution import DistributionError, cluster

    workers = ["localhost:1", "localhost:2"]
    assert cluster({"TF_CONFIG": _tf_config(workers, 1)}) == (workers, 1)
    for environ, reason in [({}, "needs TF_CONFIG"),
                            ({"TF_CONFIG": "{not json"}, "not a cluster description"),
                            ({"TF_CONFIG": _tf_config(workers, 2)}, "index 2 outside"),
                            ({"TF_CONFIG": json.dumps({"cluster": {"chief": workers},
                                                       "task": {"index": 0}})},
                             "not a cluster description")]:
        with pytest.raises(DistributionError, match=reason):
            cluster(environ)


def test_each_process_feeds_its_part_of_every_batch():
    from posenet.training.distribution import ProcessShard

    class Loader(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epochs = 0

        def __len__(self):
            return 3

        def on_epoch_end(self):
            self.epochs += 1

        def __getitem__(self, index):
            rows = np.arange(8) + 10 * index
            return rows, {"pose": rows * 2}

    loader = Loader()
    parts = [ProcessShard(loader, k, 2) for k in range(2)]
    assert len(parts[0]) == 3
    x0, y0 = parts[0][1]
    x1, y1 = parts[1][1]
    np.testing.assert_array_equal(np.concatenate([x0, x1]), np.arange(8) + 10)
    np.testing.assert_array_equal(y1["pose"], (np.arange(4, 8) + 10) * 2)
    parts[1].on_epoch_end()
    assert loader.epochs == 1
