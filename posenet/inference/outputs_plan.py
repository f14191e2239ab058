"""Where ``posenet infer`` writes: one output name per input, decided before any work.

The rule: an input's outputs are ``OUT/<its name without extension>`` plus the format's
extension (and ``_overlay.mp4`` or ``_overlay.avi`` with ``--save-video``):
``clips/walk.mp4`` -> ``OUT/walk.json``. Inputs that share a name (ignoring case, as some
file systems do) are told apart by their folder relative to the common parent folder of
all the inputs: ``a/x.jpg b/x.jpg`` give ``OUT/a/x.json`` and ``OUT/b/x.json``; in one
folder they keep their extension: ``x.jpg x.png`` -> ``x_jpg.json``, ``x_png.json``. A
name still taken gets ``_2``, ``_3``, ... in the inputs' order. An input given twice is
processed once.

No output may land on an input file (compared as files: links and case-insensitive file
systems included): :func:`clobbered_inputs` lists those, for the command to refuse before
it reads anything. Outputs already there from an earlier run are replaced
(:meth:`OutputPlan.existing` lists them, for the command to say so).
"""

from __future__ import annotations

import dataclasses
import os

#: Added to an input's output base for its overlay video (``--save-video``).
OVERLAY_SUFFIX = "_overlay"
#: The overlay's extensions: mp4 (mp4v), or Motion-JPEG avi where OpenCV cannot write mp4v.
OVERLAY_EXTENSIONS = (".mp4", ".avi")


@dataclasses.dataclass(frozen=True)
class Output:
    """The outputs of one input: ``base`` (``OUT/...`` without extension) and every file
    the command may write for it (``paths``: the predictions, then the overlay's
    candidates)."""

    source: str
    base: str
    paths: tuple[str, ...]


@dataclasses.dataclass
class OutputPlan:
    """The :class:`Output` of each input (``outputs``, in the inputs' order) and the inputs
    given more than once (``repeated``: processed once)."""

    outputs: dict[str, Output]
    repeated: list[str]

    def existing(self) -> list[str]:
        """The planned files that are already there (an earlier run's: replaced)."""
        return [p for out in self.outputs.values() for p in out.paths if os.path.lexists(p)]


def relative_bases(paths) -> list[str]:
    """Per path, its output base relative to ``OUT`` (see the module doc): the name
    without extension; where names are shared, the folder relative to the common parent of
    all ``paths``' folders too (and the extension where they share a folder); made
    unique."""
    absolute = [os.path.abspath(os.fspath(p)) for p in paths]
    folders = [os.path.dirname(p) for p in absolute]
    try:
        common = os.path.commonpath(folders) if folders else ""
        relative = [os.path.relpath(f, common) for f in folders]
    except ValueError:  # Windows paths on different drives: the drive is a folder too
        relative = [_drive_folder(f) for f in folders]
    relative = ["" if r == os.curdir else r for r in relative]
    stems = [os.path.splitext(os.path.basename(p))[0] for p in absolute]
    names = [_key("", s) for s in stems]
    keys = [_key(r, s) for r, s in zip(relative, stems, strict=True)]
    named = []
    for r, s, p, name, key in zip(relative, stems, absolute, names, keys, strict=True):
        if names.count(name) == 1:  # the usual case: OUT/<name>
            named.append(s)
            continue
        if keys.count(key) > 1:  # x.jpg and x.png in one folder: keep the extension
            s = f"{s}_{os.path.splitext(p)[1].lstrip('.')}"
        named.append(os.path.join(r, s))
    taken, bases = set(), []
    for name in named:
        base, n = name, 1
        while _key("", base) in taken:
            n += 1
            base = f"{name}_{n}"
        taken.add(_key("", base))
        bases.append(base)
    return bases


def _drive_folder(folder) -> str:
    """``C:\\data`` -> ``C\\data``: a folder named after the drive."""
    drive, rest = os.path.splitdrive(folder)
    return os.path.join(drive.strip(":\\/") or "root", rest.lstrip("\\/"))


def _key(folder, stem) -> str:
    """A name as a file system that ignores case (and mixes separators) sees it."""
    return os.path.normcase(os.path.join(folder, stem)).casefold()


def output_paths(base, fmt, save_video) -> tuple[str, ...]:
    """Every file written for an input of output ``base``."""
    overlays = [base + OVERLAY_SUFFIX + ext for ext in OVERLAY_EXTENSIONS] if save_video else []
    return (f"{base}.{fmt}", *overlays)


def plan_outputs(paths, out_dir, fmt, save_video) -> OutputPlan:
    """The :class:`OutputPlan` of input files ``paths`` (in order) written into
    ``out_dir`` as ``fmt``."""
    unique, seen, repeated = [], set(), []
    for path in map(os.fspath, paths):
        key = _identity(path)
        if key in seen:
            repeated.append(path)
            continue
        seen.add(key)
        unique.append(path)
    outputs = {}
    for path, rel in zip(unique, relative_bases(unique), strict=True):
        base = os.path.join(os.fspath(out_dir), rel)
        outputs[path] = Output(path, base, output_paths(base, fmt, save_video))
    return OutputPlan(outputs, repeated)


def plan_stream(source, stem, out_dir, save_video) -> OutputPlan:
    """The plan of a ``--source`` stream: ``OUT/<stem>.jsonl`` (and its overlay)."""
    base = os.path.join(os.fspath(out_dir), stem)
    return OutputPlan({str(source): Output(str(source), base,
                                           output_paths(base, "jsonl", save_video))}, [])


def _identity(path):
    """What makes two paths the same file: (device, inode) when it exists, else its
    normalised absolute path."""
    try:
        stat = os.stat(path)
        return stat.st_dev, stat.st_ino
    except OSError:
        return os.path.normcase(os.path.abspath(path))


def clobbered_inputs(plan, inputs) -> list[tuple[str, str, str]]:
    """``(output, its input, the input it would replace)`` for every planned file that is
    one of ``inputs`` (paths; links, hard links and case-insensitive names count)."""
    protected = {}
    for path in map(os.fspath, inputs):
        if os.path.isfile(path):
            protected.setdefault(_identity(path), path)
    found = []
    for out in plan.outputs.values():
        for path in out.paths:
            if os.path.exists(path) and _identity(path) in protected:
                found.append((path, out.source, protected[_identity(path)]))
    return found


def make_folder(folder) -> list[str]:
    """Create ``folder`` and its missing parents; the folders created, innermost first (for
    :func:`remove_empty` after a failure)."""
    created, path = [], os.path.abspath(os.fspath(folder))
    while path and not os.path.isdir(path):
        created.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    os.makedirs(folder, exist_ok=True)
    return created


def remove_empty(folders) -> None:
    """Remove each of ``folders`` (innermost first) that is empty."""
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:  # not empty (or gone): keep it and its parents
            return


def clash_message(clashes, out_dir) -> str:
    """Why the command refuses (:func:`clobbered_inputs` found ``clashes``)."""
    output, owner, victim = clashes[0]
    kind = "overlay video" if output.endswith(tuple(OVERLAY_SUFFIX + e for e in
                                                     OVERLAY_EXTENSIONS)) else "predictions"
    more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
    return (f"--out {out_dir}: the {kind} of {owner} would replace {victim}, one of the "
            f"inputs{more}; posenet infer never writes over its inputs: choose another --out")
