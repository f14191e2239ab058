"""Drawing of predictions: 2D overlays, 3D skeleton views, action plots and heatmaps.

Everything is drawn with OpenCV (no matplotlib).  Submodules import lazily what they need;
``heatmaps`` is the only one that needs Keras.
"""

from posenet.visualize.overlay import draw_people

__all__ = ["draw_people"]
