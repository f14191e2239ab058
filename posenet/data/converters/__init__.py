"""Converters from the datasets' published formats to prepared files (``prepared.py``).

Each ``prepare_<name>(source_dir, out_path, split, progress=None, **options) -> int``
writes one split and returns the number of samples; ``progress(done, total)`` is called
as work advances.  A missing source raises the readers' FileNotFoundError (naming what
was expected and where to get it); a malformed one a ValueError; either way no output
file is left behind (``PreparedWriter`` writes to a temporary name).

``PREPARERS`` maps dataset names to converters, ``SPLITS`` to their accepted split names
(the first is the default) and ``DATASET_INFO`` to a one-line description of the source
layout and where to download it.
"""

from __future__ import annotations

from collections.abc import Callable

from posenet.data.converters import coco, h36m, jhmdb, lsp, lspet, mpii, ntu, penn_action
from posenet.data.converters.coco import prepare_coco
from posenet.data.converters.common import bbox_from_joints, to_model
from posenet.data.converters.h36m import prepare_h36m
from posenet.data.converters.jhmdb import prepare_jhmdb
from posenet.data.converters.lsp import prepare_lsp
from posenet.data.converters.lspet import prepare_lspet
from posenet.data.converters.mpii import prepare_mpii
from posenet.data.converters.ntu import prepare_ntu
from posenet.data.converters.penn_action import prepare_penn_action

PREPARERS: dict[str, Callable[..., int]] = {
    "lspet": prepare_lspet,
    "lsp": prepare_lsp,
    "mpii": prepare_mpii,
    "coco": prepare_coco,
    "penn_action": prepare_penn_action,
    "jhmdb": prepare_jhmdb,
    "h36m": prepare_h36m,
    "ntu": prepare_ntu,
}
SPLITS: dict[str, tuple[str, ...]] = {
    "lspet": lspet.SPLITS,
    "lsp": lsp.SPLITS,
    "mpii": mpii.SPLITS,
    "coco": coco.SPLITS,
    "penn_action": penn_action.SPLITS,
    "jhmdb": jhmdb.SPLITS,
    "h36m": h36m.SPLITS,
    "ntu": ntu.SPLITS,
}
DATASET_INFO: dict[str, str] = {
    "lspet": "LSP Extended: joints.mat and images/im00001.jpg... "
    "(lspet_dataset.zip, sam.johnson.io/research/lspet.html)",
    "lsp": "Leeds Sports Pose: joints.mat and images/im0001.jpg... "
    "(lsp_dataset.zip, sam.johnson.io/research/lsp.html)",
    "mpii": "MPII Human Pose: mpii_human_pose_v1_u12_1.mat (from mpii_human_pose_v1_u12_2.zip) "
    "and optionally images/ (mpii_human_pose_v1.tar.gz), human-pose.mpi-inf.mpg.de",
    "coco": "COCO 2017: annotations/person_keypoints_{train,val}2017.json and optionally "
    "train2017/, val2017/ images (cocodataset.org)",
    "penn_action": "Penn Action: labels/0001.mat... and optionally frames/0001/000001.jpg... "
    "(Penn_Action.tar.gz, dreamdragon.github.io/PennAction)",
    "jhmdb": "J-HMDB ground truth: GT_train_<k>.npz / GT_test_<k>.npz, k = 1-3, in the folder "
    "(converted from joint_positions/ of jhmdb.is.tue.mpg.de)",
    "h36m": "Human3.6M: S<k>/MyPoses/3D_positions/*.h5 and cameras.h5, optionally "
    "S<k>/Videos/ (vision.imar.ro/human3.6m, after registration)",
    "ntu": "NTU RGB+D 60: nturgb+d_skeletons/*.skeleton and optionally nturgb+d_rgb/*_rgb.avi "
    "(rose1.ntu.edu.sg/dataset/actionRecognition, after registration)",
}

__all__ = ["DATASET_INFO", "PREPARERS", "SPLITS", "bbox_from_joints", "to_model"]
