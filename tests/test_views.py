"""The QA lead's views (store/sql/0003_views.sql) on a database made from the sample calls.

The sample calls' reference transcripts (no model) go through detection,
redaction and the default pack, with their sidecars' agents and teams, spread
over three days and two ISO weeks; one call also has an older evaluation that
must not count. Every view's numbers are then checked against the same figures
computed here in Python from the Evaluation objects.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from callqa.audio import read_sidecar
from callqa.errors import AudioError
from callqa.pii import detect, redact_transcript
from callqa.scoring import Scorer
from callqa.store import Store
from callqa.types import CallMetadata, CallMetrics, CallRecord, Evaluation, Outcome, ProcessedCall

from rules_helpers import reference_transcript

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_audio"
REFS = SAMPLES / "references"
NAMES = sorted(p.name.split(".")[0] for p in REFS.glob("*.expected.json")) if REFS.is_dir() else []

pytestmark = pytest.mark.skipif(len(NAMES) < 6, reason="sample_audio/references is incomplete")


@dataclass
class Stored:
    name: str
    call_id: str
    meta: CallMetadata
    metrics: CallMetrics
    ev: Evaluation
    pii_count: int

    @property
    def day(self) -> date:
        return self.meta.started_at.astimezone(timezone.utc).date()


def _recording(name: str) -> Path:
    return next(p for p in SAMPLES.glob(f"{name}.*") if p.suffix != ".json")


@pytest.fixture(scope="module")
def qa_db(tmp_path_factory) -> tuple[Store, list[Stored], str]:
    scorer = Scorer(REPO / "qa_rules" / "default.yaml")
    store = Store(tmp_path_factory.mktemp("views") / "qa.duckdb")
    stored: list[Stored] = []
    stale_call = None
    with store.writing() as w:
        for i, name in enumerate(NAMES):
            sidecar = SAMPLES / f"{name}.json"
            meta = read_sidecar(sidecar) if sidecar.is_file() else CallMetadata()
            start = (meta.started_at or datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)) + timedelta(days=i % 3)
            meta = replace(meta, started_at=start)  # Sun 22, Mon 23 (a new ISO week), Tue 24 November
            call_id = hashlib.sha256(name.encode()).hexdigest()
            tr = replace(reference_transcript(REFS / f"{name}.json"), call_id=call_id)
            redacted, findings = redact_transcript(tr, detect(tr))
            created = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc) + timedelta(minutes=i)
            metrics, ev = scorer.score(redacted, pii=findings, metadata=meta, created_at=created)
            src = _recording(name)
            record = CallRecord(call_id=call_id, source_path=str(src), size_bytes=src.stat().st_size,
                                container=src.suffix[1:], codec=src.suffix[1:], source_sample_rate=8000,
                                channels=redacted.channels, duration_s=redacted.duration, language_probability=1.0,
                                settings_key="views-test", metadata=meta)
            if stale_call is None and ev.passed:
                # an older evaluation of a passed call that failed everything: the views must ignore it
                stale = replace(ev, score=3.0, passed=False, auto_failed=True,
                                results=tuple(replace(r, outcome=Outcome.FAIL, points=0.0) for r in ev.results),
                                created_at=created - timedelta(days=2))
                w.save_call(ProcessedCall(record=record, transcript=redacted, pii=findings, metrics=metrics,
                                          evaluation=stale), run_id=None)
                w.save_evaluation(ev, run_id=None)
                stale_call = call_id
            else:
                w.save_call(ProcessedCall(record=record, transcript=redacted, pii=findings, metrics=metrics,
                                          evaluation=ev), run_id=None)
            stored.append(Stored(name, call_id, meta, metrics, ev, len(findings)))
        w.record_failure(None, "/inbox/broken.wav", AudioError("/inbox/broken.wav", "not audio", stage="decode"))
        w.record_failure(None, "/inbox/broken.wav", AudioError("/inbox/broken.wav", "not audio", stage="decode"))
        w.record_failure(None, "/inbox/late.wav", AudioError("/inbox/late.wav", "truncated", stage="decode"))
        w.resolve_failures("/inbox/late.wav", None)
    assert stale_call is not None, "no sample call passes the default pack"
    return store, stored, stale_call


@pytest.fixture
def con(qa_db):
    store, _, _ = qa_db
    c = store.connect_read()
    c.execute("SET TimeZone = 'UTC'")
    yield c
    c.close()


def rows(con, sql, params=()):
    cur = con.execute(sql, list(params))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def by_agent_day(stored):
    groups = defaultdict(list)
    for s in stored:
        groups[(s.day, s.meta.agent_id)].append(s)
    return groups


def section_share(ev: Evaluation) -> dict[str, float]:
    return {sec: 100.0 * got / top for sec, got, top in ev.sections if top > 0}


def test_latest_evaluations_is_one_per_call_and_the_newest(con, qa_db):
    _, stored, stale_call = qa_db
    got = {r["call_id"]: r for r in rows(con, "SELECT * FROM latest_evaluations")}
    assert set(got) == {s.call_id for s in stored}
    assert con.execute("SELECT count(*) FROM evaluations").fetchone()[0] == len(stored) + 1
    for s in stored:
        r = got[s.call_id]
        assert (r["score"], r["passed"], r["auto_failed"], r["pack_id"]) == (s.ev.score, s.ev.passed, s.ev.auto_failed, s.ev.pack)
        assert r["day"] == s.day and r["agent_id"] == s.meta.agent_id and r["team"] == s.meta.team
    assert got[stale_call]["passed"] is True


def test_rule_outcomes_flatten_the_latest_results(con, qa_db):
    _, stored, _ = qa_db
    got = rows(con, "SELECT call_id, rule_id, outcome, points, critical, evidence_start_s FROM rule_outcomes")
    want = {(s.call_id, r.rule_id): r for s in stored for r in s.ev.results}
    assert len(got) == len(want)
    for g in got:
        r = want[(g["call_id"], g["rule_id"])]
        assert (g["outcome"], g["points"], g["critical"]) == (r.outcome.value, r.points, r.critical)
        first = r.evidence[0].span.start if r.evidence else None
        assert g["evidence_start_s"] == (pytest.approx(first) if first is not None else None)


@pytest.mark.parametrize("view,period", [("agent_daily", "day"), ("agent_weekly", "week")])
def test_agent_views(con, qa_db, view, period):
    _, stored, _ = qa_db

    def key(s: Stored):
        d = s.day
        return (d if period == "day" else d - timedelta(days=d.weekday())), s.meta.agent_id

    groups = defaultdict(list)
    for s in stored:
        groups[key(s)].append(s)
    got = {(r[period], r["agent_id"]): r for r in rows(con, f"SELECT * FROM {view}")}
    assert set(got) == set(groups)
    assert len({k[0] for k in groups}) >= 2  # the data spans several days / weeks
    for k, calls in groups.items():
        r = got[k]
        assert r["calls"] == len(calls)
        assert r["mean_score"] == pytest.approx(round(statistics.mean(c.ev.score for c in calls), 2))
        assert r["passed_calls"] == sum(c.ev.passed for c in calls)
        assert r["pass_rate_pct"] == pytest.approx(round(100 * sum(c.ev.passed for c in calls) / len(calls), 1))
        assert r["auto_fails"] == sum(c.ev.auto_failed for c in calls)
        assert r["critical_fails"] == sum(1 for c in calls for x in c.ev.results if x.critical and x.outcome == Outcome.FAIL)
        assert r["mean_agent_talk_ratio"] == pytest.approx(round(statistics.mean(c.metrics.agent_talk_ratio for c in calls), 3))
        assert r["mean_dead_air_s"] == pytest.approx(round(statistics.mean(c.metrics.longest_silence_s for c in calls), 2))
        assert r["longest_dead_air_s"] == pytest.approx(max(c.metrics.longest_silence_s for c in calls))
        sections = defaultdict(list)
        for c in calls:
            for sec, share in section_share(c.ev).items():
                sections[sec].append(share)
        assert dict(r["section_means"] or {}) == pytest.approx({sec: round(statistics.mean(v), 1) for sec, v in sections.items()})


def test_coaching_queue(con, qa_db):
    _, stored, _ = qa_db
    want = set()
    per_agent = defaultdict(list)
    for s in stored:
        if not s.ev.passed and not s.ev.auto_failed:
            per_agent[s.meta.agent_id].append(s)
    lowest = {s.call_id for calls in per_agent.values()
              for s in sorted(calls, key=lambda c: (c.ev.score, -c.meta.started_at.timestamp()))[:3]}
    for s in stored:
        for r in s.ev.results:
            if r.outcome == Outcome.FAIL and (r.critical or s.call_id in lowest):
                want.add((s.call_id, r.rule_id, 1 if r.critical else 2))
    got = rows(con, "SELECT call_id, rule_id, priority, reason, day, started_at, evidence_excerpt FROM coaching_queue")
    assert {(g["call_id"], g["rule_id"], g["priority"]) for g in got} == want
    assert any(p == 1 for _, _, p in want), "the sample calls include a critical failure"
    days = [(g["day"], g["started_at"]) for g in got]
    assert days == sorted(days, reverse=True)  # newest first
    assert {g["reason"] for g in got if g["priority"] == 1} == {"critical item failed"}


def test_qa_stars(con, qa_db):
    _, stored, _ = qa_db
    groups = defaultdict(list)
    for s in stored:
        if s.ev.passed:
            groups[(s.day, s.meta.team)].append(s)
    want = {}
    for k, calls in groups.items():
        calls.sort(key=lambda c: (-c.ev.score, c.metrics.longest_silence_s, c.metrics.agent_interruptions,
                                  c.meta.started_at, c.call_id))
        for rank, c in enumerate(calls[:3], 1):
            want[(k[0], k[1], rank)] = c
    got = rows(con, "SELECT * FROM qa_stars")
    assert {(g["day"], g["team"], g["rank"]) for g in got} == set(want)
    for g in got:
        c = want[(g["day"], g["team"], g["rank"])]
        assert g["call_id"] == c.call_id and g["score"] == c.ev.score and g["star_of_the_day"] == (g["rank"] == 1)
        titles = [r.title for r in sorted(c.ev.results, key=lambda r: -r.points) if r.outcome == Outcome.PASS and r.points > 0]
        assert sorted(g["strengths"]) == sorted(titles) and g["strengths"][0] == titles[0]


def test_pii_findings_are_masked_and_counted(con, qa_db):
    _, stored, _ = qa_db
    got = rows(con, "SELECT call_id, count(*) AS n FROM pii_findings GROUP BY call_id")
    assert {g["call_id"]: g["n"] for g in got} == {s.call_id: s.pii_count for s in stored if s.pii_count}
    masked = [m for (m,) in con.execute("SELECT masked FROM pii_findings WHERE entity = 'CARD_NUMBER'").fetchall()]
    assert masked and all(sum(ch.isdigit() for ch in m) <= 4 for m in masked)


def test_open_failures(con):
    got = rows(con, "SELECT path, attempt, stage FROM open_failures")
    assert got == [{"path": "/inbox/broken.wav", "attempt": 2, "stage": "decode"}]


# --------------------------------------------------------------------------- docs/sql.md and `callqa sql`

DOC = REPO / "docs" / "sql.md"


def doc_queries() -> list[str]:
    import re

    return re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_every_documented_query_runs(con):
    queries = doc_queries()
    assert len(queries) >= 10
    for q in queries:
        con.execute(q).fetchall()  # raises with DuckDB's message if a documented column or view is wrong


def test_documented_columns_are_the_views_columns(con):
    import re

    text = DOC.read_text(encoding="utf-8")
    for view in ("latest_evaluations", "rule_outcomes", "qa_stars", "pii_findings", "open_failures"):
        section = text.split(f"### {view}", 1)[1].split("```", 1)[0]
        documented = re.findall(r"`([^`]+)`", section)[0]
        names = [re.split(r"[ (]", c.strip())[0] for c in documented.replace("\n", " ").split(",")]
        actual = [d[0] for d in con.execute(f"SELECT * FROM {view} LIMIT 0").description]
        assert names == actual, view


def test_callqa_sql_formats_files_and_errors(qa_db, tmp_path):
    import csv
    import json

    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from callqa.cli import app

    store, stored, _ = qa_db
    runner = CliRunner()
    db = ["--db", str(store.path)]
    query = tmp_path / "agents.sql"
    query.write_text("-- calls per agent\nSELECT agent_id, count(*) AS calls\nFROM latest_evaluations\nGROUP BY ALL ORDER BY 1",
                     encoding="utf-8")
    want = sorted(((a, n) for a, n in
                   {a: sum(1 for s in stored if s.meta.agent_id == a) for a in {s.meta.agent_id for s in stored}}.items()),
                  key=lambda x: (x[0] is None, x[0] or ""))

    out = tmp_path / "agents.csv"
    r = runner.invoke(app, ["sql", str(query), *db, "--format", "csv", "--out", str(out)])
    assert r.exit_code == 0, r.output
    with out.open(newline="") as fh:
        got = [(row["agent_id"] or None, int(row["calls"])) for row in csv.DictReader(fh)]
    assert got == want

    r = runner.invoke(app, ["sql", str(query), *db, "--format", "json"])
    assert r.exit_code == 0, r.output
    assert [(d["agent_id"], d["calls"]) for d in json.loads(r.stdout)] == want

    pq_out = tmp_path / "agents.parquet"
    r = runner.invoke(app, ["sql", str(query), *db, "--format", "parquet", "--out", str(pq_out)])
    assert r.exit_code == 0, r.output
    assert pq.read_table(pq_out).num_rows == len(want)

    r = runner.invoke(app, ["sql", "SELECT agent_name, calls FROM agent_daily", *db])
    assert r.exit_code == 0 and "agent_name" in r.stdout

    # read-only, and a bad query answers with DuckDB's message, not a traceback
    for bad, words in [("DELETE FROM calls", "read-only"), ("SELECT nope FROM calls", "nope")]:
        r = runner.invoke(app, ["sql", bad, *db])
        assert r.exit_code == 1 and words in r.output and "Traceback" not in r.output, r.output
    assert store.connect_read().execute("SELECT count(*) FROM calls").fetchone()[0] == len(stored)
