"""Frame references: image paths, ``<video>#<frame>``, embedded bytes, released captures."""

import cv2
import numpy as np
import pytest

from posenet.data import frames
from posenet.data.frames import VideoReader, decode_image, read_frame, split_ref

NUM_FRAMES, SIZE = 6, (48, 64)  # (H, W); multiples of 16 suit every MJPG encoder


@pytest.fixture
def video(tmp_path):
    """A MJPG .avi whose frame i is uniformly 10 * i."""
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, SIZE[::-1])
    assert writer.isOpened(), "OpenCV cannot write MJPG .avi here"
    for i in range(NUM_FRAMES):
        writer.write(np.full((*SIZE, 3), 10 * i, np.uint8))
    writer.release()
    return path


@pytest.fixture
def releases(monkeypatch):
    """Counts of opened and released captures (cv2.VideoCapture wrapped)."""
    counts = {"opened": 0, "released": 0}
    real = cv2.VideoCapture

    class Counting:
        def __init__(self, *args):
            self._cap = real(*args)
            counts["opened"] += 1

        def release(self):
            counts["released"] += 1
            self._cap.release()

        def __getattr__(self, name):
            return getattr(self._cap, name)

    monkeypatch.setattr(cv2, "VideoCapture", Counting)
    return counts


def test_read_video_frame_by_reference(video, releases):
    image = read_frame(f"{video}#3")
    assert image.shape == (*SIZE, 3) and image.dtype == np.uint8
    assert abs(float(image.mean()) - 30) < 2
    assert abs(float(read_frame(f"{video}#0").mean())) < 2
    assert releases == {"opened": 2, "released": 2}


def test_out_of_range_and_corrupt_videos(video, tmp_path, releases):
    with pytest.raises(ValueError, match=rf"clip\.avi.*frame {NUM_FRAMES + 4}"):
        read_frame(f"{video}#{NUM_FRAMES + 4}")
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_text("this is not a video")
    with pytest.raises(ValueError, match="broken.mp4"):
        read_frame(f"{corrupt}#0")
    with pytest.raises(FileNotFoundError, match="missing.avi"):
        read_frame(f"{tmp_path / 'missing.avi'}#1")
    assert releases["opened"] == releases["released"] == 2  # the missing file opens nothing


def test_video_reader_sequential_and_random(video, releases):
    with VideoReader(video) as reader:
        assert reader.num_frames == NUM_FRAMES
        means = [float(reader.read(i).mean()) for i in (0, 1, 2, 5, 4, 1)]
        np.testing.assert_allclose(means, [0, 10, 20, 50, 40, 10], atol=2)
        with pytest.raises(ValueError, match="frame -1"):
            reader.read(-1)
        with pytest.raises(ValueError, match=f"frame {NUM_FRAMES}"):
            reader.read(NUM_FRAMES)
        assert abs(float(reader.read(2).mean()) - 20) < 2  # usable after a failed read
    assert releases == {"opened": 1, "released": 1}
    reader.close()  # a second close is harmless
    assert releases["released"] == 1
    with pytest.raises(ValueError, match="closed"):
        reader.read(0)


def test_image_references_and_bytes(tmp_path):
    pixels = np.zeros((20, 30, 3), np.uint8)
    pixels[:, :, 2] = 200  # red in BGR order
    path = tmp_path / "im#7.png"  # a real file whose name looks like a video reference
    cv2.imwrite(str(path), pixels)
    assert split_ref(str(path)) == (str(path), None)
    np.testing.assert_array_equal(read_frame(str(path)), pixels)
    assert split_ref("/videos/a.avi#12") == ("/videos/a.avi", 12)
    ok, encoded = cv2.imencode(".png", pixels)
    assert ok
    np.testing.assert_array_equal(decode_image(encoded.tobytes()), pixels)
    with pytest.raises(ValueError, match="not a decodable image"):
        decode_image(b"not an image")
    with pytest.raises(ValueError, match="0 bytes"):
        decode_image(b"")
    with pytest.raises(FileNotFoundError, match="nothing.jpg"):
        read_frame(str(tmp_path / "nothing.jpg"))
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(ValueError, match="bad.jpg"):
        frames.read_image(tmp_path / "bad.jpg")
