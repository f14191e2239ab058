"""Atomic file writing: a temporary file in the destination's folder, then a rename."""

import contextlib
import hashlib
import json
import os
import shutil
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    On an exception the temporary file is removed, so nothing half-written remains. The
    file gets the permissions of a plain ``open`` (0666 less the umask), not the private
    0600 of a temporary file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def sha256_file(path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of the file at ``path``, read in ``chunk``-byte pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def write_json_atomic(path, payload):
    """Write ``payload`` as indented JSON to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(payload, f, indent=2)
        f.write("\n")


def save_model_atomic(model, path) -> None:
    """``model.save`` to ``path`` (.keras) through a temporary file and a rename."""
    path = os.path.abspath(os.fspath(path))
    # Keras insists on the .keras suffix, so the temporary file lives in a temporary
    # folder beside the target (same file system: the rename is atomic).
    folder = tempfile.mkdtemp(dir=os.path.dirname(path), prefix=".saving-")
    try:
        tmp = os.path.join(folder, os.path.basename(path))
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
