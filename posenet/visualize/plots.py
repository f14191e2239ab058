"""A small line-plot helper drawn with OpenCV: axes, ticks, labels, legend.

Just enough for probability-vs-time curves without matplotlib.  Images are BGR uint8 on
a white background; sizes are (width, height) px.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
# Distinct BGR line colours (the "tab10" hues), in the order lines are drawn.
LINE_COLORS = (
    (180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214), (189, 103, 148),
    (75, 86, 140), (194, 119, 227), (127, 127, 127), (34, 189, 188), (207, 190, 23),
)
_INK = (40, 40, 40)
_GRID = (225, 225, 225)


def nice_ticks(lo: float, hi: float, count: int = 5) -> np.ndarray:
    """About ``count`` round tick values (1, 2 or 5 times a power of ten) in [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return np.array([lo])
    raw = (hi - lo) / max(1, count)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = np.arange(first, hi + step * 1e-6, step)
    return np.round(ticks, 10)


def _tick_text(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e5 else f"{v:.0e}"


class Axes:
    """Maps data (x, y) to pixels inside a plot area of an image, and draws on it.

    ``rect`` = (left, top, right, bottom) px of the plot area; ``xlim``/``ylim`` the data
    ranges it shows (y grows upwards, as on paper).
    """

    def __init__(self, img, rect, xlim, ylim):
        self.img, self.rect = img, rect
        x0, x1 = float(xlim[0]), float(xlim[1])
        y0, y1 = float(ylim[0]), float(ylim[1])
        # A degenerate range (one window, constant values) still needs a non-zero span.
        self.xlim = (x0, x1) if x1 > x0 else (x0 - 0.5, x0 + 0.5)
        self.ylim = (y0, y1) if y1 > y0 else (y0 - 0.5, y0 + 0.5)

    def to_px(self, x, y) -> np.ndarray:
        """(N, 2) float px of data points ``x``, ``y`` (arrays of N)."""
        left, top, right, bottom = self.rect
        (x0, x1), (y0, y1) = self.xlim, self.ylim
        px = left + (np.asarray(x, float) - x0) / (x1 - x0) * (right - left)
        py = bottom - (np.asarray(y, float) - y0) / (y1 - y0) * (bottom - top)
        return np.stack([px, py], axis=-1)

    def frame(self, xlabel="", ylabel="", title="", scale=0.45) -> None:
        """Grid, axis lines, tick labels, axis labels and title."""
        img, (left, top, right, bottom) = self.img, self.rect
        for xt in nice_ticks(*self.xlim):
            px = int(round(self.to_px(xt, self.ylim[0])[0]))
            cv2.line(img, (px, top), (px, bottom), _GRID, 1)
            cv2.line(img, (px, bottom), (px, bottom + 4), _INK, 1)
            text = _tick_text(xt)
            (tw, th), _ = cv2.getTextSize(text, FONT, scale, 1)
            cv2.putText(img, text, (px - tw // 2, bottom + 8 + th), FONT, scale, _INK, 1,
                        cv2.LINE_AA)
        for yt in nice_ticks(*self.ylim):
            py = int(round(self.to_px(self.xlim[0], yt)[1]))
            cv2.line(img, (left, py), (right, py), _GRID, 1)
            cv2.line(img, (left - 4, py), (left, py), _INK, 1)
            text = _tick_text(yt)
            (tw, th), _ = cv2.getTextSize(text, FONT, scale, 1)
            cv2.putText(img, text, (left - 8 - tw, py + th // 2), FONT, scale, _INK, 1,
                        cv2.LINE_AA)
        cv2.rectangle(img, (left, top), (right, bottom), _INK, 1)
        if xlabel:
            (tw, th), _ = cv2.getTextSize(xlabel, FONT, scale, 1)
            cv2.putText(img, xlabel, ((left + right - tw) // 2, bottom + 2 * th + 18), FONT,
                        scale, _INK, 1, cv2.LINE_AA)
        if ylabel:
            # Vertical text: draw it on a strip, rotate the strip, paste it left of the ticks.
            (tw, th), base = cv2.getTextSize(ylabel, FONT, scale, 1)
            strip = np.full((th + base + 2, tw + 2, 3), 255, np.uint8)
            cv2.putText(strip, ylabel, (1, th + 1), FONT, scale, _INK, 1, cv2.LINE_AA)
            strip = cv2.rotate(strip, cv2.ROTATE_90_COUNTERCLOCKWISE)
            y = max(0, min(img.shape[0] - strip.shape[0], (top + bottom - strip.shape[0]) // 2))
            x = max(0, left - 48 - strip.shape[1])
            img[y:y + strip.shape[0], x:x + strip.shape[1]] = strip[:, : img.shape[1] - x]
        if title:
            (tw, th), _ = cv2.getTextSize(title, FONT, scale * 1.2, 1)
            cv2.putText(img, title, (left, max(th + 2, top - 8)), FONT, scale * 1.2, _INK, 1,
                        cv2.LINE_AA)

    def line(self, x, y, color, width=2) -> None:
        """A polyline through the data points (NaN points break it), clipped to the area."""
        pts = self.to_px(x, y)
        ok = np.isfinite(pts).all(axis=1)
        left, top, right, bottom = self.rect
        area = self.img[top:bottom + 1, left:right + 1]  # a view: clips the drawing
        shifted = np.round((pts - [left, top]) * 16).astype(np.int64)
        runs = np.split(np.arange(len(pts)), np.flatnonzero(~ok))
        for run in runs:
            run = run[ok[run]]
            if len(run) == 1:
                cv2.circle(area, tuple(int(v) for v in shifted[run[0]]), 2 * 16, color, -1,
                           cv2.LINE_AA, 4)
            elif len(run) > 1:
                cv2.polylines(area, [shifted[run].reshape(-1, 1, 2).astype(np.int32)], False,
                              color, width, cv2.LINE_AA, 4)

    def legend(self, labels, colors, scale=0.45) -> None:
        """A boxed legend in the top-right corner of the plot area."""
        if not labels:
            return
        sizes = [cv2.getTextSize(t, FONT, scale, 1)[0] for t in labels]
        row = max(h for _, h in sizes) + 8
        width = max(w for w, _ in sizes) + 36
        left, top, right, _ = self.rect
        x0, y0 = max(left + 2, right - width - 6), top + 6
        cv2.rectangle(self.img, (x0, y0), (x0 + width, y0 + row * len(labels) + 4),
                      (255, 255, 255), -1)
        cv2.rectangle(self.img, (x0, y0), (x0 + width, y0 + row * len(labels) + 4), _INK, 1)
        for i, (text, color) in enumerate(zip(labels, colors, strict=True)):
            y = y0 + 4 + row * i + row // 2
            cv2.line(self.img, (x0 + 6, y), (x0 + 26, y), color, 2, cv2.LINE_AA)
            cv2.putText(self.img, text, (x0 + 32, y + sizes[i][1] // 2), FONT, scale, _INK, 1,
                        cv2.LINE_AA)


def line_plot(series, size=(800, 300), xlim=None, ylim=None, title="", xlabel="",
              ylabel="") -> np.ndarray:
    """One plot of ``series``, a list of ``(label, x, y)``, as a (H, W, 3) uint8 BGR image.

    Lines take ``LINE_COLORS`` in order.  ``xlim``/``ylim`` default to the data's range.
    """
    width, height = (int(v) for v in size)
    img = np.full((height, width, 3), 255, np.uint8)
    rect = (78, 34, width - 16, height - 52)  # room for y ticks + label, title, x ticks
    if rect[2] <= rect[0] + 10 or rect[3] <= rect[1] + 10:
        raise ValueError(f"plot size {size} is too small")
    xs = np.concatenate([np.asarray(x, float).ravel() for _, x, _ in series] or [np.zeros(1)])
    ys = np.concatenate([np.asarray(y, float).ravel() for _, _, y in series] or [np.zeros(1)])
    if xlim is None:
        xlim = (np.nanmin(xs), np.nanmax(xs)) if np.isfinite(xs).any() else (0.0, 1.0)
    if ylim is None:
        ylim = (np.nanmin(ys), np.nanmax(ys)) if np.isfinite(ys).any() else (0.0, 1.0)
    axes = Axes(img, rect, xlim, ylim)
    axes.frame(xlabel, ylabel, title)
    colors = [LINE_COLORS[i % len(LINE_COLORS)] for i in range(len(series))]
    for (_, x, y), color in zip(series, colors, strict=True):
        axes.line(x, y, color)
    axes.legend([label for label, _, _ in series], colors)
    return img
