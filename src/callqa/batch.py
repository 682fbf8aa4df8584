"""Process many recordings with one writer: skip what is stored, record what fails, go on.

Used by ``callqa run``; the Prefect flows use the same pieces
(:func:`skip_if_stored` in the flow process, ``Pipeline.process`` in workers,
:func:`store_processed` / :func:`record_failed` in the one writer).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from callqa.audio import Identity, discover
from callqa.errors import CallQAError, ConfigError, InputError
from callqa.pipeline import Pipeline
from callqa.privacy import safe_reason
from callqa.store import Store, Writer
from callqa.types import ProcessedCall

log = logging.getLogger("callqa.batch")


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """What happened to one input path in a batch (no transcript text, no PII)."""

    path: str
    status: str  # processed | skipped | rescored | failed
    call_id: str | None = None
    stage: str | None = None
    reason: str | None = None
    duration_s: float | None = None
    turns: int | None = None
    language: str | None = None
    roles_note: str | None = None
    role_confidence: float | None = None
    score: float | None = None
    passed: bool | None = None
    auto_failed: bool | None = None
    seconds: float = 0.0


@dataclass
class BatchSummary:
    run_id: str
    outcomes: list[CallOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def ok(self) -> bool:
        return self.failed == 0


def outcome_of(pc: ProcessedCall, status: str, seconds: float) -> CallOutcome:
    tr, ev = pc.transcript, pc.evaluation
    return CallOutcome(
        path=pc.record.source_path, status=status, call_id=pc.record.call_id, duration_s=tr.duration,
        turns=len(tr.turns), language=tr.language, roles_note=tr.roles.explanation, role_confidence=tr.roles.confidence,
        score=ev.score if ev else None, passed=ev.passed if ev else None, auto_failed=ev.auto_failed if ev else None,
        seconds=seconds,
    )


def failure_outcome(path: str | Path, error: BaseException, *, call_id: str | None = None, seconds: float = 0.0,
                    stage: str | None = None) -> CallOutcome:
    return CallOutcome(path=str(path), status="failed", call_id=call_id,
                       stage=stage or getattr(error, "stage", None) or "process", reason=safe_reason(error), seconds=seconds)


def run_batch(
    paths: Iterable[str | Path],
    pipeline: Pipeline,
    store: Store,
    *,
    force: bool = False,
    kind: str = "run",
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[CallOutcome], None] | None = None,
) -> BatchSummary:
    """Process every recording under ``paths`` into ``store``.

    A recording that fails is recorded in ``failures`` (stage and reason) and
    the batch goes on; the next run retries it, and a success resolves it.
    A :class:`ConfigError` (no model, bad rule pack) stops the batch: every
    call would fail the same way.
    """
    files, problems = discover([Path(p) for p in paths])
    with store.writing() as writer:
        run_id = begin_run(writer, pipeline, kind)
        summary = BatchSummary(run_id)
        if on_start:
            on_start(len(files) + len(problems))
        for outcome in record_problems(writer, run_id, problems):
            _emit(summary, outcome, on_result)
        for path in files:
            _emit(summary, process_into(path, pipeline, writer, run_id, force=force), on_result)
            writer.maybe_publish()
        finish_batch(writer, summary, files_seen=len(files) + len(problems))
    return summary


def begin_run(writer: Writer, pipeline: Pipeline, kind: str, extra: dict | None = None) -> str:
    """Mark runs a killed process left 'running' as crashed, then open a new run; returns its id."""
    crashed = writer.mark_crashed_runs()
    if crashed:
        log.warning("%d earlier run(s) did not finish (killed?); their unfinished calls are retried now", crashed)
    return writer.start_run(kind, {**settings_summary(pipeline), **(extra or {})})


def finish_batch(writer: Writer, summary: "BatchSummary", *, files_seen: int, status: str | None = None) -> None:
    writer.finish_run(summary.run_id, files_seen=files_seen, processed=summary.count("processed"),
                      skipped=summary.count("skipped") + summary.count("rescored"), failed=summary.failed,
                      status=status)


def record_problems(writer: Writer, run_id: str, problems: Iterable[tuple[Path, str]]) -> list[CallOutcome]:
    """Record what discovery could not use (missing path, unreadable directory) as failures."""
    outcomes = []
    for path, reason in problems:
        path = Path(path).resolve()
        outcomes.append(record_failed(writer, run_id, path, InputError(path, reason, stage="discover")))
    return outcomes


def _emit(summary: BatchSummary, outcome: CallOutcome, on_result: Callable[[CallOutcome], None] | None) -> None:
    summary.outcomes.append(outcome)
    if outcome.status == "failed":
        log.warning("%s: %s failed: %s", outcome.path, outcome.stage, outcome.reason)
    if on_result:
        on_result(outcome)


def process_into(path: Path, pipeline: Pipeline, writer: Writer, run_id: str, *, force: bool = False) -> CallOutcome:
    """Load, skip-or-process, store one recording; failures are recorded, not raised (ConfigError is)."""
    t0 = time.perf_counter()
    call_id = None
    path = Path(path).resolve()  # failures and calls name files the same way
    try:
        ident = pipeline.identify(path)
        call_id = ident.call_id
        if (stored := skip_if_stored(ident, pipeline, writer, run_id, force=force, started=t0)) is not None:
            return stored
        pc = pipeline.process(pipeline.load(ident))
        return store_processed(writer, pc, run_id, time.perf_counter() - t0)
    except ConfigError:
        raise
    except Exception as exc:  # CallQAError, or a bug / library failure: record it, keep the batch going
        if not isinstance(exc, CallQAError):
            log.debug("unexpected failure on %s", path, exc_info=True)
        return record_failed(writer, run_id, path, exc, call_id=call_id, seconds=time.perf_counter() - t0)


def skip_if_stored(ident: Identity, pipeline: Pipeline, writer: Writer, run_id: str, *, force: bool = False,
                   started: float | None = None) -> CallOutcome | None:
    """The outcome for a call already stored with the same settings (re-scored if its pack changed), else None.

    Needs only :meth:`Pipeline.identify` (hash + sidecar): nothing is decoded.
    """
    if force or writer.stored_settings_key(ident.call_id) != pipeline.settings_key(ident.metadata):
        return None
    path = str(Path(ident.path).resolve())
    rescored = rescore_if_needed(pipeline, writer, ident.call_id, run_id)
    writer.resolve_failures(path, ident.call_id)
    return CallOutcome(path=path, status="rescored" if rescored else "skipped", call_id=ident.call_id,
                       seconds=time.perf_counter() - started if started is not None else 0.0)


def store_processed(writer: Writer, pc: ProcessedCall, run_id: str, seconds: float) -> CallOutcome:
    """Write one processed call (one transaction; resolves the file's earlier failures)."""
    writer.save_call(pc, run_id=run_id)
    return outcome_of(pc, "processed", seconds)


def record_failed(writer: Writer, run_id: str, path: str | Path, error: BaseException, *, call_id: str | None = None,
                  seconds: float = 0.0, stage: str | None = None, error_type: str | None = None) -> CallOutcome:
    """Record a failure of one file (stage and reason, no transcript text) and return its outcome.

    Errors that are not callqa's own (a bug, a library failure) are filed under stage ``process``.
    """
    if stage is None and not isinstance(error, CallQAError) and not hasattr(error, "stage"):
        stage = "process"
    writer.record_failure(run_id, path, error, call_id=call_id, stage=stage, error_type=error_type)
    return failure_outcome(path, error, call_id=call_id, seconds=seconds, stage=stage)


def rescore_if_needed(pipeline: Pipeline, writer: Writer, call_id: str, run_id: str) -> bool:
    """Score a stored transcript with the pipeline's pack if it has no such evaluation yet."""
    scorer = getattr(pipeline, "scorer", None)
    if scorer is None or writer.has_evaluation(call_id, scorer.pack_sha256):
        return False
    return scorer.rescore_stored(writer, call_id, run_id)


def settings_summary(pipeline: Pipeline) -> dict:
    """What a run was made with (stored in ``runs.settings``)."""
    s = pipeline.settings
    return {
        "model": s.model, "language": s.language, "compute_type": s.compute_type, "beam_size": s.beam_size,
        "threads": s.cpu_threads, "channel_roles": [r.value for r in s.channel_roles],
        "diarizer": pipeline.mono_diarizer_name, "num_speakers": s.num_speakers,
        "rules": str(s.rules) if s.rules else None,
    }
