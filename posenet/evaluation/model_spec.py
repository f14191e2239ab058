"""What an evaluated model reads and predicts, from a Keras model or a stand-in object.

Evaluation only needs ``predict_on_batch(x) -> dict`` and the shapes of the model's inputs
and outputs, so any object with ``predict_on_batch``, ``input_shapes`` and
``output_shapes`` (dicts name -> shape without the batch axis) can stand in for a network
(the tests use such stubs with known predictions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_POSE = re.compile(r"^pose_(\d+)$")
_ACTION = re.compile(r"^action_(.+)_(\d+)$")


class EvaluationError(ValueError):
    """The model, the dataset file or the options do not fit together (a user error)."""


@dataclass(frozen=True)
class ModelSpec:
    """Geometry of a model, read from its input and output shapes.

    ``input_kind``: ``frames`` (B, S, S, 3) images, ``clips`` (B, T, S, S, 3) or
    ``sequences`` (the pose-only action network: ``poses`` (B, T, J, D) and
    ``visibility`` (B, T, J, 1)).  ``input_size`` S px, ``num_frames`` T, ``num_joints``
    J and ``pose_dims`` D of the pose outputs (or of the ``poses`` input), ``pose_blocks``
    the number of ``pose_k`` outputs, ``actions`` dataset -> (classes, action blocks),
    ``clip_span`` the video frames a pose-only network's T frames are resampled from
    (``posenet.data.time_sampling``; None: T consecutive frames).
    """

    input_kind: str
    input_size: int | None = None
    num_frames: int | None = None
    num_joints: int | None = None
    pose_dims: int | None = None
    pose_blocks: int = 0
    actions: dict[str, tuple[int, int]] = field(default_factory=dict)
    clip_span: int | None = None


def _shape(tensor) -> tuple:
    return tuple(None if d is None else int(d) for d in tuple(tensor.shape)[1:])


def model_shapes(model) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """(inputs, outputs): name -> shape without the batch axis, of a model or a stub."""
    if hasattr(model, "input_shapes") and hasattr(model, "output_shapes"):
        return ({k: tuple(v) for k, v in model.input_shapes.items()},
                {k: tuple(v) for k, v in model.output_shapes.items()})
    try:
        outputs = model.output
        inputs = model.input
    except (AttributeError, ValueError) as err:
        raise EvaluationError(f"cannot read the inputs and outputs of the model ({err})") from err
    if not isinstance(outputs, dict):
        outputs = dict(zip(model.output_names, model.outputs, strict=True))
    if not isinstance(inputs, dict):
        inputs = {t.name: t for t in model.inputs}
    return ({k: _shape(t) for k, t in inputs.items()},
            {k: _shape(t) for k, t in outputs.items()})


def model_spec(model) -> ModelSpec:
    """The :class:`ModelSpec` of ``model``; EvaluationError when it is not one of ours."""
    inputs, outputs = model_shapes(model)
    poses = {int(m.group(1)): outputs[n] for n in outputs if (m := _POSE.match(n))}
    actions: dict[str, dict[int, int]] = {}
    for name, shape in outputs.items():
        if m := _ACTION.match(name):
            actions.setdefault(m.group(1), {})[int(m.group(2))] = int(shape[-1])
    if not poses and not actions:
        raise EvaluationError("the model has neither pose_k nor action_<dataset>_k outputs: "
                              "not a posenet network")
    num_joints = pose_dims = None
    if poses:
        num_joints, pose_dims = (int(v) for v in poses[max(poses)][-2:])
        if sorted(poses) != list(range(1, len(poses) + 1)):
            raise EvaluationError(f"pose outputs of blocks {sorted(poses)}: expected 1..N")
    if "poses" in inputs:
        kind, t = "sequences", inputs["poses"][0]
        num_joints, pose_dims = (int(v) for v in inputs["poses"][-2:])
        size = None
    else:
        if len(inputs) != 1:
            raise EvaluationError(f"unexpected model inputs {sorted(inputs)}")
        shape = next(iter(inputs.values()))
        if len(shape) not in (3, 4) or shape[-1] != 3:
            raise EvaluationError(f"unexpected model input shape {shape}: expected images "
                                  "(S, S, 3) or clips (T, S, S, 3)")
        kind = "frames" if len(shape) == 3 else "clips"
        t = shape[0] if kind == "clips" else None
        size = int(shape[-2])
    if num_joints is not None and num_joints not in (16, 17):
        raise EvaluationError(f"the model predicts {num_joints} joints; evaluation knows the "
                              "16-joint (model16) and 17-joint (model17) layouts")
    return ModelSpec(
        input_kind=kind, input_size=size, num_frames=None if t is None else int(t),
        num_joints=num_joints, pose_dims=pose_dims, pose_blocks=len(poses),
        actions={ds: (blocks[max(blocks)], len(blocks)) for ds, blocks in actions.items()},
        clip_span=getattr(model, "clip_span", None) if kind == "sequences" else None,
    )


def frame_model(model, spec: ModelSpec):
    """The single-frame pose network of ``model``: itself, or a clip model's nested one."""
    if spec.input_kind == "frames":
        return model
    if spec.input_kind == "clips" and hasattr(model, "pose_network"):
        return model.pose_network
    raise EvaluationError("pose protocols need a single-frame pose network (or a multitask "
                          "model with a nested pose_network); this model reads "
                          f"{spec.input_kind}")
