"""Shared inputs of the inference tests: tiny random networks and rendered videos."""

import importlib.util
import json

import cv2
import numpy as np
import pytest

from posenet.render.scene import demo_clip

#: Skips a test where the ONNX extra (tf2onnx, onnxruntime) is not installed.
needs_onnx = pytest.mark.skipif(
    not (importlib.util.find_spec("tf2onnx") and importlib.util.find_spec("onnxruntime")),
    reason="tf2onnx / onnxruntime not installed: pip install 'posenet[onnx]'")

TINY_POSE = dict(input_size=64, num_joints=17, num_blocks=2, kernel_size=3, num_features=32,
                 stem_width=0.25, depth_maps=4)


def frames_of(path):
    """Every frame of the video at ``path`` (BGR uint8), decoded by OpenCV."""
    cap = cv2.VideoCapture(str(path))
    try:
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                return frames
            frames.append(frame)
    finally:
        cap.release()


def write_video(path, frames, size, fps=10.0):
    """Frames resized to ``size`` (W, H) as an MJPG .avi; returns the path."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), "OpenCV cannot write MJPG .avi here"
    for frame in frames:
        writer.write(cv2.resize(frame, size))
    writer.release()
    return path


def rendered_video(path, num_frames=12, size=(1280, 720), seed=1):
    """A rendered walking person, upscaled to ``size``; returns (path, clip)."""
    clip = demo_clip(num_frames, size=(size[0] // 4, size[1] // 4), seed=seed)
    return write_video(path, clip["frames"], size), clip


def two_people_video(path, num_frames=10, size=(1280, 720)):
    """Two rendered people side by side (left and right halves)."""
    half = (size[0] // 8, size[1] // 4)
    a = demo_clip(num_frames, size=half, seed=3)["frames"]
    b = demo_clip(num_frames, size=half, seed=4)["frames"]
    return write_video(path, np.concatenate([a, b], axis=2), size)


def save_networks(folder, pose_dims=3, action_frames=8):
    """A tiny PoseNetwork and ActionNetwork saved in ``folder`` with a bundle JSON."""
    from posenet.models import ActionNetwork, PoseNetwork

    pose = dict(TINY_POSE, depth_maps=4 if pose_dims == 3 else 0)
    PoseNetwork(**pose).save(folder / "pose.keras")
    ActionNetwork({"penn_action": 15}, num_frames=action_frames, num_joints=17,
                  pose_dims=pose_dims, num_blocks=1, pose_width=0.25).save(folder / "penn.keras")
    bundle = folder / "bundle.json"
    bundle.write_text(json.dumps({"pose": "pose.keras", "actions": {"penn_action": "penn.keras"}}))
    return folder / "pose.keras", bundle
