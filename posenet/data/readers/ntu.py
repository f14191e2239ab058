"""NTU RGB+D (60 actions) Kinect v2 skeletons in the published ``.skeleton`` text format.

A file ``SsssCcccPpppRrrrAaaa.skeleton`` (setup, camera, performer, replication, action,
all 1-based) holds: the frame count; then per frame the body count; per body one line
of 10 values (bodyID, clippedEdges, handLeftConfidence, handLeftState,
handRightConfidence, handRightState, isRestricted, leanX, leanY, trackingState), the
joint count (25) and 25 lines of 12 values (x, y, z, depthX, depthY, colorX, colorY,
orientationW, orientationX, orientationY, orientationZ, trackingState).  Joints follow
the ``ntu`` layout of ``posenet.skeleton``.  Frames may hold no body (NTU's known
"missing skeleton" samples have none at all).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NTU_NUM_CLASSES = 60
NTU_NUM_JOINTS = 25
#: Performers of the cross-subject training set (all others are tested on).
NTU_CROSS_SUBJECT_TRAIN = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34,
                           35, 38)  # fmt: skip
#: Cameras of the cross-view training set; camera 1 is tested on.
NTU_CROSS_VIEW_TRAIN = (2, 3)
_NAME = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")
_WHERE = (
    "expected the NTU RGB+D skeleton files '<SsssCcccPpppRrrrAaaa>.skeleton' directly in "
    "that folder; NTU RGB+D is available from the ROSE lab site "
    "(https://rose1.ntu.edu.sg/dataset/actionRecognition/) after registration"
)


@dataclass(frozen=True, eq=False)
class NtuBody:
    """One tracked body over the frames where it appears.

    ``frames`` (T_b,) int frame indices (0-based) into the file, ``xyz`` (T_b, 25, 3)
    float32 metres in the Kinect camera frame, ``color`` (T_b, 25, 2) float32 pixels in
    the 1920x1080 RGB video, ``depth`` (T_b, 25, 2) float32 pixels in the 512x424 depth
    map, ``tracking`` (T_b, 25) int8: 0 not tracked, 1 inferred, 2 tracked.
    """

    body_id: str
    frames: np.ndarray
    xyz: np.ndarray
    color: np.ndarray
    depth: np.ndarray
    tracking: np.ndarray

    def motion(self) -> float:
        """Sum over joints and axes of the xyz variance over frames, m^2 (0 for 1 frame)."""
        return float(self.xyz.astype(np.float64).var(axis=0).sum())


@dataclass(frozen=True, eq=False)
class NtuSkeleton:
    """A parsed file: ids from its name (``action`` 1-based, ``label`` = action - 1)."""

    name: str
    setup: int
    camera: int
    performer: int
    replication: int
    action: int
    num_frames: int
    bodies: list[NtuBody]

    @property
    def label(self) -> int:
        return self.action - 1


def parse_ntu_name(name: str) -> tuple[int, int, int, int, int]:
    """``(setup, camera, performer, replication, action)`` of ``SsssCcccPpppRrrrAaaa``."""
    m = _NAME.search(Path(str(name)).name)
    if m is None:
        raise ValueError(f"{name!r} is not an NTU RGB+D sample name 'SsssCcccPpppRrrrAaaa'")
    return tuple(int(v) for v in m.groups())  # type: ignore[return-value]


class _Lines:
    """Cursor over a file's lines that reports errors as ``path:line``."""

    def __init__(self, path: Path):
        self.path, self.lines, self.n = path, path.read_text().splitlines(), 0

    def fail(self, what: str):
        raise ValueError(f"{self.path}:{self.n}: {what}")

    def values(self, count: int, what: str) -> list[str]:
        """The next line's ``count`` whitespace-separated tokens."""
        if self.n >= len(self.lines):
            self.n += 1  # the line that is missing
            self.fail(f"file ends early (after {len(self.lines)} lines), expected {what}")
        self.n += 1
        tokens = self.lines[self.n - 1].split()
        if len(tokens) != count:
            self.fail(f"expected {what} ({count} values), got {len(tokens)} values")
        return tokens

    def numbers(self, tokens: list[str], what: str) -> list[float]:
        """``tokens`` of the current line as floats, or a ValueError at that line."""
        try:
            return [float(v) for v in tokens]
        except ValueError:
            self.fail(f"expected {what} of numbers, got {' '.join(tokens)!r}")

    def floats(self, count: int, what: str) -> list[float]:
        return self.numbers(self.values(count, what), what)

    def integer(self, what: str) -> int:
        token = self.values(1, what)[0]
        if not token.isdigit():
            self.fail(f"expected {what} (a non-negative integer), got {token!r}")
        return int(token)


def read_skeleton_file(path) -> NtuSkeleton:
    """Parse one ``.skeleton`` file; ValueError naming the file and line when malformed."""
    path = Path(path)
    setup, camera, performer, replication, action = parse_ntu_name(path.stem)
    lines = _Lines(path)
    num_frames = lines.integer("the frame count")
    per_body: dict[str, list] = {}  # body id -> [frames, joint rows], in first-seen order
    for frame in range(num_frames):
        for _ in range(lines.integer(f"the body count of frame {frame + 1}")):
            body = lines.values(10, "a body line")
            lines.numbers(body, "a body line")  # bodyID is kept as text: it is a 64-bit id
            body_id = body[0]
            if lines.integer("the joint count") != NTU_NUM_JOINTS:
                lines.fail(f"expected {NTU_NUM_JOINTS} joints")
            rows = [lines.floats(12, "a joint line") for _ in range(NTU_NUM_JOINTS)]
            frames, joints = per_body.setdefault(body_id, ([], []))
            if frames and frames[-1] == frame:
                lines.fail(f"body {body_id} appears twice in frame {frame + 1}")
            frames.append(frame)
            joints.append(rows)
    extra = [i for i in range(lines.n, len(lines.lines)) if lines.lines[i].strip()]
    if extra:
        lines.n = extra[0] + 1
        lines.fail(f"unexpected data after the {num_frames} frames announced")
    bodies = []
    for body_id, (frames, joints) in per_body.items():
        j = np.asarray(joints, dtype=np.float64)  # (T_b, 25, 12)
        bodies.append(NtuBody(
            body_id=body_id, frames=np.asarray(frames, dtype=np.int64),
            xyz=j[..., 0:3].astype(np.float32), depth=j[..., 3:5].astype(np.float32),
            color=j[..., 5:7].astype(np.float32), tracking=j[..., 11].astype(np.int8),
        ))  # fmt: skip
    return NtuSkeleton(name=path.stem, setup=setup, camera=camera, performer=performer,
                       replication=replication, action=action, num_frames=num_frames,
                       bodies=bodies)  # fmt: skip


def main_bodies(skel: NtuSkeleton, n: int = 2) -> list[NtuBody]:
    """The ``n`` bodies with the most motion (``NtuBody.motion``), most moving first.

    Kinect often tracks spurious bodies (furniture, a passer-by) for a few frames; these
    barely move, so ranking by the summed per-joint xyz variance keeps the actors.  This
    is the common convention for NTU (at most 2 actors per sample).  Ties keep file order.
    """
    return sorted(skel.bodies, key=lambda b: -b.motion())[:n]


def stack_bodies(skel: NtuSkeleton, bodies: list[NtuBody] | None = None) -> np.ndarray:
    """(num_frames, len(bodies), 25, 3) float32 xyz metres, NaN where a body is absent.

    ``bodies`` defaults to ``main_bodies(skel)``.
    """
    bodies = main_bodies(skel) if bodies is None else bodies
    out = np.full((skel.num_frames, len(bodies), NTU_NUM_JOINTS, 3), np.nan, np.float32)
    for i, body in enumerate(bodies):
        out[body.frames, i] = body.xyz
    return out


def ntu_split(name: str, protocol: str = "xsub") -> str:
    """``"train"`` or ``"test"`` of sample ``name`` under ``protocol`` ``"xsub"``/``"xview"``.

    Cross-subject trains on the performers ``NTU_CROSS_SUBJECT_TRAIN``; cross-view
    trains on cameras 2 and 3 and tests on camera 1.
    """
    _, camera, performer, _, _ = parse_ntu_name(name)
    if protocol == "xsub":
        return "train" if performer in NTU_CROSS_SUBJECT_TRAIN else "test"
    if protocol == "xview":
        return "train" if camera in NTU_CROSS_VIEW_TRAIN else "test"
    raise ValueError(f"unknown NTU protocol {protocol!r}; use 'xsub' or 'xview'")


def read_ntu(root, protocol: str = "xsub", split: str = "train",
             progress: Callable[[int, int], None] | None = None) -> list[NtuSkeleton]:  # fmt: skip
    """Parse every ``*.skeleton`` in ``root`` belonging to ``split`` of ``protocol``.

    Files are sorted by name; ``progress(done, total)`` is called after each file.
    FileNotFoundError when ``root`` holds no skeleton file.
    """
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}; use 'train' or 'test'")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"NTU RGB+D folder {root} not found: {_WHERE}")
    paths = sorted(root.glob("*.skeleton"))
    if not paths:
        raise FileNotFoundError(f"no .skeleton file in {root}: {_WHERE}")
    chosen = [p for p in paths if ntu_split(p.stem, protocol) == split]
    out = []
    for i, path in enumerate(chosen):
        out.append(read_skeleton_file(path))
        if progress is not None:
            progress(i + 1, len(chosen))
    return out


def rgb_video_path(root_videos, name: str) -> Path | None:
    """``<root_videos>/<name>_rgb.avi`` when that file exists, else None."""
    path = Path(root_videos) / f"{name}_rgb.avi"
    return path if path.is_file() else None
