"""Body model of the renderer: styles (girth, clothes, colours) and 3D body parts.

A body is a set of parts hung on the h36m17 joints (camera frame, millimetres):

- capsules (a segment swept by a sphere whose radius varies linearly along it): upper
  arms, forearms, hands, thighs, shins, feet, neck;
- slabs (a polygon swept by a sphere, i.e. a rounded flat box): the chest and the hips;
- the head: an ellipsoid of revolution about the neck -> head_top axis, plus a hair
  ellipsoid of the same shape shifted up and back.

Hands, feet and the torso outline need points that are not joints (finger tips, toes,
torso corners); they are built from the joints and the body's forward direction.  Each
point records the joint it hangs from (its *anchor*), so a caller-supplied 2D position
of that joint (e.g. from a distorting camera) can carry the point along.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["BodyStyle", "Part", "build_parts", "random_style", "PART_NAMES"]

Color = tuple[int, int, int]

# h36m17 joint indices (see posenet.skeleton).
PELVIS, R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE = range(7)
SPINE, THORAX, NECK, HEAD_TOP = 7, 8, 9, 10
L_SHOULDER, L_ELBOW, L_WRIST, R_SHOULDER, R_ELBOW, R_WRIST = 11, 12, 13, 14, 15, 16
NUM_JOINTS = 17

#: Names of the parts, in the order ``build_parts`` returns them; part ``i`` has ID ``i+1``
#: in the renderer's part-ID buffer (0 is background).
PART_NAMES: tuple[str, ...] = (
    "hips", "chest", "neck", "head",
    "r_thigh", "r_shin", "r_foot", "l_thigh", "l_shin", "l_foot",
    "r_upper_arm", "r_forearm", "r_hand", "l_upper_arm", "l_forearm", "l_hand",
)  # fmt: skip


@dataclass(frozen=True)
class BodyStyle:
    """Appearance of one person.  Radii are in millimetres, colours BGR uint8 triples.

    The torso is a rounded slab: ``torso`` is its half-thickness (front to back) and the
    ``*_width`` fractions pull its corners from the shoulder / hip joints towards the body
    axis (its half-width at the shoulders is ``shoulder_width * 150 + torso`` mm for
    150 mm between thorax and shoulder).  ``head`` / ``head_height`` are the head's
    half-width and half-height; ``hair_amount`` in [0, 1] scales the hair (0: bald).
    """

    upper_arm: float = 46.0
    forearm: float = 38.0
    hand: float = 38.0
    thigh: float = 72.0
    knee: float = 52.0  # thigh radius at the knee (thighs taper)
    shin: float = 46.0
    foot: float = 38.0
    neck: float = 52.0
    torso: float = 100.0
    shoulder_width: float = 0.45
    waist_width: float = 0.35
    hip_width: float = 0.65
    head: float = 82.0
    head_height: float = 108.0
    skin: Color = (120, 160, 210)
    shirt: Color = (160, 80, 40)
    trousers: Color = (60, 50, 40)
    shoes: Color = (30, 30, 30)
    hair: Color = (30, 40, 60)
    hair_amount: float = 1.0
    long_sleeves: bool = False
    shorts: bool = False


def _hsv_to_bgr(h: float, s: float, v: float) -> Color:
    """Hue in [0, 180) (OpenCV), saturation and value in [0, 255] -> a BGR triple."""
    px = np.array([[[h, s, v]]], dtype=np.uint8)
    return tuple(int(x) for x in cv2.cvtColor(px, cv2.COLOR_HSV2BGR)[0, 0])


# Skin tones from light to dark (BGR); a random style blends two neighbours.
_SKIN_TONES = np.array([
    (189, 214, 247), (160, 196, 234), (128, 170, 222), (99, 141, 198),
    (74, 112, 168), (52, 80, 128), (36, 56, 92),
], dtype=np.float64)  # fmt: skip
# Hair colours (BGR): black, dark brown, brown, auburn, blond, grey.
_HAIR = np.array([
    (20, 20, 25), (30, 40, 60), (40, 70, 110), (30, 60, 140), (110, 180, 220), (160, 160, 160),
], dtype=np.float64)  # fmt: skip


def _cloth_colour(rng: np.random.Generator) -> Color:
    if rng.random() < 0.25:  # greys, black and white are common clothes colours
        g = int(rng.integers(15, 240))
        return (g, g, g)
    return _hsv_to_bgr(float(rng.integers(0, 180)), float(rng.integers(40, 256)),
                       float(rng.integers(40, 256)))


def random_style(rng: np.random.Generator) -> BodyStyle:
    """A random person: girth (thin to heavy), per-part thickness jitter, skin tone,
    clothes (colours, long / short sleeves, trousers / shorts) and hair."""
    girth = rng.uniform(0.8, 1.3)  # overall thickness
    legs = girth * rng.uniform(0.9, 1.1)
    arms = girth * rng.uniform(0.9, 1.1)

    def jitter(base: float, scale: float) -> float:
        return float(base * scale * rng.uniform(0.92, 1.08))

    i = rng.uniform(0.0, len(_SKIN_TONES) - 1)
    lo = int(i)
    skin = _SKIN_TONES[lo] + (i - lo) * (_SKIN_TONES[min(lo + 1, len(_SKIN_TONES) - 1)]
                                         - _SKIN_TONES[lo])
    hair = _HAIR[rng.integers(len(_HAIR))] * rng.uniform(0.8, 1.2)
    head_scale = rng.uniform(0.92, 1.08)
    return BodyStyle(
        upper_arm=jitter(46.0, arms),
        forearm=jitter(38.0, arms),
        hand=jitter(38.0, np.sqrt(arms)),
        thigh=jitter(72.0, legs),
        knee=jitter(52.0, legs),
        shin=jitter(46.0, legs),
        foot=jitter(38.0, np.sqrt(legs)),
        neck=jitter(52.0, girth),
        torso=jitter(100.0, girth),
        shoulder_width=float(rng.uniform(0.35, 0.6)),
        waist_width=float(rng.uniform(0.2, 0.45) * girth),
        hip_width=float(rng.uniform(0.5, 0.8)),
        head=float(82.0 * head_scale),
        head_height=float(108.0 * head_scale),
        skin=tuple(int(v) for v in np.clip(skin + rng.normal(0, 6, 3), 0, 255)),
        shirt=_cloth_colour(rng),
        trousers=_cloth_colour(rng),
        shoes=_cloth_colour(rng) if rng.random() < 0.5 else (25, 25, 25),
        hair=tuple(int(v) for v in np.clip(hair, 0, 255)),
        hair_amount=float(0.0 if rng.random() < 0.1 else rng.uniform(0.5, 1.0)),
        long_sleeves=bool(rng.random() < 0.5),
        shorts=bool(rng.random() < 0.25),
    )


@dataclass(frozen=True)
class Part:
    """One body part.  ``idx`` index rows of the point array of ``build_parts``.

    kind "capsule": ``idx`` = the 2 axis end points, ``radii`` their radii (mm).
    kind "slab": ``idx`` = polygon vertices, ``radii`` = (rounding radius,).
    kind "head": ``idx`` = (centre, top, back-hair centre, a point above and behind the
    centre where the hair is thickest); ``radii`` = (half-width, half-height, hair amount).
    ``owners``: joints this part belongs to (a joint is visible where such a part is on
    top).  ``axis``: two point rows spanning the part's medial axis, for the depth test
    of visibility.  ``bias`` (mm) is added to the depth used for the drawing order.
    ``normal``: (3,) unit body-forward direction, used for shading slabs.
    """

    name: str
    kind: str
    idx: tuple[int, ...]
    radii: tuple[float, ...]
    color: Color
    owners: frozenset[int]
    axis: tuple[int, int]
    bias: float = 0.0
    normal: tuple[float, float, float] = (0.0, 0.0, -1.0)
    accent: Color = (0, 0, 0)  # the head's hair colour


def _unit(v: np.ndarray, fallback) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else np.asarray(fallback, dtype=np.float64)


def build_parts(joints: np.ndarray, style: BodyStyle) -> tuple[np.ndarray, np.ndarray, list[Part]]:
    """Body parts of a person with h36m17 ``joints`` (17, 3) mm in the camera frame.

    Returns ``(points (N, 3) mm, anchors (N,) joint index, parts)``: rows 0..16 of
    ``points`` are the joints themselves; parts follow ``PART_NAMES``.
    """
    j = np.asarray(joints, dtype=np.float64)
    s = style
    up = _unit(j[THORAX] - j[PELVIS], (0.0, -1.0, 0.0))
    right = _unit((j[R_HIP] - j[L_HIP]) + (j[R_SHOULDER] - j[L_SHOULDER]), (-1.0, 0.0, 0.0))
    # Right-handed body frame: forward = up x right (facing +y when up = +z, right = +x).
    fwd = _unit(np.cross(up, right), (0.0, 0.0, -1.0))

    extra: list[np.ndarray] = []
    anchors: list[int] = list(range(NUM_JOINTS))

    def add(point: np.ndarray, anchor: int) -> int:
        extra.append(point)
        anchors.append(anchor)
        return NUM_JOINTS + len(extra) - 1

    # Torso slab corners, pulled towards the body axis so the rounding radius makes the
    # outline; the top corners sit a little below the shoulders (sloping shoulders).
    half_sho = 0.5 * (j[L_SHOULDER] - j[R_SHOULDER])
    half_hip = 0.5 * (j[L_HIP] - j[R_HIP])
    half_mid = 0.5 * (half_sho + half_hip)
    drop = 0.45 * s.torso * _unit(j[THORAX] - j[SPINE], up)
    waist = j[SPINE] + 0.45 * (j[PELVIS] - j[SPINE])
    sho_l = add(j[THORAX] + s.shoulder_width * half_sho - drop, L_SHOULDER)
    sho_r = add(j[THORAX] - s.shoulder_width * half_sho - drop, R_SHOULDER)
    mid_l = add(j[SPINE] + s.waist_width * half_mid, SPINE)
    mid_r = add(j[SPINE] - s.waist_width * half_mid, SPINE)
    wst_l = add(waist + s.waist_width * half_mid, SPINE)
    wst_r = add(waist - s.waist_width * half_mid, SPINE)
    hip_l = add(j[PELVIS] + s.hip_width * half_hip, L_HIP)
    hip_r = add(j[PELVIS] - s.hip_width * half_hip, R_HIP)

    # Head: an ellipsoid whose top touches head_top, about the neck -> head_top axis.
    head_dir = _unit(j[HEAD_TOP] - j[NECK], up)
    head_c = add(j[HEAD_TOP] - head_dir * (s.head_height - 8.0), HEAD_TOP)  # hair adds ~8 mm
    head_top = add(j[HEAD_TOP] + head_dir * 8.0, HEAD_TOP)
    hair_c = add(extra[head_c - NUM_JOINTS] + head_dir * 0.1 * s.head_height
                 - fwd * 0.15 * s.head, HEAD_TOP)
    # Where the hair is thickest: above and behind the head centre.
    hair_dir = add(extra[head_c - NUM_JOINTS] + s.head_height * _unit(head_dir - 0.7 * fwd, up),
                   HEAD_TOP)
    neck_end = add(j[THORAX] + 0.7 * (extra[head_c - NUM_JOINTS] - j[THORAX]), NECK)

    # Hands continue the forearms; feet point forward, their soles across the shins.
    def hand(elbow: int, wrist: int) -> int:
        return add(j[wrist] + _unit(j[wrist] - j[elbow], -up) * 75.0, wrist)

    def foot(knee: int, ankle: int) -> tuple[int, int]:
        down = _unit(j[ankle] - j[knee], -up)
        toe_dir = _unit(fwd - np.dot(fwd, down) * down, fwd)
        heel = add(j[ankle] + 0.6 * s.foot * down - 0.5 * s.foot * toe_dir, ankle)
        toe = add(j[ankle] + 0.9 * s.foot * down + 140.0 * toe_dir, ankle)
        return heel, toe

    r_hand, l_hand = hand(R_ELBOW, R_WRIST), hand(L_ELBOW, L_WRIST)
    r_heel, r_toe = foot(R_KNEE, R_ANKLE)
    l_heel, l_toe = foot(L_KNEE, L_ANKLE)

    sleeve = s.shirt if s.long_sleeves else s.skin
    leg = s.skin if s.shorts else s.trousers
    normal = tuple(float(v) for v in fwd)
    f = frozenset
    # Both torso slabs own every torso joint: a hip under the shirt's hem or a shoulder
    # under the chest's rounded edge is on the visible surface.
    torso = f((PELVIS, SPINE, THORAX, L_SHOULDER, R_SHOULDER, L_HIP, R_HIP))

    def cap(name, a, b, ra, rb, color, owners, bias=0.0):
        return Part(name, "capsule", (a, b), (ra, rb), color, f(owners), (a, b), bias, normal)

    parts = [
        # The torso draws a little further than its axis depth: at the rim, where limbs
        # overlap it, its surface curves away, so limbs beside it win ties.
        Part("hips", "slab", (wst_l, wst_r, hip_r, hip_l), (s.torso,), s.trousers, torso,
             (PELVIS, SPINE), 0.3 * s.torso, normal),
        # The shirt hangs over the trousers unless the hips are clearly nearer.
        Part("chest", "slab", (sho_l, sho_r, mid_r, wst_r, wst_l, mid_l), (s.torso,), s.shirt,
             torso, (SPINE, THORAX), 0.3 * s.torso - 60.0, normal),
        cap("neck", THORAX, neck_end, s.neck, s.neck * 0.9, s.skin, (THORAX, NECK), 20.0),
        Part("head", "head", (head_c, head_top, hair_c, hair_dir), (s.head, s.head_height,
             s.hair_amount), s.skin, f((NECK, HEAD_TOP)), (NECK, HEAD_TOP), -20.0, normal,
             s.hair),
        cap("r_thigh", R_HIP, R_KNEE, s.thigh, s.knee, s.trousers, (R_HIP, R_KNEE)),
        cap("r_shin", R_KNEE, R_ANKLE, s.knee if s.shorts else s.shin * 1.08, s.shin * 0.75,
            leg, (R_KNEE, R_ANKLE)),
        cap("r_foot", r_heel, r_toe, s.foot, s.foot * 0.8, s.shoes, (R_ANKLE,), -5.0),
        cap("l_thigh", L_HIP, L_KNEE, s.thigh, s.knee, s.trousers, (L_HIP, L_KNEE)),
        cap("l_shin", L_KNEE, L_ANKLE, s.knee if s.shorts else s.shin * 1.08, s.shin * 0.75,
            leg, (L_KNEE, L_ANKLE)),
        cap("l_foot", l_heel, l_toe, s.foot, s.foot * 0.8, s.shoes, (L_ANKLE,), -5.0),
        cap("r_upper_arm", R_SHOULDER, R_ELBOW, s.upper_arm, s.forearm * 1.05, s.shirt,
            (R_SHOULDER, R_ELBOW)),
        cap("r_forearm", R_ELBOW, R_WRIST, s.forearm, s.forearm * 0.75, sleeve,
            (R_ELBOW, R_WRIST)),
        cap("r_hand", R_WRIST, r_hand, s.hand * 0.85, s.hand, s.skin, (R_WRIST,), -5.0),
        cap("l_upper_arm", L_SHOULDER, L_ELBOW, s.upper_arm, s.forearm * 1.05, s.shirt,
            (L_SHOULDER, L_ELBOW)),
        cap("l_forearm", L_ELBOW, L_WRIST, s.forearm, s.forearm * 0.75, sleeve,
            (L_ELBOW, L_WRIST)),
        cap("l_hand", L_WRIST, l_hand, s.hand * 0.85, s.hand, s.skin, (L_WRIST,), -5.0),
    ]
    points = np.concatenate([j, np.asarray(extra).reshape(-1, 3)], axis=0)
    return points, np.asarray(anchors, dtype=np.int64), parts
