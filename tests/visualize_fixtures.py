"""Synthetic predictions and videos for the visualisation tests."""

import cv2
import numpy as np

from posenet.render.scene import demo_clip
from posenet.skeleton import get_skeleton, map_joints


def write_demo_video(path, num_frames=6, size=(96, 80), fps=10.0):
    """A short demo clip as .avi (MJPG, always available); returns the clip dict."""
    clip = demo_clip(num_frames, size=size, fps=fps)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for frame in clip["frames"]:
        writer.write(frame)
    writer.release()
    return clip


def predictions_for(clip, source="", fps=10.0):
    """A predictions dict (schema posenet-predictions/1) from a demo clip's ground truth."""
    num, h, w = clip["frames"].shape[:3]
    frames = []
    for i in range(num):
        j2, _ = map_joints(clip["joints_2d"][i], "h36m17", "model17")
        j3, _ = map_joints(clip["joints_cam"][i] - clip["joints_cam"][i][:1], "h36m17",
                           "model17")
        conf = np.ones((17, 1))
        box = [*np.nanmin(j2, 0), *np.nanmax(j2, 0)]
        frames.append({"index": i, "time": i / fps, "people": [{
            "track": 1, "box": box, "score": 0.9,
            "joints2d": np.concatenate([j2, conf], 1).tolist(), "joints3d": j3.tolist()}]})
    t = np.linspace(0, 1, 4)
    windows = [{"start": k * 2, "end": k * 2 + 4,
                "probabilities": [0.1 + 0.8 * x, 0.9 - 0.8 * x, 0.0]} for k, x in enumerate(t)]
    return {
        "schema": "posenet-predictions/1", "source": source, "kind": "video",
        "width": w, "height": h, "fps": fps, "num_frames": num,
        "skeleton": {"name": "model17", "joints": list(get_skeleton("model17").joints),
                     "links": [list(link) for link in get_skeleton("model17").links]},
        "model": {},
        "action_classes": {"penn": ["A", "B", "C"]}, "frames": frames,
        "tracks": [{"id": 1, "first_frame": 0, "last_frame": num - 1, "actions": {"penn": {
            "label": "A", "probabilities": [0.5, 0.4, 0.1], "windows": windows}}}],
    }
