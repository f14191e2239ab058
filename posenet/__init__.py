"""posenet: 2D/3D human pose estimation and action recognition with one multitask network.

A re-implementation of Luvizon, Picard and Tabia, "2D/3D Pose Estimation and Action
Recognition using Multitask Deep Learning" (CVPR 2018) and "Multi-task Deep Learning for
Real-Time 3D Human Pose Estimation and Action Recognition" (TPAMI 2020), on Keras 3.

Importing this package is cheap: the network (and so Keras and its backend) loads only
when ``posenet.models`` or ``posenet.layers`` is imported, or ``posenet.Predictor`` used.
"""

__version__ = "0.1.0"
__all__ = ["Predictor", "__version__"]


def __getattr__(name):
    # Lazy, so that `import posenet` stays free of Keras until inference is asked for.
    if name == "Predictor":
        from posenet.inference import Predictor

        return Predictor
    raise AttributeError(f"module 'posenet' has no attribute {name!r}")
