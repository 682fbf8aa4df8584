"""The nightly flow: score every new recording in an inbox, each call exactly once.

Run it once, here and now (Prefect's ephemeral mode, or the server named by
``PREFECT_API_URL``)::

    python -m flows.nightly --inbox sample_audio --db callqa.duckdb

Deploy it on a schedule: see ``prefect.yaml`` and docs/nightly.md.

What one run does, in the flow process:

1. list the recordings under the inbox (a local directory, or any fsspec URL,
   mirrored into a local staging directory next to the database);
2. hash each one and read its sidecar (no decoding) and skip calls already
   stored with the same settings, and repeats of a recording under another
   name;
3. submit one ``score-call`` task per remaining call -- never per segment or
   per rule -- with at most ``2 x concurrency`` calls in flight, on threads of
   this process or on a Dask cluster;
4. store each returned call as soon as its task finishes, in one transaction
   (the flow process is the only writer), record each failed file with its
   stage and reason, publish the read copy QA leads query every
   ``publish_every_s`` seconds and at the end;
5. publish a markdown artifact with counts, failures by stage and scores --
   call ids, never file names, paths or transcript text.

A run whose calls partly failed ends **Completed**: the failures are data
(``failures`` table, artifact, a warning in the log), and the next run
retries the failed files because they are not in ``calls``. A run ends
**Failed** only when it cannot do its job at all: a configuration error
(missing model, invalid rule pack), an inbox that does not exist, or a
database another writer holds past the lock timeout.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.context import FlowRunContext
from prefect.tasks import exponential_backoff

from callqa.audio import Identity, discover
from callqa.batch import (
    BatchSummary,
    CallOutcome,
    begin_run,
    finish_batch,
    record_failed,
    skip_if_stored,
    store_processed,
)
from callqa.errors import CallQAError, ConfigError
from callqa.pipeline import Pipeline
from callqa.settings import Settings
from callqa.store import Store, Writer
from flows.common import (
    CallFailed,
    CallResult,
    RunnerChoice,
    call_ref,
    crash_orphaned_flow_runs,
    file_ref,
    public_reason,
    run_windowed,
    score_call,
    worker_pipeline,
    workers_share_api,
)

ARTIFACT_KEY = "callqa-nightly"
DUPLICATE = "same recording as another file in this batch"


# ---------------------------------------------------------------------- the report


@dataclass
class NightlyReport:
    """What a run did. Counts, call ids and stages only -- except ``outcomes``, which name files
    and are returned to a local caller (the command line), never published or persisted."""

    run_id: str
    found: int = 0
    processed: int = 0
    skipped: int = 0  # stored before with the same settings (re-scored ones included)
    duplicates: int = 0  # the same bytes under another name in this batch
    failed: int = 0
    failures_by_stage: dict[str, int] = field(default_factory=dict)  # "decode: AudioError" -> count
    transient_failures: int = 0
    scored: int = 0
    mean_score: float | None = None
    max_score: float | None = None
    passed: int = 0
    auto_failed: int = 0
    auto_failed_calls: list[str] = field(default_factory=list)  # call id prefixes
    workers: dict[str, int] = field(default_factory=dict)  # worker (host:pid) -> calls processed
    pipelines_built: dict[str, int] = field(default_factory=dict)  # worker -> pipelines it built (1: models loaded once)
    seconds: float = 0.0
    outcomes: list[CallOutcome] = field(default_factory=list, repr=False)

    @classmethod
    def from_summary(cls, summary: BatchSummary, found: int, duplicates: int, workers: Counter, builds: dict[str, int],
                     transient: int, seconds: float) -> "NightlyReport":
        outs = summary.outcomes
        failed = [o for o in outs if o.status == "failed"]
        scored = [o for o in outs if o.score is not None]
        report = cls(
            run_id=summary.run_id, found=found, processed=summary.count("processed"),
            skipped=summary.count("skipped") + summary.count("rescored") - duplicates, duplicates=duplicates,
            failed=len(failed), transient_failures=transient,
            failures_by_stage=dict(sorted(Counter(f"{o.stage}" for o in failed).items())),
            scored=len(scored), passed=sum(1 for o in scored if o.passed),
            auto_failed=sum(1 for o in scored if o.auto_failed),
            auto_failed_calls=sorted(call_ref(o.call_id) for o in scored if o.auto_failed and o.call_id),
            workers=dict(sorted(workers.items())), pipelines_built=dict(sorted(builds.items())),
            seconds=round(seconds, 1), outcomes=list(outs),
        )
        if scored:
            report.mean_score = round(sum(o.score for o in scored) / len(scored), 2)
        return report

    def counts(self) -> dict[str, Any]:
        """The JSON-able, name-free part (what the flow logs and publishes)."""
        return {k: v for k, v in self.__dict__.items() if k != "outcomes"}

    def markdown(self) -> str:
        lines = [
            f"# callqa nightly run `{self.run_id}`",
            "",
            "| recordings found | processed | already stored | duplicates | failed | seconds |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {self.found} | {self.processed} | {self.skipped} | {self.duplicates} | {self.failed} | {self.seconds:.0f} |",
            "",
            "## Scores (calls processed in this run)",
            "",
        ]
        if self.scored:
            lines += [
                "| scored | mean score | passed | auto-failed (critical) |",
                "|---:|---:|---:|---:|",
                f"| {self.scored} | {self.mean_score:.1f} | {self.passed} | {self.auto_failed} |",
                "",
            ]
            if self.auto_failed_calls:
                shown = ", ".join(f"`{c}`" for c in self.auto_failed_calls[:50])
                more = f" and {len(self.auto_failed_calls) - 50} more" if len(self.auto_failed_calls) > 50 else ""
                lines += [f"Auto-failed calls (open one with `callqa show CALL`): {shown}{more}", ""]
        else:
            lines += ["No call was scored in this run (no new calls, or no rule pack configured).", ""]
        lines += ["## Failures", ""]
        if self.failed:
            lines += ["| stage | calls |", "|---|---:|"]
            lines += [f"| {stage} | {n} |" for stage, n in self.failures_by_stage.items()]
            lines += [
                "",
                f"{self.failed} file(s) failed ({self.transient_failures} after retries of a transient error). "
                "They are not in `calls`, so the next run tries them again. Files and reasons are in the "
                "database, not here (file names can carry personal data):",
                "",
                f"    callqa sql \"select path, stage, error_type, reason, attempt from failures "
                f"where run_id = '{self.run_id}'\"",
                "",
            ]
        else:
            lines += ["None.", ""]
        if self.workers:
            lines += ["## Workers", "", "| worker | calls |", "|---|---:|"]
            lines += [f"| {w} | {n} |" for w, n in self.workers.items()]
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- inbox


def resolve_inbox(inbox: str, db: Path) -> Path:
    """A local directory for ``inbox``: itself, or a mirror of a remote fsspec URL.

    A remote inbox (``s3://bucket/calls``, ``sftp://...``, ``memory://...``) is
    mirrored into ``<db>.inbox/`` next to the database: recordings and their
    sidecars are copied when new or changed in size, then processed like a
    local directory. The mirror holds recordings: protect it like the inbox.
    """
    if "://" not in inbox:
        root = Path(inbox)
    else:
        import fsspec

        fs, remote_root = fsspec.core.url_to_fs(inbox)
        if "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)):
            root = Path(remote_root)
        else:
            root = _mirror(fs, remote_root, db.with_name(db.name + ".inbox"))
    if not root.is_dir():
        raise ConfigError(f"inbox {inbox} is not a directory (is the share mounted?)")
    try:
        next(os.scandir(root), None)
    except OSError as exc:
        raise ConfigError(f"inbox {inbox} cannot be listed ({exc.strerror or exc})") from None
    return root


def _mirror(fs, remote_root: str, local: Path) -> Path:
    from callqa.audio import is_audio_file

    if not fs.isdir(remote_root):
        raise ConfigError(f"inbox {fs.unstrip_protocol(remote_root)} is not a directory")
    local.mkdir(parents=True, exist_ok=True)
    prefix = remote_root.rstrip("/") + "/"
    for remote, info in sorted(fs.find(remote_root, detail=True).items()):
        rel = remote[len(prefix):] if remote.startswith(prefix) else Path(remote).name
        target = local / rel
        if not (is_audio_file(target) or target.suffix.lower() == ".json"):
            continue
        if target.is_file() and target.stat().st_size == info.get("size"):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        fs.get_file(remote, str(tmp))
        tmp.replace(target)
    return local


def list_recordings(root: Path) -> list[Path]:
    """Audio files under the inbox, sorted, resolved. An empty inbox is a quiet night, not an error."""
    files, _problems = discover([root])  # the only problem for an existing, listable directory: no audio
    return [p.resolve() for p in files]


# ---------------------------------------------------------------------- the flow


@flow(name="callqa-nightly", persist_result=False, log_prints=False, validate_parameters=True)
def nightly(
    inbox: str,
    db: str | None = None,
    model: str | None = None,
    language: str | None = None,
    task_runner: str | None = None,
    concurrency: int | None = None,
    dask_address: str | None = None,
    dask_workers: int | None = None,
    retries: int = 2,
    retry_delay_s: float = 10.0,
    publish_every_s: float = 60.0,
    force: bool = False,
) -> NightlyReport:
    """Score every new recording in ``inbox`` into the DuckDB file ``db``.

    Args:
        inbox: directory (or fsspec URL) the day's recordings land in; searched recursively.
        db: published DuckDB file QA leads query (default ``$CALLQA_DB``, else ``callqa.duckdb``).
        model, language: recogniser model and language (default: ``CALLQA_ASR_MODEL``, sidecar / ``en``).
        task_runner: ``thread`` (this process) or ``dask`` (default ``$CALLQA_TASK_RUNNER``, else thread).
        concurrency: calls processed at once (default ``$CALLQA_CONCURRENCY``, else 2; Dask: its workers).
        dask_address: scheduler of an existing Dask cluster (default ``$CALLQA_DASK_ADDRESS``; none = a
            local cluster of ``dask_workers`` processes, default ``$CALLQA_DASK_WORKERS``, else 2).
        retries, retry_delay_s: retries of a call after a transient error, first delay (doubles each time).
        publish_every_s: publish the read copy at most this often during the run (and always at the end).
        force: process calls again even when stored with the same settings.
    """
    logger = get_run_logger()
    t_start = time.perf_counter()
    choice = RunnerChoice.resolve(task_runner, concurrency, dask_address, dask_workers)
    settings = choice.worker_settings(Settings.from_env(db=Path(db) if db else None, model=model, language=language))
    root = resolve_inbox(inbox, settings.db)
    files = list_recordings(root)
    pipeline = worker_pipeline(settings)  # here: identify + settings key only; the model loads in workers
    task = score_call.with_options(retries=retries, retry_delay_seconds=exponential_backoff(retry_delay_s))
    flow_run = FlowRunContext.get().flow_run if FlowRunContext.get() else None
    extra = {**choice.describe(), "orchestrator": "prefect", "prefect_flow_run_id": str(flow_run.id) if flow_run else None}
    logger.info("%d recording(s) in the inbox; task runner %s, %d call(s) at once", len(files), choice.kind,
                choice.concurrency)

    store = Store(settings.db, publish_interval_s=publish_every_s)
    with store.writing() as writer:
        crash_orphaned_flow_runs(writer, logger)
        run_id = begin_run(writer, pipeline, "nightly", extra)
        batch = _Batch(writer, pipeline, run_id, force)
        try:
            with workers_share_api(), choice.make() as runner:
                batch.run(runner, task, files, window=2 * choice.concurrency)
        except BaseException:
            finish_batch(writer, batch.summary, files_seen=len(files), status="failed")
            raise
        finish_batch(writer, batch.summary, files_seen=len(files))
    report = NightlyReport.from_summary(batch.summary, len(files), batch.duplicates, batch.workers, batch.builds,
                                        batch.transient, time.perf_counter() - t_start)
    create_markdown_artifact(markdown=report.markdown(), key=ARTIFACT_KEY,
                             description=f"callqa nightly summary, run {run_id}")
    msg = (f"run {run_id}: {report.found} found, {report.processed} processed, {report.skipped} already stored, "
           f"{report.duplicates} duplicate(s), {report.failed} failed")
    if report.failed:
        stages = ", ".join(f"{s}: {n}" for s, n in report.failures_by_stage.items())
        logger.warning("%s (%s); failed files are in the failures table and are retried next run", msg, stages)
    else:
        logger.info(msg)
    return report


class _Batch:
    """The flow-process side of one run: choose the calls, keep tasks in flight, store what returns."""

    def __init__(self, writer: Writer, pipeline: Pipeline, run_id: str, force: bool):
        self.writer = writer
        self.pipeline = pipeline
        self.run_id = run_id
        self.force = force
        self.summary = BatchSummary(run_id)
        self.duplicates = 0
        self.transient = 0
        self.workers: Counter = Counter()
        self.builds: dict[str, int] = {}
        self.fatal: CallFailed | None = None
        self.logger = get_run_logger()

    def emit(self, outcome: CallOutcome) -> None:
        self.summary.outcomes.append(outcome)
        ref = call_ref(outcome.call_id) if outcome.call_id else f"file {file_ref(outcome.path)}"
        if outcome.status == "failed":
            self.logger.warning("call %s failed at %s", ref, outcome.stage)
        else:
            self.logger.debug("call %s %s", ref, outcome.status)

    def candidates(self, files: list[Path]) -> Iterator[Identity]:
        """Identify each file (hash + sidecar); emit skips, duplicates and unreadable files; yield the rest."""
        seen: set[str] = set()
        for path in files:
            t0 = time.perf_counter()
            call_id = None
            try:
                ident = self.pipeline.identify(path)
                call_id = ident.call_id
                if call_id in seen:
                    self.duplicates += 1
                    self.emit(CallOutcome(path=str(path), status="skipped", call_id=call_id, reason=DUPLICATE))
                    continue
                seen.add(call_id)
                stored = skip_if_stored(ident, self.pipeline, self.writer, self.run_id, force=self.force, started=t0)
            except ConfigError:
                raise
            except Exception as exc:
                self.emit(record_failed(self.writer, self.run_id, path, exc, call_id=call_id,
                                        seconds=time.perf_counter() - t0))
                continue
            if stored is not None:
                self.emit(stored)
                self.writer.maybe_publish()
                continue
            yield ident

    def run(self, runner, task, files: list[Path], *, window: int) -> None:
        settings = self.pipeline.settings
        jobs = ((ident, {"path": str(ident.path), "ref": call_ref(ident.call_id), "settings": settings})
                for ident in self.candidates(files))
        run_windowed(runner, task, jobs, self.collect, window=window, stop=lambda: self.fatal is not None)
        if self.fatal is not None:
            raise ConfigError(f"the nightly run stopped: {self.fatal}")

    def collect(self, ident: Identity, result: Any) -> None:
        """Store a finished call (one transaction), or record why it failed; publish when due."""
        path = ident.path
        if isinstance(result, CallResult):
            self.workers[result.worker] += 1
            self.builds[result.worker] = max(self.builds.get(result.worker, 0), result.pipelines_built)
            try:
                outcome = store_processed(self.writer, result.call, self.run_id, result.seconds)
            except CallQAError as exc:
                outcome = record_failed(self.writer, self.run_id, path, exc, call_id=ident.call_id, stage="store")
        else:
            if isinstance(result, CallFailed):
                failure = result
            else:  # Prefect or Dask gave up on the task (crashed worker ...): worth another try next run
                reason = public_reason(result, path) if isinstance(result, BaseException) else repr(result)[:200]
                failure = CallFailed("task", type(result).__name__, reason, transient=True)
            self.transient += failure.transient
            outcome = record_failed(self.writer, self.run_id, path, failure, call_id=ident.call_id,
                                    error_type=failure.error_type)
            if failure.fatal and self.fatal is None:
                self.fatal = failure
                self.logger.error("configuration error: finishing the calls in flight, then stopping")
        self.emit(outcome)
        self.writer.maybe_publish()


# ---------------------------------------------------------------------- command line


def print_report(report: NightlyReport, db: Path, *, list_calls: int = 50) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    outs = report.outcomes
    scores = any(o.score is not None for o in outs)
    if outs and len(outs) <= list_calls:
        table = Table(title=f"callqa nightly -> {db}")
        for col in ("file", "call", "status", "duration", "turns") + (("score", "auto-fail") if scores else ()) + ("notes",):
            table.add_column(col, overflow="fold")
        for o in sorted(outs, key=lambda o: o.path):
            style = {"failed": "red", "skipped": "dim", "rescored": "cyan"}.get(o.status, "")
            note = o.reason or ""
            row = [Path(o.path).name, (o.call_id or "")[:12], f"[{style}]{o.status}[/]" if style else o.status,
                   f"{o.duration_s:.1f}s" if o.duration_s is not None else "", "" if o.turns is None else str(o.turns)]
            if scores:
                row += ["" if o.score is None else f"{o.score:.1f}", "yes" if o.auto_failed else ""]
            table.add_row(*row, note)
        console.print(table)
    totals = Table(title=f"run {report.run_id}")
    for col in ("calls", "processed", "skipped", "failed", "mean score", "auto-fails"):
        totals.add_column(col, justify="right")
    totals.add_row(str(report.found), str(report.processed), str(report.skipped + report.duplicates),
                   str(report.failed), "-" if report.mean_score is None else f"{report.mean_score:.1f}",
                   str(report.auto_failed) if report.scored else "-")
    console.print(totals)
    if report.failed:
        console.print(f"[yellow]{report.failed} file(s) failed; they are retried on the next run. Details: "
                      f"callqa sql \"select path, stage, reason from failures where run_id = '{report.run_id}'\" "
                      f"--db {db}[/]", highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.nightly", description=(
        "Run the nightly callqa flow once: score new recordings in INBOX into DB and print a summary."))
    parser.add_argument("--inbox", required=True, help="directory (or fsspec URL) with the recordings")
    parser.add_argument("--db", help="DuckDB file (default: $CALLQA_DB or ./callqa.duckdb)")
    parser.add_argument("--model", help="Whisper model directory or size name (default: packaged models)")
    parser.add_argument("--language", help="auto, en, ru, pl ... (default: sidecar, else en)")
    parser.add_argument("--task-runner", choices=("thread", "dask"), help="default: $CALLQA_TASK_RUNNER or thread")
    parser.add_argument("--concurrency", type=int, help="calls processed at once (default 2)")
    parser.add_argument("--dask-address", help="scheduler address of an existing Dask cluster")
    parser.add_argument("--dask-workers", type=int, help="processes of the local Dask cluster (default 2)")
    parser.add_argument("--retries", type=int, default=2, help="retries after a transient error (default 2)")
    parser.add_argument("--publish-every", type=float, default=60.0, metavar="SECONDS",
                        help="publish the read copy at most this often while running (default 60)")
    parser.add_argument("--force", action="store_true", help="process calls again even when already stored")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any file failed")
    args = parser.parse_args(argv)
    db = Path(args.db or os.environ.get("CALLQA_DB") or "callqa.duckdb")
    try:
        report = nightly(inbox=args.inbox, db=str(db), model=args.model, language=args.language,
                         task_runner=args.task_runner, concurrency=args.concurrency, dask_address=args.dask_address,
                         dask_workers=args.dask_workers, retries=args.retries, publish_every_s=args.publish_every,
                         force=args.force)
    except CallQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    print_report(report, db)
    return 1 if args.strict and report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
