"""Filtering what native libraries write straight to file descriptor 2 (C++ logs that no
Python setting reaches), keeping every other line.

``posenet`` stays quiet by default, as its commands are (``cli/quiet.py``); set
``POSENET_VERBOSE=1`` (``posenet --verbose``) to see the libraries' lines.

:class:`NativeOutput` keeps native writes to stdout and stderr (the decoders' messages) off
both for a whole command, for it to summarise them (``posenet infer``).
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


def _flush_c_stdio() -> None:
    """Flush the C library's stdio buffers (a native ``printf`` to a file or pipe waits in
    them), so what was written lands where file descriptor 1 points now."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)


class NativeOutput:
    """Keeps what native libraries write to file descriptors 1 and 2 (OpenCV and FFmpeg's
    log, libjpeg's ``Premature end of JPEG file``, TensorFlow's C++ log) off stdout, and
    off stderr unless ``verbose``, while Python's own ``sys.stdout`` and ``sys.stderr``
    write where they did (they are moved onto duplicates of the descriptors).

    Quiet (``verbose`` False): both descriptors go to a temporary file, read line by line
    with :meth:`take` (the caller summarises them). ``verbose``: the native stdout goes to
    stderr and stderr is left as it is, so the messages show there, live. A Python stream
    that is not on the descriptor (a test runner's buffer) is left alone.
    """

    def __init__(self, verbose=False):
        self.verbose = bool(verbose)
        self._saved: dict[int, int] = {}
        self._streams: dict[str, tuple] = {}
        self._reader = None
        self._offset = 0

    def __enter__(self):
        _flush_c_stdio()
        for name in ("stdout", "stderr"):
            with contextlib.suppress(AttributeError, OSError, ValueError):
                getattr(sys, name).flush()
        try:
            self._saved = {fd: os.dup(fd) for fd in (1, 2)}
        except OSError:  # no descriptors to move (an embedded interpreter): nothing to do
            self._saved = {}
            return self
        for name, fd in (("stdout", 1), ("stderr", 2)):
            stream = getattr(sys, name)
            try:
                on_fd = stream.fileno() == fd
            except (AttributeError, OSError, ValueError):
                on_fd = False
            if on_fd:
                moved = os.fdopen(os.dup(self._saved[fd]), "w", buffering=1,
                                  encoding=getattr(stream, "encoding", None),
                                  errors=getattr(stream, "errors", None))
                self._streams[name] = (stream, moved)
                setattr(sys, name, moved)
        if self.verbose:
            os.dup2(self._saved[2], 1)
            return self
        handle, path = tempfile.mkstemp(prefix="posenet-native-", suffix=".log")
        try:
            writer = os.open(path, os.O_WRONLY | os.O_APPEND)
            self._reader = handle
            os.dup2(writer, 1)
            os.dup2(writer, 2)
            os.close(writer)
        finally:
            with contextlib.suppress(OSError):  # POSIX: gone once closed; else left
                os.remove(path)
        return self

    def take(self) -> list[str]:
        """The lines written since the last call (none when ``verbose``)."""
        if self._reader is None:
            return []
        _flush_c_stdio()
        chunks = []
        while chunk := self._read_at(self._offset):
            chunks.append(chunk)
            self._offset += len(chunk)
        text = b"".join(chunks).decode(errors="replace")
        return [line.rstrip("\r") for line in text.splitlines() if line.strip()]

    def _read_at(self, offset):
        if hasattr(os, "pread"):  # reads without moving the file's offset
            return os.pread(self._reader, 1 << 16, offset)
        os.lseek(self._reader, offset, os.SEEK_SET)
        return os.read(self._reader, 1 << 16)

    def __exit__(self, *exc):
        _flush_c_stdio()
        for name, (original, moved) in self._streams.items():
            with contextlib.suppress(OSError, ValueError):
                moved.flush()
            setattr(sys, name, original)
            with contextlib.suppress(OSError, ValueError):
                moved.close()
        self._streams = {}
        for fd, saved in self._saved.items():
            os.dup2(saved, fd)
            os.close(saved)
        self._saved = {}
        if self._reader is not None:
            os.close(self._reader)
            self._reader = None
        return False


def summary(lines, limit=120) -> str:
    """One line for the native ``lines`` an input caused: how many, and the first."""
    first = " ".join(lines[0].split())
    if len(first) > limit:
        first = first[:limit - 3] + "..."
    more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
    return (f"the decoding libraries (OpenCV, FFmpeg, libjpeg) printed {len(lines)} "
            f"message{'s' if len(lines) > 1 else ''}: \"{first}\"{more}; posenet --verbose "
            "shows them")
