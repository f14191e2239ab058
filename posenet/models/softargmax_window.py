"""Set the soft-argmax window of a saved single-frame pose network.

Training reads each heatmap whole (the method's soft-argmax). At inference a window of r
map cells around each heatmap's peak keeps one mode where a map has two (another
person's limb in the crop, the other leg), so a joint no longer lands between them. The
window is saved with the network (``softargmax_window`` of its config), so evaluation,
inference and export all read it:

    posenet tools softargmax-window weights/mobile_pose.keras --window 5 \\
        --out weights/mobile_pose.keras

The shipped ``mobile_pose.keras`` uses 5 cells of its 48x48 maps, chosen on 1000 LSPet
*training* photos (PCK@0.2 0.626 whole map, 0.640-0.643 for 3-6 cells); see
weights/README.md for the validation figures.
"""

from __future__ import annotations


def with_window(network, cells: int):
    """A copy of the single-frame pose ``network`` with soft-argmax window ``cells``."""
    from posenet.layers.softargmax import check_window
    from posenet.models.pose_network import SingleFrameNetwork

    if not isinstance(network, SingleFrameNetwork):
        raise ValueError(f"{network.name} is not a single-frame pose network "
                         f"({type(network).__name__})")
    return network.with_window(check_window(cells))
