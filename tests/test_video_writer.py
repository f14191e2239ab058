"""``posenet.video_writer.OverlayWriter``: a complete file or nothing at the destination."""

import cv2
import numpy as np
import pytest

from posenet.video_writer import OverlayWriter

SIZE = (64, 48)  # (W, H); multiples of 16 suit every encoder


def frames(n):
    return [np.full((SIZE[1], SIZE[0], 3), 20 * i, np.uint8) for i in range(n)]


def count_frames(path):
    cap = cv2.VideoCapture(str(path))
    try:
        assert cap.isOpened()
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        n = 0
        while cap.read()[0]:
            n += 1
        return n, size
    finally:
        cap.release()


def test_close_moves_the_whole_video_into_place(tmp_path):
    writer = OverlayWriter(tmp_path / "clip", 10.0, SIZE)
    assert writer.path in (str(tmp_path / "clip.mp4"), str(tmp_path / "clip.avi"))
    assert writer.fell_back == writer.path.endswith(".avi")
    for frame in frames(5):
        writer.write(frame)
    # Until it is closed only a hidden temporary file exists.
    assert [p.name.startswith(".") for p in tmp_path.iterdir()] == [True]
    path = writer.close()
    assert path == writer.path and [p.name for p in tmp_path.iterdir()] == [path.split("/")[-1]]
    assert count_frames(path) == (5, SIZE)


def test_abort_leaves_nothing(tmp_path):
    writer = OverlayWriter(tmp_path / "clip", 10.0, SIZE)
    for frame in frames(3):
        writer.write(frame)
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder(tmp_path):
    with pytest.raises(OSError, match="cannot write a video"):
        OverlayWriter(tmp_path / "missing" / "clip", 10.0, SIZE)
    assert list(tmp_path.iterdir()) == []
