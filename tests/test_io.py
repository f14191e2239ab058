"""Atomic writing leaves either the whole file or nothing."""

import json

import pytest

from posenet.io import atomic_path, write_json_atomic


def test_write_json_atomic_writes_the_payload(tmp_path):
    path = tmp_path / "report.json"
    write_json_atomic(path, {"a": [1, 2]})
    assert json.loads(path.read_text()) == {"a": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_a_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_written_files_get_the_usual_permissions(tmp_path):
    """Readable by other users and tools like any file, not private like a temporary one."""
    import os

    path = tmp_path / "report.json"
    old = os.umask(0o022)
    try:
        write_json_atomic(path, {})
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
