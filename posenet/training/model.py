"""The model of a recipe: built, initialised from an earlier stage, frozen and compiled."""

from __future__ import annotations

import os

import keras

from posenet.data.prepared import PreparedDataset
from posenet.losses import loss_weights_for, losses_for
from posenet.models import ActionNetwork, build_model
from posenet.models.weights import copy_weights_by_name, iter_layers
from posenet.outputs import output_kind
from posenet.training.data import resolve
from posenet.training.recipe import ACTION_NETWORK


def _class_count(recipe, dataset, data_dir) -> int:
    """Classes of ``dataset`` read from the first source that trains it."""
    for source in recipe.sources:
        if source.get("action_dataset") == dataset:
            ds = PreparedDataset(resolve(source["path"], data_dir))
            classes = ds.attrs.get("action_classes", [])
            ds.close()
            if classes:
                return len(classes)
    raise ValueError(f"recipe {recipe.name!r}: no source lists the action classes of "
                     f"{dataset!r}; give model.actions.{dataset} a number")


def build(recipe, data_dir):
    """The recipe's uncompiled model (ActionNetwork or a preset with its overrides)."""
    if recipe.preset == ACTION_NETWORK:
        options = dict(recipe.model)
        options["actions"] = {ds: n or _class_count(recipe, ds, data_dir)
                              for ds, n in options.get("actions", {}).items()}
        return ActionNetwork(**options, name=recipe.name)
    return build_model(recipe.preset, **recipe.model)


def initialise(model, path) -> int:
    """Copy the weights of the ``.keras`` model at ``path`` into ``model`` by layer name.

    A single-frame pose network initialises the nested ``pose_network`` of a multitask
    model (stage 1 into stage 2). Returns the number of layers copied.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"init_weights {path} not found; train the earlier stage "
                                "first or --set init_weights=PATH")
    source = keras.saving.load_model(path, compile=False)
    names = {layer.name for layer in model.layers}
    if "pose_network" in names and "pose_network" not in {x.name for x in source.layers}:
        return copy_weights_by_name(source, model.get_layer("pose_network"))
    return copy_weights_by_name(source, model)


def freeze(model, prefixes) -> int:
    """Make the layers whose name or nested path starts with a prefix non-trainable.

    Returns how many layers were frozen; ValueError for a prefix that matches nothing.
    """
    frozen = 0
    for prefix in prefixes:
        hits = [layer for layer in model.layers if layer.name.startswith(prefix)]
        hits += [leaf for path, leaf in iter_layers(model) if path.startswith(prefix)]
        if not hits:
            raise ValueError(f"frozen prefix {prefix!r} matches no layer of {model.name}")
        for layer in hits:
            layer.trainable = False
        frozen += len(hits)
    return frozen


def optimizer(recipe):
    """The recipe's Keras optimizer at its initial learning rate."""
    if recipe.optimizer == "sgd":
        return keras.optimizers.SGD(recipe.lr, momentum=recipe.momentum,
                                    nesterov=recipe.nesterov)
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(recipe.lr)
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(recipe.lr, weight_decay=recipe.weight_decay)
    return keras.optimizers.RMSprop(recipe.lr)


def loss_weights(recipe, names) -> dict:
    """The method's loss weights with the recipe's overrides (per dataset and per kind)."""
    weights = loss_weights_for(names, recipe.action_weights)
    for name in weights:
        kind = output_kind(name)
        if kind in recipe.loss_weights:
            weights[name] = float(recipe.loss_weights[kind])
    return weights


def compile_model(model, recipe) -> None:
    names = list(model.output_names)
    model.compile(optimizer=optimizer(recipe), loss=losses_for(names),
                  loss_weights=loss_weights(recipe, names))
