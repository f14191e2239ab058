"""Human3.6M motion capture in the "3D_positions" release layout.

Layout read: ``<root>/S<k>/MyPoses/3D_positions/<Action>[ n].h5``, each with the dataset
``3D_positions`` of shape (96, T): 32 joints x (x, y, z) in millimetres, world frame
(z up, the floor near z = 0).  Joints follow the ``h36m32`` layout of
``posenet.skeleton``; ``to_h36m17`` selects the standard 17.  Cameras are read by
``posenet.data.camera.read_h36m_cameras`` from ``<root>/cameras.h5``.

Action names.  File stems are ``<Action>`` or ``<Action> <n>`` (two takes per action
and subject; the number is part of the take's name, not a camera).  The release spells
some actions differently from the official database, so names are mapped to the 15
official ones of ``H36M_ACTIONS``: ``Photo`` -> ``TakingPhoto``, ``WalkDog`` ->
``WalkingDog`` and ``WalkingTogether`` -> ``WalkTogether`` (other releases use these
spellings too); the remaining 12 folder names already are the official names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from posenet.skeleton import H36M17_FROM_32

#: The 15 official actions, in the column order of the papers' per-action tables.
H36M_ACTIONS = (
    "Directions", "Discussion", "Eating", "Greeting", "Phoning", "TakingPhoto", "Posing",
    "Purchases", "Sitting", "SittingDown", "Smoking", "Waiting", "WalkingDog", "Walking",
    "WalkTogether",
)  # fmt: skip
#: Release spellings -> official action name (see the module docstring).
H36M_ACTION_ALIASES = {"Photo": "TakingPhoto", "WalkDog": "WalkingDog",
                       "WalkingTogether": "WalkTogether"}  # fmt: skip
H36M_TRAIN_SUBJECTS = (1, 5, 6, 7, 8)
H36M_TEST_SUBJECTS = (9, 11)
H36M_NUM_JOINTS = 32

_WHERE = (
    "expected the Human3.6M '3D_positions' release layout "
    "<root>/S<k>/MyPoses/3D_positions/<Action>[ n].h5 (dataset '3D_positions', 96 x T); "
    "Human3.6M is available from the official site http://vision.imar.ro/human3.6m "
    "after registration"
)
_STEM = re.compile(r"^(?P<base>[A-Za-z]+)(?: (?P<take>\d+))?$")


@dataclass(frozen=True, eq=False)
class H36mSequence:
    """One take: ``poses`` (T, 32, 3) float32 world mm sampled at ``frame_rate`` Hz.

    ``action`` is the official action name, ``subaction`` the file stem (e.g.
    ``"Walking 1"``), which also names the take's videos (see ``video_path``).
    """

    subject: int
    action: str
    subaction: str
    poses: np.ndarray
    frame_rate: float
    path: Path | None = None

    @property
    def num_frames(self) -> int:
        return int(self.poses.shape[0])


def normalize_action(name: str) -> str:
    """Official action name of a file stem or action name (``"WalkDog 1"`` -> ``"WalkingDog"``).

    ValueError for a name that is none of the 15 actions.
    """
    match = _STEM.match(name.strip())
    base = match["base"] if match else name.strip()
    base = H36M_ACTION_ALIASES.get(base, base)
    if base not in H36M_ACTIONS:
        raise ValueError(f"unknown Human3.6M action {name!r}; known: {', '.join(H36M_ACTIONS)}")
    return base


def to_h36m17(poses32) -> np.ndarray:
    """(..., 32, D) ``h36m32`` joints -> (..., 17, D) ``h36m17`` joints (a copy)."""
    arr = np.asarray(poses32)
    if arr.ndim < 2 or arr.shape[-2] != H36M_NUM_JOINTS:
        raise ValueError(f"expected (..., 32, D) Human3.6M joints, got shape {arr.shape}")
    return arr[..., list(H36M17_FROM_32), :]


def _subject_dirs(root: Path, subjects) -> dict[int, Path]:
    if not root.is_dir():
        raise FileNotFoundError(f"Human3.6M folder {root} not found: {_WHERE}")
    found = {}
    for d in root.iterdir():
        m = re.fullmatch(r"S(\d+)", d.name)
        if m and (d / "MyPoses" / "3D_positions").is_dir():
            found[int(m[1])] = d / "MyPoses" / "3D_positions"
    if not found:
        raise FileNotFoundError(f"no S<k>/MyPoses/3D_positions folder in {root}: {_WHERE}")
    if subjects is None:
        return dict(sorted(found.items()))
    missing = sorted(set(subjects) - set(found))
    if missing:
        raise FileNotFoundError(
            f"subjects {missing} have no S<k>/MyPoses/3D_positions folder in {root} "
            f"(found {sorted(found)}): {_WHERE}"
        )
    return {s: found[s] for s in sorted(set(subjects))}


def list_h36m_files(root, subjects=None, actions=None) -> list[tuple[int, str, str, Path]]:
    """``(subject, action, subaction, path)`` of every take, reading file names only.

    Sorted by subject, action (``H36M_ACTIONS`` order) and subaction.  ``actions`` may
    use either spelling (``"Photo"`` or ``"TakingPhoto"``).
    """
    wanted = None if actions is None else {normalize_action(a) for a in actions}
    rows = []
    for subject, folder in _subject_dirs(Path(root), subjects).items():
        for path in folder.glob("*.h5"):
            try:
                action = normalize_action(path.stem)
            except ValueError as err:
                raise ValueError(f"{path}: file name is not '<Action>[ n].h5' ({err})") from None
            if wanted is None or action in wanted:
                rows.append((subject, action, path.stem, path))
    rows.sort(key=lambda r: (r[0], H36M_ACTIONS.index(r[1]), r[2]))
    return rows


def read_h36m_poses(path) -> np.ndarray:
    """Read one take's ``3D_positions`` (96, T) as (T, 32, 3) float32 world mm."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Human3.6M pose file {path} not found: {_WHERE}")
    try:
        with h5py.File(path, "r") as h5:
            if "3D_positions" not in h5:
                raise ValueError(f"no '3D_positions' dataset (has {sorted(h5)})")
            data = np.asarray(h5["3D_positions"], dtype=np.float32)
    except (OSError, ValueError, TypeError) as err:
        raise ValueError(f"{path}: malformed Human3.6M pose file: {err}") from err
    if data.ndim != 2 or data.shape[0] != 3 * H36M_NUM_JOINTS or data.shape[1] == 0:
        raise ValueError(f"{path}: '3D_positions' has shape {data.shape}, expected (96, T)")
    # Rows are joint-major (x0, y0, z0, x1, ...): (96, T) -> (32, 3, T) -> (T, 32, 3).
    return np.ascontiguousarray(data.reshape(H36M_NUM_JOINTS, 3, -1).transpose(2, 0, 1))


def read_h36m_sequences(root, subjects=None, actions=None,
                        frame_rate: float = 10.0) -> list[H36mSequence]:  # fmt: skip
    """Read every take of ``subjects`` (default all present) and ``actions`` (default all).

    ``frame_rate`` (Hz) is recorded on each sequence, not used to resample: the original
    capture is 50 Hz, and the shared copy of the data is reduced to every 5th frame,
    hence the default 10.0; pass 50.0 for the full-rate release.
    FileNotFoundError when the layout is absent; ValueError naming a malformed file.
    """
    return [
        H36mSequence(subject=s, action=a, subaction=sub, poses=read_h36m_poses(p),
                     frame_rate=float(frame_rate), path=p)  # fmt: skip
        for s, a, sub, p in list_h36m_files(root, subjects, actions)
    ]


def video_path(root, subject: int, subaction: str, camera_name: str) -> Path | None:
    """``<root>/S<k>/Videos/<subaction>.<camera>.mp4`` when that file exists, else None."""
    path = Path(root) / f"S{int(subject)}" / "Videos" / f"{subaction}.{camera_name}.mp4"
    return path if path.is_file() else None
