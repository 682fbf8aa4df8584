"""An agent's scorecard over a date range, read from the base tables.

A call counts on its *day*: ``started_at`` from the sidecar, else when callqa
processed it, as a date in the DuckDB session's time zone (the same definition
as the ``agent_daily`` view). Each call counts with its newest evaluation.
Scores are 0-100.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from statistics import fmean
from typing import Any, Sequence

import duckdb

from callqa.errors import StoreError
from callqa.store import rows_as_dicts

log = logging.getLogger("callqa.report")

WORST_CALLS = 3
TOP_FAILED_RULES = 8

_CALLS_SQL = """
WITH latest AS (
    SELECT *, row_number() OVER (PARTITION BY call_id ORDER BY created_at DESC, evaluation_id DESC) AS rn
    FROM evaluations
)
SELECT c.call_id, CAST(coalesce(c.started_at, c.processed_at) AS DATE) AS day, c.started_at, c.source_name,
       c.agent_name, c.team, c.queue, c.duration_s, l.evaluation_id, l.score, l.max_score, l.passed, l.auto_failed,
       l.sections, l.pack_id, m.agent_talk_ratio, m.longest_silence_s
FROM calls c
LEFT JOIN latest l ON l.call_id = c.call_id AND l.rn = 1
LEFT JOIN metrics m ON m.call_id = c.call_id
WHERE c.agent_id = ?
  AND CAST(coalesce(c.started_at, c.processed_at) AS DATE) >= coalesce(CAST(? AS DATE), DATE '0001-01-01')
  AND CAST(coalesce(c.started_at, c.processed_at) AS DATE) <= coalesce(CAST(? AS DATE), DATE '9999-12-31')
ORDER BY day, c.started_at NULLS LAST, c.call_id
"""

_RULES_SQL = """
SELECT r.evaluation_id, r.rule_id, r.title, r.section, r.outcome, r.critical, r.explanation
FROM rule_results r
WHERE r.evaluation_id IN (SELECT unnest(?::VARCHAR[]))
ORDER BY r.evaluation_id, r.rule_index
"""


@dataclass(frozen=True, slots=True)
class AgentCall:
    """One scored call of the agent."""

    call_id: str
    day: date
    started_at: datetime | None
    source_name: str
    duration_s: float | None
    score: float
    max_score: float
    passed: bool
    auto_failed: bool
    talk_ratio: float | None
    dead_air_s: float | None
    failed: tuple[tuple[str, str, bool], ...]   # (rule_id, title, critical) of failed rules
    passed_rules: tuple[tuple[str, str], ...]   # (rule_id, title)


@dataclass(frozen=True, slots=True)
class RuleFailures:
    """How often a rule failed among the calls where it applied."""

    rule_id: str
    title: str
    section: str
    critical: bool
    failed: int
    applicable: int
    call_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: date
    calls: int
    mean_score: float
    mean_talk_ratio: float | None
    mean_dead_air_s: float | None


@dataclass(frozen=True, slots=True)
class AgentSummary:
    """What the agent page shows."""

    agent_id: str
    agent_name: str | None
    team: str | None
    first_day: date
    last_day: date
    calls: tuple[AgentCall, ...]           # scored calls, by day
    unscored: int                          # calls in range without an evaluation
    section_means: tuple[tuple[str, float], ...]
    days: tuple[DayFigures, ...]
    failed_rules: tuple[RuleFailures, ...]

    @property
    def mean_score(self) -> float | None:
        return fmean(c.score for c in self.calls) if self.calls else None

    @property
    def pass_rate(self) -> float | None:
        return sum(c.passed for c in self.calls) / len(self.calls) if self.calls else None

    @property
    def auto_fails(self) -> int:
        return sum(c.auto_failed for c in self.calls)

    @property
    def mean_talk_ratio(self) -> float | None:
        return _mean(c.talk_ratio for c in self.calls)

    @property
    def mean_dead_air_s(self) -> float | None:
        return _mean(c.dead_air_s for c in self.calls)

    @property
    def best(self) -> AgentCall | None:
        """The call to praise: highest score among passed calls (latest on a tie)."""
        passed = [c for c in self.calls if c.passed]
        return max(passed, key=lambda c: (c.score, c.day, c.call_id)) if passed else None

    @property
    def worst(self) -> tuple[AgentCall, ...]:
        """Calls to coach: auto-failed first, then the lowest scores; never the best call."""
        best = self.best
        pool = [c for c in self.calls if best is None or c.call_id != best.call_id]
        pool = [c for c in pool if not c.passed or c.score < 100.0]
        return tuple(sorted(pool, key=lambda c: (not c.auto_failed, c.score, c.day, c.call_id))[:WORST_CALLS])


def _mean(values) -> float | None:
    got = [float(v) for v in values if v is not None]
    return fmean(got) if got else None


def agent_summary(con: duckdb.DuckDBPyConnection, agent_id: str, since: date | None, until: date | None,
                  db: str | Path) -> AgentSummary:
    """The agent's calls from ``since`` to ``until`` (both days included; None: open)."""
    if since and until and since > until:
        raise StoreError(f"--from {since} is after --to {until}")
    rows = rows_as_dicts(con.execute(_CALLS_SQL, [agent_id, since, until]))
    if not rows:
        raise StoreError(f"{db}: no calls of agent {agent_id!r}{_range_text(since, until)}; "
                         "agent ids come from the recordings' sidecars (calls.agent_id)")
    scored = [r for r in rows if r["evaluation_id"] is not None]
    rules = _rule_rows(con, [r["evaluation_id"] for r in scored])
    calls = tuple(_agent_call(r, rules.get(r["evaluation_id"], [])) for r in scored)
    log.info("agent %s: %d call(s), %d scored", agent_id, len(rows), len(calls))
    named = [r for r in rows if r["agent_name"]]
    return AgentSummary(
        agent_id=agent_id, agent_name=named[-1]["agent_name"] if named else None,
        team=next((r["team"] for r in reversed(rows) if r["team"]), None),
        first_day=since or rows[0]["day"], last_day=until or rows[-1]["day"],
        calls=calls, unscored=len(rows) - len(scored), section_means=_section_means(scored),
        days=_days(calls), failed_rules=_failed_rules(rules, {r["evaluation_id"]: r["call_id"] for r in scored}),
    )


def _range_text(since: date | None, until: date | None) -> str:
    if since and until:
        return f" from {since} to {until}"
    if since:
        return f" from {since}"
    return f" until {until}" if until else ""


def _rule_rows(con: duckdb.DuckDBPyConnection, evaluation_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if evaluation_ids:
        for row in rows_as_dicts(con.execute(_RULES_SQL, [list(evaluation_ids)])):
            out[row["evaluation_id"]].append(row)
    return out


def _agent_call(row: dict[str, Any], rules: list[dict[str, Any]]) -> AgentCall:
    return AgentCall(
        call_id=row["call_id"], day=row["day"], started_at=row["started_at"], source_name=row["source_name"],
        duration_s=row["duration_s"], score=_percent(row["score"], row["max_score"]), max_score=100.0,
        passed=bool(row["passed"]), auto_failed=bool(row["auto_failed"]), talk_ratio=row["agent_talk_ratio"],
        dead_air_s=row["longest_silence_s"],
        failed=tuple((r["rule_id"], r["title"] or r["rule_id"], bool(r["critical"])) for r in rules if r["outcome"] == "fail"),
        passed_rules=tuple((r["rule_id"], r["title"] or r["rule_id"]) for r in rules if r["outcome"] == "pass"),
    )


def _percent(score: float, max_score: float) -> float:
    return 100.0 * float(score) / float(max_score) if max_score else 0.0


def _section_means(rows: Sequence[dict[str, Any]]) -> tuple[tuple[str, float], ...]:
    shares: dict[str, list[float]] = {}
    for row in rows:
        for s in row["sections"] or ():
            if s["max_score"]:
                shares.setdefault(s["section"], []).append(100.0 * s["score"] / s["max_score"])
    return tuple((section, fmean(values)) for section, values in shares.items())


def _days(calls: Sequence[AgentCall]) -> tuple[DayFigures, ...]:
    by_day: dict[date, list[AgentCall]] = defaultdict(list)
    for c in calls:
        by_day[c.day].append(c)
    return tuple(
        DayFigures(day, len(cs), fmean(c.score for c in cs), _mean(c.talk_ratio for c in cs), _mean(c.dead_air_s for c in cs))
        for day, cs in sorted(by_day.items())
    )


def _failed_rules(rules: dict[str, list[dict[str, Any]]], call_of: dict[str, str]) -> tuple[RuleFailures, ...]:
    stats: dict[str, dict[str, Any]] = {}
    for evaluation_id, rows in rules.items():
        for r in rows:
            if r["outcome"] == "na":
                continue
            s = stats.setdefault(r["rule_id"], {"title": r["title"] or r["rule_id"], "section": r["section"] or "",
                                                "critical": bool(r["critical"]), "failed": 0, "applicable": 0, "calls": []})
            s["applicable"] += 1
            if r["outcome"] == "fail":
                s["failed"] += 1
                s["calls"].append(call_of[evaluation_id])
    ranked = sorted(((rid, s) for rid, s in stats.items() if s["failed"]),
                    key=lambda kv: (-kv[1]["failed"], -kv[1]["critical"], kv[0]))
    return tuple(RuleFailures(rid, s["title"], s["section"], s["critical"], s["failed"], s["applicable"], tuple(s["calls"]))
                 for rid, s in ranked[:TOP_FAILED_RULES])
