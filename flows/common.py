"""What the callqa flows share: the per-call task, worker-side model cache, task runners.

The division of labour is fixed: workers (threads of the flow process, or
Dask worker processes on any machine) turn one recording into a
:class:`~callqa.types.ProcessedCall` and return it; only the flow process
opens the DuckDB store and writes. A task never touches the database.

Nothing a task returns or raises is persisted by Prefect (``persist_result``
is off and there is no cache policy): a transcript travels from the worker to
the writer in memory only. A task's failure message (shown in the Prefect UI)
names the stage, the error type and the reason, with the recording's path and
name replaced by ``<recording>``: file names in call centres often carry agent
names or phone numbers.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from callqa.errors import CallQAError, ConfigError
from callqa.pipeline import Pipeline
from callqa.privacy import safe_reason
from callqa.settings import Settings
from callqa.types import ProcessedCall

log = logging.getLogger("callqa.flows")

#: Task runners a flow can use (``task_runner`` parameter or ``CALLQA_TASK_RUNNER``).
TASK_RUNNERS = ("thread", "dask")


# ---------------------------------------------------------------------- references without names


def call_ref(call_id: str) -> str:
    """Short call id for logs, task names and artifacts (``callqa show`` accepts it)."""
    return call_id[:12]


def file_ref(path: str | Path) -> str:
    """A name-free reference to a file path: ``select * from failures where sha256(path) like 'REF%'``."""
    return hashlib.sha256(str(path).encode()).hexdigest()[:12]


def public_reason(error: BaseException, path: str | Path | None = None) -> str:
    """:func:`~callqa.privacy.safe_reason` with the recording's path and name masked."""
    if path is None:
        return safe_reason(error)
    text = str(error).strip()
    message = text.splitlines()[0] if text else ""
    p = Path(path)
    names = {str(p), str(p.resolve()), p.name}
    for sidecar in (p.with_suffix(".json"), p.with_name(p.name + ".json")):
        names |= {str(sidecar), str(sidecar.resolve()), sidecar.name}
    for name in sorted((n for n in names if len(n) > 2), key=len, reverse=True):
        message = message.replace(name, "<recording>")
    if message.startswith("<recording>: "):
        message = message[len("<recording>: "):]
    if not isinstance(error, CallQAError):
        message = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return safe_reason(CallQAError(message or type(error).__name__))  # scrubbed, one line, bounded


class CallFailed(CallQAError):
    """A call's task failed: what the writer records and what Prefect shows, without the path.

    Carries the original error's stage, type and transience across processes
    (it pickles by value); ``fatal`` marks configuration errors that would fail
    every call the same way, so the flow stops instead of going on.
    """

    def __init__(self, stage: str, error_type: str, reason: str, transient: bool = False, fatal: bool = False):
        super().__init__(f"{error_type} at {stage}: {reason}")
        self.stage = stage
        self.error_type = error_type
        self.reason = reason
        self.transient = transient
        self.fatal = fatal

    def __reduce__(self):
        return (CallFailed, (self.stage, self.error_type, self.reason, self.transient, self.fatal))

    @classmethod
    def from_error(cls, error: BaseException, path: str | Path | None = None) -> "CallFailed":
        if isinstance(error, CallFailed):
            return error
        is_ours = isinstance(error, CallQAError)
        return cls(
            stage=getattr(error, "stage", None) if is_ours else "process",
            error_type=type(error).__name__,
            reason=public_reason(error, path),
            transient=bool(getattr(error, "transient", False)) if is_ours else False,
            fatal=isinstance(error, ConfigError),
        )


# ---------------------------------------------------------------------- worker side


@dataclass(frozen=True, slots=True)
class CallResult:
    """A task's return value: the processed call plus where and how it was made (no I/O)."""

    call: ProcessedCall
    worker: str  # host:pid
    pipelines_built: int  # pipelines this worker process has built so far (1 = models loaded once)
    seconds: float


_pipelines: dict[str, Pipeline] = {}
_pipelines_lock = threading.Lock()
_built = 0


def worker_pipeline(settings: Settings) -> Pipeline:
    """This process's :class:`Pipeline` for ``settings``: built once, reused for every call.

    The Whisper model inside is loaded on first use and stays loaded, so a
    worker pays the model load once per process, not once per call. Threads
    of one process share the pipeline (and the model).
    """
    global _built
    key = repr(replace(settings, db=Path()))  # the database does not change what a pipeline computes
    with _pipelines_lock:
        pipeline = _pipelines.get(key)
        if pipeline is None:
            pipeline = _pipelines[key] = Pipeline(settings)
            _built += 1
        return pipeline


def pipelines_built() -> int:
    return _built


def _retry_only_transient(task, task_run, state) -> bool:
    """Retry condition: only errors marked transient (resource busy, lock held) are retried."""
    try:
        state.result()
    except CallFailed as exc:
        return exc.transient and not exc.fatal
    except Exception:
        return False
    return False


@task(
    name="score-call",
    task_run_name="call-{ref}",
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=10),
    retry_jitter_factor=0.2,
    retry_condition_fn=_retry_only_transient,
    persist_result=False,
    cache_policy=NO_CACHE,
)
def score_call(path: str, ref: str, settings: Settings) -> CallResult:
    """Decode, recognise, attribute and score one recording; return it (never write it).

    ``ref`` is the call id prefix the flow computed (it names the task run).
    Every failure leaves as :class:`CallFailed`; the original traceback stays
    in this worker's log (it may quote library internals) and not in Prefect.
    """
    t0 = time.perf_counter()
    try:
        pipeline = worker_pipeline(settings)
        pc = pipeline.process(pipeline.load(Path(path)))
    except Exception as exc:
        log.debug("call %s failed", ref, exc_info=True)
        raise CallFailed.from_error(exc, path) from None
    return CallResult(pc, f"{socket.gethostname()}:{os.getpid()}", pipelines_built(), time.perf_counter() - t0)


# ---------------------------------------------------------------------- task runners


@dataclass(frozen=True, slots=True)
class RunnerChoice:
    """Which task runner to use and how wide (from flow parameters, else ``CALLQA_*`` variables)."""

    kind: str = "thread"
    concurrency: int = 2  # calls in flight at once (tasks submitted and not yet stored)
    dask_address: str | None = None  # an existing Dask scheduler; None = a local cluster
    dask_workers: int = 2  # worker processes of the local cluster

    @classmethod
    def resolve(cls, kind: str | None = None, concurrency: int | None = None, dask_address: str | None = None,
                dask_workers: int | None = None) -> "RunnerChoice":
        env = os.environ.get
        kind = (kind or env("CALLQA_TASK_RUNNER") or "thread").strip().lower()
        if kind not in TASK_RUNNERS:
            raise ConfigError(f"task runner {kind!r} is not supported; use one of: {', '.join(TASK_RUNNERS)}")
        address = dask_address or env("CALLQA_DASK_ADDRESS") or None
        try:
            workers = int(dask_workers or env("CALLQA_DASK_WORKERS") or 2)
            width = int(concurrency or env("CALLQA_CONCURRENCY") or 0)
        except ValueError:
            raise ConfigError("CALLQA_DASK_WORKERS and CALLQA_CONCURRENCY must be whole numbers") from None
        if workers < 1 or width < 0:
            raise ConfigError("concurrency and Dask workers must be at least 1")
        if kind == "dask" and address is None:
            width = width or workers
        return cls(kind=kind, concurrency=width or 2, dask_address=address, dask_workers=workers)

    def worker_settings(self, settings: Settings) -> Settings:
        """Recogniser threads per worker: a local cluster splits this machine's cores between its workers.

        Thread workers share one model whose calls run one at a time, so it keeps
        every core. An explicit ``CALLQA_THREADS`` always wins.
        """
        if settings.threads or self.kind != "dask" or self.dask_address:
            return settings
        return settings.with_(threads=max(1, (os.cpu_count() or 1) // self.dask_workers))

    def make(self) -> TaskRunner:
        if self.kind == "thread":
            return ThreadPoolTaskRunner(max_workers=self.concurrency)
        from prefect_dask import DaskTaskRunner

        if self.dask_address:
            return DaskTaskRunner(address=self.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": self.dask_workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"task_runner": self.kind, "concurrency": self.concurrency}
        if self.kind == "dask":
            out["dask"] = "external cluster" if self.dask_address else f"local cluster, {self.dask_workers} processes"
        return out


@contextmanager
def workers_share_api() -> Iterator[None]:
    """Point task workers in other processes at this process's Prefect API.

    In ephemeral mode (no ``PREFECT_API_URL``) Prefect starts a temporary
    server for the flow process; a Dask worker would start one more of its
    own (10-20 s each) and record its task runs there, out of the flow run's
    sight. The task context sent to workers carries the settings, so naming
    the flow's temporary server here makes every worker report to it.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    try:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer._instances.get(None)  # the temporary server this process started
        url = server.api_url if server is not None and server.running else None
    except Exception:  # a Prefect without this internal: workers fall back to their own servers
        url = None
    if url is None:
        yield
        return
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield


def run_windowed(runner: TaskRunner, task, jobs: Iterator[tuple[Any, dict[str, Any]]],
                 handle: Callable[[Any, Any], None], *, window: int, stop: Callable[[], bool] = lambda: False) -> None:
    """Run ``task`` for each ``(key, parameters)`` job with at most ``window`` tasks in flight.

    ``handle(key, result)`` runs in *this* thread as each task finishes (in
    completion order), so the one writer can store the result at once.
    ``result`` is the task's return value, or the exception it ended with
    (after Prefect's retries), or the runner's own error (a lost worker).
    ``jobs`` is consumed lazily: the next job is taken only when a slot frees,
    and none after ``stop()`` turns true.
    """
    done: queue.Queue = queue.Queue()
    pending: dict[Any, Any] = {}
    exhausted = False

    def fill() -> None:
        nonlocal exhausted
        while not exhausted and len(pending) < window and not stop():
            job = next(jobs, None)
            if job is None:
                exhausted = True
                return
            key, parameters = job
            future = runner.submit(task, parameters=parameters)
            pending[future] = key
            future.add_done_callback(done.put)

    fill()
    while pending:
        future = done.get()
        key = pending.pop(future)
        try:
            result = future.result(raise_on_failure=False)
        except BaseException as exc:  # the runner failed the task (worker lost, cancelled)
            result = exc
        handle(key, result)
        fill()


def crash_orphaned_flow_runs(writer, logger) -> int:
    """Mark the Prefect flow runs of killed callqa runs Crashed (they would show 'Running' forever).

    Call before ``begin_run`` while holding the writer lock: a run still
    'running' in the database then belongs to a process that is gone. A flow
    run recorded on another Prefect server is left alone.
    """
    from prefect import get_client
    from prefect.states import Crashed

    marked = 0
    for run_id, settings in writer.unfinished_runs():
        flow_run_id = settings.get("prefect_flow_run_id")
        if not flow_run_id:
            continue
        try:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(flow_run_id).state
                if state is not None and not state.is_final():
                    client.set_flow_run_state(flow_run_id, Crashed(
                        message=f"callqa run {run_id} did not finish (its process was killed); the next run "
                                "retried its unfinished calls"), force=True)
                    marked += 1
        except Exception as exc:  # not on this server, or the server is unreachable: the runs table still says it
            logger.debug("could not mark flow run %s crashed: %s", flow_run_id, type(exc).__name__)
    if marked:
        logger.warning("%d earlier flow run(s) were killed before they finished; marked Crashed", marked)
    return marked
