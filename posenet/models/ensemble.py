"""Join separately trained pose-only action networks into one ensemble network.

Networks of the geometric branch that differ only in their weights (the same recipe run
with other seeds) become one ``ActionNetwork(members=K)``: member ``i`` carries network
``i``'s weights, and the output ``action_<d>_1`` is the mean of the members'
probabilities. Inference, evaluation and export read it as any action network::

    posenet tools ensemble runs/span_actions_jhmdb runs/span_actions_jhmdb_s1 \\
        runs/span_actions_jhmdb_s2 --out runs/ensemble_jhmdb.keras

(a run folder stands for its ``model.keras``). The "uncertain" threshold is calibrated on
the ensemble afterwards (``posenet tools action-calibration --model ... --write``).
"""

from __future__ import annotations

import os

#: Config entries that may differ between members (the rest must match).
_FREE = ("name", "trainable", "uncertain_below")


def model_file(path: str) -> str:
    """The ``.keras`` file of a network given as a run folder (its ``model.keras``) or a file."""
    return os.path.join(path, "model.keras") if os.path.isdir(path) else path


def join(networks, name="action_ensemble"):
    """One ``ActionNetwork(members=len(networks))`` holding each network's weights.

    ValueError unless every network is a single-member geometric ``ActionNetwork`` and
    their configs match (apart from name and threshold). The threshold is dropped: it was
    calibrated for one member, not for their mean.
    """
    from posenet.models.action import ActionNetwork

    networks = list(networks)
    if len(networks) < 2:
        raise ValueError("an ensemble needs at least two networks")
    configs = []
    for net in networks:
        if not isinstance(net, ActionNetwork) or net.branch != "geometry" or net.members != 1:
            raise ValueError("only single geometric-branch ActionNetworks can be joined")
        configs.append({k: v for k, v in net.get_config().items() if k not in _FREE})
    for config in configs[1:]:
        if config != configs[0]:
            diff = sorted(k for k in config if config[k] != configs[0].get(k))
            raise ValueError(f"the networks differ in {diff}; members must share a config")
    ensemble = ActionNetwork(**{**configs[0], "members": len(networks)}, name=name)
    for i, net in enumerate(networks):
        for layer in net.layers:
            if not layer.weights:
                continue
            for dataset in net.actions:
                prefix = f"{dataset}_geometry"
                if layer.name.startswith(prefix):
                    target = f"{dataset}_m{i}_geometry" + layer.name[len(prefix):]
                    ensemble.get_layer(target).set_weights(layer.get_weights())
                    break
            else:
                raise ValueError(f"layer {layer.name!r} belongs to no dataset's branch")
    return ensemble
