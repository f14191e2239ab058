"""Original LSP (Leeds Sports Pose, 2,000 images) -> prepared file.

The standard split: images 1-1000 (``train``) and 1001-2000 (``test``).  All LSP joints
are annotated; the reader turns LSP's occlusion flag into visibility.
"""

from __future__ import annotations

import numpy as np

from posenet.data.converters.common import Progress, check_split
from posenet.data.converters.lspet import write_lsp_rows
from posenet.data.readers.lsp import read_lsp

SPLITS = ("train", "test")
#: Images per half of the standard split (the first half trains, the second tests).
LSP_HALF = 1000


def prepare_lsp(source_dir, out_path, split: str = "train", progress: Progress = None) -> int:
    """LSP ``train`` (images 1-1000) or ``test`` (images 1001-2000), JPEGs embedded.

    ``sequence`` is the 0-based image column in joints.mat, ``frame`` 0, ``frame_ref``
    the image path (see ``write_lsp_rows``).
    """
    check_split("LSP", split, SPLITS)
    data = read_lsp(source_dir, extended=False)
    part = data.indices < LSP_HALF if split == "train" else data.indices >= LSP_HALF
    return write_lsp_rows(data, np.flatnonzero(part), out_path, "lsp", split, source_dir,
                          progress)  # fmt: skip
