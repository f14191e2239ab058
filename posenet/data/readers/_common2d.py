"""Helpers shared by the 2D dataset readers: clear errors and safe MATLAB loading."""

from __future__ import annotations

import os

import numpy as np


def missing(path, what: str, hint: str) -> FileNotFoundError:
    """A FileNotFoundError saying what was expected at ``path`` and where to get it."""
    return FileNotFoundError(f"{what} not found at {os.fspath(path)}: {hint}")


def require_dir(path, what: str, hint: str) -> str:
    """``path`` as a str if it is a folder; FileNotFoundError with ``hint`` otherwise."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise missing(path, what, hint)
    return path


def require_file(path, what: str, hint: str) -> str:
    """``path`` as a str if it is a file; FileNotFoundError with ``hint`` otherwise."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise missing(path, what, hint)
    return path


def load_mat(path, **kwargs) -> dict:
    """``scipy.io.loadmat(path, **kwargs)``; any read failure becomes a ValueError naming
    the file (scipy raises a zoo of types on truncated or foreign files)."""
    import scipy.io  # deferred: keeps the readers cheap to import

    try:
        return scipy.io.loadmat(os.fspath(path), **kwargs)
    except FileNotFoundError:
        raise
    except Exception as e:  # re-raised below with the file name
        raise ValueError(f"{os.fspath(path)}: not a readable MATLAB v5 file ({e})") from e


def mat_str(value) -> str:
    """A MATLAB char array as loaded by scipy (str, or array of str) as a plain str."""
    if isinstance(value, str):
        return value
    arr = np.asarray(value)
    if arr.size == 1 and arr.dtype.kind in "US":
        item = arr.reshape(-1)[0]
        return item.decode() if isinstance(item, bytes) else str(item)
    if arr.size == 0:
        return ""
    raise ValueError(f"expected a string, got an array of shape {arr.shape} ({arr.dtype})")


def mat_scalar(value) -> float:
    """A MATLAB scalar (possibly wrapped in 1x1 arrays) as a float."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"expected a scalar, got shape {arr.shape}")
    return float(arr.reshape(-1)[0])
