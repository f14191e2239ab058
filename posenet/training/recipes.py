"""The named training recipes: the papers' and the small CPU ones that train shipped weights.

Paths are relative to the data folder (``--data``, default ``datasets/``) and name the
files ``make data`` / ``posenet prepare`` write. Hyper-parameters from the papers: RMSprop
at 1e-3 for pose, the rate multiplied by 0.2 at drops, SGD with Nesterov momentum 0.98 for
the action part; loss weights as in ``posenet.losses``. The epochs, steps, drop epochs and
the action learning rates are this project's choices (the papers do not pin all of them).
No recipe validates on a test split: the validation data is an official validation split
or a seeded held-out part of the training file (``validation.holdout``).
"""

from __future__ import annotations

import dataclasses

from posenet.training.recipe import ACTION_NETWORK, Recipe

__all__ = ["RECIPES", "Recipe", "get_recipe"]


def _src(path, augment="none", weight=1.0, action_dataset=None, split=None):
    out = {"path": path, "weight": weight, "augment": augment}
    if action_dataset:
        out["action_dataset"] = action_dataset
    if split:
        out["split"] = split
    return out


_POSE = dict(optimizer="rmsprop", lr=1e-3, lr_factor=0.2)
_ACTION = dict(optimizer="sgd", lr=0.01, momentum=0.98, nesterov=True, lr_factor=0.2)
#: Ground-truth pose sequences with isotropic noise, drops and flips (the shipped Penn
#: Action network's).
_SEQUENCES = dict(noise=0.02, drop=0.1, flip=0.5)
#: Pose-only action training data that looks like the default pose network's output: its
#: per-joint error on LSPet validation (``weights/pose_noise.json``, measured by
#: ``python -m posenet.data.pose_noise``: per joint std 0.034-0.052 of the person's box
#: side, 2.5-25% gross misses), correlated over frames (0.8), plus 5% dropped joints and
#: flips (the shipped J-HMDB network's).
_PREDICTED_SEQUENCES = dict(noise=0.0, drop=0.05, flip=0.5,
                            noise_model="weights/pose_noise.json", noise_scale=1.0,
                            noise_correlation=0.8)


def _pose_only_actions(name, description, dataset, train_file, steps, epochs=20,
                       lr_drops=(12, 17), options=None):
    """A pose-only ActionNetwork recipe on ground-truth sequences of ``train_file``,
    validated on a seeded 10% of its videos."""
    return Recipe(
        name, description, ACTION_NETWORK, [_src(train_file, action_dataset=dataset)],
        {"path": train_file, "holdout": 0.1, "action_dataset": dataset},
        "accuracy", loader="pose_sequences", loader_options=options or _SEQUENCES,
        model={"actions": {dataset: None}, "num_frames": 16, "num_joints": 17,
               "pose_dims": 2, "num_blocks": 4, "pose_width": 0.5},
        batch_size=32, steps_per_epoch=steps, epochs=epochs, lr_drops=list(lr_drops),
        **_ACTION,
    )


def _jhmdb_actions(split):
    """The pose-only J-HMDB action recipe of one official split (1 is the shipped one)."""
    name = "cpu_actions_jhmdb" + ("" if split == 1 else f"_split{split}")
    role = ("the shipped ones" if split == 1 else
            "with the other two splits' runs it gives the mean of the 3 official splits")
    return _pose_only_actions(
        name,
        f"Pose-only action weights for J-HMDB split {split} ({role}): an ActionNetwork on "
        "ground-truth sequences made to look predicted (_PREDICTED_SEQUENCES: the default "
        "pose network's per-joint error).\n"
        f"  posenet train {name} --out runs/{name}\n"
        "  python -m posenet.evaluation.action_calibration runs/" + name + " --write\n"
        f"Validates top-1 accuracy on a held-out 10% of the train{split} sequences. Expected "
        "result (measured): val_accuracy 0.67 / 0.72 / 0.73 for splits 1 / 2 / 3 after 20 "
        "epochs; on the 43 held-out videos, multi-clip (product) 0.674 / 0.721 / 0.744 on "
        "ground truth, 0.698 / 0.735 / 0.753 with the simulated error; 'uncertain' below "
        "0.617 / 0.674 / 0.483 (90% precision). `posenet evaluate --dataset jhmdb --split "
        "test<k>` multi-clip 0.693 / 0.710 / 0.691 (mean 0.698). With ground truth plus "
        "isotropic noise 0.02 (_SEQUENCES) the test figures were 0.773 / 0.722 / 0.709 "
        "(mean 0.734; held-out split 1: 0.651 ground truth, 0.679 simulated error): the "
        "held-out videos preferred the new data, the test splits did not.",
        "jhmdb", f"jhmdb_train{split}.h5", steps=100, options=_PREDICTED_SEQUENCES,
    )


def _geometry_actions(name, description, dataset, train_file, steps=30, epochs=30,
                      lr_drops=(20, 26), options=None):
    """A pose-only recipe of the geometric branch (``ActionNetwork(branch="geometry")``:
    joint distances and motion, 32-frame windows) on ground-truth sequences of
    ``train_file``, validated on a seeded 10% of its videos."""
    return Recipe(
        name, description, ACTION_NETWORK, [_src(train_file, action_dataset=dataset)],
        {"path": train_file, "holdout": 0.1, "action_dataset": dataset},
        "accuracy", loader="pose_sequences", loader_options=options or _PREDICTED_SEQUENCES,
        model={"actions": {dataset: None}, "num_frames": 32, "num_joints": 17,
               "pose_dims": 2, "branch": "geometry", "filters": 32},
        batch_size=64, steps_per_epoch=steps, epochs=epochs, lr_drops=list(lr_drops),
        optimizer="adam", lr=1e-3, lr_factor=0.2,
    )


def _jhmdb_geometry(split):
    """The geometric J-HMDB recipe of one official split."""
    name = "geo_actions_jhmdb" + ("" if split == 1 else f"_split{split}")
    return _geometry_actions(
        name,
        f"Pose-only action weights for J-HMDB split {split}, geometric branch (joint "
        "distances and motion, DD-Net-like) on ground-truth sequences made to look "
        "predicted (_PREDICTED_SEQUENCES: the default pose network's per-joint error).\n"
        f"  posenet train {name} --out runs/{name}\n"
        f"  posenet evaluate --weights runs/{name}/model.keras --dataset jhmdb --split "
        f"test{split}\n"
        "Validates top-1 accuracy on a held-out 10% of the training videos.",
        "jhmdb", f"jhmdb_train{split}.h5",
    )


#: The span recipes' data: _PREDICTED_SEQUENCES on half the clips (the rest ground truth),
#: light noise, turns of up to 10 degrees, scaling by up to 10%, and clips resampled from
#: 80-100% of the span.
_SPAN_SEQUENCES = dict(_PREDICTED_SEQUENCES, noise_fraction=0.5, noise=0.01, rotate=10.0,
                       scale=0.1, span_fraction=0.8)


def _span_actions(name, description, dataset, train_file, clip_span, steps, epochs):
    """The geometric branch reading 32 frames resampled from up to ``clip_span`` video
    frames (a whole J-HMDB clip), AdamW with a cosine rate, validated on a seeded 10% of
    the training videos: the same 10% whatever the run's seed (``holdout_seed`` 0), so
    the runs of several seeds (``--set seed=K``) are members of one ensemble
    (``posenet.models.ensemble``) that is validated on videos none of them trained on."""
    base = _geometry_actions(name, description, dataset, train_file, steps, epochs,
                             lr_drops=(), options=_SPAN_SEQUENCES)
    return dataclasses.replace(
        base, validation={**base.validation, "holdout_seed": 0},
        model={**base.model, "clip_span": clip_span, "frame_rate": 30.0},
        optimizer="adamw", weight_decay=1e-4, lr_schedule="cosine")


def _jhmdb_span(split):
    """The span J-HMDB recipe of one official split."""
    name = "span_actions_jhmdb" + ("" if split == 1 else f"_split{split}")
    return _span_actions(
        name,
        f"Pose-only action weights for J-HMDB split {split}: the geometric branch on each "
        "whole clip resampled to 32 frames (clip_span 40, J-HMDB's longest), on "
        "ground-truth sequences, half of them made to look predicted (_SPAN_SEQUENCES).\n"
        f"  posenet train {name} --out runs/{name}  (and --set seed=1, seed=2 into "
        f"runs/{name}_s1, _s2)\n"
        f"  python -m posenet.models.ensemble runs/{name} runs/{name}_s1 runs/{name}_s2 "
        f"--out runs/{name}_ensemble.keras\n"
        f"  posenet evaluate --weights runs/{name}_ensemble.keras --dataset jhmdb --split "
        f"test{split}\n"
        "Validates top-1 accuracy on a held-out 10% of the training videos. Expected result "
        "(measured, splits 1 / 2 / 3): seed 0 on the 43 held-out videos 0.907 / 0.884 / "
        "0.884 on ground truth, 0.837 / 0.833 / 0.819 with the simulated error, test 0.824 "
        "/ 0.778 / 0.737 (mean 0.780); the ensemble of seeds 0-2 held out 0.907 / 0.860 / "
        "0.860 and 0.823 / 0.833 / 0.805, test 0.824 / 0.784 / 0.777 (mean 0.795).",
        "jhmdb", f"jhmdb_train{split}.h5", clip_span=40, steps=60, epochs=90,
    )


#: Layers of the pretrained MoveNet part of a MobilePoseNetwork: extractor, pyramid and
#: person heads (``block_`` is MobileNetV2's ``block_<i>``, not the method's ``block<k>``).
_MOBILE_BACKBONE = ["to_unit_range", "Conv1", "expanded_conv", "block_", "Conv_1", "fpn_"]
_MOBILE_SOURCES = [_src("lspet_train.h5", "lsp", split="train"),
                   _src("h36m-render_train.h5", "h36m", split="train")]
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
        "--dataset lspet` PCK@0.2 0.632, `--dataset h36m-render` MPJPE 104.0 mm. At Adam "
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
        "mpii_2d", [_src("mpii_train.h5", "mpii", split="train")],
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
        [_src("h36m_train.h5", "h36m", split="train"), _src("mpii_train.h5", "mpii")],
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
        [_src("penn_action_train.h5", "penn_action", 3.0, "penn_action", "train"),
         _src("mpii_train.h5", "mpii")],
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
        [_src("mpii_train.h5", "mpii"), _src("penn_action_train.h5", "penn_action")],
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
        [_src("penn_action_train.h5", "penn_action", action_dataset="penn_action")],
        {"path": "penn_action_train.h5", "holdout": 0.1, "action_dataset": "penn_action"},
        "accuracy", loader="clips", batch_size=4, steps_per_epoch=500, epochs=30,
        lr_drops=[20, 26], frozen=["pose_network"],
        init_weights="runs/penn_stage1_pose/model.keras", **_ACTION,
    ),
    Recipe(
        "penn_stage3_full",
        "Stage 3: the whole multitask network fine-tuned from stage 2 at a low rate.\n"
        "  posenet train penn_stage3_full --out runs/penn_stage3_full\n"
        "Expect val_accuracy a point or two above stage 2.",
        "penn_action",
        [_src("penn_action_train.h5", "penn_action", 3.0, "penn_action"),
         _src("mpii_train.h5", "mpii")],
        {"path": "penn_action_train.h5", "holdout": 0.1, "action_dataset": "penn_action"},
        "accuracy", loader="clips", batch_size=4, steps_per_epoch=500, epochs=20,
        lr_drops=[14], init_weights="runs/penn_stage2_action/model.keras",
        **{**_ACTION, "lr": 2e-4},
    ),
    Recipe(
        "ntu_multitask",
        "CVPR 2018 multitask on NTU RGB+D (cross-subject): 3D pose and 60 actions on clips "
        "of 20 frames, NTU mixed 2:1:1 with Human3.6M and MPII for the pose.\n"
        "  posenet train ntu_multitask --out runs/ntu_multitask\n"
        "Expect val_accuracy above 0.8 on the held-out 5% (the paper reports about 85% "
        "on the cross-subject test split).",
        "ntu",
        [_src("ntu_xsub-train.h5", "ntu", 2.0, "ntu", "xsub-train"),
         _src("h36m_train.h5", "h36m"), _src("mpii_train.h5", "mpii")],
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
        [_src("lspet_train.h5", "lsp", split="train"),
         _src("h36m-render_train.h5", "h36m", split="train")],
        {"path": "lspet_validation.h5", "split": "validation", "steps": 32}, "pck",
        batch_size=16, steps_per_epoch=500, epochs=12, lr_drops=[8, 11], workers=2,
        **_POSE,
    ),
    *_mobile_recipes(),
    _pose_only_actions(
        "cpu_actions_penn",
        "The shipped pose-only action weights for Penn Action: an ActionNetwork on "
        "ground-truth pose sequences (noise 0.02, 10% joints dropped, flips).\n"
        "  posenet train cpu_actions_penn --out runs/cpu_actions_penn\n"
        "Validates top-1 accuracy on a held-out 10% of the training sequences. Expected "
        "result (measured): val_accuracy 0.89 after 20 epochs; `posenet evaluate --dataset "
        "penn_action` multi-clip 0.933 on the test split.",
        "penn_action", "penn_action_train.h5", steps=200,
    ),
    _pose_only_actions(
        "cpu_actions_penn_predicted",
        "cpu_actions_penn on ground-truth sequences made to look predicted "
        "(_PREDICTED_SEQUENCES, as the J-HMDB recipes); not shipped: the held-out videos "
        "preferred cpu_actions_penn.\n"
        "  posenet train cpu_actions_penn_predicted --out runs/cpu_actions_penn_noisy\n"
        "Expected result (measured): val_accuracy 0.78 after 20 epochs (0.80-0.81 from "
        "epoch 11); on the 126 held-out videos multi-clip (product) 0.921 on ground truth "
        "and 0.905 with the simulated error (cpu_actions_penn: 0.937 and 0.916); `posenet "
        "evaluate --dataset penn_action` multi-clip 0.920 (cpu_actions_penn 0.933).",
        "penn_action", "penn_action_train.h5", steps=200, options=_PREDICTED_SEQUENCES,
    ),
    *[_jhmdb_actions(split) for split in (1, 2, 3)],
    *[_jhmdb_geometry(split) for split in (1, 2, 3)],
    _geometry_actions(
        "geo_actions_penn",
        "Pose-only action weights for Penn Action, geometric branch (joint distances and "
        "motion, DD-Net-like) on ground-truth sequences made to look predicted "
        "(_PREDICTED_SEQUENCES).\n"
        "  posenet train geo_actions_penn --out runs/geo_actions_penn\n"
        "  posenet evaluate --weights runs/geo_actions_penn/model.keras --dataset "
        "penn_action\n"
        "Validates top-1 accuracy on a held-out 10% of the training videos.",
        "penn_action", "penn_action_train.h5", steps=60,
    ),
    *[_jhmdb_span(split) for split in (1, 2, 3)],
    _span_actions(
        "span_actions_penn",
        "Pose-only action weights for Penn Action: the geometric branch reading 32 frames "
        "resampled from up to 128 (the whole of 9 videos in 10), on ground-truth sequences "
        "half of them made to look predicted (_SPAN_SEQUENCES).\n"
        "  posenet train span_actions_penn --out runs/span_actions_penn\n"
        "  posenet evaluate --weights runs/span_actions_penn/model.keras --dataset "
        "penn_action\n"
        "Validates top-1 accuracy on a held-out 10% of the training videos. Expected result "
        "(measured): on the 126 held-out videos 0.976 on ground truth, 0.935 with the "
        "simulated error; test 0.969 multi-clip, 0.963 single clip; 'uncertain' below "
        "0.859 (python -m posenet.evaluation.action_calibration runs/span_actions_penn).",
        "penn_action", "penn_action_train.h5", clip_span=128, steps=54, epochs=60,
    ),
    Recipe(
        "tiny",
        "For tests and smoke runs: a 64 px, 1-block cpu_3d on any prepared file with "
        "images (default demo.h5, from `posenet prepare builtin-render`).\n"
        "  posenet train tiny --out runs/tiny --set sources.0.path=demo.h5\n"
        "Runs in seconds; its numbers mean nothing.",
        "cpu_3d", [_src("demo.h5")], {"path": "demo.h5", "holdout": 0.5, "steps": 1},
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
