"""Writing a video atomically with OpenCV: the rendered clips and ``infer --save-video``.

A low-level module (it imports only OpenCV and ``posenet.io``), so the renderer, inference
and the commands can all use it. OpenCV chooses the container from the file name, so
frames go to a hidden temporary file with the final extension beside the target, renamed on
:meth:`OverlayWriter.close` and removed on :meth:`OverlayWriter.abort`. The 'mp4v' codec
in .mp4 is tried first; builds of OpenCV without it fall back to Motion-JPEG in .avi
(``fell_back`` says so).
"""

from __future__ import annotations

import os

import cv2

from posenet.io import remove_stale_temporaries, temporary_name


class OverlayWriter:
    """Writes BGR uint8 frames of ``size`` (W, H) px at ``fps`` frames/s to ``<base>.mp4``
    (or ``<base>.avi``); ``path`` is the final file."""

    def __init__(self, base, fps, size):
        self.fell_back = False
        self._writer = None
        for ext, fourcc in ((".mp4", "mp4v"), (".avi", "MJPG")):
            self.path = os.fspath(base) + ext
            remove_stale_temporaries(os.path.dirname(os.path.abspath(self.path)))
            self._tmp = temporary_name(self.path, ext)
            writer = cv2.VideoWriter(self._tmp, cv2.VideoWriter_fourcc(*fourcc), float(fps),
                                     tuple(int(v) for v in size))
            if writer.isOpened():
                self._writer = writer
                break
            writer.release()
            self._remove_tmp()
            self.fell_back = True
        if self._writer is None:
            raise OSError(f"OpenCV cannot write a video to {os.path.dirname(self.path)}")

    def write(self, frame_bgr):
        self._writer.write(frame_bgr)

    def close(self) -> str:
        """Finish the file and move it into place; returns its path."""
        self._writer.release()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            self._writer.release()
        self._remove_tmp()

    def _remove_tmp(self):
        if os.path.exists(self._tmp):
            os.remove(self._tmp)
