"""NTU RGB+D 60 Kinect v2 skeletons -> prepared file (main actor, 2D and 3D, actions).

Source layout: the ``.skeleton`` files in ``<source>/nturgb+d_skeletons/`` (as the
archive unpacks) or directly in ``<source>``; the RGB videos, when present, in
``<source>/nturgb+d_rgb/<name>_rgb.avi``.

Axes.  Kinect v2 camera space (Microsoft's ``CameraSpacePoint``): origin at the depth
(IR) sensor, X grows to the sensor's left, Y up, Z out along the view direction, metres.
The Kinect SDK delivers mirrored images, so the sensor's left is the *right* of the
published colour frames: colorX grows with X / Z and colorY with -Y / Z.  Stored
``joints3d`` is therefore ``1000 * (X, -Y, Z)`` mm: x along the video's columns (right),
y down, z forward, i.e. the frame of the stored 2D joints and of the video (a mirror of
the physical scene, like the video itself; left/right joint names are the person's).
Its origin is the depth sensor, about 5 cm beside the colour camera, so 3D and 2D agree
up to that offset (no colour intrinsics are published, hence no ``cameras/`` table).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posenet.data.converters.common import Progress, absolute, bbox_from_joints, tick, to_model
from posenet.data.prepared import LAYOUT, PreparedWriter
from posenet.data.readers.ntu import (
    main_bodies,
    ntu_split,
    read_skeleton_file,
    rgb_video_path,
)
from posenet.skeleton import map_joints

SPLITS = ("xsub-train", "xsub-test", "xview-train", "xview-test")
#: Kinect camera space (m; X sensor-left = image right, Y up) -> x right, y down, mm.
KINECT_TO_MM = np.array([1000.0, -1000.0, 1000.0], np.float32)
TRACKED, INFERRED = 2, 1
#: The 60 actions in label order (A001 -> 0), as named by the dataset's authors.
NTU_CLASSES: tuple[str, ...] = (
    "drink water", "eat meal/snack", "brushing teeth", "brushing hair", "drop", "pickup",
    "throw", "sitting down", "standing up (from sitting position)", "clapping", "reading",
    "writing", "tear up paper", "wear jacket", "take off jacket", "wear a shoe",
    "take off a shoe", "wear on glasses", "take off glasses", "put on a hat/cap",
    "take off a hat/cap", "cheer up", "hand waving", "kicking something",
    "reach into pocket", "hopping (one foot jumping)", "jump up",
    "make a phone call/answer phone", "playing with phone/tablet", "typing on a keyboard",
    "pointing to something with finger", "taking a selfie", "check time (from watch)",
    "rub two hands together", "nod head/bow", "shake head", "wipe face", "salute",
    "put the palms together", "cross hands in front (say stop)", "sneeze/cough",
    "staggering", "falling", "touch head (headache)", "touch chest (stomachache/heart pain)",
    "touch back (backache)", "touch neck (neckache)", "nausea or vomiting condition",
    "use a fan (with hand or paper)/feeling warm", "punching/slapping other person",
    "kicking other person", "pushing other person", "pat on back of other person",
    "point finger at the other person", "hugging other person",
    "giving something to other person", "touch other person's pocket", "handshaking",
    "walking towards each other", "walking apart from each other",
)  # fmt: skip
_WHERE = ("expected '<SsssCcccPpppRrrrAaaa>.skeleton' files in nturgb+d_skeletons/ or the "
          "folder itself (NTU RGB+D, rose1.ntu.edu.sg/dataset/actionRecognition, after "
          "registration)")  # fmt: skip


def skeleton_files(source_dir) -> list[Path]:
    """Sorted ``.skeleton`` paths of the source (FileNotFoundError when there are none)."""
    root = Path(source_dir)
    folder = root / "nturgb+d_skeletons"
    paths = sorted((folder if folder.is_dir() else root).glob("*.skeleton"))
    if not paths:
        raise FileNotFoundError(f"no NTU RGB+D skeleton file in {root}: {_WHERE}")
    return paths


def prepare_ntu(source_dir, out_path, split: str = "xsub-train", progress: Progress = None) -> int:
    """NTU RGB+D ``xsub-`` / ``xview-`` ``train`` / ``test``; one sample per frame of the
    body with the most motion (``main_bodies``), frames without it skipped.

    2D: ``colorX``/``colorY`` in the 1920x1080 video; tracking state 2 (tracked) =
    visible, 1 (inferred) = valid but occluded, 0 (not tracked) = absent in 2D and 3D.
    ``action`` is the label 0-59, ``sequence`` the file's position in the sorted listing
    of all skeleton files of the split (named by ``sequence_names``), ``frame`` the
    0-based frame, ``frame_ref`` ``<video>#<frame>`` when the RGB video exists.
    """
    if split not in SPLITS:
        raise ValueError(f"NTU RGB+D split must be one of {list(SPLITS)}, got {split!r}")
    protocol, part = split.split("-")
    files = [p for p in skeleton_files(source_dir) if ntu_split(p.stem, protocol) == part]
    videos = Path(absolute(source_dir)) / "nturgb+d_rgb"
    names = [p.stem for p in files]
    with PreparedWriter(out_path, "ntu", split, action_classes=NTU_CLASSES,
                        source=absolute(source_dir),
                        attrs={"protocol": protocol}) as w:  # fmt: skip
        for done, path in enumerate(files, 1):
            skel = read_skeleton_file(path)
            for body in main_bodies(skel, n=1):
                _append_body(w, body, skel.label, done - 1, rgb_video_path(videos, skel.name))
            tick(progress, done, len(files))
        w.set_attr("sequence_names", names)
        return w.num_samples


def _append_body(w: PreparedWriter, body, label: int, sequence: int, video) -> None:
    """Write one body's frames: 2D from the colour coordinates, 3D in mm."""
    n = len(body.frames)
    valid = body.tracking >= INFERRED
    joints2d, valid2d = to_model(body.color, body.tracking == TRACKED, valid, "ntu")
    joints3d, valid3d = map_joints(body.xyz * KINECT_TO_MM, "ntu", LAYOUT, valid)
    w.append(joints2d=joints2d, valid2d=valid2d, joints3d=np.asarray(joints3d, np.float32),
             valid3d=valid3d, bbox=bbox_from_joints(joints2d, valid2d),
             action=np.full(n, label, np.int16), sequence=np.full(n, sequence, np.int32),
             frame=body.frames.astype(np.int32),
             frame_ref=[f"{video}#{f}" if video else "" for f in body.frames])  # fmt: skip
