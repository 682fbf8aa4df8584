"""Scorer and re-scoring through a real DuckDB file (Store / Writer): new evaluations, no audio needed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callqa import __version__
from callqa.cli import app
from callqa.errors import CallNotFoundError
from callqa.metrics import compute_metrics
from callqa.scoring import Scorer, load_calls, rescore_calls
from callqa.store import Store
from callqa.types import CallMetadata, CallRecord, Outcome, PiiSpan, ProcessedCall, Role, TimeSpan

from rules_helpers import transcript

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "qa_rules" / "default.yaml"
runner = CliRunner()


def good_call(call_id: str = "a" * 64, *, language: str = "en"):
    return transcript([
        ("agent", (0.0, "thank you for calling northwind bank my name is sarah this call is recorded for quality "
                        "and training purposes how can i help you today")),
        ("customer", (10.5, "hi i would like to pay off the balance on my credit card")),
        ("agent", (15.5, "of course first i need to verify your identity can you confirm your date of birth")),
        ("customer", (22.0, "the fourth of july nineteen eighty two")),
        ("agent", (25.5, "thank you one moment please let me check that for you")),
        ("agent", (37.0, "thank you for holding the payment has gone through")),
        ("customer", (41.0, "great thanks")),
        ("agent", (42.5, "is there anything else i can help you with")),
        ("customer", (46.5, "no that's all")),
        ("agent", (48.5, "thank you for calling northwind bank have a nice day goodbye")),
    ], call_id=call_id, language=language)


def bad_call(call_id: str = "b" * 64):
    return transcript([
        ("agent", (0.0, "yeah hello what do you want")),
        ("customer", (3.0, "i was charged twice and i want a refund")),
        ("agent", (7.0, "so that is [CARD_NUMBER]")),
        ("customer", (10.0, "yes so why")),
        ("agent", (24.0, "look that's not my problem calm down")),
    ], call_id=call_id)


CARD = PiiSpan(entity="CARD_NUMBER", detector="card.v1", score=0.95, role=Role.AGENT, span=TimeSpan(8.2, 8.5),
               masked="•••• •••• •••• 9903", explanation="Luhn-valid", words=((2, 3),),
               tags=("full_number", "repeated_from_customer"))


@pytest.fixture(scope="module")
def scorer():
    return Scorer(DEFAULT)


def outcomes(ev):
    return {r.rule_id: r.outcome for r in ev.results}


def test_default_pack_on_a_good_and_a_bad_call(scorer):
    metrics, ev = scorer.score(good_call(), pii=(), metadata=CallMetadata(agent_name="Sarah Collins"))
    assert ev.pack == "default" and ev.pack_sha256 == scorer.pack_sha256 and ev.engine_version == __version__
    assert ev.auto_failed is False and ev.passed and ev.score == 100.0, [(r.rule_id, r.explanation) for r in ev.results
                                                                       if r.outcome == Outcome.FAIL]
    o = outcomes(ev)
    assert o["hold_announcement"] == Outcome.PASS and o["silent_caller_check"] == Outcome.NA
    assert o["transfer_announcement"] == Outcome.NA and o["card_read_back"] == Outcome.PASS
    assert metrics.longest_silence_s == pytest.approx(37.0 - (25.5 + 0.4 * 10 + 0.3))

    _, ev = scorer.score(bad_call(), pii=(CARD,))
    o = outcomes(ev)
    assert ev.auto_failed and ev.score == 0.0 and not ev.passed
    assert o["card_read_back"] == Outcome.FAIL and o["forbidden_phrases"] == Outcome.FAIL
    assert o["greeting"] == Outcome.FAIL and o["dead_air"] == Outcome.FAIL and o["hold_announcement"] == Outcome.FAIL
    explanation = next(r.explanation for r in ev.results if r.rule_id == "card_read_back")
    assert "•••• •••• •••• 9903" in explanation


def test_privacy_rules_are_not_applicable_when_detection_did_not_run(scorer):
    _, ev = scorer.score(bad_call(), pii=None)
    assert {outcomes(ev)[r] for r in ("card_read_back", "cvv_repeated", "agent_only_pii")} == {Outcome.NA}
    assert not ev.auto_failed


def test_scoring_is_deterministic(scorer):
    created = datetime(2026, 11, 22, tzinfo=timezone.utc)
    first = [scorer.score(t, pii=(CARD,), created_at=created) for t in (good_call(), bad_call())]
    again = [scorer.score(t, pii=(CARD,), created_at=created) for t in (bad_call(), good_call())][::-1]
    assert first == again


def test_calls_in_another_language_use_the_language_pack(scorer):
    ru = transcript([("agent", (0.0, "здравствуйте вы позвонили в банк норд меня зовут анна чем могу помочь")),
                     ("customer", (6.0, "здравствуйте"))], language="ru")
    _, ev = scorer.score(ru, pii=())
    assert ev.pack == "default-ru" and ev.pack_sha256 == scorer.pack_sha256
    assert outcomes(ev)["greeting"] == Outcome.PASS and outcomes(ev)["agent_introduction"] == Outcome.PASS


# --------------------------------------------------------------------------- the store

def store_calls(path: Path, calls) -> Store:
    store = Store(path)
    with store.writing() as w:
        for tr, pii, meta in calls:
            record = CallRecord(call_id=tr.call_id, source_path=f"/nowhere/{tr.call_id[:6]}.flac", size_bytes=1,
                                container="flac", codec="flac", source_sample_rate=8000, channels=2,
                                duration_s=tr.duration, language_probability=1.0, settings_key="k", metadata=meta)
            w.save_call(ProcessedCall(record=record, transcript=tr, pii=pii), run_id=None)
    return store


def snapshot(con):
    return (con.execute("SELECT * FROM calls ORDER BY call_id").fetchall(),
            con.execute("SELECT * FROM turns ORDER BY call_id, turn_index").fetchall(),
            con.execute("SELECT * FROM pii_spans ORDER BY call_id, span_index").fetchall())


def test_rescore_stored_appends_an_evaluation_and_touches_nothing_else(tmp_path, scorer):
    meta = CallMetadata(agent_name="Sarah Collins", started_at=datetime(2026, 11, 22, 9, tzinfo=timezone.utc))
    store = store_calls(tmp_path / "q.duckdb", [(good_call(), (), meta), (bad_call(), (CARD,), CallMetadata())])
    with store.connect_read() as con:
        before = snapshot(con)
    with store.writing() as w:
        run = w.start_run("rescore", {})
        assert scorer.rescore_stored(w, "b" * 64, run) is True
        assert scorer.rescore_stored(w, "b" * 64, run) is True          # appended, never replaced
        assert scorer.rescore_stored(w, "b" * 64, run, skip_if_scored=True) is False
        with pytest.raises(CallNotFoundError):
            scorer.rescore_stored(w, "f" * 64, run)
    with store.connect_read() as con:
        assert snapshot(con) == before                                  # calls, turns, findings untouched
        rows = con.execute("SELECT call_id, run_id, pack_id, pack_sha256, score, auto_failed FROM evaluations").fetchall()
        assert rows == [("b" * 64, run, "default", scorer.pack_sha256, 0.0, True)] * 2
        rr = con.execute("SELECT rule_id, outcome, evidence FROM rule_results WHERE rule_id = 'card_read_back'").fetchall()
        assert rr[0][1] == "fail" and rr[0][2][0]["excerpt"] == "card number •••• •••• •••• 9903"
        stored = con.execute("SELECT agent_talk_s, longest_silence_s, silence_count, \"overlaps\", silences "
                             "FROM metrics WHERE call_id = ?", ["b" * 64]).fetchone()
    m = compute_metrics(bad_call())
    assert stored[:3] == (m.agent_talk_s, m.longest_silence_s, len(m.silences))
    assert stored[4][0]["before_role"] == m.silences[0].before.value


@pytest.mark.parametrize("workers", [1, 2])
def test_rescore_calls_in_bulk(tmp_path, scorer, workers):
    calls = [(replace(good_call(f"{i:02d}" + "c" * 62)), (), CallMetadata(agent_name="Sarah Collins")) for i in range(6)]
    calls += [(bad_call(), (CARD,), CallMetadata())]
    store = store_calls(tmp_path / "q.duckdb", calls)
    ids = [tr.call_id for tr, _, _ in calls] + ["0" * 64]
    with store.writing() as w:
        summary = rescore_calls(w, scorer, ids, run_id=None, batch_size=4, workers=workers)
        loaded = load_calls(w.con, ids)
    assert [o.call_id for o in summary.outcomes] == ids                # in the order asked
    assert summary.scored == 7 and summary.failed == 1 and "no stored call" in summary.outcomes[-1].reason
    assert [o.score for o in summary.outcomes[:7]] == [100.0] * 6 + [0.0]
    direct = scorer.score(loaded["b" * 64].transcript, pii=loaded["b" * 64].pii)[1]
    assert outcomes(direct) == outcomes(scorer.score(bad_call(), pii=(CARD,))[1])
    with store.connect_read() as con:
        assert con.execute("SELECT count(*) FROM evaluations").fetchone()[0] == 7
        assert con.execute("SELECT count(*) FROM rule_results").fetchone()[0] == 7 * len(scorer.pack.rules)
        assert con.execute("SELECT count(*) FROM metrics").fetchone()[0] == 7


def test_load_calls_matches_the_stored_transcripts(tmp_path):
    from callqa.store import load_pii, load_transcript

    store = store_calls(tmp_path / "q.duckdb", [(good_call(), (), CallMetadata(agent_name="Sarah Collins")),
                                                (bad_call(), (CARD,), CallMetadata())])
    with store.connect_read() as con:
        loaded = load_calls(con, ["a" * 64, "b" * 64])
        for call_id, call in loaded.items():
            assert call.transcript == load_transcript(con, call_id)
            assert call.pii == load_pii(con, call_id)
    assert loaded["a" * 64].metadata.agent_name == "Sarah Collins"


# --------------------------------------------------------------------------- the command line

def test_rescore_command(tmp_path):
    db = tmp_path / "q.duckdb"
    early = CallMetadata(started_at=datetime(2026, 11, 1, 9, tzinfo=timezone.utc))
    late = CallMetadata(started_at=datetime(2026, 11, 20, 9, tzinfo=timezone.utc))
    store_calls(db, [(good_call(), (), early), (bad_call(), (CARD,), late)])
    result = runner.invoke(app, ["rescore", "bbbb", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "1 calls re-scored with default 1.1" in result.output and "AUTO-FAILED" in result.output
    result = runner.invoke(app, ["rescore", "--since", "2026-11-10", "--db", str(db), "--rules", str(DEFAULT)])
    assert result.exit_code == 0 and "1 calls re-scored" in result.output
    result = runner.invoke(app, ["rescore", "--all", "--db", str(db)])
    assert result.exit_code == 0 and "2 calls re-scored" in result.output
    with Store(db).connect_read() as con:
        assert con.execute("SELECT count(*) FROM evaluations").fetchone()[0] == 4
        runs = con.execute("SELECT kind, status, calls_processed FROM runs ORDER BY started_at").fetchall()
    assert runs == [("rescore", "completed", 1), ("rescore", "completed", 1), ("rescore", "completed", 2)]
    shown = json.loads(runner.invoke(app, ["show", "bbbb", "--db", str(db), "--format", "json"]).output)
    assert shown["evaluation"]["auto_failed"] is True and shown["evaluation"]["pack"] == "default"
    assert shown["metrics"]["longest_silence_s"] > 10


@pytest.mark.parametrize("args, message", [
    ([], "give call ids, --all, or --since/--until"),
    (["--since", "yesterday"], "use a date like 2026-11-22"),
    (["ffff"], "no stored call matches 'ffff'"),
])
def test_rescore_command_errors(tmp_path, args, message):
    db = tmp_path / "q.duckdb"
    store_calls(db, [(good_call(), (), CallMetadata())])
    result = runner.invoke(app, ["rescore", *args, "--db", str(db)])
    assert result.exit_code != 0
    assert message in " ".join(result.output.split()), result.output


def test_rescore_command_needs_a_database(tmp_path):
    result = runner.invoke(app, ["rescore", "--all", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1 and "no callqa database here yet" in result.output
    assert not (tmp_path / "none.duckdb").exists()
