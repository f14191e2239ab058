"""Multi-view triangulation: N synchronised, calibrated views' 2D joints -> 3D joints.

``camera`` (a calibrated camera: projection, undistortion, fundamental matrices),
``calibration`` and ``qualisys`` (calibration files), ``dlt`` (weighted DLT, reprojection
errors, leaving out disagreeing views), ``association`` (the same person across views and
over frames), ``views`` (inputs to cameras, their checks and 2D predictions),
``pipeline`` (``triangulate_predictions``), ``outputs`` (JSON and TRC files) and
``reference`` (one view's predictions scored against a triangulation: ``posenet evaluate
--reference``).
"""

from posenet.triangulation.calibration import read_calibration, write_json_calibration
from posenet.triangulation.camera import Camera
from posenet.triangulation.pipeline import Triangulation, triangulate_predictions

__all__ = ["Camera", "Triangulation", "read_calibration", "triangulate_predictions",
           "write_json_calibration"]
