"""Names of the network's outputs, shared by the models, the losses and the data targets.

Pure Python, so data workers can build targets without importing a Keras backend.
"""

KINDS = ("pose", "visibility", "action")
#: Outputs of a mobile network's person heads (not supervised): the centre probability
#: (B, S/4, S/4, 1) and the 17 COCO keypoints regressed from each position, (dy, dx) in
#: heatmap px (B, S/4, S/4, 34).
PERSON_CENTER, PERSON_REGRESS = "person_center", "person_regress"


def pose_output(block):
    """Name of the pose output of a pose block (1-based)."""
    return f"pose_{block}"


def visibility_output(block):
    """Name of the visibility output of a pose block (1-based)."""
    return f"visibility_{block}"


def action_output(dataset, block):
    """Name of the action output of a dataset's action block (1-based)."""
    return f"action_{dataset}_{block}"


def output_kind(name):
    """'pose', 'visibility' or 'action' for an output name of the network."""
    for kind in KINDS:
        if name.startswith(f"{kind}_"):
            return kind
    raise ValueError(f"{name!r} is not a supervised output of the network")


def action_dataset(name):
    """The dataset of an action output ``action_<dataset>_<block>``."""
    return name[len("action_") :].rsplit("_", 1)[0]
