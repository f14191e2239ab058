"""LSPet (LSP Extended, 10,000 images) -> prepared file; also the writer shared with LSP.

The project's splits (train, validation, test) need the full archive's numbering; ``all``
takes every image present in any LSP-format folder (a subset, or LSP's own 3 x 14 x N
orientation), for data of one's own in that format.
"""

from __future__ import annotations

import numpy as np

from posenet.data.converters.common import (
    BATCH,
    Progress,
    absolute,
    bbox_from_joints,
    read_bytes,
    tick,
    to_model,
)
from posenet.data.prepared import PreparedWriter
from posenet.data.readers.lsp import LspData, lspet_split, read_lsp

SPLITS = ("train", "validation", "test", "all")


def write_lsp_rows(data: LspData, rows, out_path, dataset: str, split: str, source,
                   progress: Progress = None) -> int:  # fmt: skip
    """Write samples ``rows`` (indices into ``data``) of LSP or LSPet; returns the count.

    JPEG bytes are embedded unchanged; ``frame_ref`` holds the image path, ``sequence``
    the 0-based image column in joints.mat and ``frame`` 0.
    """
    rows = np.asarray(rows, dtype=np.int64)
    with PreparedWriter(out_path, dataset, split, embed_images=True,
                        source=absolute(source)) as w:  # fmt: skip
        for start in range(0, len(rows), BATCH):
            part = rows[start : start + BATCH]
            joints, valid = to_model(data.joints[part], data.visible[part], data.valid[part], "lsp")
            w.append(joints2d=joints, valid2d=valid, bbox=bbox_from_joints(joints, valid),
                     sequence=data.indices[part], frame=np.zeros(len(part), np.int32),
                     image=[read_bytes(data.images[r]) for r in part],
                     frame_ref=[data.images[r] for r in part])  # fmt: skip
            tick(progress, start + len(part), len(rows))
        return w.num_samples


def prepare_lspet(source_dir, out_path, split: str = "train", progress: Progress = None) -> int:
    """LSPet ``train`` (images 1-8000), ``validation`` (8001-9000) or ``test`` (9001-).

    See ``write_lsp_rows`` for the stored fields.
    """
    if split == "all":
        data = read_lsp(source_dir, extended=None, allow_missing_images=True)
        if not len(data):
            raise ValueError(f"{source_dir}: none of the images named in joints.mat is present")
        return write_lsp_rows(data, np.arange(len(data)), out_path, "lspet", split, source_dir,
                              progress)
    data = read_lsp(source_dir, extended=True)
    count = int(data.indices.max()) + 1 if len(data) else 0
    try:
        splits = lspet_split(count)
    except ValueError:
        raise ValueError(f"{source_dir} has {count} images: the LSPet splits need the "
                         "archive's numbering (train 1-8000, validation 8001-9000); use "
                         "--split all to prepare every image present") from None
    if split not in splits:
        raise ValueError(f"LSPet split must be one of {sorted(splits)} or 'all', got {split!r}")
    wanted = set(splits[split].tolist())
    rows = [i for i, col in enumerate(data.indices) if int(col) in wanted]
    return write_lsp_rows(data, rows, out_path, "lspet", split, source_dir, progress)
