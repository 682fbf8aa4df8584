"""Re-score stored calls with a rule pack, as a Prefect flow: all of them, a date range, or given ids.

::

    python -m flows.rescore --db callqa.duckdb --rules qa_rules/default.yaml --all
    python -m flows.rescore --db callqa.duckdb --since 2026-11-01 --until 2026-12-01
    python -m flows.rescore --db callqa.duckdb 3fa2c1 9b0e44

No audio and no recogniser: the flow process reads stored (redacted)
transcripts, findings and metadata in chunks, one ``score-chunk`` task per
chunk of calls (never per rule) scores them on the task runner, and the flow
process appends the evaluations -- one transaction per chunk -- as each chunk
returns. ``callqa rescore`` does the same in one process; use the flow to see
the run in the Prefect UI or to spread a large re-score over a Dask cluster.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.utilities.annotations import quote

from callqa.errors import CallNotFoundError, CallQAError, ConfigError
from callqa.scoring import RescoreOutcome, Scorer, StoredCall, load_calls, save_evaluations
from callqa.store import Store, resolve_call_id, select_call_ids
from callqa.types import CallMetrics, Evaluation
from flows.common import (
    CallFailed,
    RunnerChoice,
    call_ref,
    crash_orphaned_flow_runs,
    run_windowed,
    workers_share_api,
)

ARTIFACT_KEY = "callqa-rescore"
CHUNK = 200


# ---------------------------------------------------------------------- worker side


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """A scored chunk: evaluations with fresh metrics, and the calls that could not be scored."""

    scored: list[tuple[Evaluation, CallMetrics]]
    failed: list[tuple[str, CallFailed]]  # (call_id, why)
    worker: str
    seconds: float


_scorers: dict[tuple[str, str], Scorer] = {}
_scorers_lock = threading.Lock()


def worker_scorer(pack: str, pack_sha256: str) -> Scorer:
    """This process's scorer for the pack, loaded and compiled once; the pack must be the flow's pack."""
    with _scorers_lock:
        scorer = _scorers.get((pack, pack_sha256))
        if scorer is None:
            scorer = Scorer(pack)
            if scorer.pack_sha256 != pack_sha256:
                raise ConfigError(f"{pack}: the rule pack on worker {socket.gethostname()} differs from the flow's "
                                  f"(sha256 {scorer.pack_sha256[:12]}, expected {pack_sha256[:12]})")
            _scorers[(pack, pack_sha256)] = scorer
        return scorer


@task(name="score-chunk", task_run_name="chunk-{index}", persist_result=False, cache_policy=NO_CACHE)
def score_chunk(index: int, calls: list[tuple[str, StoredCall]], pack: str, pack_sha256: str) -> ChunkResult:
    """Score one chunk of stored calls; a call that cannot be scored is reported, the others go on."""
    t0 = time.perf_counter()
    try:
        scorer = worker_scorer(pack, pack_sha256)
    except Exception as exc:
        raise CallFailed.from_error(exc) from None
    created = datetime.now(timezone.utc)
    scored, failed = [], []
    for call_id, call in calls:
        try:
            metrics, evaluation = scorer.score(call.transcript, pii=call.pii, metadata=call.metadata, created_at=created)
        except Exception as exc:
            failed.append((call_id, CallFailed.from_error(exc)))
            continue
        scored.append((evaluation, metrics))
    return ChunkResult(scored, failed, f"{socket.gethostname()}:{os.getpid()}", time.perf_counter() - t0)


# ---------------------------------------------------------------------- the report


@dataclass
class RescoreReport:
    run_id: str
    pack: str
    pack_version: str
    pack_sha256: str
    selected: int = 0
    scored: int = 0
    failed: int = 0
    not_found: int = 0
    chunks: int = 0
    mean_score: float | None = None
    passed: int = 0
    auto_failed: int = 0
    auto_failed_calls: list[str] = field(default_factory=list)
    seconds: float = 0.0
    outcomes: list[RescoreOutcome] = field(default_factory=list, repr=False)

    def finish(self, seconds: float) -> RescoreReport:
        ok = [o for o in self.outcomes if o.ok]
        self.scored = len(ok)
        self.failed = sum(1 for o in self.outcomes if not o.ok) - self.not_found
        self.passed = sum(1 for o in ok if o.passed)
        self.auto_failed = sum(1 for o in ok if o.auto_failed)
        self.auto_failed_calls = sorted(call_ref(o.call_id) for o in ok if o.auto_failed)
        self.mean_score = round(sum(o.score for o in ok) / len(ok), 2) if ok else None
        self.seconds = round(seconds, 1)
        return self

    def markdown(self) -> str:
        lines = [
            f"# callqa re-score run `{self.run_id}`",
            "",
            f"Pack `{self.pack}` {self.pack_version} (sha256 `{self.pack_sha256[:12]}`).",
            "",
            "| calls selected | scored | failed | not found | chunks | mean score | passed | auto-failed | seconds |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {self.selected} | {self.scored} | {self.failed} | {self.not_found} | {self.chunks} | "
            f"{'-' if self.mean_score is None else f'{self.mean_score:.1f}'} | {self.passed} | {self.auto_failed} | "
            f"{self.seconds:.0f} |",
            "",
        ]
        if self.auto_failed_calls:
            lines += ["Auto-failed calls: " + ", ".join(f"`{c}`" for c in self.auto_failed_calls[:50]), ""]
        if self.failed:
            lines += [f"Why calls failed: `callqa sql \"select call_id, reason from failures where run_id = "
                      f"'{self.run_id}'\"`", ""]
        return "\n".join(lines)


# ---------------------------------------------------------------------- the flow


def _day(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name} {value!r}: use a date like 2026-11-22 or 2026-11-22T08:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@flow(name="callqa-rescore", persist_result=False, log_prints=False, validate_parameters=True)
def rescore(
    db: str | None = None,
    rules: str | None = None,
    call_ids: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    all_calls: bool = False,
    chunk_size: int = CHUNK,
    task_runner: str | None = None,
    concurrency: int | None = None,
    dask_address: str | None = None,
    dask_workers: int | None = None,
    publish_every_s: float = 60.0,
) -> RescoreReport:
    """Append a new evaluation by ``rules`` to each chosen stored call; earlier evaluations stay.

    Args:
        db: the callqa DuckDB file (default ``$CALLQA_DB``, else ``callqa.duckdb``).
        rules: rule pack (default ``$CALLQA_RULES``, else ``qa_rules/default.yaml``).
        call_ids: call ids, unique prefixes or recording file names.
        since, until: calls recorded in ``[since, until)`` (dates or date-times; UTC unless given).
        all_calls: every stored call.
        chunk_size: calls per task.
        task_runner, concurrency, dask_address, dask_workers: as for the nightly flow.
    """
    logger = get_run_logger()
    t0 = time.perf_counter()
    start, end = _day(since, "since"), _day(until, "until")
    if not call_ids and not all_calls and start is None and end is None:
        raise ConfigError("say which calls: call_ids, all_calls, or since/until")
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be at least 1, got {chunk_size}")
    choice = RunnerChoice.resolve(task_runner, concurrency, dask_address, dask_workers)
    scorer = Scorer(rules)  # a pack that does not validate fails the run here, before any work
    pack = str(Path(scorer.pack.path).resolve())
    store = Store(Path(db or os.environ.get("CALLQA_DB") or "callqa.duckdb"), publish_interval_s=publish_every_s)
    if not store.exists():
        raise ConfigError(f"{store.path}: no callqa database here yet")
    flow_run = FlowRunContext.get().flow_run if FlowRunContext.get() else None
    with store.writing() as writer:
        ids, missing = [], []
        for ref in call_ids or ():
            try:
                ids.append(resolve_call_id(writer.con, ref, store.path))
            except CallNotFoundError:
                missing.append(ref)
        if all_calls or start is not None or end is not None:
            ids += select_call_ids(writer.con, since=start, until=end)
        ids = list(dict.fromkeys(ids))
        crash_orphaned_flow_runs(writer, logger)
        writer.mark_crashed_runs()
        run_id = writer.start_run("rescore", {
            "rules": pack, "pack": scorer.pack_id, "pack_sha256": scorer.pack_sha256, "calls": len(ids),
            **choice.describe(), "orchestrator": "prefect",
            "prefect_flow_run_id": str(flow_run.id) if flow_run else None})
        report = RescoreReport(run_id, scorer.pack_id, scorer.pack.version, scorer.pack_sha256,
                               selected=len(ids) + len(missing), not_found=len(missing))
        report.outcomes += [RescoreOutcome(ref, False, reason="no stored call matches") for ref in missing]
        logger.info("re-scoring %d call(s) with %s %s in chunks of %d", len(ids), scorer.pack_id, scorer.pack.version,
                    chunk_size)
        chunks = [ids[k: k + chunk_size] for k in range(0, len(ids), chunk_size)]
        report.chunks = len(chunks)
        fatal: list[CallFailed] = []

        def jobs():
            for index, chunk in enumerate(chunks):
                loaded = load_calls(writer.con, chunk)
                for call_id in chunk:
                    if call_id not in loaded:  # deleted since it was selected
                        report.outcomes.append(RescoreOutcome(call_id, False, reason="no stored call matches"))
                # quote(): Prefect would otherwise walk every word of every transcript looking for futures
                yield (index, loaded), {"index": index, "calls": quote(list(loaded.items())), "pack": pack,
                                        "pack_sha256": scorer.pack_sha256}

        def collect(key: tuple[int, dict[str, StoredCall]], result: Any) -> None:
            index, loaded = key
            if not isinstance(result, ChunkResult):
                failure = result if isinstance(result, CallFailed) else CallFailed.from_error(
                    result if isinstance(result, BaseException) else RuntimeError(repr(result)[:200]))
                if failure.fatal:
                    fatal.append(failure)
                result = ChunkResult([], [(call_id, failure) for call_id in loaded], "", 0.0)
            save_evaluations(writer, result.scored, run_id=run_id)
            for ev, _ in result.scored:
                report.outcomes.append(RescoreOutcome(ev.call_id, True, ev.score, ev.passed, ev.auto_failed, ev.pack))
            for call_id, failure in result.failed:
                writer.record_failure(run_id, loaded[call_id].source_path, failure, call_id=call_id, stage="score",
                                      error_type=failure.error_type)
                report.outcomes.append(RescoreOutcome(call_id, False, reason=str(failure)))
            logger.debug("chunk %d: %d scored, %d failed", index, len(result.scored), len(result.failed))
            writer.maybe_publish()

        try:
            with workers_share_api(), choice.make() as runner:
                run_windowed(runner, score_chunk, iter(jobs()), collect, window=2 * choice.concurrency,
                             stop=lambda: bool(fatal))
            if fatal:
                raise ConfigError(f"the re-score stopped: {fatal[0]}")
        except BaseException:
            writer.finish_run(run_id, files_seen=len(ids), processed=sum(o.ok for o in report.outcomes), skipped=0,
                              failed=sum(not o.ok for o in report.outcomes), status="failed")
            raise
        report.finish(time.perf_counter() - t0)
        writer.finish_run(run_id, files_seen=len(ids), processed=report.scored, skipped=0,
                          failed=report.failed + report.not_found)
    create_markdown_artifact(markdown=report.markdown(), key=ARTIFACT_KEY,
                             description=f"callqa re-score summary, run {run_id}")
    log = logger.warning if report.failed or report.not_found else logger.info
    log("run %s: %d scored, %d failed, %d not found (pack %s %s)", run_id, report.scored, report.failed,
        report.not_found, scorer.pack_id, scorer.pack.version)
    return report


# ---------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.rescore", description=(
        "Re-score stored calls with a rule pack (a Prefect flow run): ids, --all, or --since/--until."))
    parser.add_argument("calls", nargs="*", metavar="CALL_ID", help="call ids, unique prefixes or file names")
    parser.add_argument("--db", help="DuckDB file (default: $CALLQA_DB or ./callqa.duckdb)")
    parser.add_argument("--rules", help="rule pack (default: $CALLQA_RULES or qa_rules/default.yaml)")
    parser.add_argument("--all", action="store_true", dest="all_calls", help="every stored call")
    parser.add_argument("--since", help="calls recorded on or after this date")
    parser.add_argument("--until", help="calls recorded before this date")
    parser.add_argument("--chunk-size", type=int, default=CHUNK, help=f"calls per task (default {CHUNK})")
    parser.add_argument("--task-runner", choices=("thread", "dask"))
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--dask-address")
    args = parser.parse_args(argv)
    try:
        report = rescore(db=args.db, rules=args.rules, call_ids=args.calls or None, since=args.since,
                         until=args.until, all_calls=args.all_calls, chunk_size=args.chunk_size,
                         task_runner=args.task_runner, concurrency=args.concurrency, dask_address=args.dask_address)
    except CallQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    mean = "-" if report.mean_score is None else f"{report.mean_score:.1f}"
    print(f"run {report.run_id}: {report.scored} re-scored with {report.pack} {report.pack_version}, "
          f"{report.failed} failed, {report.not_found} not found; mean score {mean}, {report.auto_failed} auto-failed")
    return 1 if report.failed or report.not_found else 0


if __name__ == "__main__":
    raise SystemExit(main())
