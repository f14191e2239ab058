"""The errors of running and exporting networks, and the check for optional modules."""

from __future__ import annotations

import importlib.util


class ExportError(Exception):
    """An export that cannot be done; the message says why."""


def missing_modules(modules) -> list[str]:
    """The names among ``modules`` that cannot be imported here."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


def require(modules, extra):
    """ExportError naming the ``pip install 'posenet[extra]'`` when a module is missing."""
    missing = missing_modules(modules)
    if missing:
        raise ExportError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not "
                          f"installed: pip install 'posenet[{extra}]'")


class WeightsError(Exception):
    """Weights that cannot be found, read, verified or combined; the message says why."""
