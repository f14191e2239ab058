"""Qualisys calibrations (``.qca.txt``, QTM's XML export) read into ``Camera``s.

Per active ``<camera serial=...>``: a ``<transform>`` (``r11`` .. ``r33``, ``x, y, z``), an
``<intrinsic>`` in sensor sub-pixel units, and the ``<fov_video>`` window (sensor pixels,
inclusive) that the video shows. What each means was established on the four-camera
Pose2Sim multi-person recording (``../shared/data/videos/pose2sim_multiperson``, 1088 x
1920 px): the joints of the person every camera sees (9 torso and head joints, frames
0-14, posenet's predictions) were triangulated by DLT from the four views under each
reading, and the one whose reprojection error was smallest kept (median / 90th percentile
over the 540 joint views, and how many of them fall behind their camera):

- ``x, y, z`` is the camera's centre in world mm, so ``t = -R @ (x, y, z)`` (read as ``t``
  itself: 296 px or more, for every rotation below);
- ``r_ij`` read row by row is the world-to-camera rotation of a camera whose axes are x
  right, y *up*, z *backwards* (towards the viewer); OpenCV's (y down, z forward) is
  ``R = diag(1, -1, -1) @ r``: 12.9 / 20.1 px, none behind. ``r`` itself: 126 / 309 px, all
  540 behind; ``diag(-1, 1, -1) @ r``: 51 / 113 px; ``diag(-1, -1, 1) @ r``: 189 / 356 px;
  any of these with ``r`` transposed: 276 px or more;
- the intrinsics are in sub-pixels: ``(sensorMaxU - sensorMinU)`` over the full sensor's
  width in pixels (``fov_marker_max``, else ``fov_video``: ``right - left``), 64 for
  that rig; focal lengths and principal point are divided by it, and the principal point
  is moved by the video window's ``left``/``top``. Mirroring the principal point (``W - 1 -
  cx``, ``H - 1 - cy``) gave 16-31 px;
- ``radialDistortion1..3`` and ``tangentalDistortion1, 2`` are OpenCV's ``k1, k2, k3,
  p1, p2``: the rig's lenses move the corners by 3-9 px (1-2 px mid-edge), so the data
  cannot tell this from no distortion (12.8 px against 12.9).

The 12.9 px left is of the order of the pose network's own 2D error (1.3% of a person
1000 px tall; 2-3 cm at 3.5 m).

A ``viewrotation`` other than 0 (a camera mounted sideways whose video is rotated) is not
supported and raises ValueError, as does any missing or non-numeric field.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from posenet.triangulation.camera import Camera

#: The rotation from a Qualisys camera's axes (x right, y up, z back) to OpenCV's.
QUALISYS_TO_OPENCV = np.diag([1.0, -1.0, -1.0])
_INTRINSIC = ("focalLengthU", "focalLengthV", "centerPointU", "centerPointV",
              "sensorMinU", "sensorMaxU", "sensorMinV", "sensorMaxV")


def _numbers(element, keys, where) -> dict[str, float]:
    if element is None:
        raise ValueError(f"{where}: missing")
    out = {}
    for key in keys:
        if key not in element.attrib:
            raise ValueError(f"{where}: missing {key!r}")
        try:
            out[key] = float(element.attrib[key])
        except ValueError:
            raise ValueError(f"{where}: {key}={element.attrib[key]!r} is not a number") from None
    return out


def _window(camera, tag, where):
    """(left, top, right, bottom) of a ``fov_*`` element in sensor pixels, or None."""
    element = camera.find(tag)
    if element is None:
        return None
    box = _numbers(element, ("left", "top", "right", "bottom"), f"{where} <{tag}>")
    left, top, right, bottom = (box[k] for k in ("left", "top", "right", "bottom"))
    if right <= left or bottom <= top:
        raise ValueError(f"{where} <{tag}>: empty window {left, top, right, bottom}")
    return left, top, right, bottom


def _camera(element, index) -> Camera:
    name = element.attrib.get("serial") or f"cam{index + 1:02d}"
    where = f"camera {name!r}"
    if float(element.attrib.get("viewrotation", 0) or 0) != 0:
        raise ValueError(f"{where}: viewrotation={element.attrib['viewrotation']} is not "
                         "supported (only upright cameras, viewrotation 0)")
    transform = _numbers(element.find("transform"),
                         [f"r{i}{j}" for i in "123" for j in "123"] + ["x", "y", "z"],
                         f"{where} <transform>")
    intrinsic = _numbers(element.find("intrinsic"), _INTRINSIC, f"{where} <intrinsic>")
    extra = element.find("intrinsic").attrib

    def optional(key):
        try:
            return float(extra.get(key, 0.0) or 0.0)
        except ValueError:
            raise ValueError(f"{where} <intrinsic>: {key}={extra[key]!r} is not a number") from None

    video = _window(element, "fov_video", where)
    if video is None:
        raise ValueError(f"{where}: missing <fov_video>")
    sensor = _window(element, "fov_marker_max", where) or video
    scale_u = (intrinsic["sensorMaxU"] - intrinsic["sensorMinU"]) / (sensor[2] - sensor[0])
    scale_v = (intrinsic["sensorMaxV"] - intrinsic["sensorMinV"]) / (sensor[3] - sensor[1])
    if scale_u <= 0 or scale_v <= 0:
        raise ValueError(f"{where} <intrinsic>: sensorMax must exceed sensorMin")
    K = np.array([
        [intrinsic["focalLengthU"] / scale_u, optional("skew") / scale_u,
         intrinsic["centerPointU"] / scale_u - video[0]],
        [0.0, intrinsic["focalLengthV"] / scale_v, intrinsic["centerPointV"] / scale_v - video[1]],
        [0.0, 0.0, 1.0]])
    dist = [optional("radialDistortion1"), optional("radialDistortion2"),
            optional("tangentalDistortion1"), optional("tangentalDistortion2"),
            optional("radialDistortion3")]
    rotation = np.array([[transform[f"r{i}{j}"] for j in "123"] for i in "123"])
    R = QUALISYS_TO_OPENCV @ rotation
    centre = np.array([transform["x"], transform["y"], transform["z"]])
    size = (int(round(video[2] - video[0])) + 1, int(round(video[3] - video[1])) + 1)
    return Camera(name=name, size=size, K=K, dist=dist, R=R, t=-R @ centre)


def parse_qualisys(text, where="<text>") -> list[Camera]:
    """The active cameras (``active="1"``, or no ``active``) of a Qualisys calibration's
    XML ``text``, in file order; ValueError when it is malformed."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise ValueError(f"{where}: not XML ({error})") from None
    if root.tag != "calibration":
        raise ValueError(f"{where}: not a Qualisys calibration (root <{root.tag}>)")
    elements = [c for c in root.iter("camera") if c.attrib.get("active", "1") != "0"]
    if not elements:
        raise ValueError(f"{where}: no active <camera>")
    try:
        cameras = [_camera(c, i) for i, c in enumerate(elements)]
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    names = [c.name for c in cameras]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: camera serials repeat: {names}")
    return cameras


def read_qualisys(path) -> list[Camera]:
    """The active cameras of the Qualisys ``.qca.txt`` at ``path`` (see the module)."""
    with open(path, "rb") as f:
        return parse_qualisys(f.read(), str(path))
