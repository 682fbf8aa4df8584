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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pyarrow as pa

from callqa.errors import CallNotFoundError, CallQAError, ConfigError
from callqa.evaluate import evaluate
from callqa.metrics import compute_metrics
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

    def metrics(self, transcript: Transcript) -> CallMetrics:
        opts = self.pack_for(transcript.language).spec.metrics
        return compute_metrics(transcript, min_silence_s=opts.min_silence_s, min_overlap_s=opts.min_overlap_s)

    def score(self, transcript: Transcript, *, pii: Sequence[PiiSpan] | None = None,
              metadata: CallMetadata | None = None, created_at: datetime | None = None) -> tuple[CallMetrics, Evaluation]:
        """Metrics and evaluation of one (redacted) transcript.

        ``pii``: the masked sensitive-data findings of the call; ``None`` means
        no detector ran, and privacy rules are then N/A. ``metadata`` fills
        per-call phrase variables such as ``{agent_first_name}``.
        """
        pack = self.pack_for(transcript.language)
        metrics = self.metrics(transcript)
        evaluation = evaluate(pack, transcript, metrics=metrics, pii=pii, metadata=metadata,
                              pack_sha256=self.pack_sha256, created_at=created_at)
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
        writer.save_evaluation(evaluation, run_id=run_id, metrics=metrics)
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
                  batch_size: int = BATCH_SIZE, on_result: Callable[[RescoreOutcome], None] | None = None) -> RescoreSummary:
    """Re-score many stored calls: bulk load a batch, score each, write the batch in one transaction.

    A call that cannot be scored is recorded in ``failures`` (stage ``score``)
    and the others go on. Unknown call ids are failures too.
    """
    from callqa.privacy import safe_reason

    t0 = time.perf_counter()
    summary = RescoreSummary(run_id)
    ids = list(dict.fromkeys(call_ids))
    for k in range(0, len(ids), batch_size):
        batch = ids[k: k + batch_size]
        loaded = load_calls(writer.con, batch)
        scored: list[tuple[Evaluation, CallMetrics]] = []
        outcomes: list[RescoreOutcome] = []
        failures: list[tuple[str, str, BaseException]] = []
        created = datetime.now(timezone.utc)
        for call_id in batch:
            call = loaded.get(call_id)
            if call is None:
                err = CallNotFoundError(call_id, writer.store.path)
                outcomes.append(RescoreOutcome(call_id, False, reason=safe_reason(err)))
                continue
            try:
                metrics, ev = scorer.score(call.transcript, pii=call.pii, metadata=call.metadata, created_at=created)
            except CallQAError as exc:
                failures.append((call_id, call.source_path, exc))
                outcomes.append(RescoreOutcome(call_id, False, reason=safe_reason(exc)))
                continue
            scored.append((ev, metrics))
            outcomes.append(RescoreOutcome(call_id, True, ev.score, ev.passed, ev.auto_failed, ev.pack))
        save_evaluations(writer, scored, run_id=run_id)
        for call_id, path, exc in failures:
            writer.record_failure(run_id, path, exc, call_id=call_id, stage="score")
        for o in outcomes:
            summary.outcomes.append(o)
            if on_result is not None:
                on_result(o)
        writer.maybe_publish()
    summary.seconds = time.perf_counter() - t0
    return summary


def load_calls(con: Any, call_ids: Sequence[str]) -> dict[str, StoredCall]:
    """Transcripts, findings and metadata of many stored calls, with one query per table."""
    if not call_ids:
        return {}
    ids = pa.table({"call_id": pa.array(list(call_ids), type=pa.string())})
    name = "_callqa_rescore_ids"
    con.register(name, ids)
    try:
        calls = con.execute(
            "SELECT c.call_id, language, duration_s, asr_model, diarizer, channels, role_method, role_confidence, "
            f"role_note, agent_id, agent_name, queue, team, direction, started_at, source_path FROM calls c JOIN {name} USING (call_id)"
        ).fetchall()
        turn_rows = con.execute(
            f"SELECT t.call_id, turn_index, speaker, role, channel, start_s, end_s, words FROM turns t JOIN {name} USING (call_id) "
            "ORDER BY t.call_id, turn_index"
        ).fetchall()
        pii_rows = con.execute(
            "SELECT p.call_id, entity, detector, score, role, start_s, end_s, masked, explanation, word_refs, tags "
            f"FROM pii_spans p JOIN {name} USING (call_id) ORDER BY p.call_id, span_index"
        ).fetchall()
    finally:
        con.unregister(name)

    turns: dict[str, list[Turn]] = {}
    speakers: dict[str, dict[str, Role]] = {}
    roles = {r.value: r for r in Role}
    for call_id, idx, speaker, role, channel, start, end, words in turn_rows:
        r = roles[role]
        speakers.setdefault(call_id, {})[speaker] = r
        turns.setdefault(call_id, []).append(Turn(
            index=idx, speaker=speaker, role=r, span=TimeSpan(start, end), channel=channel,
            words=tuple(Word(w["text"], w["start_s"], w["end_s"], w["probability"]) for w in (words or ()))))
    pii: dict[str, list[PiiSpan]] = {}
    for call_id, e, d, s, r, a, b, m, x, refs, tags in pii_rows:
        pii.setdefault(call_id, []).append(PiiSpan(
            entity=e, detector=d, score=s, role=roles[r], span=TimeSpan(a, b), masked=m, explanation=x,
            words=tuple((ref["turn_index"], ref["word_index"]) for ref in (refs or ())), tags=tuple(tags or ())))
    out: dict[str, StoredCall] = {}
    for (call_id, language, duration, asr_model, diarizer, channels, method, confidence, note, agent_id, agent_name,
         queue, team, direction, started_at, source_path) in calls:
        transcript = Transcript(
            call_id=call_id, language=language, duration=duration, turns=tuple(turns.get(call_id, ())),
            asr_model=asr_model, diarizer=diarizer, channels=channels,
            roles=RoleAssignment(tuple(sorted(speakers.get(call_id, {}).items())), confidence or 0.0, method or "",
                                 note or ""))
        metadata = CallMetadata(agent_id=agent_id, agent_name=agent_name, queue=queue, team=team, direction=direction,
                                started_at=started_at)
        out[call_id] = StoredCall(transcript, tuple(pii.get(call_id, ())), metadata, source_path)
    return out


def save_evaluations(writer: Any, items: Sequence[tuple[Evaluation, CallMetrics | None]], *, run_id: str | None) -> list[str]:
    """Append many evaluations (and replace those calls' metrics) in one transaction; returns evaluation ids.

    The bulk counterpart of ``Writer.save_evaluation``: the same rows, built as
    one Arrow table per table (the row builders are the store's own).
    """
    if not items:
        return []
    from callqa.store.db import _EVIDENCE_T, _evidence_row, _insert_arrow, _metrics_table

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
        "score": [float(ev.score) for ev in evs],
        "max_score": [float(ev.max_score) for ev in evs],
        "passed": [bool(ev.passed) for ev in evs],
        "auto_failed": [bool(ev.auto_failed) for ev in evs],
        "sections": pa.array([[{"section": s, "score": float(a), "max_score": float(b)} for s, a, b in ev.sections]
                              for ev in evs],
                             type=pa.list_(pa.struct([("section", pa.string()), ("score", pa.float64()),
                                                      ("max_score", pa.float64())]))),
    })
    cols: dict[str, list[Any]] = {k: [] for k in ("evaluation_id", "call_id", "rule_index", "rule_id", "title", "section",
                                                  "kind", "outcome", "points", "max_points", "critical", "explanation",
                                                  "evidence")}
    for eid, ev in zip(ids, evs):
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
    results = pa.table({**{k: v for k, v in cols.items() if k not in ("rule_index", "evidence")},
                        "rule_index": pa.array(cols["rule_index"], type=pa.int32()),
                        "evidence": pa.array(cols["evidence"], type=_EVIDENCE_T)})
    metrics = [(ev.call_id, m) for ev, m in items if m is not None]
    with writer.transaction() as con:
        if metrics:
            name = "_callqa_metric_ids"
            con.register(name, pa.table({"call_id": [c for c, _ in metrics]}))
            try:
                con.execute(f"DELETE FROM metrics WHERE call_id IN (SELECT call_id FROM {name})")
            finally:
                con.unregister(name)
            _insert_arrow(con, "metrics", pa.concat_tables([_metrics_table(c, m) for c, m in metrics]))
        _insert_arrow(con, "evaluations", evaluations)
        if results.num_rows:
            _insert_arrow(con, "rule_results", results)
    return ids


__all__ = [
    "BATCH_SIZE", "RescoreOutcome", "RescoreSummary", "Scorer", "StoredCall", "default_pack_path", "load_calls",
    "rescore_calls", "save_evaluations",
]
