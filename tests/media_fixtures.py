"""Odd inputs the tests make themselves: a video whose frame rate varies (a Matroska file
written byte by byte, each frame with its own timestamp), a truncated video, images with
an alpha channel."""

import struct

import cv2
import numpy as np


def _element(element_id: bytes, payload: bytes) -> bytes:
    """An EBML element: its id, its size as an 8-byte vint, its payload."""
    return element_id + b"\x01" + len(payload).to_bytes(7, "big") + payload


def _uint(element_id: bytes, value: int) -> bytes:
    return _element(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def write_mkv(path, frames, times_ms, quality=90):
    """A Motion-JPEG Matroska video whose frame ``i`` is shown at ``times_ms[i]`` ms (any
    spacing: OpenCV's writer can only write one rate); returns the path. One cluster per
    frame, no cues: FFmpeg reads it as a player would."""
    height, width = frames[0].shape[:2]
    ebml = _element(b"\x1a\x45\xdf\xa3", _uint(b"\x42\x86", 1) + _uint(b"\x42\xf7", 1)
                    + _uint(b"\x42\xf2", 4) + _uint(b"\x42\xf3", 8)
                    + _element(b"\x42\x82", b"matroska") + _uint(b"\x42\x87", 4)
                    + _uint(b"\x42\x85", 2))
    last = times_ms[-1] - times_ms[-2] if len(times_ms) > 1 else 40
    info = _element(b"\x15\x49\xa9\x66", _uint(b"\x2a\xd7\xb1", 1_000_000)  # 1 ms ticks
                    + _element(b"\x44\x89", struct.pack(">d", float(times_ms[-1] + last)))
                    + _element(b"\x4d\x80", b"posenet tests") + _element(b"\x57\x41", b"tests"))
    video = _element(b"\xe0", _uint(b"\xb0", width) + _uint(b"\xba", height))
    track = _element(b"\xae", _uint(b"\xd7", 1) + _uint(b"\x73\xc5", 1) + _uint(b"\x83", 1)
                     + _element(b"\x86", b"V_MJPEG") + video)
    clusters = b""
    for frame, time_ms in zip(frames, times_ms, strict=True):
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        block = b"\x81" + struct.pack(">h", 0) + b"\x80" + jpeg.tobytes()  # track 1, key
        clusters += _element(b"\x1f\x43\xb6\x75", _uint(b"\xe7", int(time_ms))
                             + _element(b"\xa3", block))
    segment = _element(b"\x18\x53\x80\x67", info + _element(b"\x16\x54\xae\x6b", track)
                       + clusters)
    with open(path, "wb") as f:
        f.write(ebml + segment)
    return path


def noise_frames(count, size=(160, 120), seed=0):
    """``count`` frames of noise (W, H ``size``): big JPEGs, so the data outweighs the
    headers of a file cut short."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8) for _ in range(count)]


def truncate(path, fraction, target=None):
    """The first ``fraction`` of the bytes of ``path`` in ``target`` (default: in place)."""
    data = open(path, "rb").read()
    target = target or path
    with open(target, "wb") as f:
        f.write(data[:int(len(data) * fraction)])
    return target


def write_rgba(path, alpha, size=(96, 128)):
    """A BGRA PNG of a grey gradient (W, H ``size``) with the alpha ``alpha`` (an int or
    an (H, W) array)."""
    w, h = size
    image = np.zeros((h, w, 4), np.uint8)
    image[..., :3] = np.linspace(0, 255, w, dtype=np.uint8)[None, :, None]
    image[..., 3] = alpha
    assert cv2.imwrite(str(path), image)
    return path
