"""The re-score flow under Prefect's test harness: all calls, a date range, ids; one task per chunk."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

import test_flows_kit as kit
from callqa.store import Store
from callqa.types import CallMetadata, CallRecord, ProcessedCall
from conftest import make_transcript
from test_flows_kit import REPO, integrity_problems

pytestmark = pytest.mark.slow

PACK = REPO / "qa_rules" / "default.yaml"
DAYS = [20, 21, 22, 22, 23]  # November 2026, one call each
TURNS = [
    ("agent", 0.5, "thank you for calling northwind bank my name is anna how can i help you"),
    ("customer", 5.0, "hello i would like to know the opening hours of the branch in the city centre"),
    ("agent", 10.0, "the branch is open from nine to five is there anything else i can help you with"),
    ("customer", 15.0, "no that is all thank you"),
    ("agent", 18.0, "thank you for calling northwind bank have a nice day goodbye"),
]


@pytest.fixture(scope="session")
def prefect_api(request) -> str:
    return kit.prefect_api_for(request)


@pytest.fixture
def stored(tmp_path) -> tuple[Path, list[str]]:
    """A database with five stored (unscored) calls recorded on DAYS."""
    db = tmp_path / "calls.duckdb"
    ids = []
    with Store(db).writing() as writer:
        for i, day in enumerate(DAYS):
            call_id = f"{i:x}" * 64
            meta = CallMetadata(agent_id=f"a{i}", started_at=datetime(2026, 11, day, 10, tzinfo=timezone.utc))
            record = CallRecord(call_id=call_id, source_path=f"/inbox/call{i}.wav", size_bytes=1000, container="wav",
                                codec="pcm_s16le", source_sample_rate=8000, channels=2, duration_s=22.0,
                                language_probability=1.0, settings_key="k", metadata=meta)
            writer.save_call(ProcessedCall(record, make_transcript(TURNS, call_id=call_id, duration=22.0)), run_id=None)
            ids.append(call_id)
    return db, ids


def _rescore(**kwargs):
    from flows.rescore import rescore

    state = rescore(return_state=True, **kwargs)
    return state, (state.result(raise_on_failure=False) if state.is_completed() else None)


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _task_run_names(flow_run_id) -> list[str]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return sorted(r.name for r in runs)


@pytest.mark.parametrize(
    "kwargs, expected_calls, expected_chunks",
    [
        ({"all_calls": True, "chunk_size": 2}, [0, 1, 2, 3, 4], ["chunk-0", "chunk-1", "chunk-2"]),
        ({"since": "2026-11-22", "until": "2026-11-23"}, [2, 3], ["chunk-0"]),
        ({"since": "2026-11-23"}, [4], ["chunk-0"]),
    ],
    ids=["all-in-chunks-of-2", "one-day", "from-a-day-on"],
)
def test_rescore_appends_one_evaluation_per_chosen_call(kwargs, expected_calls, expected_chunks, prefect_api, stored):
    db, ids = stored
    state, report = _rescore(db=str(db), rules=str(PACK), **kwargs)
    assert state.is_completed(), state.message
    assert (report.scored, report.failed, report.not_found) == (len(expected_calls), 0, 0)
    assert sorted(c for (c,) in _rows(db, "select call_id from evaluations")) == sorted(ids[i] for i in expected_calls)
    assert _rows(db, "select distinct pack_id from evaluations") == [("default",)]
    with duckdb.connect(str(db), read_only=True) as con:
        assert integrity_problems(con) == {}  # every evaluation has its rule results
    assert _task_run_names(state.state_details.flow_run_id) == expected_chunks
    assert _rows(db, "select kind, status, calls_processed from runs") == [("rescore", "completed", len(expected_calls))]


def test_rescore_by_id_prefix_reports_unknown_ids_and_keeps_earlier_evaluations(prefect_api, stored):
    db, ids = stored
    _rescore(db=str(db), rules=str(PACK), call_ids=[ids[1]])
    state, report = _rescore(db=str(db), rules=str(PACK), call_ids=[ids[1][:10], "feedfacecafe"])
    assert state.is_completed()
    assert (report.scored, report.not_found) == (1, 1)
    assert _rows(db, "select call_id, count(*) from evaluations group by call_id") == [(ids[1], 2)]  # append-only


def test_rescore_with_an_invalid_pack_fails_before_any_work(prefect_api, stored, tmp_path):
    db, _ = stored
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: '1'\nrules: [{id: r1, kind: no-such-kind}]\n")
    state, _ = _rescore(db=str(db), rules=str(bad), all_calls=True)
    assert state.is_failed()
    assert _rows(db, "select count(*) from evaluations") == [(0,)]
    assert _rows(db, "select count(*) from runs") == [(0,)]
