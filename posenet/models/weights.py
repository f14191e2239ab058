"""Weight transfer between models whose layers share names."""


def iter_layers(model):
    """Every leaf layer of a model, descending into nested models, with its full path."""
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            for path, leaf in iter_layers(layer):
                yield f"{layer.name}/{path}", leaf
        else:
            yield layer.name, layer


def copy_weights_by_name(source, target, strict=True):
    """Copy the weights of every layer of ``target`` from the same-named layer of ``source``.

    Layers are matched by their path (nested models included). With ``strict``, a target
    layer with weights but no counterpart, or with other shapes, raises ``ValueError``.
    Returns the number of layers copied.
    """
    source_layers = dict(iter_layers(source))
    copied = 0
    for path, layer in iter_layers(target):
        if not layer.weights:
            continue
        match = source_layers.get(path)
        if match is None:
            if strict:
                raise ValueError(f"layer {path!r} of the target has no counterpart in the source")
            continue
        values = match.get_weights()
        shapes = [w.shape for w in layer.get_weights()]
        if [v.shape for v in values] != shapes:
            raise ValueError(f"layer {path!r}: shapes {shapes} differ from the source's")
        layer.set_weights(values)
        copied += 1
    return copied


