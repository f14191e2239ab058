"""Ctrl-C and SIGTERM alike: both stop a command through the same clean-up path.

SIGTERM (a scheduler, ``kill``, a container stopping) is turned into :class:`Terminated`, a
``KeyboardInterrupt``, so every ``finally`` and ``except KeyboardInterrupt`` that removes a
temporary file on Ctrl-C also runs on SIGTERM. The commands exit with the shell's
conventional status: 130 after Ctrl-C (SIGINT, 2), 143 after SIGTERM (15).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


def _handler(owner: int):
    """The SIGTERM handler of process ``owner``: :class:`Terminated` there; in a process
    forked from it, which inherits the handler, the default action (death by SIGTERM).

    A loader worker forked after training began to stop (a pool Keras creates late, outside
    the trainer's fork guard) is terminated by SIGTERM; raising there printed the worker's
    traceback in the middle of a clean interruption.
    """
    def handle(signum, frame):
        if os.getpid() != owner:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated()
    return handle


def raise_on_sigterm() -> bool:
    """Make SIGTERM raise :class:`Terminated` in this process; False (and nothing done) off
    the main thread, where Python cannot install signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGTERM, _handler(os.getpid()))
    return True


def exit_status(error: BaseException) -> int:
    """The exit status for an interruption: 143 for SIGTERM, 130 for Ctrl-C."""
    return 128 + (signal.SIGTERM if isinstance(error, Terminated) else signal.SIGINT)


@contextlib.contextmanager
def remembered(signals=(signal.SIGINT, signal.SIGTERM)):
    """Within the block, record each of ``signals`` received in the list it yields, then
    handle it as before (the handler in place, or the default action).

    A ``KeyboardInterrupt`` raised by a handler while Python runs under C code can be lost:
    under JAX, Ctrl-C landing inside ``np.array`` of a device array vanished and training
    ran on; one raised in a finalizer is printed with a traceback and dropped (silenced
    here). The record lets training raise it again at its next batch
    (``training.callbacks.ReRaiseSignals``). Ignored signals stay ignored; off the main
    thread nothing is installed (the list stays empty).
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {s: signal.getsignal(s) for s in signals}
    previous = {s: h for s, h in previous.items() if h not in (signal.SIG_IGN, None)}

    def handle(signum, frame):
        received.append(signum)
        old = previous[signum]
        if callable(old):
            old(signum, frame)
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt
        else:  # the default action
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    hook = sys.unraisablehook

    def quiet(unraisable):
        # raised inside a finalizer (a pipe's __del__): Python prints it with a traceback
        # and drops it; it is recorded and raised again at the next batch instead
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and received:
            return
        hook(unraisable)

    for signum in previous:
        signal.signal(signum, handle)
    sys.unraisablehook = quiet
    try:
        yield received
    finally:
        sys.unraisablehook = hook
        for signum, old in previous.items():
            signal.signal(signum, old)


def reraise(received) -> None:
    """Raise the interruption of the last signal in ``received`` (see :func:`remembered`):
    :class:`Terminated` for SIGTERM, ``KeyboardInterrupt`` otherwise; nothing if empty."""
    if received:
        raise Terminated() if received[-1] == signal.SIGTERM else KeyboardInterrupt()
