"""Composite clips (posenet.render.composite): determinism, the truth on the pasted person,
entering late, the bright light near the centre, joints outside the frame.

Most tests paste a synthetic stand-in "person" (a textured photo with known lsp joints), so
they run without the LSPet data; the last one uses the real LSPet training people."""

import numpy as np
import pytest

from posenet.render.composite import (
    KINDS,
    LIMB_JOINTS,
    VISIBLE_LIMBS,
    apply,
    composite_clip,
    cut_person,
    paste,
    placement,
)
from posenet.skeleton import get_skeleton

SIZE = (320, 180)
#: An upright person in the lsp layout (r_ankle ... head_top), x, y px of a 160x240 photo.
STAND_IN = np.array([[65, 215], [68, 170], [70, 125], [92, 125], [95, 170], [98, 215],
                     [45, 130], [50, 100], [62, 70], [100, 70], [112, 100], [118, 130],
                     [81, 62], [81, 30]], dtype=np.float64)


def stand_in(seed=0, marker=None):
    """(photo, joints, valid): grey-green texture; ``marker`` (an lsp index) paints an
    11x11 pure red patch centred on that joint."""
    rng = np.random.default_rng(seed)
    photo = rng.integers(30, 120, (240, 160, 3)).astype(np.uint8)
    photo[..., 2] = 0  # no red anywhere but the marker
    if marker is not None:
        x, y = (int(v) for v in STAND_IN[marker])
        photo[y - 5:y + 6, x - 5:x + 6] = (0, 0, 255)
    return photo, STAND_IN.copy(), np.ones(14, bool)


def test_the_same_seed_gives_the_same_clip_and_another_seed_another():
    people = [stand_in(1), stand_in(2)]
    a = composite_clip("two_people", people, seed=7, num_frames=5, size=SIZE)
    b = composite_clip("two_people", people, seed=7, num_frames=5, size=SIZE)
    c = composite_clip("two_people", people, seed=8, num_frames=5, size=SIZE)
    assert all(np.array_equal(x, y) for x, y in zip(a["frames"], b["frames"], strict=True))
    np.testing.assert_array_equal(a["joints"], b["joints"])
    assert not np.array_equal(a["frames"][0], c["frames"][0])
    assert not np.allclose(a["joints"][0], c["joints"][0], equal_nan=True)


def test_a_marked_pixel_lands_where_the_placement_puts_its_joint():
    photo = np.zeros((240, 160, 3), np.uint8)
    photo[100, 50] = 255  # the pixel [50, 51) x [100, 101): its centre is (50.5, 100.5)
    joints = STAND_IN.copy()
    joints[7] = (50.5, 100.5)  # r_elbow on the marked pixel
    cut = cut_person(photo, joints)
    matrix = placement(cut, centre=(301.3, 252.7), height=2.5 * cut.height)
    canvas = np.zeros((480, 640, 3), np.float32)
    assert paste(canvas, cut, matrix)
    mark = canvas[..., 0]
    # the mark survived the alpha: bilinear spreads one pixel over the 2.5 x 2.5 it becomes
    assert mark.sum() > 0.9 * 255 * 2.5**2
    ys, xs = np.mgrid[0:480, 0:640] + 0.5  # pixel centres, continuous coordinates
    centroid = np.array([(xs * mark).sum(), (ys * mark).sum()]) / mark.sum()
    np.testing.assert_allclose(centroid, apply(matrix, cut.joints[7]), atol=0.05)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_truth_joints_lie_on_the_pasted_person_in_every_kind(kind):
    """Each joint of the stand-in carries a red mark in turn; the frame is red where the
    truth says that joint is (the flare adds light but cannot make green or blue red).
    960x540: the small_far person (1/8 of the height) still shows a mark 3-4 px wide."""
    skel = get_skeleton("model17")
    for lsp_index, name in ((6, "r_wrist"), (0, "r_ankle"), (13, "head_top")):
        people = [stand_in(1, marker=lsp_index), stand_in(2, marker=lsp_index)]
        clip = composite_clip(kind, people, seed=3, num_frames=3, size=(960, 540))
        j = skel.index(name)
        checked = 0
        for t, frame in enumerate(clip["frames"]):
            for p in range(clip["joints"].shape[1]):
                if clip["valid"][t, p, j]:
                    x, y = (int(v) for v in clip["joints"][t, p, j])
                    b, g, r = (int(v) for v in frame[y, x])
                    assert r - max(g, b) > 60, (kind, name, t, p, (b, g, r))
                    checked += 1
        assert checked > 0


def test_nobody_is_in_the_frame_before_the_person_enters():
    clip = composite_clip("enters_late", [stand_in()], seed=2, num_frames=30, size=SIZE)
    before = np.arange(30) / 29 < 1 / 3  # the path keeps the person off screen until then
    assert not clip["present"][before].any()
    assert not clip["valid"][before].any() and not clip["visible"][before].any()
    assert np.isfinite(clip["joints"][before][..., :16, :]).all()  # known, but off screen
    assert clip["visible"][-1].all()
    first = int(np.argmax(clip["present"][:, 0]))
    assert first >= 10 and clip["present"][first:].all()


@pytest.mark.parametrize("kind", ["offcentre_flare", "small_far", "two_people", "enters_late",
                                  "leaves_and_returns"])
def test_the_bright_light_is_near_the_frame_centre(kind):
    clip = composite_clip(kind, [stand_in(1), stand_in(2)], seed=5, num_frames=2, size=SIZE)
    cx, cy = clip["light"]["centre"]
    assert abs(cx / SIZE[0] - 0.5) <= 0.1 and abs(cy / SIZE[1] - 0.5) <= 0.15
    frame = clip["frames"][0].astype(int)
    x, y = int(cx), int(cy)
    assert frame[y, x].min() >= 245  # saturated white at the light's core
    white = frame.min(-1) >= 245
    middle = white[int(0.2 * SIZE[1]):int(0.8 * SIZE[1]), int(0.3 * SIZE[0]):int(0.7 * SIZE[0])]
    assert middle.sum() >= 0.9 * white.sum()  # the white is in the middle of the frame
    person = clip["joints"][0, 0][np.isfinite(clip["joints"][0, 0, :, 0]), 0]
    if len(person):  # the person is off centre: their joints are all left or right of it
        assert (person < 0.42 * SIZE[0]).all() or (person > 0.58 * SIZE[0]).all()


def test_joints_outside_the_frame_are_invalid():
    clip = composite_clip("leaves_and_returns", [stand_in()], seed=4, num_frames=40,
                          size=SIZE)
    x, y = clip["joints"][..., 0], clip["joints"][..., 1]
    with np.errstate(invalid="ignore"):
        outside = (x < 0) | (x >= SIZE[0]) | (y < 0) | (y >= SIZE[1])
    assert outside.any() and not clip["valid"][outside].any()
    assert (clip["valid"] == (clip["annotated"] & ~outside & clip["present"][..., None])).all()
    partial = clip["valid"].any(-1) & ~clip["valid"][..., :16].all(-1)
    assert partial.any()  # a frame with the person half out: some joints valid, some not
    skel = get_skeleton("model17")
    limbs = [skel.index(n) for n in LIMB_JOINTS]
    counts = clip["valid"][..., limbs].sum(-1)
    np.testing.assert_array_equal(clip["visible"], counts >= VISIBLE_LIMBS)
    assert not clip["present"][:, 0].all()  # gone for a while, then back
    assert clip["visible"][0, 0] and clip["visible"][-1, 0]


def test_people_are_an_eighth_to_half_of_the_frame_tall():
    for kind in KINDS:
        clip = composite_clip(kind, [stand_in(1), stand_in(2)], seed=6, num_frames=3,
                              size=(960, 540))
        tall = (np.nanmax(clip["joints"][..., 1], -1) - np.nanmin(clip["joints"][..., 1], -1))
        assert (tall >= 540 / 8 - 1).all() and (tall <= 540 / 2 + 1).all(), kind


def test_a_cutout_is_opaque_on_the_person_and_clear_beyond_the_photo():
    photo, joints, valid = stand_in()
    joints = joints.copy()
    joints[:, 1] += 20  # head top 50 px from the top: the padded cut reaches past the photo
    cut = cut_person(photo, joints, valid)
    for x, y in cut.joints:
        assert cut.alpha[int(y), int(x)] > 0.5
    assert cut.alpha[0].max() == 0.0 or cut.joints[:, 1].min() - 0.3 * 185 > 0
    assert cut.alpha[cut.alpha.shape[0] // 2, cut.alpha.shape[1] // 2] == pytest.approx(1.0)
    assert cut.alpha[0, 0] == 0.0 and cut.alpha[-1, -1] == 0.0


def test_an_unknown_kind_or_too_few_people_is_refused():
    with pytest.raises(ValueError, match="unknown clip kind"):
        composite_clip("sunset", [stand_in()], num_frames=2, size=SIZE)
    with pytest.raises(ValueError, match="needs 2 people"):
        composite_clip("two_people", [stand_in()], num_frames=2, size=SIZE)


@pytest.mark.data
def test_lspet_clips_use_training_people_and_are_written_with_their_truth(shared_data,
                                                                          tmp_path):
    from posenet.bench.wild import clip_people, lspet_people, wild_clip
    from posenet.inference.sources import probe

    folder = shared_data / "lspet"
    if not (folder / "joints.mat").is_file():
        pytest.skip(f"LSPet not found at {folder}")
    images, joints, valid = lspet_people(str(folder))
    numbers = [int(name[-9:-4]) for name in images]
    assert len(numbers) > 100 and max(numbers) <= 8000  # never the validation split
    assert valid.all()
    people, photo = clip_people("two_people", 5, str(folder))
    again, _ = clip_people("two_people", 5, str(folder))
    assert len(people) == 2 and all(np.array_equal(a[0], b[0])
                                    for a, b in zip(people, again, strict=True))
    truth = wild_clip("enters_late", 2, tmp_path / "clip", num_frames=12, size=(480, 270),
                      lspet_folder=str(folder))
    info = probe(truth["path"])
    assert (info.width, info.height) == (480, 270)
    saved = np.load(truth["truth_path"])
    np.testing.assert_array_equal(saved["visible"], truth["visible"])
    assert str(saved["kind"]) == "enters_late" and saved["joints"].shape == (12, 1, 17, 2)
    assert not truth["present"][:3].any()
