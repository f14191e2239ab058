"""Ctrl-C and SIGTERM alike: both stop a command through the same clean-up path.

SIGTERM (a scheduler, ``kill``, a container stopping) is turned into :class:`Terminated`, a
``KeyboardInterrupt``, so every ``finally`` and ``except KeyboardInterrupt`` that removes a
temporary file on Ctrl-C also runs on SIGTERM. The commands exit with the shell's
conventional status: 130 after Ctrl-C (SIGINT, 2), 143 after SIGTERM (15).
"""

from __future__ import annotations

import signal
import threading


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


def _raise_terminated(signum, frame):
    raise Terminated()


def raise_on_sigterm() -> bool:
    """Make SIGTERM raise :class:`Terminated`; False (and nothing done) off the main thread,
    where Python cannot install signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGTERM, _raise_terminated)
    return True


def exit_status(error: BaseException) -> int:
    """The exit status for an interruption: 143 for SIGTERM, 130 for Ctrl-C."""
    return 128 + (signal.SIGTERM if isinstance(error, Terminated) else signal.SIGINT)
