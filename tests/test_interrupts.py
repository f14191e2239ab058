"""SIGTERM handling (posenet.interrupts): the commands' process stops through its clean-up
path, and a process forked from it dies quietly instead of raising."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from posenet.interrupts import Terminated, exit_status

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

_SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    from posenet.interrupts import Terminated, raise_on_sigterm

    assert raise_on_sigterm()
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:  # a forked worker running Python, as a loader pool's worker does
        os.write(ready_w, b"x")
        while True:
            time.sleep(0.01)
    os.read(ready_r, 1)
    os.kill(child, signal.SIGTERM)
    _, status = os.waitpid(child, 0)
    print("child", os.WIFSIGNALED(status) and os.WTERMSIG(status))
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        print("parent not interrupted")
    except Terminated:
        print("parent terminated")
""")


def test_forked_child_dies_of_sigterm_and_parent_raises():
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"child {int(signal.SIGTERM)}" in done.stdout, done.stdout + done.stderr
    assert "parent terminated" in done.stdout
    assert "Traceback" not in done.stderr, done.stderr


def test_exit_status_follows_the_shell_convention():
    assert exit_status(Terminated()) == 143
    assert exit_status(KeyboardInterrupt()) == 130


def test_remembered_records_signals_a_lost_interrupt_can_be_raised_again():
    from posenet.interrupts import remembered, reraise

    seen = []

    def record(signum, frame):
        seen.append(signum)

    before = signal.signal(signal.SIGINT, record)
    try:
        with remembered() as received:
            # the handler in place still runs (here it swallows: the lost KeyboardInterrupt)
            os.kill(os.getpid(), signal.SIGINT)
            assert seen == [signal.SIGINT] and received == [signal.SIGINT]
            with pytest.raises(KeyboardInterrupt) as raised:
                reraise(received)
            assert not isinstance(raised.value, Terminated)
            received.append(signal.SIGTERM)
            with pytest.raises(Terminated):
                reraise(received)
        # the previous handler is back once the block ends
        assert signal.getsignal(signal.SIGINT) is record
        os.kill(os.getpid(), signal.SIGINT)
        assert seen == [signal.SIGINT, signal.SIGINT] and received == [signal.SIGINT,
                                                                         signal.SIGTERM]
        reraise([])  # nothing received: nothing raised
    finally:
        signal.signal(signal.SIGINT, before)


def test_remembered_leaves_ignored_signals_ignored():
    from posenet.interrupts import remembered

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with remembered() as received:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
        assert received == []
    finally:
        signal.signal(signal.SIGINT, before)


def test_training_raises_a_recorded_signal_at_the_next_batch():
    from posenet.training.callbacks import ReRaiseSignals

    received = []
    check = ReRaiseSignals(received)
    check.on_train_batch_end(0)  # nothing received: training goes on
    received.append(signal.SIGTERM)
    with pytest.raises(Terminated):
        check.on_train_batch_end(1)
    with pytest.raises(Terminated):
        check.on_epoch_end(0)


def test_a_stuck_loader_pool_is_killed_instead_of_waited_on():
    import threading
    import time

    from posenet.training.trainer import _terminate

    class Worker:
        exitcode = None

        def __init__(self):
            self.killed = False

        def kill(self):
            self.killed = True

    class StuckPool:  # terminate waits on a lock a dead worker holds
        def __init__(self):
            self._pool = [Worker(), Worker()]
            self.release = threading.Event()

        def terminate(self):
            self.release.wait()

    pool = StuckPool()
    started = time.monotonic()
    _terminate(pool, timeout=0.3)
    assert time.monotonic() - started < 5
    assert all(worker.killed for worker in pool._pool)
    pool.release.set()

    class Pool(StuckPool):
        def terminate(self):
            self.done = True

    healthy = Pool()
    _terminate(healthy, timeout=5)
    assert healthy.done and not any(worker.killed for worker in healthy._pool)


def test_an_interrupt_dropped_by_a_finalizer_is_not_printed():
    import gc

    from posenet.interrupts import remembered

    class Finalised:
        def __del__(self):
            raise KeyboardInterrupt  # as a handler raising inside a pipe's __del__

    def swallow(signum, frame):
        pass

    reported = []
    before = signal.signal(signal.SIGINT, swallow)
    hook, sys.unraisablehook = sys.unraisablehook, reported.append  # Python's printer
    try:
        with remembered() as received:
            os.kill(os.getpid(), signal.SIGINT)
            Finalised()
            gc.collect()
        assert received == [signal.SIGINT] and reported == []
        assert sys.unraisablehook == reported.append  # outside the block: reported as before
        Finalised()
        gc.collect()
        assert len(reported) == 1
    finally:
        sys.unraisablehook = hook
        signal.signal(signal.SIGINT, before)
