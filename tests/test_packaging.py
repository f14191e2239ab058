"""The wheel: it carries the shipped weights, and a plain (not editable) install finds them."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Where the wheel puts the top-level weights/ folder (pyproject.toml's package-dir).
WEIGHTS_IN_WHEEL = "posenet/_weights"


def _setuptools_builds_here() -> bool:
    """Whether this environment's setuptools can build the project without isolation
    (pyproject.toml's build-system asks for setuptools>=68)."""
    try:
        from importlib.metadata import version

        return int(version("setuptools").split(".")[0]) >= 68
    except Exception:  # absent or an odd version string: let pip provide one
        return False


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The project's wheel, built by pip from a copy of the source tree (so no build/ or
    egg-info lands in the checkout)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("posenet", "cli", "weights"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(source),
               "-w", str(tmp / "dist")]
    if _setuptools_builds_here():  # offline; otherwise pip fetches setuptools from the index
        command.insert(4, "--no-build-isolation")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = (tmp / "dist").glob("posenet-*.whl")
    return path


def _shipped_files(manifest) -> dict:
    """{file name: SHA-256} of every file the manifest lists (bundles and detector)."""
    files = {}
    for entry in manifest.values():
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("sha256"), dict):
            files |= entry["sha256"]
        elif "file" in entry:
            files[entry["file"]] = entry["sha256"]
    return files


@pytest.mark.slow
def test_the_wheel_carries_every_file_of_the_manifest_unchanged(wheel):
    manifest = json.loads((ROOT / "weights" / "manifest.json").read_text())
    expected = _shipped_files(manifest)
    assert "person_detector.keras" in expected and manifest["default"] in manifest
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for name, digest in expected.items():
            member = f"{WEIGHTS_IN_WHEEL}/{name}"
            assert member in names, f"{member} missing from {wheel.name}"
            assert hashlib.sha256(archive.read(member)).hexdigest() == digest, name
        shipped = json.loads(archive.read(f"{WEIGHTS_IN_WHEEL}/manifest.json"))
    assert shipped == manifest
    for name in ("pose_noise.json", "README.md", "reports/lspet.json"):
        assert f"{WEIGHTS_IN_WHEEL}/{name}" in names


@pytest.mark.slow
def test_the_wheel_has_every_package_of_the_tree(wheel):
    # pyproject.toml lists the packages by hand: a new subpackage must be added there.
    packages = {str(p.parent.relative_to(ROOT)) for top in ("posenet", "cli")
                for p in (ROOT / top).rglob("__init__.py") if "__pycache__" not in p.parts}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = sorted(p for p in packages if f"{p}/__init__.py" not in names)
    assert not missing, f"add these to [tool.setuptools] packages: {missing}"
    assert "posenet/paths.py" in names and "cli/main.py" in names


@pytest.mark.slow
def test_a_plain_install_finds_its_default_weights(wheel, tmp_path):
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                           "--target", str(target), str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    script = (
        "import json, posenet\n"
        "from posenet.engine import weights\n"
        "from posenet.inference import detector\n"
        "from posenet.data import pose_noise\n"
        "print(json.dumps([posenet.__file__, str(weights.DEFAULT_MANIFEST),"
        " str(detector.DEFAULT_DETECTOR), str(pose_noise.DEFAULT_NOISE_MODEL)]))\n")
    env = dict(os.environ, PYTHONPATH=str(target))
    work = tmp_path / "elsewhere"  # not the checkout: nothing may come from there
    work.mkdir()
    done = subprocess.run([sys.executable, "-c", script], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    paths = [Path(p) for p in json.loads(done.stdout.splitlines()[-1])]
    for path in paths:
        assert path.is_relative_to(target.resolve()), path
        assert path.is_file(), path
    assert paths[1].name == "manifest.json" and paths[1].parent.name == "_weights"
