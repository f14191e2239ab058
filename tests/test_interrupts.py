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
