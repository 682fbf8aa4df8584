"""The DuckDB store: migrations, one transaction per call, published read copy, one writer."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from callqa.errors import CallNotFoundError, StoreLockedError
from callqa.store import Store, load_transcript, resolve_call_id
from callqa.store.migrations import migrations, pending
from callqa.types import CallMetadata, CallRecord, ProcessedCall, Role


def processed(transcript, *, path="/calls/a.wav", key="k1") -> ProcessedCall:
    record = CallRecord(call_id=transcript.call_id, source_path=path, size_bytes=100, container="wav", codec="pcm",
                        source_sample_rate=8000, channels=2, duration_s=transcript.duration, language_probability=1.0,
                        settings_key=key, metadata=CallMetadata(agent_id="A1", queue="cards",
                                                                started_at=datetime(2026, 11, 22, 9, tzinfo=timezone.utc)))
    return ProcessedCall(record=record, transcript=transcript)


def test_migrations_are_recorded_once(tmp_path):
    store = Store(tmp_path / "q.duckdb")
    with store.writing():
        pass
    with store.writing():
        pass
    with store.connect_read() as con:
        rows = con.execute("SELECT number, name FROM _migrations ORDER BY number").fetchall()
        assert rows == [(m.number, m.name) for m in migrations()]
        assert pending(con) == []
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"calls", "turns", "runs", "failures", "evaluations", "rule_results", "metrics", "pii_spans"} <= tables


def test_transcript_round_trip(tmp_path, transcript_factory):
    tr = transcript_factory([("agent", 0.0, "thank you for calling"), ("customer", 2.0, "hi there")], call_id="ab" * 32)
    store = Store(tmp_path / "q.duckdb")
    with store.writing() as w:
        w.save_call(processed(tr), run_id=None)
    with store.connect_read() as con:
        back = load_transcript(con, tr.call_id)
        assert back.turns == tr.turns
        assert back.roles.role_of("agent") == Role.AGENT
        assert resolve_call_id(con, "abab", store.path) == tr.call_id  # unique prefix
        assert resolve_call_id(con, "a.wav", store.path) == tr.call_id  # file name
        with pytest.raises(CallNotFoundError, match="no stored call matches 'ffff'"):
            resolve_call_id(con, "ffff", store.path)
        row = con.execute("SELECT agent_id, queue, started_at FROM calls").fetchone()
    assert row[:2] == ("A1", "cards")


def test_saving_a_call_again_replaces_it(tmp_path, transcript_factory):
    tr = transcript_factory([("agent", 0.0, "hello")])
    tr2 = transcript_factory([("agent", 0.0, "hello again"), ("customer", 1.0, "hi")])
    store = Store(tmp_path / "q.duckdb")
    with store.writing() as w:
        w.save_call(processed(tr), run_id=None)
        w.save_call(processed(tr2, key="k2"), run_id=None)
        assert w.stored_settings_key(tr.call_id) == "k2"
    with store.connect_read() as con:
        assert con.execute("SELECT count(*) FROM calls").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM turns").fetchone() == (2,)


def test_failed_write_leaves_nothing_half_written(tmp_path, transcript_factory, monkeypatch):
    tr = transcript_factory([("agent", 0.0, "hello"), ("customer", 1.0, "hi")])
    store = Store(tmp_path / "q.duckdb")
    import callqa.store.db as db

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    with store.writing() as w:
        monkeypatch.setattr(db, "_metrics_table", boom)
        bad = ProcessedCall(record=processed(tr).record, transcript=tr, metrics=object())  # type: ignore[arg-type]
        with pytest.raises(RuntimeError):
            w.save_call(bad, run_id=None)
    with store.connect_read() as con:
        assert con.execute("SELECT count(*) FROM calls").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM turns").fetchone() == (0,)


def test_failures_count_attempts_and_resolve(tmp_path, transcript_factory):
    store = Store(tmp_path / "q.duckdb")
    err = ValueError("decoder said: card 4539 1488 0343 6467 is odd")
    with store.writing() as w:
        w.record_failure("r1", "/calls/a.wav", err, stage="decode")
        w.record_failure("r2", "/calls/a.wav", err, stage="decode")
        w.save_call(processed(transcript_factory([("agent", 0.0, "hello")]), path="/calls/a.wav"), run_id="r3")
    with store.connect_read() as con:
        rows = con.execute("SELECT attempt, stage, reason, resolved_at IS NOT NULL FROM failures ORDER BY attempt").fetchall()
    assert [r[0] for r in rows] == [1, 2]
    assert all(r[3] for r in rows)
    assert "4539" not in rows[0][2] and "[NUMBER]" in rows[0][2]  # raw numbers never stored


def test_reader_in_another_process_never_blocks_the_writer(tmp_path, transcript_factory):
    store = Store(tmp_path / "q.duckdb")
    with store.writing() as w:
        w.save_call(processed(transcript_factory([("agent", 0.0, "first")], call_id="1" * 64)), run_id=None)
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(store.path)!r}, read_only=True)
            print(con.execute("select count(*) from calls").fetchone()[0], flush=True)
            sys.stdin.readline()  # hold the file open until told
            print(con.execute("select count(*) from calls").fetchone()[0], flush=True)
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "1"
        with store.writing() as w:  # would fail with "Could not set lock" on a shared file
            w.save_call(processed(transcript_factory([("agent", 0.0, "second")], call_id="2" * 64)), run_id=None)
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # the open session keeps its consistent snapshot
    finally:
        reader.communicate(timeout=30)
    with store.connect_read() as con:  # a new session sees the new state
        assert con.execute("SELECT count(*) FROM calls").fetchone() == (2,)


def test_second_writer_gets_a_clear_error(tmp_path):
    store = Store(tmp_path / "q.duckdb")
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from callqa.store import Store
            with Store({str(store.path)!r}).writing():
                print("holding", flush=True)
                sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(StoreLockedError, match=r"another callqa process \(pid \d+\) is writing"):
            with Store(store.path, lock_timeout_s=0.3).writing():
                pass
    finally:
        holder.communicate("\n", timeout=30)


def test_crashed_writer_is_recovered(tmp_path, transcript_factory):
    """A writer killed before publishing: the next reader publishes what was committed."""
    store = Store(tmp_path / "q.duckdb")
    script = textwrap.dedent(f"""
        import os, signal
        from callqa.store import Store
        from test_store import processed
        from conftest import make_transcript
        with Store({str(store.path)!r}).writing() as w:
            w.save_call(processed(make_transcript([("agent", 0.0, "committed")])), run_id=None)
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, env=env)
    assert proc.returncode == -9, proc.stderr
    assert not store.path.exists() and store.work_path.exists()
    with store.connect_read() as con:
        assert con.execute("SELECT count(*) FROM calls").fetchone() == (1,)


def test_published_copy_refuses_writes(tmp_path):
    store = Store(tmp_path / "q.duckdb")
    with store.writing():
        pass
    with store.connect_read() as con, pytest.raises(duckdb.Error):
        con.execute("DELETE FROM calls")
