"""Score transcripts with a rule pack, and re-score stored calls without audio or the recogniser.

::

    scorer = Scorer("qa_rules/default.yaml")          # load + compile the pack once
    metrics, evaluation = scorer.score(transcript, pii=spans, metadata=meta)

    with Store("callqa.duckdb").writing() as writer:  # re-score what is stored
        scorer.rescore_stored(writer, call_id, run_id)        # one call
        rescore_calls(writer, scorer, call_ids, run_id=run_id)  # many, in bulk

Re-scoring reads the stored (redacted) transcript, the masked sensitive-data
findings and the call's metadata, computes the metrics again and appends a new
evaluation (evaluations are never updated or deleted). Bulk re-scoring loads
a batch of calls with one query per table and writes all their evaluations in
one transaction, so it is bounded by the rules, not by the database.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pyarrow as pa

from callqa.errors import CallNotFoundError, CallQAError, ConfigError, ProcessingError
from callqa.evaluate import evaluate
from callqa.metrics import compute_metrics, speech_intervals
from callqa.rules.pack import RulePack, load_pack
from callqa.types import (
    CallMetadata,
    CallMetrics,
    Evaluation,
    PiiSpan,
    Role,
    RoleAssignment,
    TimeSpan,
    Transcript,
    Turn,
    Word,
)

log = logging.getLogger("callqa.scoring")

DEFAULT_PACK = Path("qa_rules") / "default.yaml"
BATCH_SIZE = 500


def default_pack_path() -> Path:
    """``$CALLQA_RULES``, else ``qa_rules/default.yaml`` here, else the one next to the callqa source tree."""
    env = os.environ.get("CALLQA_RULES")
    if env:
        return Path(env)
    for candidate in (Path.cwd() / DEFAULT_PACK, Path(__file__).resolve().parents[2] / DEFAULT_PACK):
        if candidate.is_file():
            return candidate
    raise ConfigError(f"no rule pack found ({DEFAULT_PACK} in {Path.cwd()}); pass --rules PACK or set CALLQA_RULES")


class Scorer:
    """A loaded, compiled rule pack that scores transcripts; reuse one for a whole batch."""

    def __init__(self, pack: RulePack | str | Path | None = None):
        self.pack: RulePack = pack if isinstance(pack, RulePack) else load_pack(pack or default_pack_path())
        for note in self.pack.notes:
            log.warning("%s: %s", self.pack.path, note)

    @property
    def pack_sha256(self) -> str:
        """What evaluations by this scorer record as ``pack_sha256`` (the pack file, with its language packs)."""
        return self.pack.sha256

    @property
    def pack_id(self) -> str:
        return self.pack.id

    def pack_for(self, language: str | None) -> RulePack:
        return self.pack.for_language(language)

    def metrics(self, transcript: Transcript, intervals: Any = None) -> CallMetrics:
        opts = self.pack_for(transcript.language).spec.metrics
        return compute_metrics(transcript, min_silence_s=opts.min_silence_s, min_overlap_s=opts.min_overlap_s,
                               intervals=intervals)

    def score(self, transcript: Transcript, *, pii: Sequence[PiiSpan] | None = None,
              metadata: CallMetadata | None = None, created_at: datetime | None = None) -> tuple[CallMetrics, Evaluation]:
        """Metrics and evaluation of one (redacted) transcript.

        ``pii``: the masked sensitive-data findings of the call; ``None`` means
        no detector ran, and privacy rules are then N/A. ``metadata`` fills
        per-call phrase variables such as ``{agent_first_name}``.
        """
        pack = self.pack_for(transcript.language)
        intervals = speech_intervals(transcript)
        metrics = self.metrics(transcript, intervals)
        evaluation = evaluate(pack, transcript, metrics=metrics, pii=pii, metadata=metadata,
                              pack_sha256=self.pack_sha256, created_at=created_at, intervals=intervals)
        return metrics, evaluation

    def rescore_stored(self, writer: Any, call_id: str, run_id: str | None, *, skip_if_scored: bool = False) -> bool:
        """Score a stored call again and append the evaluation (and fresh metrics).

        Returns False only when ``skip_if_scored`` and the call already has an
        evaluation by this pack and engine version. Raises CallNotFoundError for
        an unknown call.
        """
        if skip_if_scored and writer.has_evaluation(call_id, self.pack_sha256):
            return False
        loaded = load_calls(writer.con, [call_id])
        if call_id not in loaded:
            raise CallNotFoundError(call_id, writer.store.path)
        call = loaded[call_id]
        metrics, evaluation = self.score(call.transcript, pii=call.pii, metadata=call.metadata)
        save_evaluations(writer, [(evaluation, metrics)], run_id=run_id)
        return True


# ---------------------------------------------------------------------------- bulk re-scoring


@dataclass(frozen=True, slots=True)
class StoredCall:
    transcript: Transcript
    pii: tuple[PiiSpan, ...]
    metadata: CallMetadata
    source_path: str


@dataclass(frozen=True, slots=True)
class RescoreOutcome:
    """One re-scored call (no transcript text, no PII)."""

    call_id: str
    ok: bool
    score: float | None = None
    passed: bool | None = None
    auto_failed: bool | None = None
    pack: str | None = None
    reason: str | None = None


@dataclass
class RescoreSummary:
    run_id: str | None
    outcomes: list[RescoreOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def scored(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.ok)

    @property
    def calls_per_second(self) -> float:
        return len(self.outcomes) / self.seconds if self.seconds > 0 else 0.0


def rescore_calls(writer: Any, scorer: Scorer, call_ids: Iterable[str], *, run_id: str | None,
                  batch_size: int = BATCH_SIZE, workers: int | None = 1,
                  on_result: Callable[[RescoreOutcome], None] | None = None) -> RescoreSummary:
    """Re-score many stored calls: bulk load a batch, score each call, write the batch in one transaction.

    ``workers``: processes that score (1, the default: this process; None:
    one per core, up to 4, from ``PARALLEL_FROM`` calls on). Workers are
    forked with the compiled pack and never touch the database: they receive
    Arrow tables and send rows back. A call that cannot be scored is recorded
    in ``failures`` (stage ``score``) and the others go on; unknown call ids
    are failures too.
    """
    from callqa.privacy import safe_reason

    t0 = time.perf_counter()
    summary = RescoreSummary(run_id)
    ids = list(dict.fromkeys(call_ids))
    n_workers = _workers(workers, len(ids))
    pool = _pool(scorer, n_workers) if n_workers > 1 else None
    try:
        for k in range(0, len(ids), batch_size):
            batch = ids[k: k + batch_size]
            tables = _fetch(writer.con, batch)
            created = datetime.now(timezone.utc)
            if pool is None:
                parts = [_score_tables(scorer, tables, run_id, created)]
            else:
                chunks = [batch[i::n_workers] for i in range(n_workers)]
                parts = pool.map(_score_in_worker, [(_select(tables, c), run_id, created) for c in chunks if c])
            out_tables = [p[0] for p in parts if p[0] is not None]
            _write_tables(writer, [pa.concat_tables(t) for t in zip(*out_tables, strict=True)] if out_tables else None)
            outcomes = {o.call_id: o for p in parts for o in p[1]}
            for call_id, path, error_type, message in (f for p in parts for f in p[2]):
                writer.record_failure(run_id, path, ProcessingError(message, stage="score"), call_id=call_id,
                                      stage="score", error_type=error_type)
            for call_id in batch:
                o = outcomes.get(call_id) or RescoreOutcome(
                    call_id, False, reason=safe_reason(CallNotFoundError(call_id, writer.store.path)))
                summary.outcomes.append(o)
                if on_result is not None:
                    on_result(o)
            writer.maybe_publish()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    summary.seconds = time.perf_counter() - t0
    return summary


#: Below this many calls, re-scoring stays in one process (starting workers costs more than it saves).
PARALLEL_FROM = 400
_WORKER_SCORER: Scorer | None = None


def _workers(workers: int | None, n_calls: int) -> int:
    import multiprocessing

    if workers is not None:
        return max(1, workers)
    if n_calls < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def _pool(scorer: Scorer, n: int):
    """Worker processes that inherit the compiled pack (fork); they never touch the database."""
    import multiprocessing

    global _WORKER_SCORER
    _WORKER_SCORER = scorer
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    if method != "fork":
        raise ConfigError("parallel re-scoring needs the 'fork' start method; use workers=1")
    return multiprocessing.get_context(method).Pool(n)


def _score_in_worker(args: tuple[Any, str | None, datetime]):
    tables, run_id, created = args
    assert _WORKER_SCORER is not None
    return _score_tables(_WORKER_SCORER, tables, run_id, created)


Tables = tuple[pa.Table, pa.Table, pa.Table]  # calls, turns, pii_spans rows of some calls


def _score_tables(scorer: Scorer, tables: Tables, run_id: str | None, created: datetime):
    """Score the calls in ``tables``: (new rows as Arrow tables or None, outcomes, failures)."""
    from callqa.privacy import safe_reason

    loaded = _calls_from_arrow(*tables)
    scored: list[tuple[Evaluation, CallMetrics]] = []
    outcomes: list[RescoreOutcome] = []
    failures: list[tuple[str, str, str, str]] = []
    for call_id, call in loaded.items():
        try:
            metrics, ev = scorer.score(call.transcript, pii=call.pii, metadata=call.metadata, created_at=created)
        except CallQAError as exc:
            failures.append((call_id, call.source_path, type(exc).__name__, safe_reason(exc)))
            outcomes.append(RescoreOutcome(call_id, False, reason=safe_reason(exc)))
            continue
        scored.append((ev, metrics))
        outcomes.append(RescoreOutcome(call_id, True, ev.score, ev.passed, ev.auto_failed, ev.pack))
    return (evaluation_tables(scored, run_id) if scored else None), outcomes, failures


def _fetch(con: Any, call_ids: Sequence[str]) -> Tables:
    """The stored rows of ``call_ids``: one query per table (calls, turns, pii_spans)."""
    # DuckDB refuses new work on a connection whose last execute() result was not read to the end
    # (a fetchone() elsewhere); a finished execute() clears it.
    con.execute("SELECT 1").fetchall()
    params = {"ids": list(call_ids)}
    where = "WHERE call_id IN (SELECT unnest($ids::VARCHAR[]))"
    calls = con.sql(
        "SELECT call_id, language, duration_s, asr_model, diarizer, channels, role_method, role_confidence, "
        f"role_note, agent_id, agent_name, queue, team, direction, started_at, source_path FROM calls {where} "
        "ORDER BY call_id", params=params).to_arrow_table()
    turns = con.sql(
        f"SELECT call_id, turn_index, speaker, role, channel, start_s, end_s, words FROM turns {where} "
        "ORDER BY call_id, turn_index", params=params).to_arrow_table()
    pii = con.sql(
        "SELECT call_id, entity, detector, score, role, start_s, end_s, masked, explanation, word_refs, tags "
        f"FROM pii_spans {where} ORDER BY call_id, span_index", params=params).to_arrow_table()
    return calls, turns, pii


def _select(tables: Tables, call_ids: Sequence[str]) -> Tables:
    import pyarrow.compute as pc

    wanted = pa.array(list(call_ids), type=pa.string())
    return tuple(t.filter(pc.is_in(t.column("call_id"), value_set=wanted)) for t in tables)  # type: ignore[return-value]


def load_calls(con: Any, call_ids: Sequence[str]) -> dict[str, StoredCall]:
    """Transcripts, findings and metadata of many stored calls, with one query per table."""
    if not call_ids:
        return {}
    return _calls_from_arrow(*_fetch(con, call_ids))


def _calls_from_arrow(calls_tab: pa.Table, turn_tab: pa.Table, pii_tab: pa.Table) -> dict[str, StoredCall]:
    turns: dict[str, list[Turn]] = {}
    speakers: dict[str, dict[str, Role]] = {}
    roles = {r.value: r for r in Role}
    # words: one flat Arrow array for all turns (order kept), cut back into turns by their lengths
    words_col = turn_tab.column("words").combine_chunks()
    counts = words_col.value_lengths().fill_null(0).to_pylist()
    flat = words_col.flatten()
    all_words = list(map(_word, *(flat.field(f).to_pylist() for f in ("text", "start_s", "end_s", "probability"))))
    cols = [turn_tab.column(c).to_pylist() for c in ("call_id", "turn_index", "speaker", "role", "channel", "start_s", "end_s")]
    pos = 0
    for (call_id, idx, speaker, role, channel, start, end), n in zip(zip(*cols), counts, strict=True):
        r = roles[role]
        speakers.setdefault(call_id, {})[speaker] = r
        turns.setdefault(call_id, []).append(Turn(index=idx, speaker=speaker, role=r, span=TimeSpan(start, end),
                                                  words=tuple(all_words[pos:pos + n]), channel=channel))
        pos += n
    pii: dict[str, list[PiiSpan]] = {}
    for call_id, e, d, sc, r, a, b, m, x, refs, tags in zip(*(c.to_pylist() for c in pii_tab.columns), strict=True):
        pii.setdefault(call_id, []).append(PiiSpan(
            entity=e, detector=d, score=sc, role=roles[r], span=TimeSpan(a, b), masked=m, explanation=x,
            words=tuple((ref["turn_index"], ref["word_index"]) for ref in (refs or ())), tags=tuple(tags or ())))
    out: dict[str, StoredCall] = {}
    for (call_id, language, duration, asr_model, diarizer, channels, method, confidence, note, agent_id, agent_name,
         queue, team, direction, started_at, source_path) in zip(*(c.to_pylist() for c in calls_tab.columns), strict=True):
        transcript = Transcript(
            call_id=call_id, language=language, duration=duration, turns=tuple(turns.get(call_id, ())),
            asr_model=asr_model, diarizer=diarizer, channels=channels,
            roles=RoleAssignment(tuple(sorted(speakers.get(call_id, {}).items())), confidence or 0.0, method or "",
                                 note or ""))
        metadata = CallMetadata(agent_id=agent_id, agent_name=agent_name, queue=queue, team=team, direction=direction,
                                started_at=started_at)
        out[call_id] = StoredCall(transcript, tuple(pii.get(call_id, ())), metadata, source_path)
    return out


_NEW = object.__new__
_SET_TEXT, _SET_START, _SET_END, _SET_PROB = (Word.__dict__[f].__set__ for f in ("text", "start", "end", "probability"))


def _word(text: str, start: float, end: float, probability: float) -> Word:
    """``Word(...)`` without the frozen dataclass ``__init__`` (a third of the load time on 100k words)."""
    w = _NEW(Word)
    _SET_TEXT(w, text)
    _SET_START(w, start)
    _SET_END(w, end)
    _SET_PROB(w, probability)
    return w


def save_evaluations(writer: Any, items: Sequence[tuple[Evaluation, CallMetrics | None]], *, run_id: str | None) -> list[str]:
    """Append many evaluations (and replace those calls' metrics) in one transaction; returns evaluation ids.

    The bulk counterpart of ``Writer.save_evaluation``: the same rows, built as
    one Arrow table per table.
    """
    if not items:
        return []
    tables = evaluation_tables(items, run_id)
    _write_tables(writer, tables)
    return tables[0].column("evaluation_id").to_pylist()


_SECTIONS_T = pa.list_(pa.struct([("section", pa.string()), ("score", pa.float64()), ("max_score", pa.float64())]))


def evaluation_tables(items: Sequence[tuple[Evaluation, CallMetrics | None]], run_id: str | None) -> Tables:
    """The ``evaluations``, ``rule_results`` and ``metrics`` rows of scored calls (Arrow; new evaluation ids)."""
    from callqa.store.db import _EVIDENCE_T, _evidence_row

    evs = [ev for ev, _ in items]
    ids = [uuid.uuid4().hex for _ in evs]
    evaluations = pa.table({
        "evaluation_id": ids,
        "call_id": [ev.call_id for ev in evs],
        "run_id": pa.array([run_id] * len(evs), type=pa.string()),
        "pack_id": [ev.pack for ev in evs],
        "pack_version": [ev.pack_version for ev in evs],
        "pack_sha256": [ev.pack_sha256 for ev in evs],
        "engine_version": [ev.engine_version for ev in evs],
        "created_at": pa.array([ev.created_at for ev in evs], type=pa.timestamp("us", tz="UTC")),
        "score": pa.array([float(ev.score) for ev in evs], type=pa.float64()),
        "max_score": pa.array([float(ev.max_score) for ev in evs], type=pa.float64()),
        "passed": pa.array([bool(ev.passed) for ev in evs], type=pa.bool_()),
        "auto_failed": pa.array([bool(ev.auto_failed) for ev in evs], type=pa.bool_()),
        "sections": pa.array([[{"section": s, "score": float(a), "max_score": float(b)} for s, a, b in ev.sections]
                              for ev in evs], type=_SECTIONS_T),
    })
    cols: dict[str, list[Any]] = {k: [] for k in ("evaluation_id", "call_id", "rule_index", "rule_id", "title", "section",
                                                  "kind", "outcome", "points", "max_points", "critical", "explanation",
                                                  "evidence")}
    for eid, ev in zip(ids, evs, strict=True):
        for i, r in enumerate(ev.results):
            cols["evaluation_id"].append(eid)
            cols["call_id"].append(ev.call_id)
            cols["rule_index"].append(i)
            cols["rule_id"].append(r.rule_id)
            cols["title"].append(r.title)
            cols["section"].append(r.section)
            cols["kind"].append(r.kind)
            cols["outcome"].append(r.outcome.value)
            cols["points"].append(float(r.points))
            cols["max_points"].append(float(r.max_points))
            cols["critical"].append(bool(r.critical))
            cols["explanation"].append(r.explanation)
            cols["evidence"].append([_evidence_row(e) for e in r.evidence])
    types = {"evaluation_id": pa.string(), "call_id": pa.string(), "rule_index": pa.int32(), "rule_id": pa.string(),
             "title": pa.string(), "section": pa.string(), "kind": pa.string(), "outcome": pa.string(),
             "points": pa.float64(), "max_points": pa.float64(), "critical": pa.bool_(), "explanation": pa.string(),
             "evidence": _EVIDENCE_T}
    results = pa.table({k: pa.array(v, type=types[k]) for k, v in cols.items()})
    metrics = _metrics_columns([(ev.call_id, m) for ev, m in items if m is not None])
    return evaluations, results, metrics


def _write_tables(writer: Any, tables: Tables | None) -> None:
    """Insert evaluation rows in one transaction; metrics replace the calls' earlier metrics."""
    if tables is None:
        return
    evaluations, results, metrics = tables
    with writer.transaction() as con:
        if metrics.num_rows:
            name = "_callqa_metric_ids"
            con.register(name, metrics.select(["call_id"]))
            try:
                con.execute(f"DELETE FROM metrics WHERE call_id IN (SELECT call_id FROM {name})")
            finally:
                con.unregister(name)
            _insert(con, "metrics", metrics)
        if evaluations.num_rows:
            _insert(con, "evaluations", evaluations)
        if results.num_rows:
            _insert(con, "rule_results", results)


_METRIC_SCALARS = [f.name for f in dataclass_fields(CallMetrics) if f.name not in ("silences", "overlaps")]
_METRIC_TYPES = {f.name: (pa.int64() if f.type == "int" else pa.float64())
                 for f in dataclass_fields(CallMetrics) if f.name in _METRIC_SCALARS}


def _metrics_columns(items: Sequence[tuple[str, CallMetrics]]) -> pa.Table:
    """The ``metrics`` rows of many calls as one Arrow table (the columns of ``store.db._metrics_table``)."""
    from callqa.store.db import _OVERLAP_T, _SILENCE_T

    cols: dict[str, Any] = {name: pa.array([getattr(m, name) for _, m in items], type=_METRIC_TYPES[name])
                            for name in _METRIC_SCALARS}
    cols["call_id"] = pa.array([c for c, _ in items], type=pa.string())
    cols["silence_count"] = pa.array([len(m.silences) for _, m in items], type=pa.int32())
    cols["overlap_count"] = pa.array([len(m.overlaps) for _, m in items], type=pa.int32())
    cols["silences"] = pa.array(
        [[{"start_s": s.span.start, "end_s": s.span.end, "before_role": s.before and s.before.value,
           "after_role": s.after and s.after.value} for s in m.silences] for _, m in items], type=_SILENCE_T)
    cols["overlaps"] = pa.array(
        [[{"start_s": o.span.start, "end_s": o.span.end, "interrupter": o.interrupter.value,
           "interrupted": o.interrupted.value} for o in m.overlaps] for _, m in items], type=_OVERLAP_T)
    return pa.table(cols)


def _insert(con: Any, table: str, data: pa.Table) -> None:
    """INSERT an Arrow table by column name (names quoted: ``overlaps`` is an SQL keyword)."""
    name = f"_callqa_src_{table}"
    con.register(name, data)
    try:
        cols = ", ".join(f'"{c}"' for c in data.column_names)
        con.execute(f'INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}')
    finally:
        con.unregister(name)


__all__ = [
    "BATCH_SIZE", "RescoreOutcome", "RescoreSummary", "Scorer", "StoredCall", "default_pack_path", "load_calls",
    "rescore_calls", "save_evaluations",
]
