"""Bar charts as plain geometry for server-rendered SVG (templates/insights/
_bars.html): no JavaScript, no inline styles (the CSP forbids them), colours
from classes in tillit.css. Each chart stands beside a table with the same
numbers; a hidden count is drawn as an empty outline, never as a bar."""
from __future__ import annotations

from dataclasses import dataclass

from ..domain.disclosure import HIDDEN

WIDTH = 420
BAR_AREA = 150  # vertical charts: height of the tallest bar
LABEL_HEIGHT = 48  # two lines: quarter, year
ROW_HEIGHT = 42  # horizontal charts: a label line, then its bar


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int | None
    series: int  # 0 or 1: the class that colours it
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, float, str]]  # (x, y, text) of the categories
    horizontal: bool = False


def _scale(values) -> float:
    top = max((v for v in values if v is not HIDDEN), default=0)
    return BAR_AREA / top if top else 0


def columns(groups: list[tuple[str, list[int | None]]]) -> Chart:
    """Vertical bars, one group per label (e.g. a quarter), a bar per series
    (e.g. received, removed)."""
    series = max((len(values) for _label, values in groups), default=1)
    scale = _scale(v for _label, values in groups for v in values)
    slot = WIDTH / max(len(groups), 1)
    bar_width = min(36.0, slot * 0.8 / series)
    bars, labels = [], []
    for i, (label, values) in enumerate(groups):
        left = i * slot + (slot - bar_width * series) / 2
        for j, value in enumerate(values):
            height = (value or 0) * scale if value is not HIDDEN else BAR_AREA * 0.12
            x = left + j * bar_width
            bars.append(Bar(x, 16 + BAR_AREA - height, bar_width - 2, height, value, j,
                            x + bar_width / 2 - 1, 12 + BAR_AREA - height))
        labels.append((i * slot + slot / 2, 16 + BAR_AREA + 18, label))
    return Chart(WIDTH, 16 + BAR_AREA + LABEL_HEIGHT, bars, labels)


def rows(items: list[tuple[str, int | None]]) -> Chart:
    """Horizontal bars, each under its label: long labels stay whole on a phone."""
    top = max((v for _label, v in items if v is not HIDDEN), default=0)
    area = WIDTH - 44
    bars, labels = [], []
    for i, (label, value) in enumerate(items):
        y = i * ROW_HEIGHT
        if value is HIDDEN:
            length = area * 0.05
        else:
            length = (value or 0) / top * area if top else 0
        bars.append(Bar(0, y + 20, length, 14, value, 0, length + 6, y + 28))
        labels.append((0, y + 13, label))
    return Chart(WIDTH, len(items) * ROW_HEIGHT + 4, bars, labels, horizontal=True)
