"""The labels of an action output: class names and the calibrated "uncertain" threshold."""

from __future__ import annotations

#: The label of a track whose top mean probability is below its network's threshold.
UNCERTAIN = "uncertain"


#: The threshold of an action network saved without a calibrated one (older bundles, a
#: MultitaskModel): a track is uncertain unless one class has half the probability.
DEFAULT_UNCERTAIN_BELOW = 0.5


def uncertain_below(model, dataset) -> float:
    """The calibrated threshold of ``model``'s ``dataset`` output (see the module doc)."""
    thresholds = getattr(model, "uncertain_below", None) or {}
    return float(thresholds.get(dataset, DEFAULT_UNCERTAIN_BELOW))


def class_names(dataset, count) -> list[str]:
    """Class names of a dataset's action output (``class_<i>`` when not a known dataset)."""
    names = ()
    if dataset == "penn_action":
        from posenet.data.readers.penn_action import PENN_ACTION_CLASSES as names
    elif dataset == "jhmdb":
        from posenet.data.readers.jhmdb import JHMDB_CLASSES as names
    if len(names) == count:
        return list(names)
    return [f"class_{i}" for i in range(count)]
