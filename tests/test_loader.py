"""Targets and loaders: shapes against real models, geometry, mixing, determinism, pickling."""

import pickle

import cv2
import keras
import numpy as np
import pytest

from posenet.data.loader import ClipLoader, FrameLoader, PoseSequenceLoader, Source
from posenet.data.pose_sequences import window
from posenet.data.prepared import PreparedDataset, PreparedWriter
from posenet.data.targets import (
    DEPTH_RANGE_MM,
    action_target,
    depth_to_mm,
    pose_target,
    replicate,
    visibility_target,
)
from posenet.losses import losses_for
from posenet.models import ActionNetwork, PoseNetwork
from posenet.skeleton import get_skeleton

pytestmark = pytest.mark.backend

J, W, H, SEQS, FRAMES = 17, 200, 160, 2, 6
BACKGROUND_BGR = (90, 0, 0)  # dark blue: tells RGB from BGR in the loaded inputs
M17 = get_skeleton("model17")


def _write(path, rng, dataset, with_3d, actions):
    n = SEQS * FRAMES
    joints = np.zeros((n, J, 3), np.float32)
    joints[..., 0] = rng.uniform(40, 160, (n, J))
    joints[..., 1] = rng.uniform(30, 130, (n, J))
    joints[..., 2] = rng.random((n, J)) > 0.2
    valid = np.ones((n, J), bool)
    valid[np.arange(n), rng.integers(1, J, n)] = False  # one absent joint per frame
    joints[~valid] = np.nan
    joints[~valid, 2] = 0
    lo, hi = np.nanmin(joints[..., :2], 1), np.nanmax(joints[..., :2], 1)
    pad = 0.1 * (hi - lo)
    bbox = np.concatenate([lo - pad, hi + pad], 1).astype(np.float32)
    images = []
    for k in range(n):
        img = np.zeros((H, W, 3), np.uint8)
        img[:] = BACKGROUND_BGR
        for x, y in joints[k, valid[k], :2]:
            cv2.circle(img, (int(x), int(y)), 4, (255, 255, 255), -1)
        images.append(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
    seq = np.repeat(np.arange(SEQS), FRAMES).astype(np.int32)
    joints3d = np.full((n, J, 3), np.nan, np.float32)
    if with_3d:  # only sequence 0 has 3D
        first = seq == 0
        joints3d[first] = rng.normal([0, 0, 4000], 300, (first.sum(), J, 3))
    chunk = dict(joints2d=joints, valid2d=valid, joints3d=joints3d,
                 valid3d=np.isfinite(joints3d).all(-1), bbox=bbox, sequence=seq,
                 frame=np.tile(np.arange(FRAMES), SEQS).astype(np.int32), image=images)
    if actions:
        chunk["action"] = np.where(seq == 0, 0, 2).astype(np.int16)
    with PreparedWriter(path, dataset, "train", embed_images=True, compression=None,
                        action_classes=actions) as w:
        w.append(**chunk)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rng = np.random.default_rng(7)
    root = tmp_path_factory.mktemp("prepared")
    a = _write(root / "toya.h5", rng, "toya", with_3d=True, actions=())
    b = _write(root / "toyb.h5", rng, "toyb", with_3d=False, actions=["run", "jump", "sit"])
    return a, b


NAMES3D = dict(outputs=["pose_1", "visibility_1"], pose_dims=3, num_joints=17)


def test_targets_conventions():
    xy = np.full((J, 2), np.nan)
    xy[0] = [0.25, 0.75]
    t = pose_target(xy, np.arange(J) == 0, None, None, dims=3, num_joints=16)
    assert t.shape == (16, 6) and t.dtype == np.float32 and np.isfinite(t).all()
    np.testing.assert_allclose(t[0], [0.25, 0.75, 0, 1, 1, 0])
    assert not t[1:].any()
    np.testing.assert_allclose(depth_to_mm(0.75, 4000.0), 4000.0 + DEPTH_RANGE_MM / 4)
    vis = visibility_target(np.arange(J) % 2 == 0, np.arange(J) < 4)
    np.testing.assert_array_equal(vis[:4], [[1, 1], [0, 1], [1, 1], [0, 1]])
    assert not vis[4:].any()
    np.testing.assert_array_equal(action_target([1, -1], 3), [[0, 1, 0], [0, 0, 0]])
    y = replicate({"pose": 1, "visibility": 2, "action_ntu": 3},
                  ["pose_1", "pose_2", "visibility_1", "action_ntu_1", "features"])
    assert y == {"pose_1": 1, "pose_2": 1, "visibility_1": 2, "action_ntu_1": 3}
    with pytest.raises(KeyError, match="action_penn"):
        replicate({"pose": 1}, ["action_penn_1"])


def test_frame_batches_fit_a_pose_network(files):
    model = PoseNetwork(input_size=32, num_joints=17, num_blocks=2, kernel_size=3,
                        num_features=16, stem_width=0.25, depth_maps=4)
    sources = [Source(files[0], augment="h36m"), Source(files[1], augment="lsp", split="train")]
    loader = FrameLoader(sources, model, batch_size=4, steps=1, seed=3)
    x, y = loader[0]
    assert x.shape == (4, 32, 32, 3) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert set(y) == set(model.output_names)
    for name, tensor in model.output.items():
        *lead, last = tensor.shape[1:]
        want = 2 * last if name.startswith("pose") else 2
        assert y[name].shape == (4, *lead, want) and y[name].dtype == np.float32
        assert np.isfinite(y[name]).all()
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss=losses_for(model.output_names))
    history = model.fit(loader, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def _all_samples(loader):
    """Sample indices of batch 0 of a single-source loader, in slot order."""
    return np.array([unit for _, unit in loader.plan(0)])


def test_pose_target_is_the_hand_computed_crop(files):
    loader = FrameLoader([files[0]], crop_size=64, batch_size=12, steps=1, **NAMES3D)
    x, y = loader[0]
    ds = PreparedDataset(files[0])
    samples = _all_samples(loader)
    assert sorted(samples) == list(range(12))  # one epoch visits every sample once
    for row, i in enumerate(samples):
        s = ds.sample(i)
        x1, y1, x2, y2 = s["bbox"].astype(np.float64)
        side = max(x2 - x1, y2 - y1) * 1.25
        origin = np.array([x1 + x2 - side, y1 + y2 - side]) / 2
        want = (s["joints2d"][:, :2] - origin) / side
        pose, vis = y["pose_1"][row], y["visibility_1"][row]
        np.testing.assert_array_equal(pose[:, 3:5], np.stack([s["valid2d"]] * 2, 1))
        np.testing.assert_allclose(pose[s["valid2d"], :2], want[s["valid2d"]], atol=1e-5)
        np.testing.assert_array_equal(vis[:, 1], s["valid2d"])
        np.testing.assert_array_equal(vis[:, 0], s["valid2d"] & (s["joints2d"][:, 2] > 0))
    # Channel order: the blue background lands in channel 2 (RGB).
    assert x[..., 2].mean() > x[..., 0].mean() + 0.1


def test_depth_targets(files):
    loader = FrameLoader([files[0]], crop_size=32, batch_size=12, steps=1, **NAMES3D)
    _, y = loader[0]
    ds = PreparedDataset(files[0])
    for row, i in enumerate(_all_samples(loader)):
        pose, s = y["pose_1"][row], ds.sample(i)
        if s["sequence"] == 0:  # 3D sample
            z = s["joints3d"][:, 2].astype(np.float64)
            np.testing.assert_allclose(pose[:, 2], (z - z[0]) / 2000.0 + 0.5, atol=1e-6)
            assert (pose[:, 5] == 1).all()
        else:  # 2D only: no depth supervision, no NaN
            assert not pose[:, [2, 5]].any()


def test_dots_lie_under_the_targets_after_augmentation(files):
    size = 96
    loader = FrameLoader([Source(f, augment="mpii") for f in files], crop_size=size,
                         batch_size=12, steps=3, seed=11, **NAMES3D)
    checked = 0
    for b in range(len(loader)):
        x, y = loader[b]
        pose = y["pose_1"]
        rows, joints = np.nonzero(pose[..., 3] > 0)
        px = np.floor(pose[rows, joints, :2] * size).astype(int)
        brightness = x[rows, px[:, 1], px[:, 0]].min(axis=-1)  # white dot: every channel
        assert (brightness > 0.5).all(), brightness.min()
        checked += len(rows)
    assert checked > 300


def test_mixing_proportions_over_an_epoch(files):
    for batch, steps in ((4, 10), (3, 8), (5, 7)):
        loader = FrameLoader([Source(files[0], weight=3), Source(files[1], weight=1,
                             action_dataset="toyb")], ["action_toyb_1"], crop_size=32,
                             batch_size=batch, steps=steps, seed=5)
        for _ in range(2):
            counts = loader.epoch_counts()
            assert (counts.sum(1) == batch).all()
            np.testing.assert_allclose(counts.sum(0), [0.75 * batch * steps,
                                                       0.25 * batch * steps], atol=batch)
            loader.on_epoch_end()
    # Every toyb frame is labelled, so its items are the one-hot rows of a batch.
    _, y = loader[2]
    assert y["action_toyb_1"].sum() == loader.epoch_counts()[2, 1]


def test_batches_depend_on_seed_epoch_and_index(files):
    def make():
        return FrameLoader([Source(f, augment="lsp") for f in files], crop_size=32,
                           batch_size=4, steps=3, seed=9, **NAMES3D)

    loader, twin = make(), make()
    x, y = loader[1]
    for again in (loader[1], twin[1], pickle.loads(pickle.dumps(loader))[1]):
        np.testing.assert_array_equal(again[0], x)
        np.testing.assert_array_equal(again[1]["pose_1"], y["pose_1"])
    assert not np.array_equal(loader[2][0], x)
    loader.on_epoch_end()
    assert not np.array_equal(loader[1][0], x)


def test_window_pads_short_sequences():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(window(np.arange(6), 4, 2, rng), [0, 2, 4, 5])
    starts = {window(np.arange(10), 3, 2, rng)[0] for _ in range(50)}
    assert starts == set(range(6))


def test_clip_loader(files):
    names = ["pose_1", "pose_2", "visibility_1", "visibility_2", "action_toyb_1",
             "action_other_1"]
    loader = ClipLoader([Source(files[0], augment="h36m"),
                         Source(files[1], augment="penn_action", action_dataset="toyb")],
                        names, batch_size=4, steps=2, num_frames=4, stride=2, crop_size=32,
                        pose_dims=3, num_joints=16, num_classes={"other": 5})
    x, y = loader[0]
    assert x.shape == (4, 4, 32, 32, 3) and x.dtype == np.float32
    assert set(y) == set(names)
    assert y["pose_1"].shape == (4, 4, 16, 6) and y["visibility_2"].shape == (4, 4, 16, 2)
    assert y["pose_1"] is y["pose_2"]
    sources = [k for k, _ in loader.plan(0)]
    ds_b = PreparedDataset(files[1])
    for row, (k, frames) in enumerate(loader.plan(0)):
        hot = y["action_toyb_1"][row]
        if k == 1:
            label = int(ds_b.arrays("action", frames[:1])[0])
            np.testing.assert_array_equal(hot, np.eye(3)[label])
        else:
            assert not hot.any()
    assert sources.count(1) == 2
    assert y["action_other_1"].shape == (4, 5) and not y["action_other_1"].any()
    assert pickle.loads(pickle.dumps(loader))[0][0].shape == x.shape


def _sequence_loader(files, model, **kw):
    sources = [Source(files[0]), Source(files[1], action_dataset="toyb")]
    return PoseSequenceLoader(sources, model, seed=2, **{"batch_size": 4, "steps": 1} | kw)


def test_pose_sequence_loader_fits_an_action_network(files):
    model = ActionNetwork({"toyb": 3, "other": 2}, num_frames=4, num_joints=16, num_blocks=1,
                          pose_width=0.25)
    loader = _sequence_loader(files, model, noise=0.01, drop=0.1)
    x, y = loader[0]
    assert x["poses"].shape == (4, 4, 16, 2) and x["visibility"].shape == (4, 4, 16, 1)
    assert set(y) == set(model.output_names)
    assert y["action_toyb_1"].sum() == 2 and not y["action_other_1"].any()
    model.compile(optimizer="sgd", loss=losses_for(model.output_names))
    assert np.isfinite(model.fit(loader, epochs=1, verbose=0).history["loss"]).all()
    assert pickle.loads(pickle.dumps(loader))[0][0]["poses"].shape == (4, 4, 16, 2)


def test_pose_sequences_drop_and_flip(files):
    names = dict(model=["action_toyb_1"], num_frames=4, num_joints=16, pose_dims=2)
    plain = _sequence_loader(files, batch_size=256, flip=0.0, stride=2, **names)
    dropped = _sequence_loader(files, batch_size=256, flip=0.0, drop=0.3, stride=2, **names)
    flipped = _sequence_loader(files, batch_size=256, flip=1.0, stride=2, **names)
    (x0, _), (xd, _), (xf, _) = plain[0], dropped[0], flipped[0]
    vis0 = x0["visibility"][..., 0] > 0
    assert ((x0["poses"] >= 0) & (x0["poses"] <= 1)).all()
    rate = 1 - xd["visibility"][..., 0][vis0].mean()
    assert abs(rate - 0.3) < 0.03, rate
    gone = vis0 & (xd["visibility"][..., 0] == 0)
    assert not xd["poses"][gone].any()
    left, right = M17.index("l_wrist"), M17.index("r_wrist")
    np.testing.assert_array_equal(xf["visibility"][:, :, left], x0["visibility"][:, :, right])
    ok = vis0[:, :, right]
    np.testing.assert_allclose(xf["poses"][:, :, left, 0][ok], 1 - x0["poses"][:, :, right, 0][ok],
                               atol=1e-6)
    np.testing.assert_allclose(xf["poses"][:, :, left, 1][ok], x0["poses"][:, :, right, 1][ok])


def _noise(sigma, miss_rate=0.0, miss_sigma=0.0, hidden_rate=0.0):
    from posenet.data.pose_noise import PoseNoise

    def per_joint(v):
        return tuple(np.broadcast_to(np.asarray(v, float), (J,)))

    return PoseNoise(M17.joints, per_joint(sigma), per_joint(miss_rate),
                     per_joint(miss_sigma), per_joint(hidden_rate))


def test_per_joint_noise_has_the_requested_std(files):
    # Joint j gets std 0.005 (j + 1): the offsets between the same seeded clips with and
    # without the noise model must show those stds, joint by joint.
    names = dict(model=["action_toyb_1"], num_frames=4, num_joints=17, pose_dims=2, flip=0.0)
    sigma = 0.005 * (np.arange(J) + 1)
    plain = _sequence_loader(files, batch_size=512, **names)
    noisy = _sequence_loader(files, batch_size=512, noise_model=_noise(sigma), **names)
    (x0, _), (xn, _) = plain[0], noisy[0]
    np.testing.assert_array_equal(x0["visibility"], xn["visibility"])
    kept = x0["visibility"][..., 0] > 0
    diff = xn["poses"] - x0["poses"]
    for j in range(J):
        d = diff[:, :, j][kept[:, :, j]]
        assert len(d) > 500
        assert abs(d.std() / sigma[j] - 1) < 0.1, (j, d.std(), sigma[j])
        assert abs(d.mean()) < 4 * sigma[j] / np.sqrt(d.size)
    # The isotropic ``noise`` option still works, alone and on top of the model.
    both = _sequence_loader(files, batch_size=512, noise=0.02, **names)
    assert abs((both[0][0]["poses"] - x0["poses"])[kept].std() - 0.02) < 0.002


def test_noise_model_misses_hidden_joints_and_correlation(files):
    names = dict(model=["action_toyb_1"], num_frames=8, num_joints=17, pose_dims=2, flip=0.0)
    plain = _sequence_loader(files, batch_size=512, **names)[0][0]
    missing = _sequence_loader(files, batch_size=512, noise_model=_noise(
        0.001, miss_rate=0.2, miss_sigma=0.3, hidden_rate=0.25), **names)[0][0]
    kept = plain["visibility"][..., 0] > 0
    hidden = kept & (missing["visibility"][..., 0] == 0)
    assert abs(hidden.sum() / kept.sum() - 0.25) < 0.02
    assert not missing["poses"][hidden].any()
    shown = kept & ~hidden
    far = np.abs(missing["poses"] - plain["poses"]).max(-1)[shown] > 0.01
    assert abs(far.mean() - 0.2) < 0.02  # a miss (std 0.3) lands within 0.01 ~0.1% of the time
    rho = 0.8
    correlated = _sequence_loader(files, batch_size=512, noise_model=_noise(0.01),
                                  noise_correlation=rho, **names)[0][0]
    d = correlated["poses"] - plain["poses"]
    both = kept[:, 1:] & kept[:, :-1]
    a, b = d[:, 1:][both].ravel(), d[:, :-1][both].ravel()
    assert abs(np.corrcoef(a, b)[0, 1] - rho) < 0.05
    assert abs(d[kept].std() - 0.01) < 0.001  # the same std per frame
    with pytest.raises(ValueError, match="noise_correlation"):
        _sequence_loader(files, noise_model=_noise(0.01), noise_correlation=1.0, **names)


def _pairwise(poses, visible):
    """Distances between the visible joints of each clip frame, flattened."""
    out = []
    flat_poses = poses.reshape(-1, *poses.shape[-2:])
    for p, v in zip(flat_poses, visible.reshape(len(flat_poses), -1), strict=True):
        q = p[v > 0]
        out.append(np.linalg.norm(q[:, None] - q[None], axis=-1).ravel())
    return np.concatenate(out)


@pytest.mark.parametrize("rotate, scale", [(30.0, 0.0), (0.0, 0.2)])
def test_rotation_keeps_distances_and_scale_scales_them(files, rotate, scale):
    # batch 1: the clip is drawn before the turn, so both loaders read the same clip
    names = dict(model=["action_toyb_1"], num_frames=4, num_joints=16, pose_dims=2, flip=0.0,
                 batch_size=1, steps=6)
    plain = _sequence_loader(files, **names)
    turned = _sequence_loader(files, rotate=rotate, scale=scale, **names)
    ratios = []
    for index in range(6):
        (x0, _), (x1, _) = plain[index], turned[index]
        np.testing.assert_array_equal(x0["visibility"], x1["visibility"])
        d0 = _pairwise(x0["poses"], x0["visibility"][..., 0])
        d1 = _pairwise(x1["poses"], x1["visibility"][..., 0])
        big = d0 > 1e-3
        ratios.append(np.unique(np.round(d1[big] / d0[big], 4)))
        assert not np.allclose(x0["poses"], x1["poses"])
    if scale:
        assert all(len(r) == 1 and 0.8 <= r[0] <= 1.2 for r in ratios), ratios
        assert len({float(r[0]) for r in ratios}) > 1  # a new factor per clip
    else:
        assert all(np.allclose(r, 1.0, atol=1e-3) for r in ratios), ratios


def test_a_span_network_reads_resampled_clips(files):
    model = ActionNetwork({"toyb": 3}, num_frames=8, num_joints=16, branch="geometry",
                          filters=4, clip_span=6)
    loader = _sequence_loader(files, model, flip=0.0, batch_size=1, steps=4,
                              span_fraction=1.0)
    assert loader.clip_span == 6
    plain = _sequence_loader(files, ["action_toyb_1"], num_frames=8, num_joints=16,
                             pose_dims=2, flip=0.0, batch_size=1, steps=4, stride=1)
    for index in range(4):
        x, _ = loader[index]
        assert x["poses"].shape == (1, 8, 16, 2)
        # the 6-frame sequences read as 8 frames: spread (frames 0 1 1 2 3 4 4 5), where
        # consecutive clips pad the end (0 1 2 3 4 5 5 5)
        still = np.flatnonzero(np.abs(np.diff(x["poses"][0], axis=0)).sum(axis=(1, 2)) == 0)
        np.testing.assert_array_equal(still, [1, 5])
        x_plain, _ = plain[index]
        still = np.abs(np.diff(x_plain["poses"][0], axis=0)).sum(axis=(1, 2)) == 0
        np.testing.assert_array_equal(np.flatnonzero(still), [5, 6])
    with pytest.raises(ValueError, match="span_fraction"):
        _sequence_loader(files, model, span_fraction=0.0)
    assert plain.clip_span is None


def test_noise_fraction_leaves_that_share_of_clips_clean(files):
    names = dict(model=["action_toyb_1"], num_frames=4, num_joints=17, pose_dims=2, flip=0.0,
                 batch_size=512)
    plain = _sequence_loader(files, **names)[0][0]["poses"]
    half = _sequence_loader(files, noise_model=_noise(0.01), noise_fraction=0.5,
                            **names)[0][0]["poses"]
    none = _sequence_loader(files, noise_model=_noise(0.01), noise_fraction=0.0,
                            **names)[0][0]["poses"]
    np.testing.assert_array_equal(none, plain)
    clean = (half == plain).all(axis=(1, 2, 3))
    assert abs(clean.mean() - 0.5) < 0.07, clean.mean()
    with pytest.raises(ValueError, match="noise_fraction"):
        _sequence_loader(files, noise_fraction=1.5, **names)
