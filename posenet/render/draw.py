"""Drawing a person: projected body parts, shaded, painted far to near, with visibility.

Pixel convention (as ``posenet.skeleton``): coordinates are continuous and pixel ``i``
covers ``[i, i + 1)``, so ``joints_2d`` lie in ``[0, W) x [0, H)`` when inside the image and
pixel ``(floor(v), floor(u))`` holds joint ``(u, v)``.  OpenCV puts integer coordinates at
pixel centres, so points are shifted by -0.5 px before drawing (with 4 fractional bits, for
smooth sub-pixel motion).

Visibility rule: while drawing, every part also paints its ID into a part-ID buffer (same
shapes, same far-to-near order, no anti-aliasing), so the buffer holds the topmost part at
each pixel.  A joint is *visible* when

1. it is in front of the camera (``z > NEAR_MM``) and its pixel is inside the image;
2. the topmost part at its pixel is one the joint belongs to (e.g. the elbow belongs to the
   upper arm and the forearm, the shoulder to the upper arm and the chest); and
3. it lies no more than that part's radius behind the part's medial axis (at the axis
   point nearest to the joint).  Joints are on the axes of their limbs, so this only
   matters for the torso, whose slabs own the shoulders and hips: turned more than about
   45 degrees from the camera, the far shoulder and hip are inside the chest / hips slab
   but deeper than its front half, so hidden.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from posenet.render.body import NUM_JOINTS, BodyStyle, build_parts

__all__ = ["DEFAULT_LIGHT", "NEAR_MM", "project_pinhole", "render_person"]

#: Parts with a point closer than this (mm, along z) are not drawn; joints are invisible.
NEAR_MM = 50.0
#: Direction towards the light in the camera frame (unit): from the upper left, in front.
DEFAULT_LIGHT = (-0.4, -0.6, -0.7)

_SHIFT = 4  # fractional bits of OpenCV drawing coordinates
_ONE = 1 << _SHIFT
_MAX_PX = 1.0e6  # clamp far-off points so fixed-point coordinates cannot overflow
_MAX_RADIUS_PX = 8000.0  # OpenCV caps line thickness at 32767
_AA = cv2.LINE_AA


def project_pinhole(points_cam, f, c) -> np.ndarray:
    """(..., 3) camera-frame mm -> (..., 2) pixels: ``u = fx X / Z + cx``, ``v = fy Y / Z + cy``.

    ``f`` (2,) focal lengths and ``c`` (2,) principal point in pixels; no distortion.
    Points with ``Z <= 0`` have no image: NaN.
    """
    pts = np.asarray(points_cam, dtype=np.float64)
    z = pts[..., 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        xy = np.where(z > 0, pts[..., :2] / z, np.nan)
    return xy * np.asarray(f, dtype=np.float64) + np.asarray(c, dtype=np.float64)


# ----------------------------------------------------------------------------- shading


def _tones(color, light: float) -> tuple[tuple[float, ...], ...]:
    """(rim, body, highlight) BGR tones of ``color`` for a diffuse factor ``light`` in [0, 1].

    The rim is darker than the body so every part reads as rounded (cheap ambient
    occlusion); the highlight is offset towards the light."""
    body = [v * (0.55 + 0.45 * light) for v in color]
    rim = tuple(v * 0.6 for v in body)
    high = tuple(min(255.0, v * 1.2 + 14.0) for v in body)
    return rim, tuple(body), high


# (radius fraction, tone index, highlight offset in radii) of the three drawn layers.
_LAYERS = ((1.0, 0, 0.0), (0.78, 1, 0.1), (0.42, 2, 0.32))


def _fix(x: float) -> int:
    """Python float px -> fixed-point int (numpy scalars would make this 3x slower).

    Callers pass coordinates clamped to ``_MAX_PX`` (render_person clamps them once)."""
    return math.floor(x * _ONE + 0.5)


def _capsule(dst, color, line, ax, ay, bx, by, ra, rb) -> None:
    """A tapered capsule: circles at both ends joined by their outer tangents."""
    cv2.circle(dst, (_fix(ax), _fix(ay)), max(1, _fix(ra)), color, -1, line, _SHIFT)
    cv2.circle(dst, (_fix(bx), _fix(by)), max(1, _fix(rb)), color, -1, line, _SHIFT)
    dx, dy = bx - ax, by - ay
    d = math.hypot(dx, dy)
    if d <= abs(ra - rb) + 1e-6:
        return  # one circle holds the other
    ux, uy = dx / d, dy / d
    s = (ra - rb) / d  # the tangents lean by asin(s) when the radii differ
    co = math.sqrt(max(0.0, 1.0 - s * s))
    m1 = (ux * s - uy * co, uy * s + ux * co)
    m2 = (ux * s + uy * co, uy * s - ux * co)
    quad = np.array([
        (_fix(ax + ra * m1[0]), _fix(ay + ra * m1[1])),
        (_fix(bx + rb * m1[0]), _fix(by + rb * m1[1])),
        (_fix(bx + rb * m2[0]), _fix(by + rb * m2[1])),
        (_fix(ax + ra * m2[0]), _fix(ay + ra * m2[1])),
    ], dtype=np.int32)  # fmt: skip
    cv2.fillConvexPoly(dst, quad, color, line, _SHIFT)


def _slab(dst, color, line, poly: np.ndarray, radius: float) -> None:
    """A polygon swept by a disc: the filled polygon plus its outline, ``radius`` thick."""
    pts = [np.round(np.clip(poly, -_MAX_PX, _MAX_PX) * _ONE).astype(np.int32)]
    cv2.fillPoly(dst, pts, color, line, _SHIFT)
    cv2.polylines(dst, pts, True, color, max(1, int(round(2.0 * radius))), line, _SHIFT)


def _ellipse(dst, color, line, cx, cy, major, minor, angle) -> None:
    cv2.ellipse(dst, (_fix(cx), _fix(cy)), (max(1, _fix(major)), max(1, _fix(minor))),
                angle, 0.0, 360.0, color, -1, line, _SHIFT)


# ------------------------------------------------------------------------------- parts


def _draw_capsule(img, ids, pid, part, p2, pts3, px_per_mm, light) -> None:
    a, b = part.idx
    ax, ay = p2[a].tolist()
    bx, by = p2[b].tolist()
    ra = min(part.radii[0] * float(px_per_mm[a]), _MAX_RADIUS_PX)
    rb = min(part.radii[1] * float(px_per_mm[b]), _MAX_RADIUS_PX)
    axis = pts3[b] - pts3[a]
    n = float(np.linalg.norm(axis))
    along = float(np.dot(axis, light)) / n if n > 0 else 0.0
    # The best-lit normal of a cylinder is the light's component across its axis.
    tones = _tones(part.color, math.sqrt(max(0.0, 1.0 - along * along)))
    dx, dy = bx - ax, by - ay
    d = math.hypot(dx, dy) or 1.0
    ux, uy = dx / d, dy / d
    dot = light[0] * ux + light[1] * uy
    ox, oy = light[0] - dot * ux, light[1] - dot * uy  # image light across the limb
    for frac, tone, off in _LAYERS:
        _capsule(img, tones[tone], _AA, ax + ox * off * ra, ay + oy * off * ra,
                 bx + ox * off * rb, by + oy * off * rb, frac * ra, frac * rb)
    _capsule(ids, pid, cv2.LINE_8, ax, ay, bx, by, max(ra, 0.8), max(rb, 0.8))


def _draw_slab(img, ids, pid, part, p2, pts3, px_per_mm, light) -> None:
    idx = list(part.idx)
    poly = p2[idx]
    radius = min(part.radii[0] * float(np.mean(px_per_mm[idx])), _MAX_RADIUS_PX)
    rim, body, high = _tones(part.color, abs(float(np.dot(part.normal, light))))
    # A broad flat highlight would read as a patch: keep it close to the body tone.
    tones = (rim, body, tuple(0.5 * (a + b) for a, b in zip(body, high, strict=True)))
    centre = poly.mean(axis=0)
    offset = np.array(light[:2]) * radius
    for (frac, tone, off), shrink in zip(_LAYERS, (1.0, 0.92, 0.55), strict=True):
        layer = centre + (poly - centre) * shrink + offset * off
        _slab(img, tones[tone], _AA, layer, frac * radius)
    _slab(ids, pid, cv2.LINE_8, poly, max(radius, 0.8))


def _head_ellipse(p2, pts3, px_per_mm, centre, top, half_width, half_height):
    """Image ellipse (cx, cy, axis along the head, axis across, angle deg) of the head
    ellipsoid: its outline has half-axes ``w`` across and ``sqrt(h^2 sin^2 + w^2 cos^2)``
    along the projected axis, for the axis at angle ``acos(cos)`` to the viewing ray."""
    cx, cy = p2[centre].tolist()
    qx, qy = (p2[top] - p2[centre]).tolist()
    s = float(px_per_mm[centre])
    axis = pts3[top] - pts3[centre]
    ray = pts3[centre]
    cos = abs(float(np.dot(axis, ray))) / (float(np.linalg.norm(axis) * np.linalg.norm(ray))
                                           or 1.0)
    w = min(half_width * s, _MAX_RADIUS_PX)
    along = min(math.sqrt(qx * qx + qy * qy + (w * cos) ** 2), _MAX_RADIUS_PX)
    angle = math.degrees(math.atan2(qy, qx)) if qx or qy else 0.0
    return cx, cy, along, w, angle


def _draw_head(img, ids, pid, part, p2, pts3, px_per_mm, light) -> None:
    """Face ellipse, hair behind it (volume) and a hair sector over it: half the head on
    the side of the thickest hair, growing to the whole head as it turns away."""
    centre, top, hair, hair_dir = part.idx
    half_width, half_height, hair_amount = part.radii
    face = _head_ellipse(p2, pts3, px_per_mm, centre, top, half_width, half_height)
    cx, cy, major, minor, angle = face
    lx, ly = light[0], light[1]
    face_tones = _tones(part.color, 0.85)
    if hair_amount <= 0:
        for frac, tone, off in _LAYERS:
            _ellipse(img, face_tones[tone], _AA, cx + lx * off * minor, cy + ly * off * minor,
                     frac * major, frac * minor, angle)
        _ellipse(ids, pid, cv2.LINE_8, cx, cy, max(major, 0.8), max(minor, 0.8), angle)
        return
    grow = 0.98 + 0.08 * hair_amount
    hair_tones = _tones(part.accent, 0.7)
    back = (*p2[hair].tolist(), major * grow, minor * grow, angle)
    back_first = pts3[hair][2] > pts3[centre][2]  # painter's order of hair and face
    if back_first:
        _ellipse(img, hair_tones[0], _AA, *back)
        _ellipse(img, hair_tones[1], _AA, *back[:2], 0.85 * back[2], 0.85 * back[3], angle)
    for frac, tone, off in _LAYERS:
        _ellipse(img, face_tones[tone], _AA, cx + lx * off * minor, cy + ly * off * minor,
                 frac * major, frac * minor, angle)
    if not back_first:
        _ellipse(img, hair_tones[0], _AA, *back)
        _ellipse(img, hair_tones[1], _AA, *back[:2], 0.85 * back[2], 0.85 * back[3], angle)
    # The sector: OpenCV angles are parametric, (a cos t, b sin t) in the ellipse frame.
    dx, dy = (p2[hair_dir] - p2[centre]).tolist()
    phi = math.atan2(dy, dx) - math.radians(angle)
    mid = math.degrees(math.atan2(major * math.sin(phi), minor * math.cos(phi)))
    ray = pts3[centre] / (float(np.linalg.norm(pts3[centre])) or 1.0)
    away = float(np.dot(part.normal, ray))  # > 0: the face turns away from the camera
    turned = min(max(1.5 * away, 0.0), 1.0)
    half_span = 90.0 + 90.0 * turned
    # Facing the camera the hairline is above the eyes: move the sector's apex up.
    lift = 0.3 * (1.0 - turned)
    tx, ty = p2[top].tolist()
    fix = (_fix(cx + lift * (tx - cx)), _fix(cy + lift * (ty - cy)))
    for frac, tone in ((1.0, 0), (0.85, 1)):
        axes = (max(1, _fix(frac * grow * major)), max(1, _fix(frac * grow * minor)))
        cv2.ellipse(img, fix, axes, angle, mid - half_span, mid + half_span,
                    hair_tones[tone], -1, _AA, _SHIFT)
    for ex, ey, ea, eb, _ in (face, back):
        _ellipse(ids, pid, cv2.LINE_8, ex, ey, max(ea, 0.8), max(eb, 0.8), angle)
    axes = (max(1, _fix(grow * major)), max(1, _fix(grow * minor)))
    cv2.ellipse(ids, fix, axes, angle, mid - half_span, mid + half_span, pid, -1, cv2.LINE_8,
                _SHIFT)


_DRAW = {"capsule": _draw_capsule, "slab": _draw_slab, "head": _draw_head}


# ------------------------------------------------------------------------------ person


def render_person(
    image: np.ndarray,
    joints_cam,
    f,
    c,
    style: BodyStyle,
    points_2d=None,
    light_dir=DEFAULT_LIGHT,
    return_ids: bool = False,
):
    """Draw a person over a copy of ``image`` (H, W, 3) uint8.

    ``joints_cam`` (17, 3): h36m17 joints in the camera frame, mm (z forward).  ``f``,
    ``c`` (2,): pinhole focal lengths and principal point, px; pixel radii of parts are
    ``sqrt(fx fy) * radius / depth``.  ``points_2d`` (17, 2) px, optional: image positions
    of the joints to use instead of the pinhole projection (e.g. from a distorting camera);
    the other points of the body follow the joint they hang from.  ``light_dir`` (3,):
    direction towards the light, camera frame.

    Returns ``(image, joints_2d (17, 2) px float64, visible (17,) bool)``, and the part-ID
    buffer (H, W) uint8 (0 background, ``i + 1`` part ``PART_NAMES[i]``) when
    ``return_ids``.  See the module docstring for pixel coordinates and visibility.
    """
    img = np.array(image, dtype=np.uint8, copy=True)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3), got {img.shape}")
    height, width = img.shape[:2]
    joints = np.asarray(joints_cam, dtype=np.float64)
    if joints.shape != (NUM_JOINTS, 3):
        raise ValueError(f"joints_cam must be ({NUM_JOINTS}, 3), got {joints.shape}")
    f = np.asarray(f, dtype=np.float64).reshape(2)
    light = np.asarray(light_dir, dtype=np.float64).reshape(3)
    light = light / (np.linalg.norm(light) or 1.0)

    pts3, anchors, parts = build_parts(joints, style)
    p2 = project_pinhole(pts3, f, c)
    if points_2d is not None:
        given = np.asarray(points_2d, dtype=np.float64)
        if given.shape != (NUM_JOINTS, 2):
            raise ValueError(f"points_2d must be ({NUM_JOINTS}, 2), got {given.shape}")
        # Non-joint points move with their anchor joint (distortion is locally a shift).
        p2 = p2 + (given - p2[:NUM_JOINTS])[anchors]
        p2[:NUM_JOINTS] = given
    joints_2d = p2[:NUM_JOINTS].copy()
    z = pts3[:, 2]
    ok = np.isfinite(p2).all(axis=1) & np.isfinite(z) & (z > NEAR_MM)
    with np.errstate(divide="ignore", invalid="ignore"):
        px_per_mm = math.sqrt(f[0] * f[1]) / z
    # Continuous pixel coordinates -> OpenCV's pixel-centred ones, clamped so far-off
    # points cannot overflow OpenCV's fixed-point coordinates.
    draw2 = np.clip(np.nan_to_num(p2 - 0.5), -_MAX_PX, _MAX_PX)

    ids = np.zeros((height, width), dtype=np.uint8)
    keys = []
    for i, part in enumerate(parts):
        if ok[list(part.idx)].all() and ok[list(part.axis)].all():
            keys.append((float(z[list(part.axis)].mean()) + part.bias, i))
    light_t = tuple(float(v) for v in light)
    for _, i in sorted(keys, reverse=True):  # far to near: painter's algorithm
        part = parts[i]
        _DRAW[part.kind](img, ids, i + 1, part, draw2, pts3, px_per_mm, light_t)

    visible = np.zeros(NUM_JOINTS, dtype=bool)
    for jn in range(NUM_JOINTS):
        u, v = joints_2d[jn]
        if not (ok[jn] and 0.0 <= u < width and 0.0 <= v < height):
            continue
        pid = int(ids[int(v), int(u)])
        if pid == 0 or jn not in parts[pid - 1].owners:
            continue
        part = parts[pid - 1]
        a, b = pts3[part.axis[0]], pts3[part.axis[1]]
        ab = b - a
        t = float(np.dot(joints[jn] - a, ab)) / (float(np.dot(ab, ab)) or 1.0)
        axis_z = float(a[2] + min(max(t, 0.0), 1.0) * ab[2])
        visible[jn] = joints[jn, 2] <= axis_z + max(part.radii[:2])
    if return_ids:
        return img, joints_2d, visible, ids
    return img, joints_2d, visible
