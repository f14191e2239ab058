"""Filtering what native libraries write straight to file descriptor 2 (C++ logs that no
Python setting reaches), keeping every other line.

``posenet`` stays quiet by default, as its commands are (``cli/quiet.py``); set
``POSENET_VERBOSE=1`` (``posenet --verbose``) to see the libraries' lines.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

VERBOSE_ENV = "POSENET_VERBOSE"

#: LiteRT's info lines, printed by its C++ logger when an interpreter is created and its
#: tensors allocated (the XNNPACK delegate is applied then), and the converter's summary
#: of a quantization; no variable turns them off.
LITERT_CHATTER = re.compile(r"^INFO: (Created TensorFlow Lite XNNPACK delegate for CPU"
                            r"|Initialized TensorFlow Lite runtime)"
                            r"|^fully_quantize: \d+, inference_type: ")


def verbose() -> bool:
    """Whether the libraries' chatter is wanted (``$POSENET_VERBOSE`` set, not 0/false)."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def filtered_stderr(pattern):
    """Capture file descriptor 2 (native libraries write there directly) and, on leaving,
    write back the captured lines that ``pattern`` does not match, so errors still show."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode(errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not pattern.search(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def quiet_native(pattern):
    """:func:`filtered_stderr` of ``pattern``, or nothing when :func:`verbose`."""
    return contextlib.nullcontext() if verbose() else filtered_stderr(pattern)
