"""Small per-day trend plots for the agent page: geometry only (the template draws the SVG)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Sequence

WIDTH = 460.0
HEIGHT = 170.0
LEFT = 44.0
RIGHT = 24.0
TOP = 12.0
BOTTOM = 28.0
MAX_X_LABELS = 7


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    day: date
    value: float
    label: str


@dataclass(frozen=True, slots=True)
class AxisLabel:
    pos: float
    text: str


@dataclass(frozen=True, slots=True)
class DayChart:
    """A line of per-day values between two dates (days without calls leave a gap in the line)."""

    title: str
    unit: str
    width: float
    height: float
    x0: float
    x1: float
    y0: float   # bottom of the plot (value = lo)
    y1: float   # top (value = hi)
    segments: tuple[tuple[Point, ...], ...]
    x_labels: tuple[AxisLabel, ...]
    y_labels: tuple[AxisLabel, ...]
    limit_y: float | None    # a reference line (e.g. the pass mark), in plot units
    limit_label: str

    @property
    def points(self) -> tuple[Point, ...]:
        return tuple(p for seg in self.segments for p in seg)

    @property
    def empty(self) -> bool:
        return not self.segments


def day_chart(title: str, values: Sequence[tuple[date, float]], first: date, last: date, *, unit: str = "",
              decimals: int = 1, lo: float = 0.0, hi: float | None = None, limit: float | None = None,
              limit_label: str = "") -> DayChart:
    """Plot ``(day, value)`` pairs on a day axis from ``first`` to ``last``."""
    values = sorted((d, float(v)) for d, v in values if v is not None and math.isfinite(float(v)))
    top = hi if hi is not None else _nice_top(max([v for _, v in values] + [limit or 0.0, lo + 1e-9]))
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP
    span_days = max((last - first).days, 1)
    fx = lambda d: x0 + (d - first).days / span_days * (x1 - x0) if last > first else (x0 + x1) / 2  # noqa: E731
    fy = lambda v: y0 - (min(max(v, lo), top) - lo) / (top - lo) * (y0 - y1)  # noqa: E731
    points = [Point(fx(d), fy(v), d, v, f"{d:%a %d %b}: {v:.{decimals}f}{unit}") for d, v in values]
    return DayChart(
        title=title, unit=unit, width=WIDTH, height=HEIGHT, x0=x0, x1=x1, y0=y0, y1=y1,
        segments=_segments(points), x_labels=_x_labels(first, last, fx),
        y_labels=tuple(AxisLabel(fy(v), f"{v:g}{unit}") for v in _y_ticks(lo, top)),
        limit_y=fy(limit) if limit is not None else None, limit_label=limit_label,
    )


def _segments(points: list[Point]) -> tuple[tuple[Point, ...], ...]:
    """Consecutive days join; a day without calls breaks the line."""
    segments: list[list[Point]] = []
    for p in points:
        if segments and (p.day - segments[-1][-1].day).days == 1:
            segments[-1].append(p)
        else:
            segments.append([p])
    return tuple(tuple(s) for s in segments)


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _y_ticks(lo: float, hi: float) -> list[float]:
    return [lo + (hi - lo) * k / 4 for k in range(5)]


def _x_labels(first: date, last: date, fx) -> tuple[AxisLabel, ...]:
    days = (last - first).days
    step = max(1, math.ceil((days + 1) / MAX_X_LABELS))
    labels = [first + timedelta(days=k) for k in range(0, days + 1, step)]
    return tuple(AxisLabel(fx(d), f"{d:%d %b}") for d in labels)
