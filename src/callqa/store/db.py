"""The DuckDB store: one writer, any number of readers, no partial calls visible.

DuckDB lets one process open a file for writing, and while it does, no other
process can open it at all -- not even read-only -- and a reader holding the
file open blocks the writer. A QA lead's long SQL session must never break the
nightly run, and the nightly run must never lock the QA lead out. So callqa
keeps two files:

``callqa.duckdb``        the *published* database. Readers (``callqa sql``,
                         ``callqa show``, a QA lead's ``duckdb -readonly``)
                         open this one. callqa never writes into it: it
                         replaces it atomically (write a copy, ``rename``).
                         A reader that has it open keeps its consistent
                         snapshot; the next reader sees the new one.
``callqa.duckdb.work``   the writer's private working database. Each call is
                         written in one transaction (all its rows or none).
                         It is published after every batch and, during long
                         batches, at most every ``publish_interval_s``.
``callqa.duckdb.lock``   an advisory lock: one writing callqa process at a
                         time; a second one waits, then fails with a clear
                         message.

A crash (even SIGKILL) loses nothing committed: the working database is
transactional, the lock dies with its process, and the next writer publishes.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

import duckdb
import pyarrow as pa

from callqa import __version__
from callqa.errors import CallNotFoundError, StoreError, StoreLockedError
from callqa.store.migrations import migrate
from callqa.types import (
    CallMetadata,
    CallMetrics,
    Evaluation,
    Evidence,
    PiiSpan,
    ProcessedCall,
    Role,
    RoleAssignment,
    TimeSpan,
    Transcript,
    Turn,
    Word,
)

log = logging.getLogger("callqa.store")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Store:
    """Paths and locking around one callqa database."""

    def __init__(self, path: str | Path, *, publish_interval_s: float = 60.0, lock_timeout_s: float = 600.0):
        self.path = Path(path)
        self.work_path = self.path.with_name(self.path.name + ".work")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.publish_interval_s = publish_interval_s
        self.lock_timeout_s = lock_timeout_s

    # ------------------------------------------------------------------ readers

    def exists(self) -> bool:
        return self.path.is_file() or self.work_path.is_file()

    def connect_read(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the published database."""
        if not self.path.is_file():
            if self.work_path.is_file():
                # A writer crashed before it could publish: publish now if nobody writes.
                try:
                    with self.writing(timeout_s=0):
                        pass
                except StoreLockedError:
                    pass
            if not self.path.is_file():
                raise StoreError(f"{self.path}: no callqa database here yet; run `callqa run RECORDINGS --db {self.path}` first")
        try:
            return duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open read-only ({str(exc).splitlines()[0]})") from None

    # ------------------------------------------------------------------ writer

    @contextmanager
    def writing(self, *, timeout_s: float | None = None) -> Iterator["Writer"]:
        """Hold the writer lock, yield a :class:`Writer`, publish when done."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._acquire(fd, self.lock_timeout_s if timeout_s is None else timeout_s)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            if not self.work_path.is_file() and self.path.is_file():
                log.info("recovering the working database from %s", self.path)
                shutil.copyfile(self.path, self.work_path)
            writer = Writer(self)
            try:
                yield writer
            finally:
                writer.close(publish=True)
        finally:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def _acquire(self, fd: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        delay = 0.05
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    try:
                        holder = Path(self.lock_path).read_text().strip() or "?"
                    except OSError:
                        holder = "?"
                    raise StoreLockedError(
                        f"{self.path}: another callqa process (pid {holder}) is writing to this database; "
                        "wait for it to finish"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def publish(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        """Copy the working database over the published one, atomically."""
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
        try:
            shutil.copyfile(self.work_path, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            stale_wal = self.path.with_name(self.path.name + ".wal")
            if stale_wal.exists():
                log.warning("%s: removing a write-ahead log left by a program that wrote to the published copy", stale_wal)
                stale_wal.unlink()
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


class Writer:
    """The single writing connection (on the working database)."""

    def __init__(self, store: Store):
        self.store = store
        self._con: duckdb.DuckDBPyConnection | None = None
        self._last_publish = time.monotonic()
        self._dirty = False
        self.con  # open and migrate now: errors surface before any work

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            try:
                self._con = duckdb.connect(str(self.store.work_path))
            except duckdb.Error as exc:
                raise StoreError(f"{self.store.work_path}: cannot open ({str(exc).splitlines()[0]})") from None
            try:
                applied = migrate(self._con)
            except duckdb.Error as exc:
                self._con.close()
                self._con = None
                raise StoreError(f"{self.store.work_path}: schema migration failed ({str(exc).splitlines()[0]})") from None
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
                self._dirty = True
        return self._con

    def close(self, *, publish: bool) -> None:
        if self._con is not None:
            self._con.execute("CHECKPOINT")
            self._con.close()
            self._con = None
        if publish and (self._dirty or not self.store.path.exists()):
            self.store.publish()
            self._dirty = False
            self._last_publish = time.monotonic()

    def maybe_publish(self, *, force: bool = False) -> bool:
        """Publish if the interval has passed (called between calls of a batch)."""
        if self._dirty and (force or time.monotonic() - self._last_publish >= self.store.publish_interval_s):
            self.close(publish=True)
            return True
        return False

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            con.execute("COMMIT")
            self._dirty = True
        except BaseException:
            con.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ runs

    def start_run(self, kind: str, settings: dict[str, Any]) -> str:
        run_id = f"{_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        with self.transaction() as con:
            con.execute(
                "INSERT INTO runs (run_id, kind, started_at, status, settings, engine_version) VALUES (?, ?, ?, 'running', ?, ?)",
                [run_id, kind, _now(), json.dumps(settings, default=str), __version__],
            )
        return run_id

    def finish_run(self, run_id: str, *, files_seen: int, processed: int, skipped: int, failed: int,
                   status: str | None = None) -> None:
        """Close a run; ``status`` overrides the default (e.g. ``failed`` when a run stops on a configuration error)."""
        status = status or ("completed_with_failures" if failed else "completed")
        with self.transaction() as con:
            con.execute(
                "UPDATE runs SET finished_at = ?, status = ?, files_seen = ?, calls_processed = ?, calls_skipped = ?, "
                "calls_failed = ? WHERE run_id = ?",
                [_now(), status, files_seen, processed, skipped, failed, run_id],
            )

    def unfinished_runs(self) -> list[tuple[str, dict[str, Any]]]:
        """``(run_id, settings)`` of runs still 'running': killed ones, since we hold the lock."""
        rows = self.con.execute("SELECT run_id, settings FROM runs WHERE status = 'running' ORDER BY started_at").fetchall()
        return [(run_id, json.loads(settings) if settings else {}) for run_id, settings in rows]

    def mark_crashed_runs(self) -> int:
        """Runs left 'running' by a killed process (we hold the lock, so none is live)."""
        with self.transaction() as con:
            n = con.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0]
            con.execute("UPDATE runs SET status = 'crashed' WHERE status = 'running'")
        return int(n)

    # ------------------------------------------------------------------ failures

    def record_failure(self, run_id: str | None, path: str | Path, error: BaseException, *, call_id: str | None = None,
                       stage: str | None = None, error_type: str | None = None) -> None:
        """``error_type`` names the original error when ``error`` wraps one (a task result from a worker)."""
        from callqa.privacy import safe_reason

        stage = stage or getattr(error, "stage", None) or "unknown"
        transient = bool(getattr(error, "transient", False))
        reason = safe_reason(error)
        with self.transaction() as con:
            prev = con.execute(
                "SELECT coalesce(max(attempt), 0) FROM failures WHERE path = ? AND resolved_at IS NULL", [str(path)]
            ).fetchone()[0]
            con.execute(
                "INSERT INTO failures (failure_id, run_id, path, call_id, stage, error_type, reason, transient, attempt, failed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [uuid.uuid4().hex, run_id, str(path), call_id, stage, error_type or type(error).__name__, reason, transient, int(prev) + 1, _now()],
            )

    def resolve_failures(self, path: str, call_id: str | None) -> None:
        """Mark earlier failures of this file (or call) resolved: it has now been processed."""
        with self.transaction() as con:
            self._resolve_failures(con, path, call_id)

    def _resolve_failures(self, con: duckdb.DuckDBPyConnection, path: str, call_id: str | None) -> None:
        con.execute(
            "UPDATE failures SET resolved_at = ? WHERE resolved_at IS NULL AND (path = ? OR call_id = ?)",
            [_now(), path, call_id],
        )

    # ------------------------------------------------------------------ calls

    def stored_settings_key(self, call_id: str) -> str | None:
        row = self.con.execute("SELECT settings_key FROM calls WHERE call_id = ?", [call_id]).fetchone()
        return row[0] if row else None

    def has_evaluation(self, call_id: str, pack_sha256: str) -> bool:
        row = self.con.execute(
            "SELECT count(*) FROM evaluations WHERE call_id = ? AND pack_sha256 = ? AND engine_version = ?",
            [call_id, pack_sha256, __version__],
        ).fetchone()
        return bool(row[0])

    def save_call(self, pc: ProcessedCall, *, run_id: str | None) -> None:
        """Write one processed call -- transcript, findings, metrics, evaluation -- in one transaction."""
        rec, tr = pc.record, pc.transcript
        meta = rec.metadata
        with self.transaction() as con:
            for table in ("turns", "pii_spans", "metrics", "calls"):
                con.execute(f"DELETE FROM {table} WHERE call_id = ?", [rec.call_id])
            con.execute(
                "INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    rec.call_id, rec.source_path, rec.source_name, rec.size_bytes, rec.container, rec.codec,
                    rec.source_sample_rate, rec.channels, tr.duration, tr.language, rec.language_probability,
                    tr.asr_model, tr.diarizer, rec.settings_key, tr.roles.method, tr.roles.confidence,
                    tr.roles.explanation, meta.agent_id, meta.agent_name, meta.queue, meta.team, meta.direction,
                    meta.started_at, json.dumps(dict(meta.extra), default=str) if meta.extra else None,
                    rec.redacted_audio_path, run_id, _now(), __version__,
                ],
            )
            _insert_arrow(con, "turns", _turns_table(tr))
            if pc.pii:
                _insert_arrow(con, "pii_spans", _pii_table(rec.call_id, pc.pii))
            if pc.metrics is not None:
                _insert_arrow(con, "metrics", _metrics_table(rec.call_id, pc.metrics))
            if pc.evaluation is not None:
                _insert_evaluation(con, pc.evaluation, run_id)
            self._resolve_failures(con, rec.source_path, rec.call_id)

    def save_evaluation(self, evaluation: Evaluation, *, run_id: str | None, metrics: CallMetrics | None = None) -> str:
        """Append a new evaluation (re-scoring); refresh the call's metrics if given."""
        with self.transaction() as con:
            if metrics is not None:
                con.execute("DELETE FROM metrics WHERE call_id = ?", [evaluation.call_id])
                _insert_arrow(con, "metrics", _metrics_table(evaluation.call_id, metrics))
            return _insert_evaluation(con, evaluation, run_id)


# ---------------------------------------------------------------------- row builders


def _insert_arrow(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    name = f"_src_{table}"
    con.register(name, data)
    try:
        cols = ", ".join(f'"{c}"' for c in data.column_names)  # quoted: 'overlaps' is an SQL keyword
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
    finally:
        con.unregister(name)


def _turns_table(tr: Transcript) -> pa.Table:
    return pa.table(
        {
            "call_id": [tr.call_id] * len(tr.turns),
            "turn_index": [t.index for t in tr.turns],
            "speaker": [t.speaker for t in tr.turns],
            "role": [t.role.value for t in tr.turns],
            "channel": pa.array([t.channel for t in tr.turns], type=pa.int32()),
            "start_s": [t.span.start for t in tr.turns],
            "end_s": [t.span.end for t in tr.turns],
            "text": [t.text for t in tr.turns],
            "words": pa.array(
                [[{"text": w.text, "start_s": w.start, "end_s": w.end, "probability": w.probability} for w in t.words] for t in tr.turns],
                type=pa.list_(pa.struct([("text", pa.string()), ("start_s", pa.float64()), ("end_s", pa.float64()), ("probability", pa.float64())])),
            ),
        }
    )


def _pii_table(call_id: str, spans: Sequence[PiiSpan]) -> pa.Table:
    return pa.table(
        {
            "call_id": [call_id] * len(spans),
            "span_index": list(range(len(spans))),
            "entity": [s.entity for s in spans],
            "detector": [s.detector for s in spans],
            "score": [float(s.score) for s in spans],
            "role": [s.role.value for s in spans],
            "start_s": [s.span.start for s in spans],
            "end_s": [s.span.end for s in spans],
            "masked": [s.masked for s in spans],
            "explanation": [s.explanation for s in spans],
            "word_refs": pa.array([[{"turn_index": t, "word_index": w} for t, w in s.words] for s in spans],
                                  type=pa.list_(pa.struct([("turn_index", pa.int32()), ("word_index", pa.int32())]))),
            "tags": pa.array([list(s.tags) for s in spans], type=pa.list_(pa.string())),
        }
    )


_SILENCE_T = pa.list_(pa.struct([("start_s", pa.float64()), ("end_s", pa.float64()), ("before_role", pa.string()), ("after_role", pa.string())]))
_OVERLAP_T = pa.list_(pa.struct([("start_s", pa.float64()), ("end_s", pa.float64()), ("interrupter", pa.string()), ("interrupted", pa.string())]))


def _metrics_table(call_id: str, m: CallMetrics) -> pa.Table:
    row: dict[str, Any] = {k: [v] for k, v in asdict(m).items() if k not in ("silences", "overlaps")}
    row["call_id"] = [call_id]
    row["silence_count"] = [len(m.silences)]
    row["overlap_count"] = [len(m.overlaps)]
    row["silences"] = pa.array(
        [[{"start_s": s.span.start, "end_s": s.span.end, "before_role": s.before and s.before.value,
           "after_role": s.after and s.after.value} for s in m.silences]], type=_SILENCE_T)
    row["overlaps"] = pa.array(
        [[{"start_s": o.span.start, "end_s": o.span.end, "interrupter": o.interrupter.value,
           "interrupted": o.interrupted.value} for o in m.overlaps]], type=_OVERLAP_T)
    if row["time_to_first_agent_word_s"] == [None]:
        row["time_to_first_agent_word_s"] = pa.array([None], type=pa.float64())
    return pa.table(row)


_EVIDENCE_T = pa.list_(pa.struct([
    ("turn_index", pa.int32()), ("role", pa.string()), ("start_s", pa.float64()), ("end_s", pa.float64()),
    ("char_start", pa.int32()), ("char_end", pa.int32()), ("excerpt", pa.string()),
]))


def _insert_evaluation(con: duckdb.DuckDBPyConnection, ev: Evaluation, run_id: str | None) -> str:
    evaluation_id = uuid.uuid4().hex
    con.execute(
        "INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            evaluation_id, ev.call_id, run_id, ev.pack, ev.pack_version, ev.pack_sha256, ev.engine_version,
            ev.created_at, float(ev.score), float(ev.max_score), bool(ev.passed), bool(ev.auto_failed),
            [{"section": s, "score": float(a), "max_score": float(b)} for s, a, b in ev.sections],
        ],
    )
    if ev.results:
        rs = ev.results
        _insert_arrow(con, "rule_results", pa.table({
            "evaluation_id": [evaluation_id] * len(rs),
            "call_id": [ev.call_id] * len(rs),
            "rule_index": list(range(len(rs))),
            "rule_id": [r.rule_id for r in rs],
            "title": [r.title for r in rs],
            "section": [r.section for r in rs],
            "kind": [r.kind for r in rs],
            "outcome": [r.outcome.value for r in rs],
            "points": [float(r.points) for r in rs],
            "max_points": [float(r.max_points) for r in rs],
            "critical": [bool(r.critical) for r in rs],
            "explanation": [r.explanation for r in rs],
            "evidence": pa.array([[_evidence_row(e) for e in r.evidence] for r in rs], type=_EVIDENCE_T),
        }))
    return evaluation_id


def _evidence_row(e: Evidence) -> dict[str, Any]:
    return {"turn_index": e.turn_index, "role": e.role.value if e.role else None, "start_s": e.span.start,
            "end_s": e.span.end, "char_start": e.char_start, "char_end": e.char_end, "excerpt": e.excerpt}


# ---------------------------------------------------------------------- reading back


def resolve_call_id(con: duckdb.DuckDBPyConnection, ref: str, db: str | Path) -> str:
    """A full call id, a unique prefix (like git), or a source file name."""
    ref = ref.strip()
    rows = con.execute(
        "SELECT call_id FROM calls WHERE call_id LIKE ? || '%' OR source_name = ? ORDER BY call_id", [ref.lower(), ref]
    ).fetchall() if ref else []
    if len(rows) == 1:
        return rows[0][0]
    if len(rows) > 1:
        raise StoreError(f"{db}: {ref!r} matches {len(rows)} calls; give more characters of the call id")
    raise CallNotFoundError(ref, db)


def load_transcript(con: duckdb.DuckDBPyConnection, call_id: str) -> Transcript:
    row = con.execute(
        "SELECT language, duration_s, asr_model, diarizer, channels, role_method, role_confidence, role_note "
        "FROM calls WHERE call_id = ?",
        [call_id],
    ).fetchone()
    if row is None:
        raise CallNotFoundError(call_id, "database")
    language, duration, asr_model, diarizer, channels, method, confidence, note = row
    turns = []
    speakers: dict[str, Role] = {}
    for idx, speaker, role, channel, start, end, words in con.execute(
        "SELECT turn_index, speaker, role, channel, start_s, end_s, words FROM turns WHERE call_id = ? ORDER BY turn_index",
        [call_id],
    ).fetchall():
        speakers[speaker] = Role(role)
        turns.append(
            Turn(
                index=idx, speaker=speaker, role=Role(role), span=TimeSpan(start, end), channel=channel,
                words=tuple(Word(w["text"], w["start_s"], w["end_s"], w["probability"]) for w in (words or ())),
            )
        )
    return Transcript(
        call_id=call_id, language=language, duration=duration, turns=tuple(turns), asr_model=asr_model,
        diarizer=diarizer, channels=channels,
        roles=RoleAssignment(tuple(sorted(speakers.items())), confidence or 0.0, method or "", note or ""),
    )


def load_pii(con: duckdb.DuckDBPyConnection, call_id: str) -> tuple[PiiSpan, ...]:
    rows = con.execute(
        "SELECT entity, detector, score, role, start_s, end_s, masked, explanation, word_refs, tags "
        "FROM pii_spans WHERE call_id = ? ORDER BY span_index",
        [call_id],
    ).fetchall()
    return tuple(
        PiiSpan(entity=e, detector=d, score=s, role=Role(r), span=TimeSpan(a, b), masked=m, explanation=x,
                words=tuple((ref["turn_index"], ref["word_index"]) for ref in (refs or ())), tags=tuple(tags or ()))
        for e, d, s, r, a, b, m, x, refs, tags in rows
    )


def load_metadata(con: duckdb.DuckDBPyConnection, call_id: str) -> CallMetadata:
    row = con.execute(
        "SELECT agent_id, agent_name, queue, team, direction, started_at, metadata FROM calls WHERE call_id = ?", [call_id]
    ).fetchone()
    if row is None:
        raise CallNotFoundError(call_id, "database")
    extra = json.loads(row[6]) if row[6] else {}
    return CallMetadata(agent_id=row[0], agent_name=row[1], queue=row[2], team=row[3], direction=row[4],
                        started_at=row[5], extra=tuple(sorted(extra.items())))


def select_call_ids(con: duckdb.DuckDBPyConnection, *, since: datetime | None = None, until: datetime | None = None) -> list[str]:
    """Stored calls by recording date (``started_at``, else when processed)."""
    clauses, params = [], []
    if since is not None:
        clauses.append("coalesce(started_at, processed_at) >= ?")
        params.append(since)
    if until is not None:
        clauses.append("coalesce(started_at, processed_at) < ?")
        params.append(until)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return [r[0] for r in con.execute(f"SELECT call_id FROM calls {where} ORDER BY coalesce(started_at, processed_at), call_id", params).fetchall()]


def rows_as_dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, row)) for row in cursor.fetchall()]


__all__ = [
    "Store", "Writer", "load_transcript", "load_pii", "load_metadata", "resolve_call_id", "select_call_ids",
    "rows_as_dicts",
]
