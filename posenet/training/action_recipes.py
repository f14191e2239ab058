"""The pose-only action recipes: ActionNetworks trained on pose sequences, on a CPU.

The method's pose branch (``cpu_actions_*``), the geometric branch (``geo_actions_*``) and
the span networks that are shipped (``span_actions_*``); each validates on a seeded 10% of
its training videos, never on a test split. ``posenet.training.recipes`` lists them with
the rest.
"""

from __future__ import annotations

import dataclasses

from posenet.training.recipe import ACTION_NETWORK, Recipe, source

#: The papers' optimiser of the action part (SGD, Nesterov momentum 0.98).
ACTION_SGD = dict(optimizer="sgd", lr=0.01, momentum=0.98, nesterov=True, lr_factor=0.2)
#: Ground-truth pose sequences with isotropic noise, drops and flips (the shipped Penn
#: Action network's).
_SEQUENCES = dict(noise=0.02, drop=0.1, flip=0.5)
#: Pose-only action training data that looks like the default pose network's output: its
#: per-joint error on LSPet validation (``weights/pose_noise.json``, measured by
#: ``posenet tools pose-noise``: per joint std 0.034-0.052 of the person's box
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
        name, description, ACTION_NETWORK, [source(train_file, action_dataset=dataset)],
        {"path": train_file, "holdout": 0.1, "action_dataset": dataset},
        "accuracy", loader="pose_sequences", loader_options=options or _SEQUENCES,
        model={"actions": {dataset: None}, "num_frames": 16, "num_joints": 17,
               "pose_dims": 2, "num_blocks": 4, "pose_width": 0.5},
        batch_size=32, steps_per_epoch=steps, epochs=epochs, lr_drops=list(lr_drops),
        **ACTION_SGD,
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
        "  posenet tools action-calibration runs/" + name + " --write\n"
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
        name, description, ACTION_NETWORK, [source(train_file, action_dataset=dataset)],
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
    (``posenet tools ensemble``) that is validated on videos none of them trained on."""
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
        f"  posenet tools ensemble runs/{name} runs/{name}_s1 runs/{name}_s2 "
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


def pose_only_recipes() -> list[Recipe]:
    """Every pose-only action recipe, in the order ``posenet train --list`` shows them."""
    return [
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
            "0.859 (posenet tools action-calibration runs/span_actions_penn).",
            "penn_action", "penn_action_train.h5", clip_span=128, steps=54, epochs=60,
        ),
    ]
