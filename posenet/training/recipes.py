"""The named training recipes: the papers' and the small CPU ones that train shipped weights.

Paths are relative to the data folder (``--data``, default ``datasets/``) and name the
files ``make data`` / ``posenet prepare`` write. Hyper-parameters from the papers: RMSprop
at 1e-3 for pose, the rate multiplied by 0.2 at drops, SGD with Nesterov momentum 0.98 for
the action part; loss weights as in ``posenet.losses``. The epochs, steps, drop epochs and
the action learning rates are this project's choices (the papers do not pin all of them).
No recipe validates on a test split: the validation data is an official validation split
or a seeded held-out part of the training file (``validation.holdout``). The pose-only
action recipes are in ``posenet.training.action_recipes``.
"""

from __future__ import annotations

import dataclasses

from posenet.training.action_recipes import ACTION_SGD, pose_only_recipes
from posenet.training.recipe import Recipe, source

__all__ = ["RECIPES", "Recipe", "get_recipe"]


_POSE = dict(optimizer="rmsprop", lr=1e-3, lr_factor=0.2)

#: Layers of the pretrained MoveNet part of a MobilePoseNetwork: extractor, pyramid and
#: person heads (``block_`` is MobileNetV2's ``block_<i>``, not the method's ``block<k>``).
_MOBILE_BACKBONE = ["to_unit_range", "Conv1", "expanded_conv", "block_", "Conv_1", "fpn_"]
_MOBILE_SOURCES = [source("lspet_train.h5", "lsp", split="train"),
                   source("h36m-render_train.h5", "h36m", split="train")]
_LSPET_VALIDATION = {"path": "lspet_validation.h5", "split": "validation", "steps": 32}


def _mobile_recipes():
    """The two stages that fine-tune mobile_3d from MoveNet Lightning's weights."""
    heads = Recipe(
        "mobile_heads",
        "Stage 1 of the default pose weights: the method's heads of mobile_3d trained on "
        "LSPet (1-8000) and rendered Human3.6M (S1, S5-S8), 1:1, MoveNet's backbone "
        "frozen.\n  make pretrained   # pretrained/mobile_3d_init.keras from MoveNet\n"
        "  posenet train mobile_heads --out runs/mobile_heads\n"
        "Validates PCK@0.2 (torso) on LSPet 8001-9000. Expected result (measured, about 2 "
        "minutes an epoch on 2 CPU cores): val_pck 0.521, 0.546, 0.565.",
        "mobile_3d", _MOBILE_SOURCES, _LSPET_VALIDATION, "pck",
        batch_size=16, steps_per_epoch=250, epochs=3, workers=2,
        frozen=[*_MOBILE_BACKBONE, "person_"], init_weights="pretrained/mobile_3d_init.keras",
        optimizer="adam", lr=1e-3, lr_factor=0.2,
    )
    full = dataclasses.replace(
        heads, name="mobile_full",
        description="Stage 2: all of mobile_3d but the person heads fine-tuned from stage 1 "
        "at a lower rate, same data.\n  posenet train mobile_full --out runs/mobile_full\n"
        "Validates PCK@0.2 (torso) on LSPet 8001-9000. Expected result (measured, 3-3.5 "
        "minutes an epoch): val_pck 0.636 after 12 epochs. The shipped weights then "
        "resumed with a warm restart:\n  posenet train mobile_full --out runs/mobile_full "
        "--resume --epochs 18 --set 'lr_drops=[15]'\nval_pck 0.645; `posenet evaluate "
        "--dataset lspet` PCK@0.2 0.632, `--dataset h36m-render` MPJPE 104.0 mm (shipped with "
        "soft-argmax window 5 by `make weights`: 0.647 and 104.5 mm). At Adam "
        "2e-4 the backbone degrades (val_pck 0.44 after one epoch).",
        frozen=["person_"], init_weights="runs/mobile_heads/model.keras", lr=2e-5,
        epochs=12, lr_drops=[9],
    )
    return [heads, full]


_ALL = [
    Recipe(
        "mpii_2d",
        "CVPR 2018 2D pose on MPII (8 blocks, 256 px).\n"
        "  posenet train mpii_2d --out runs/mpii_2d\n"
        "Expect val_pckh near 0.9 after the last drop (the paper reports PCKh@0.5 of about "
        "91% on the MPII test set; val_pckh here is the crop-space proxy).",
        "mpii_2d", [source("mpii_train.h5", "mpii", split="train")],
        {"path": "mpii_validation.h5", "split": "validation"}, "pckh",
        batch_size=24, steps_per_epoch=1000, epochs=120, lr_drops=[80, 100], **_POSE,
    ),
    Recipe(
        "mpii_h36m_3d",
        "TPAMI 2020 3D pose: Human3.6M mixed 1:1 with MPII (2D-only samples add no depth "
        "loss).\n  posenet train mpii_h36m_3d --out runs/mpii_h36m_3d\n"
        "Expect val_mpjpe (normalised units) to fall below 0.05; the paper's Human3.6M "
        "protocol-1 error is about 50 mm, measured by the evaluation command.",
        "h36m_3d",
        [source("h36m_train.h5", "h36m", split="train"), source("mpii_train.h5", "mpii")],
        {"path": "h36m_train.h5", "holdout": 0.05}, "mpjpe",
        batch_size=24, steps_per_epoch=1000, epochs=100, lr_drops=[60, 85], **_POSE,
    ),
    Recipe(
        "penn_multitask",
        "CVPR 2018 multitask on Penn Action, end to end from scratch: clips of Penn Action "
        "(pose and action) mixed 3:1 with MPII (pose only).\n"
        "  posenet train penn_multitask --out runs/penn_multitask\n"
        "Expect val_accuracy above 0.9 on the held-out 10% (the paper reports 97.4% on the "
        "test split after the three stages).",
        "penn_action",
        [source("penn_action_train.h5", "penn_action", 3.0, "penn_action", "train"),
         source("mpii_train.h5", "mpii")],
        {"path": "penn_action_train.h5", "holdout": 0.1, "action_dataset": "penn_action"},
        "accuracy", loader="clips", batch_size=4, steps_per_epoch=1000, epochs=60,
        lr_drops=[40, 52], **_POSE,
    ),
    Recipe(
        "penn_stage1_pose",
        "Stage 1 of the method on Penn Action: the 2D pose network on single frames of "
        "MPII and Penn Action (1:1).\n"
        "  posenet train penn_stage1_pose --out runs/penn_stage1_pose\n"
        "Expect val_pck (PCK@0.2, torso) above 0.9 on held-out Penn Action sequences.",
        "mpii_2d",
        [source("mpii_train.h5", "mpii"), source("penn_action_train.h5", "penn_action")],
        {"path": "penn_action_train.h5", "holdout": 0.1}, "pck",
        batch_size=24, steps_per_epoch=1000, epochs=60, lr_drops=[40, 52], **_POSE,
    ),
    Recipe(
        "penn_stage2_action",
        "Stage 2: the action part on Penn Action clips, the pose network frozen and "
        "initialised from stage 1 (init_weights).\n"
        "  posenet train penn_stage2_action --out runs/penn_stage2_action\n"
        "Expect val_accuracy above 0.9 on the held-out 10%.",
        "penn_action",
        [source("penn_action_train.h5", "penn_action", action_dataset="penn_action")],
        {"path": "penn_action_train.h5", "holdout": 0.1, "action_dataset": "penn_action"},
        "accuracy", loader="clips", batch_size=4, steps_per_epoch=500, epochs=30,
        lr_drops=[20, 26], frozen=["pose_network"],
        init_weights="runs/penn_stage1_pose/model.keras", **ACTION_SGD,
    ),
    Recipe(
        "penn_stage3_full",
        "Stage 3: the whole multitask network fine-tuned from stage 2 at a low rate.\n"
        "  posenet train penn_stage3_full --out runs/penn_stage3_full\n"
        "Expect val_accuracy a point or two above stage 2.",
        "penn_action",
        [source("penn_action_train.h5", "penn_action", 3.0, "penn_action"),
         source("mpii_train.h5", "mpii")],
        {"path": "penn_action_train.h5", "holdout": 0.1, "action_dataset": "penn_action"},
        "accuracy", loader="clips", batch_size=4, steps_per_epoch=500, epochs=20,
        lr_drops=[14], init_weights="runs/penn_stage2_action/model.keras",
        **{**ACTION_SGD, "lr": 2e-4},
    ),
    Recipe(
        "ntu_multitask",
        "CVPR 2018 multitask on NTU RGB+D (cross-subject): 3D pose and 60 actions on clips "
        "of 20 frames, NTU mixed 2:1:1 with Human3.6M and MPII for the pose.\n"
        "  posenet train ntu_multitask --out runs/ntu_multitask\n"
        "Expect val_accuracy above 0.8 on the held-out 5% (the paper reports about 85% "
        "on the cross-subject test split).",
        "ntu",
        [source("ntu_xsub-train.h5", "ntu", 2.0, "ntu", "xsub-train"),
         source("h36m_train.h5", "h36m"), source("mpii_train.h5", "mpii")],
        {"path": "ntu_xsub-train.h5", "holdout": 0.05, "action_dataset": "ntu"},
        "accuracy", loader="clips", batch_size=3, steps_per_epoch=1000, epochs=60,
        lr_drops=[40, 52], **_POSE,
    ),
    Recipe(
        "cpu_lspet_h36m",
        "The shipped CPU 3D pose weights (cpu_3d): LSPet and rendered Human3.6M, 1:1.\n"
        "  posenet train cpu_lspet_h36m --out runs/cpu_lspet_h36m\n"
        "Validates PCK@0.2 (torso) on the LSPet validation split (images 8001-9000). "
        "Expected result (measured, 12 epochs of 2.5-4 min on 2 CPU cores): val_pck 0.28, "
        "and `posenet evaluate --dataset lspet` PCK@0.2 0.250, `--dataset h36m-render` "
        "MPJPE 120 mm. The shipped weights then resumed for 12 more epochs at the full rate:\n"
        "  posenet train cpu_lspet_h36m --out runs/cpu_lspet_h36m --resume --epochs 24 "
        "--set 'lr_drops=[19, 22]'\n"
        "val_pck 0.34, PCK@0.2 0.314, MPJPE 97.9 mm (weights/README.md has the curve).",
        "cpu_3d",
        [source("lspet_train.h5", "lsp", split="train"),
         source("h36m-render_train.h5", "h36m", split="train")],
        {"path": "lspet_validation.h5", "split": "validation", "steps": 32}, "pck",
        batch_size=16, steps_per_epoch=500, epochs=12, lr_drops=[8, 11], workers=2,
        **_POSE,
    ),
    *_mobile_recipes(),
    *pose_only_recipes(),
    Recipe(
        "tiny",
        "For tests and smoke runs: a 64 px, 1-block cpu_3d on any prepared file with "
        "images (default demo.h5, from `posenet prepare builtin-render`).\n"
        "  posenet train tiny --out runs/tiny --set sources.0.path=demo.h5\n"
        "Runs in seconds; its numbers mean nothing.",
        "cpu_3d", [source("demo.h5")], {"path": "demo.h5", "holdout": 0.5, "steps": 1},
        "pck", model={"input_size": 64, "num_blocks": 1, "num_features": 32,
                      "stem_width": 0.25, "depth_maps": 4},
        batch_size=4, steps_per_epoch=2, epochs=2, tensorboard=False, **_POSE,
    ),
]

#: Every named recipe, by name.
RECIPES: dict[str, Recipe] = {r.name: r for r in _ALL}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; an unknown name raises ValueError listing the known."""
    try:
        return RECIPES[name]
    except KeyError:
        known = ", ".join(sorted(RECIPES))
        raise ValueError(f"unknown recipe {name!r}; known recipes: {known}") from None
