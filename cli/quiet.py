"""Keeping the libraries' chatter (TensorFlow, absl, XLA, oneDNN, OpenCV/FFmpeg, Python
warnings and library loggers) off stderr, unless ``posenet --verbose`` or
``POSENET_VERBOSE=1``. The commands' own messages and errors are not touched."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import warnings

from posenet import native_output
from posenet.native_output import VERBOSE_ENV

#: Read by the libraries when they load; the commands import them lazily, after this is set.
QUIET_ENV = {
    # TensorFlow's and XLA's C++ logs of every level (Python exceptions still raise).
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "OPENCV_LOG_LEVEL": "ERROR",
    # Not OPENCV_FFMPEG_LOGLEVEL: set, it makes OpenCV print FFmpeg's log with printf, on
    # stdout; unset, FFmpeg logs its errors on stderr (``posenet infer`` summarises them).
}

#: Python loggers of the libraries, kept to errors.
LIBRARY_LOGGERS = ("tensorflow", "absl", "jax", "keras", "h5py")

#: Lines that TensorFlow's native libraries print while they load, before absl's logging is
#: initialised and so before TF_CPP_MIN_LOG_LEVEL applies (no variable turns them off).
CHATTER = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called"
    r"|^[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\]"  # absl info and warning lines
    r"|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IW] "  # TensorFlow's own info and warnings
    r"|Unable to register cu\w+ factory"  # duplicate CUDA plugin registration, harmless
    r"|rebuild TensorFlow with the appropriate compiler flags"
    r"|" + native_output.LITERT_CHATTER.pattern
)

#: Modules whose import runs under :func:`filtered_stderr`.
NOISY_IMPORTS = ("tensorflow",)


def filtered_stderr(pattern=CHATTER):
    """Capture file descriptor 2 (native libraries write there directly) and, on leaving,
    write back the captured lines that ``pattern`` does not match, so errors still show
    (``posenet.native_output.filtered_stderr``)."""
    return native_output.filtered_stderr(pattern)


class _QuietLoader(importlib.abc.Loader):
    """A module's own loader, its execution run under :func:`filtered_stderr`."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # Imports within (the native libraries, keras' own) run inside this call too.
        with filtered_stderr():
            self._loader.exec_module(module)

    def __getattr__(self, name):  # resource readers, get_source, ...: the real loader's
        return getattr(self._loader, name)


class QuietImporter(importlib.abc.MetaPathFinder):
    """Finds the first import of a :data:`NOISY_IMPORTS` module and runs it under
    :func:`filtered_stderr`; then leaves ``sys.meta_path``."""

    def __init__(self, names=NOISY_IMPORTS):
        self.names = set(names)
        self._finding = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names or self._finding:
            return None
        self._finding = True  # find_spec below asks every finder, this one included
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding = False
        self.names.discard(fullname)
        if not self.names:
            uninstall()
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def uninstall() -> None:
    """Remove the :class:`QuietImporter` from ``sys.meta_path`` (if there)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, QuietImporter)]


def configure(verbose: bool) -> None:
    """Quiet the libraries (``verbose`` False) or leave them as they are (True)."""
    if verbose:
        # read by the library's own filters (posenet.native_output), here and in workers
        os.environ[VERBOSE_ENV] = "1"
        uninstall()
        return
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    if not sys.warnoptions:  # -W or PYTHONWARNINGS given: the user asked for them
        warnings.simplefilter("ignore")
    cv2 = sys.modules.get("cv2")  # already loaded: its variable was read then
    if cv2 is not None:
        with contextlib.suppress(AttributeError):
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    noisy = [name for name in NOISY_IMPORTS if name not in sys.modules]
    if noisy and not any(isinstance(f, QuietImporter) for f in sys.meta_path):
        sys.meta_path.insert(0, QuietImporter(noisy))
