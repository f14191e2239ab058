"""The evaluation report: a JSON document (written atomically) and a plain-text table.

Report layout::

    {"weights": path, "weights_sha256": hex digest, "options": {...},
     "evaluations": [ {"file", "dataset", "split", "num_samples",
                       "protocols": {name: {"protocol", "blocks": {k: {"summary", ...}}}}} ],
     "mean_over_files": {name: {k: {metric: mean}}}   # only with several files

``mean_over_files`` averages each summary metric over the files that have it (e.g. the
three J-HMDB test splits); it is present only when more than one file was evaluated.
NaN values are written as JSON ``null``.
"""

from __future__ import annotations

import math
import os

from posenet.io import sha256_file, write_json_atomic


def _clean(value):
    """JSON-safe copy: NaN / inf -> None, tuples -> lists, NumPy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def mean_over_files(evaluations: list[dict]) -> dict:
    """``{protocol: {block: {metric: mean}}}`` over the files that report it, for the
    protocols that at least two files report (a mean of one file says nothing new)."""
    sums: dict = {}
    files: dict = {}
    for ev in evaluations:
        for name in ev["protocols"]:
            files[name] = files.get(name, 0) + 1
    for ev in evaluations:
        for name, result in ev["protocols"].items():
            if files[name] < 2:
                continue
            for block, scores in result["blocks"].items():
                for metric, value in scores["summary"].items():
                    slot = sums.setdefault(name, {}).setdefault(block, {}).setdefault(metric, [])
                    slot.append(value)
    return {name: {block: {m: sum(v) / len(v) for m, v in metrics.items()}
                   for block, metrics in blocks.items()} for name, blocks in sums.items()}


def build_report(weights, evaluations: list[dict], options: dict | None = None) -> dict:
    """The report dict of ``evaluations`` (from ``runner.evaluate_file``) of ``weights``."""
    report = {"weights": os.path.abspath(weights), "weights_sha256": sha256_file(weights),
              "options": dict(options or {}), "evaluations": list(evaluations)}
    means = mean_over_files(evaluations)
    if means:
        report["mean_over_files"] = means
    return _clean(report)


def write_report(path, report: dict) -> None:
    """Write ``report`` as JSON to ``path`` atomically (nothing half-written remains)."""
    write_json_atomic(path, _clean(report))


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.4f}" if abs(value) <= 1.0 else f"{value:.1f}"


def _rows(title: str, blocks: dict) -> list[str]:
    metrics = list(next(iter(blocks.values()))["summary"]) if blocks else []
    header = ["block", *metrics]
    rows = [[str(k), *(_fmt(s["summary"].get(m)) for m in metrics)] for k, s in blocks.items()]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))

    return [title, line(header), *(line(r) for r in rows), ""]


def format_table(report: dict) -> str:
    """Plain-text tables: one per file and protocol, one row per block (fractions in
    [0, 1] for PCK and accuracies, millimetres for MPJPE)."""
    lines = [f"weights {report['weights']} (sha256 {report['weights_sha256'][:12]})", ""]
    for ev in report["evaluations"]:
        for name, result in ev["protocols"].items():
            count = result.get("samples", result.get("videos"))
            unit = "samples" if "samples" in result else "videos"
            title = f"{ev['dataset']} {ev['split']} - {name} ({count} {unit}): {ev['file']}"
            lines += _rows(title, result["blocks"])
    for name, blocks in report.get("mean_over_files", {}).items():
        lines += _rows(f"mean over {len(report['evaluations'])} files - {name}",
                       {k: {"summary": v} for k, v in blocks.items()})
    return "\n".join(lines).rstrip() + "\n"
