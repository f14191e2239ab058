"""Atomic file writing: a temporary file in the destination's folder, then a rename.

Temporary names are hidden and carry the writer's process id
(``.<name>.posenet-tmp-<pid>-<hex>``): one left by a killed process (SIGKILL runs no
clean-up) is never taken for output, and the next write into that folder removes it once
its process is gone (:func:`remove_stale_temporaries`).
"""

import contextlib
import hashlib
import json
import os
import re
import shutil
import uuid

TEMPORARY_TAG = "posenet-tmp"
_STALE = re.compile(rf"^\..*{TEMPORARY_TAG}-(\d+)-[0-9a-f]{{8}}")


def temporary_name(path, suffix: str = "") -> str:
    """A hidden temporary path beside ``path``, tagged with this process id, ending in
    ``suffix`` (OpenCV and Keras choose formats from the extension)."""
    folder, name = os.path.split(os.path.abspath(os.fspath(path)))
    return os.path.join(folder, f".{name}.{TEMPORARY_TAG}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
                                f"{suffix}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder) -> list[str]:
    """Remove the temporary files and folders in ``folder`` left by dead posenet processes;
    returns their paths. Those of running processes (another write in progress) stay."""
    removed = []
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return removed
    for name in names:
        match = _STALE.match(name)
        if match is None or _alive(int(match.group(1))):
            continue
        path = os.path.join(folder or ".", name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
            removed.append(path)
        except OSError:
            pass
    return removed


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    On an exception the temporary file is removed, so nothing half-written remains. The
    file gets the permissions of a plain ``open`` (0666 less the umask), not the private
    0600 of a temporary file.
    """
    path = os.fspath(path)
    remove_stale_temporaries(os.path.dirname(os.path.abspath(path)))
    tmp = temporary_name(path, ".tmp")
    with open(tmp, "wb"):
        pass
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
    remove_stale_temporaries(os.path.dirname(path))
    folder = temporary_name(path)
    os.mkdir(folder)
    try:
        tmp = os.path.join(folder, os.path.basename(path))
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_keras_config(path) -> dict:
    """The model config stored in a ``.keras`` file (the ``config.json`` of the zip archive
    that ``model.save("NAME.keras")`` writes), read without building the model; ValueError
    saying what the file is instead."""
    import zipfile

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{path} not found" if not os.path.exists(path)
                         else f"{path} is not a file")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a .keras file (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        raise ValueError(f"{path} is not a .keras file (no readable config.json)") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"{path} is not a .keras file (its config.json holds no model)")
    return config
