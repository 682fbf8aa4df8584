"""The call timeline picture: geometry only (the template draws it as inline SVG).

Tracks from top to bottom: rule evidence (one marker per piece of evidence,
coloured by the rule's outcome; evidence covering half the call or more, such
as "the agent never said X in the whole call", as a thin bracket), one lane per
role with a bar per turn, redacted sensitive-data findings on their speaker's
lane, silences (dead air) and overlaps (both talking) across the lanes, and a
time axis. Every mark carries the time a click seeks to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

WIDTH = 1000.0
LEFT = 92.0      # lane labels
RIGHT = 16.0
TOP = 6.0
MARK_ROW_H = 15.0
MAX_MARK_ROWS = 4
LANE_H = 30.0
LANE_GAP = 8.0
AXIS_H = 26.0
MARK_W = 9.0     # a marker's width, for stacking
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
MAX_TICKS = 12
WINDOW_SHARE = 0.5  # evidence this share of the call or longer is drawn as a window
LANE_ROLES = ("agent", "customer", "unknown")
_OUTCOME_ORDER = {"na": 0, "pass": 1, "fail": 2}  # failures drawn last (on top)


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle of the picture with the time it stands for."""

    x: float
    y: float
    w: float
    h: float
    t: float          # seconds a click seeks to
    label: str        # tooltip and accessible name
    kind: str = ""    # css modifier: role, outcome, entity ...


@dataclass(frozen=True, slots=True)
class Lane:
    role: str
    label: str
    y: float
    h: float


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    """Everything the SVG template draws, in viewBox units."""

    width: float
    height: float
    duration: float
    x0: float
    x1: float
    lanes: tuple[Lane, ...]
    turns: tuple[Box, ...]
    silences: tuple[Box, ...]
    overlaps: tuple[Box, ...]
    pii: tuple[Box, ...]
    markers: tuple[Box, ...]   # point evidence
    windows: tuple[Box, ...]   # searched windows (evidence without a turn)
    ticks: tuple[Tick, ...]
    axis_y: float
    marks_y: float

    def x(self, t: float) -> float:
        return scale(t, self.duration, self.x0, self.x1)


def scale(t: float, duration: float, x0: float, x1: float) -> float:
    if duration <= 0:
        return x0
    return x0 + (min(max(t, 0.0), duration) / duration) * (x1 - x0)


def clock(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour) for axis labels and tooltips."""
    s = int(round(max(seconds, 0.0)))
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def tick_step(duration: float) -> int:
    for step in TICK_STEPS:
        if duration / step <= MAX_TICKS:
            return step
    return int(math.ceil(duration / MAX_TICKS / 3600.0)) * 3600


def build_timeline(view: Mapping[str, Any]) -> Timeline:
    """The picture of a call view (:func:`callqa.report.view.call_view`)."""
    turns = view.get("turns") or []
    duration = _duration(view, turns)
    x0, x1 = LEFT, WIDTH - RIGHT
    results = (view.get("evaluation") or {}).get("results") or []
    rows = _stack(_evidence_points(results, duration), duration, x0, x1)
    marks_y = TOP
    n_rows = max((r for _, r in rows), default=-1) + 1
    lanes_y = marks_y + max(n_rows, 1) * MARK_ROW_H + LANE_GAP
    roles = [r for r in LANE_ROLES if r != "unknown" or any(t["role"] == "unknown" for t in turns)]
    lanes = tuple(Lane(role, role.capitalize(), lanes_y + k * (LANE_H + LANE_GAP), LANE_H) for k, role in enumerate(roles))
    lane_of = {lane.role: lane for lane in lanes}
    band_y, band_h = lanes[0].y - 3, lanes[-1].y + lanes[-1].h - lanes[0].y + 6
    axis_y = lanes[-1].y + lanes[-1].h + LANE_GAP
    sx = lambda t: scale(t, duration, x0, x1)  # noqa: E731
    return Timeline(
        width=WIDTH, height=axis_y + AXIS_H, duration=duration, x0=x0, x1=x1, lanes=lanes,
        turns=tuple(_turn_box(t, lane_of[t["role"] if t["role"] in lane_of else "unknown"], sx) for t in turns),
        silences=tuple(_band(s, band_y, band_h, sx, f"silence {_dur(s)}", "silence") for s in _metric_list(view, "silences")),
        overlaps=tuple(_band(o, band_y, band_h, sx, f"overlap {_dur(o)}: {o.get('interrupter')} "
                             f"interrupted {o.get('interrupted')}", "overlap") for o in _metric_list(view, "overlaps")),
        pii=tuple(_pii_box(p, lane_of.get(p.get("role"), lanes[0]), sx) for p in view.get("pii") or ()),
        markers=tuple(_marker(p, row, marks_y, sx) for p, row in rows),
        windows=tuple(_window(w, marks_y, n_rows, sx) for w in _evidence_windows(results, duration)),
        ticks=_ticks(duration, sx), axis_y=axis_y, marks_y=marks_y,
    )


def _duration(view: Mapping[str, Any], turns: Sequence[Mapping[str, Any]]) -> float:
    ends = [float(t["end"]) for t in turns]
    return max([float(view.get("duration_s") or 0.0), *ends, 1.0])


def _metric_list(view: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    return list((view.get("metrics") or {}).get(name) or ())


def _dur(item: Mapping[str, Any]) -> str:
    return f"{float(item['end_s']) - float(item['start_s']):.1f} s at {clock(float(item['start_s']))}"


def _turn_box(turn: Mapping[str, Any], lane: Lane, sx) -> Box:
    start, end = float(turn["start"]), float(turn["end"])
    x = sx(start)
    label = f"{turn['role']} {clock(start)}-{clock(end)}: {_short(turn.get('text') or '')}"
    return Box(x, lane.y, max(sx(end) - x, 1.5), lane.h, start, label, lane.role)


def _band(item: Mapping[str, Any], y: float, h: float, sx, label: str, kind: str) -> Box:
    start, end = float(item["start_s"]), float(item["end_s"])
    x = sx(start)
    return Box(x, y, max(sx(end) - x, 1.5), h, start, label, kind)


def _pii_box(p: Mapping[str, Any], lane: Lane, sx) -> Box:
    start, end = float(p["start_s"]), float(p["end_s"])
    x = sx(start)
    label = f"{p['entity']} {p.get('masked') or ''} ({p.get('role')}, {clock(start)}, {p.get('detector')})"
    return Box(x, lane.y, max(sx(end) - x, 4.0), lane.h, start, label, "pii")


def _short(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Point:
    t: float
    end: float
    outcome: str
    label: str


def _is_window(e: Mapping[str, Any], duration: float) -> bool:
    """Evidence covering half the call or more is a searched window, not a moment."""
    return float(e["end"]) - float(e["start"]) >= WINDOW_SHARE * duration


def _evidence_points(results: Iterable[Mapping[str, Any]], duration: float) -> list[_Point]:
    points = [_Point(float(e["start"]), float(e["end"]), r["outcome"], _rule_label(r, e))
              for r in results for e in r.get("evidence") or () if not _is_window(e, duration)]
    return sorted(points, key=lambda p: (_OUTCOME_ORDER.get(p.outcome, 0), p.t))


def _evidence_windows(results: Iterable[Mapping[str, Any]], duration: float) -> list[_Point]:
    """One bracket per distinct window and outcome, naming every rule that searched it."""
    merged: dict[tuple[float, float, str], list[str]] = {}
    for r in results:
        for e in r.get("evidence") or ():
            if _is_window(e, duration):
                merged.setdefault((float(e["start"]), float(e["end"]), r["outcome"]), []).append(r["rule_id"])
    return [_Point(a, b, outcome, f"{', '.join(ids)} ({outcome}) searched {clock(a)}-{clock(b)}")
            for (a, b, outcome), ids in sorted(merged.items(), key=lambda kv: (_OUTCOME_ORDER.get(kv[0][2], 0), kv[0]))]


def _rule_label(r: Mapping[str, Any], e: Mapping[str, Any]) -> str:
    outcome = {"pass": "passed", "fail": "FAILED", "na": "n/a"}.get(r["outcome"], r["outcome"])
    return f"{r['rule_id']} {outcome} at {clock(float(e['start']))}: {_short(e.get('excerpt') or '', 70)}"


def _stack(points: Sequence[_Point], duration: float, x0: float, x1: float) -> list[tuple[_Point, int]]:
    """Give each marker the first row where it does not cover another one (the last row takes the rest)."""
    ends: list[float] = []
    out = []
    for p in points:
        x = scale(p.t, duration, x0, x1)
        row = next((k for k, end in enumerate(ends) if x >= end), None)
        if row is None:
            row = len(ends) if len(ends) < MAX_MARK_ROWS else MAX_MARK_ROWS - 1
            if row == len(ends):
                ends.append(0.0)
        ends[row] = max(ends[row], x + MARK_W + 1)
        out.append((p, row))
    return out


def _marker(p: _Point, row: int, marks_y: float, sx) -> Box:
    return Box(sx(p.t) - MARK_W / 2, marks_y + row * MARK_ROW_H, MARK_W, MARK_ROW_H - 3, p.t, p.label, p.outcome)


def _window(p: _Point, marks_y: float, n_rows: int, sx) -> Box:
    x = sx(p.t)
    y = marks_y + max(n_rows, 1) * MARK_ROW_H - 2
    return Box(x, y, max(sx(p.end) - x, 2.0), 2.0, p.t, p.label, p.outcome)


def _ticks(duration: float, sx) -> tuple[Tick, ...]:
    step = tick_step(duration)
    return tuple(Tick(sx(float(t)), clock(float(t))) for t in range(0, int(duration) + 1, step))
