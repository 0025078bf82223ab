"""Charts drawn on the server as SVG: no script, no CDN, sharp in print and in
PDF (WeasyPrint draws the same SVG).

A `Chart` is data (categories along the x axis, one `Series` of values per
line or bar colour); `Chart.drawing()` turns it into coordinates that
`reporting/_chart.html` writes out. Every point and bar carries a `<title>`,
so hovering shows its figure, and the same figures are in a table under the
chart for screen readers and for anyone who prefers numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import number_format

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 12, 30
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_X_LABELS = 12
MAX_BAR_WIDTH = 48
TICKS = 5  # with ceilings of 1, 2 or 5 times a power of ten, every tick is round
# Current period first, the period before in grey; then distinct hues.
PALETTE = ["#2563eb", "#94a3b8", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0891b2"]

Number = int | float | Decimal


def count_text(value: Number) -> str:
    return number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)


def percent_text(value: Number) -> str:
    return f"{number_format(value, decimal_pos=0, use_l10n=True)} %"


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Number | None]  # one per category; None where there is no figure
    text: Callable[[Number], str] = count_text
    dashed: bool = False


@dataclass(frozen=True)
class Chart:
    key: str  # the element id and the test hook
    title: str
    kind: str  # "lines" | "bars"
    categories: Sequence[str]
    series: Sequence[Series]
    caption: str = ""
    category_title: str = ""  # heads the first column of the figures table
    ceiling: Number | None = None  # a fixed top of the scale (100 for a rate)
    axis_text: Callable[[Number], str] = count_text
    colours: Sequence[str] = field(default_factory=lambda: PALETTE)

    @property
    def is_empty(self) -> bool:
        return not any(value for series in self.series for value in series.values)

    def table(self) -> list[tuple[str, list[str]]]:
        """The figures, one row per category, one cell per series."""
        return [(category, [_text(series, series.values[index]) for series in self.series])
                for index, category in enumerate(self.categories)]

    def legend(self) -> list[dict]:
        return [{"label": series.label, "colour": self._colour(index), "dashed": series.dashed}
                for index, series in enumerate(self.series)]

    def _colour(self, index: int) -> str:
        return self.colours[index % len(self.colours)]

    def drawing(self) -> dict:
        # At least one unit per tick, so a scale of a few orders reads 0, 1, 2, 3, 4, 5.
        top = nice_ceiling(float(self.ceiling or max(
            (float(value) for series in self.series for value in series.values
             if value is not None), default=0) or TICKS))
        top = max(top, TICKS)
        slot = PLOT_WIDTH / max(len(self.categories), 1)

        def y(value: Number) -> float:
            return round(TOP + PLOT_HEIGHT * (1 - float(value) / top), 1)

        ticks = [{"y": y(top * step / TICKS), "text": self.axis_text(top * step / TICKS)}
                 for step in range(TICKS + 1)]
        every = math.ceil(len(self.categories) / MAX_X_LABELS)
        labels = [{"x": round(LEFT + slot * (index + 0.5), 1), "text": category}
                  for index, category in enumerate(self.categories) if index % every == 0]
        drawing: dict = {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT,
                         "bottom": TOP + PLOT_HEIGHT, "label_y": HEIGHT - 10,
                         "ticks": ticks, "labels": labels, "bars": [], "lines": []}
        if self.kind == "bars":
            width = min(slot * 0.8 / max(len(self.series), 1), MAX_BAR_WIDTH)
            margin = (slot - width * len(self.series)) / 2  # centres the group in its slot
            for s_index, series in enumerate(self.series):
                for index, value in enumerate(series.values):
                    if value is None:
                        continue
                    x = LEFT + slot * index + margin + width * s_index
                    drawing["bars"].append({
                        "x": round(x, 1), "y": y(value), "width": round(max(width - 1, 1), 1),
                        "height": round(TOP + PLOT_HEIGHT - y(value), 1),
                        "colour": self._colour(s_index),
                        "title": f"{series.label}, {self.categories[index]}: {series.text(value)}"})
        else:
            for s_index, series in enumerate(self.series):
                dots = [{"x": round(LEFT + slot * (index + 0.5), 1), "y": y(value),
                         "title": f"{series.label}, {self.categories[index]}: "
                                  f"{series.text(value)}"}
                        for index, value in enumerate(series.values) if value is not None]
                drawing["lines"].append({
                    "points": " ".join(f"{dot['x']},{dot['y']}" for dot in dots),
                    "dots": dots, "colour": self._colour(s_index), "dashed": series.dashed})
        return drawing


def _text(series: Series, value: Number | None) -> str:
    return "–" if value is None else series.text(value)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2 or 5 times a power of ten at or above `value`
    (at least 1), so the axis reads in round figures."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if value <= step * power)
