"""Coach-facing HTML pages: one call's evaluation, and an agent's scorecard over a date range.

Each page is ONE self-contained file: CSS, JavaScript and pictures (inline
SVG) are inside it, it loads nothing from the network (a Content-Security-
Policy says so), and everything in it is read from the redacted database and
HTML-escaped (Jinja2 autoescape). The evaluation page plays the call's
*redacted* recording when one is available (see :mod:`callqa.report.media`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

import duckdb
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from callqa import __version__
from callqa.report.agent import AgentSummary, agent_summary
from callqa.report.charts import DayChart, day_chart
from callqa.report.media import AudioSource, audio_for_report
from callqa.report.timeline import build_timeline
from callqa.report.view import call_view
from callqa.types import LOW_ROLE_CONFIDENCE

log = logging.getLogger("callqa.report")

_TOKEN = re.compile(r"\[[A-Z][A-Z_]*\]")


@dataclass(frozen=True, slots=True)
class SectionCard:
    """One scorecard section with its rules, in pack order."""

    section: str
    title: str
    score: float | None
    max_score: float | None
    results: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class WrittenPage:
    """A page written to disk."""

    path: Path
    title: str
    audio: AudioSource | None = None


# ---------------------------------------------------------------------- rendering


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("callqa.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(clock=clock, num=num, pct=pct, redacted=redacted, when=when, title_of=title_of)
    return env


@lru_cache(maxsize=4)
def static(name: str) -> Markup:
    """One of our own static files (CSS, JS), trusted, to inline."""
    text = resources.files("callqa.report").joinpath("static", name).read_text(encoding="utf-8")
    return Markup(text)


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(
        css=static("report.css"), js=static("report.js"), version=__version__,
        generated_at=datetime.now(timezone.utc), **context)


def clock(seconds: float | None) -> str:
    """``mm:ss.s`` (as ``callqa show`` prints times)."""
    if seconds is None:
        return ""
    m, s = divmod(max(float(seconds), 0.0), 60)
    return f"{int(m):02d}:{s:04.1f}"


def num(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{float(value):.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def pct(ratio: float | None, decimals: int = 0) -> str:
    return "–" if ratio is None else f"{100.0 * float(ratio):.{decimals}f}%"


def redacted(text: str | None) -> Markup:
    """Escaped text with redaction tokens (``[CARD_NUMBER]``) marked."""
    escaped = str(escape(text or ""))
    return Markup(_TOKEN.sub(lambda m: f'<mark class="redaction">{m.group(0)}</mark>', escaped))


def when(value: datetime | date | str | None) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") + (f" {value.strftime('%Z')}" if value.tzinfo else "")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def title_of(section: str | None) -> str:
    return (section or "other").replace("_", " ").capitalize()


# ---------------------------------------------------------------------- evaluation page


def scorecard(evaluation: Mapping[str, Any] | None) -> tuple[SectionCard, ...]:
    """The evaluation's rules grouped by section, sections in scoring order."""
    if not evaluation:
        return ()
    totals = {s["section"]: (s["score"], s["max_score"]) for s in evaluation.get("sections") or ()}
    order = list(totals) + [r["section"] for r in evaluation["results"] if r["section"] not in totals]
    cards = []
    for section in dict.fromkeys(order):
        results = tuple(r for r in evaluation["results"] if r["section"] == section)
        if results:
            score, top = totals.get(section, (None, None))
            cards.append(SectionCard(section, title_of(section), score, top, results))
    return tuple(cards)


def evaluation_html(view: Mapping[str, Any], audio: AudioSource) -> str:
    """The evaluation page of a call view (``callqa show --format json`` document)."""
    ev = view.get("evaluation")
    roles = view.get("roles") or {}
    confidence = roles.get("confidence")
    return render(
        "evaluation.html", view=view, ev=ev, sections=scorecard(ev), timeline=build_timeline(view), audio=audio,
        low_roles=confidence is not None and confidence < LOW_ROLE_CONFIDENCE,
        failed=[r for r in (ev or {}).get("results", ()) if r["outcome"] == "fail"],
        praised=[r for r in (ev or {}).get("results", ()) if r["outcome"] == "pass"],
        metrics=view.get("metrics"), pii=view.get("pii") or [],
    )


def default_evaluation_path(call_id: str) -> Path:
    return Path(f"report-{call_id[:12]}.html")


def write_evaluation_page(con: duckdb.DuckDBPyConnection, ref: str, db: Path, out: Path | None = None, *,
                          audio_mode: str = "link", audio_file: Path | None = None) -> WrittenPage:
    """Write the evaluation page of the call ``ref`` (id, id prefix or file name)."""
    view = call_view(con, ref, db)
    call_id = view["call_id"]
    out = out or default_evaluation_path(call_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    row = con.execute("SELECT redacted_audio_path FROM calls WHERE call_id = ?", [call_id]).fetchone()
    audio = audio_for_report(call_id, stored=row[0] if row else None, db=db, out=out, mode=audio_mode,
                             explicit=audio_file)
    out.write_text(evaluation_html(view, audio), encoding="utf-8")
    log.info("call %s: wrote %s", call_id[:12], out)
    return WrittenPage(out, f"call {call_id[:12]}", audio)


# ---------------------------------------------------------------------- agent page


def agent_charts(summary: AgentSummary) -> tuple[DayChart, ...]:
    first, last = summary.first_day, summary.last_day
    days = summary.days
    return (
        day_chart("Mean score", [(d.day, d.mean_score) for d in days], first, last, decimals=1, hi=100.0),
        day_chart("Agent talk ratio", [(d.day, 100.0 * d.mean_talk_ratio) for d in days if d.mean_talk_ratio is not None],
                  first, last, unit="%", decimals=0, hi=100.0, limit=50.0, limit_label="even"),
        day_chart("Dead air (longest silence, mean)", [(d.day, d.mean_dead_air_s) for d in days
                                                       if d.mean_dead_air_s is not None],
                  first, last, unit=" s", decimals=1),
    )


def agent_html(summary: AgentSummary, *, call_links: Mapping[str, str]) -> str:
    return render("agent.html", s=summary, charts=agent_charts(summary), links=call_links)


def default_agent_path(agent_id: str, first: date | None, last: date | None) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", agent_id).strip("._") or "agent"
    span = f"-{first or 'start'}_{last or 'end'}" if first or last else ""
    return Path(f"agent-{safe}{span}.html")


def write_agent_page(con: duckdb.DuckDBPyConnection, agent_id: str, db: Path, *, since: date | None = None,
                     until: date | None = None, out: Path | None = None, with_calls: bool = False,
                     audio_mode: str = "link") -> list[WrittenPage]:
    """Write the agent's scorecard page (and, ``with_calls``, the evaluation page of every call it lists)."""
    summary = agent_summary(con, agent_id, since, until, db)
    out = out or default_agent_path(agent_id, since, until)
    out.parent.mkdir(parents=True, exist_ok=True)
    links = {c.call_id: default_evaluation_path(c.call_id).name for c in summary.calls}
    written = []
    if with_calls:
        for call_id, name in links.items():
            written.append(write_evaluation_page(con, call_id, db, out.parent / name, audio_mode=audio_mode))
    out.write_text(agent_html(summary, call_links=links), encoding="utf-8")
    log.info("agent %s: wrote %s (%d calls)", agent_id, out, len(summary.calls))
    return [WrittenPage(out, f"agent {agent_id}"), *written]


def pages_text(pages: Sequence[WrittenPage]) -> str:
    """One line per written page, for the command line."""
    lines = []
    for p in pages:
        note = f"  ({p.audio.note})" if p.audio is not None and p.audio.note else ""
        lines.append(f"wrote {p.path}: {p.title}{note}")
    return "\n".join(lines)
