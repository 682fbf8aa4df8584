"""The nightly flow under Prefect's test harness: retries, failures, artifact, deployment, Dask.

Most tests drive the real flow with a stand-in worker pipeline (no model) to
check orchestration table by table; the ``model`` tests run the real flow on
real sample calls with the real recogniser, and on a real local Dask cluster.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import flows.common
import flows.nightly  # noqa: F401  (bound before any test patches flows.common)
import pytest
import yaml
from flows.common import CallFailed, RunnerChoice, file_ref, public_reason
from flows.schedule import DEFAULT_CRON, local_timezone, schedule_timezone

import test_flows_kit as kit
from callqa.errors import AudioError, ModelNotFoundError, StoreLockedError, TransientError
from callqa.pipeline import Pipeline
from callqa.types import CallRecord, ProcessedCall
from conftest import make_transcript
from test_flows_kit import REPO, make_inbox, prefect_db_file, scan_files_for, subprocess_env


@pytest.fixture(scope="session")
def prefect_api(request) -> str:
    return kit.prefect_api_for(request)


@pytest.fixture(scope="session")
def sample_calls(tmp_path_factory) -> dict[str, Path]:
    return kit.sample_calls_for(tmp_path_factory)

# ---------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    "kwargs, env, expected",
    [
        ({}, {}, RunnerChoice("thread", 2, None, 2)),
        ({"concurrency": 4}, {}, RunnerChoice("thread", 4, None, 2)),
        ({}, {"CALLQA_TASK_RUNNER": "dask"}, RunnerChoice("dask", 2, None, 2)),
        ({}, {"CALLQA_TASK_RUNNER": "dask", "CALLQA_DASK_WORKERS": "3"}, RunnerChoice("dask", 3, None, 3)),
        ({"kind": "DASK", "dask_address": "tcp://10.0.0.5:8786"}, {}, RunnerChoice("dask", 2, "tcp://10.0.0.5:8786", 2)),
        ({"kind": "thread"}, {"CALLQA_TASK_RUNNER": "dask"}, RunnerChoice("thread", 2, None, 2)),
    ],
)
def test_runner_choice_from_parameters_then_environment(kwargs, env, expected, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert RunnerChoice.resolve(**kwargs) == expected


@pytest.mark.parametrize("kwargs, env", [({"kind": "ray"}, {}), ({}, {"CALLQA_CONCURRENCY": "many"}),
                                         ({"dask_workers": -1}, {})])
def test_runner_choice_rejects_what_it_cannot_run(kwargs, env, monkeypatch):
    from callqa.errors import ConfigError

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError):
        RunnerChoice.resolve(**kwargs)


@pytest.mark.parametrize(
    "error, expected",
    [
        (AudioError("/calls/2026-11-22 John Smith +48 601 234 567.wav", "truncated audio"), "truncated audio"),
        (ValueError("cannot parse /calls/2026-11-22 John Smith +48 601 234 567.json"), "ValueError: cannot parse <recording>"),
        (TransientError("model busy", stage="asr"), "model busy"),
    ],
)
def test_public_reason_masks_the_recording_path_and_name(error, expected):
    path = Path("/calls/2026-11-22 John Smith +48 601 234 567.wav")
    reason = public_reason(error, path)
    assert reason == expected
    assert "John" not in reason and "601" not in reason


@pytest.mark.parametrize(
    "error, stage, transient, fatal",
    [
        (AudioError("/x/a.wav", "corrupt"), "decode", False, False),
        (TransientError("busy", stage="asr"), "asr", True, False),
        (StoreLockedError("locked"), "store", True, False),
        (ModelNotFoundError("no model"), "model", False, True),
        (RuntimeError("bug"), "process", False, False),
    ],
)
def test_call_failed_carries_stage_type_and_transience_across_processes(error, stage, transient, fatal):
    failed = pickle.loads(pickle.dumps(CallFailed.from_error(error, "/x/a.wav")))
    assert (failed.stage, failed.error_type, failed.transient, failed.fatal) == (stage, type(error).__name__, transient, fatal)
    assert "/x/a.wav" not in str(failed)


# ---------------------------------------------------------------------- deployment and schedule


def test_prefect_yaml_names_the_nightly_flow_on_the_documented_cron():
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    [dep] = [d for d in spec["deployments"] if d["name"] == "nightly"]
    file, func = dep["entrypoint"].split(":")
    assert (REPO / file).is_file()
    from flows import nightly as module

    assert getattr(module, func).name == "callqa-nightly"
    assert [s["cron"] for s in dep["schedules"]] == [DEFAULT_CRON] == ["0 2 * * *"]
    assert dep["schedules"][0]["timezone"] == "{{ $CALLQA_TIMEZONE }}"
    assert dep["work_pool"]["name"] == "callqa"
    assert dep["concurrency_limit"] == 1
    # every deployment parameter is a parameter of the flow
    import inspect

    assert set(dep["parameters"]) <= set(inspect.signature(getattr(module, func).fn).parameters)


def test_to_deployment_schedules_two_o_clock_in_the_given_timezone():
    from flows.nightly import nightly
    from prefect.schedules import Cron

    dep = nightly.to_deployment(name="nightly", schedules=[Cron(DEFAULT_CRON, timezone="Europe/Warsaw")],
                                parameters={"inbox": "/srv/inbox"})
    [sched] = dep.schedules
    assert (sched.schedule.cron, sched.schedule.timezone) == ("0 2 * * *", "Europe/Warsaw")
    assert dep.parameters == {"inbox": "/srv/inbox"}


@pytest.mark.parametrize("tz, expected", [("Europe/Warsaw", "Europe/Warsaw"), (":America/New_York", "America/New_York")])
def test_local_timezone_reads_tz(tz, expected, monkeypatch):
    monkeypatch.setenv("TZ", tz)
    assert local_timezone() == expected


def test_schedule_timezone_rejects_a_name_that_is_not_iana(monkeypatch):
    monkeypatch.delenv("CALLQA_TIMEZONE", raising=False)
    assert schedule_timezone("Asia/Tokyo") == "Asia/Tokyo"
    with pytest.raises(SystemExit, match="IANA"):
        schedule_timezone("Mars/Olympus")


@pytest.mark.slow
def test_deploy_creates_the_scheduled_deployment_on_the_process_pool(prefect_api, tmp_path):
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name="callqa", type="process"))
        except Exception:  # already there from an earlier test in this session
            pass
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    proc = subprocess.run([sys.executable, "-m", "flows.schedule", "deploy", "--inbox", str(inbox), "--db",
                           str(tmp_path / "q.duckdb"), "--timezone", "Europe/Warsaw"],
                          cwd=REPO, env=subprocess_env(prefect_api), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    with get_client(sync_client=True) as client:
        dep = client.read_deployment_by_name("callqa-nightly/nightly")
    assert dep.entrypoint == "flows/nightly.py:nightly"
    assert dep.work_pool_name == "callqa"
    assert dep.parameters["inbox"] == str(inbox.resolve())
    assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in dep.schedules] == [("0 2 * * *", "Europe/Warsaw", True)]
    assert dep.pull_steps == [{"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}]


# ---------------------------------------------------------------------- orchestration with a stand-in pipeline


class StandIn:
    """The worker's pipeline without a model: per file stem, a plan of errors to raise, then success."""

    def __init__(self, real: Pipeline, plans: dict[str, list]):
        self.real = real
        self.settings = real.settings
        self.plans = plans
        self.attempts: Counter = Counter()

    def load(self, path):
        return Path(path)

    def process(self, path: Path) -> ProcessedCall:
        self.attempts[path.stem] += 1
        plan = self.plans.get(path.stem, [])
        n = self.attempts[path.stem]
        if n <= len(plan):
            raise plan[n - 1](path)
        ident = self.real.identify(path)
        record = CallRecord(call_id=ident.call_id, source_path=str(path.resolve()), size_bytes=ident.size_bytes,
                            container="wav", codec="pcm_s16le", source_sample_rate=16000, channels=2, duration_s=9.0,
                            language_probability=1.0, settings_key=self.real.settings_key(ident.metadata),
                            metadata=ident.metadata)
        transcript = make_transcript([("agent", 0.5, "thank you for calling"), ("customer", 3.0, "hello there")],
                                     call_id=ident.call_id)
        return ProcessedCall(record=record, transcript=transcript)


@pytest.fixture
def stand_in(monkeypatch):
    """Replace the worker pipeline (threads of this process) by :class:`StandIn` with the given plans."""
    made: dict[str, StandIn] = {}

    def install(plans: dict[str, list]) -> dict[str, StandIn]:
        monkeypatch.setattr(flows.common, "worker_pipeline",
                            lambda settings: made.setdefault(repr(settings), StandIn(Pipeline(settings), plans)))
        return made

    return install


def _fake_inbox(root: Path, stems: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i, stem in enumerate(stems):
        (root / f"{stem}.wav").write_bytes(b"RIFF" + bytes([i]) * 64 + stem.encode())
    return root


def _query(db: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _run(**kwargs):
    from flows.nightly import nightly

    state = nightly(return_state=True, **kwargs)
    return state, (state.result(raise_on_failure=False) if state.is_completed() else None)


_corrupt = lambda p: AudioError(p, "corrupt or truncated audio")  # noqa: E731
_busy = lambda p: TransientError("recogniser busy", stage="asr", path=p)  # noqa: E731
_bug = lambda p: ValueError("unexpected token 4111 1111 1111 1111")  # noqa: E731


@pytest.mark.slow
@pytest.mark.parametrize(
    "plan, attempts, status, stage, transient",
    [
        ([_corrupt], 1, "failed", "decode", False),  # permanent: no retry, recorded once
        ([_busy], 2, "processed", None, None),  # transient, then fine
        ([_busy, _busy, _busy, _busy], 3, "failed", "asr", True),  # transient every time: 1 + 2 retries
        ([_bug], 1, "failed", "process", False),  # a bug: not retried, reason scrubbed
    ],
    ids=["permanent", "transient-once", "transient-always", "bug"],
)
def test_only_transient_errors_are_retried(plan, attempts, status, stage, transient, prefect_api, stand_in, tmp_path):
    made = stand_in({"call": plan})
    inbox = _fake_inbox(tmp_path / "inbox", ["call", "other"])
    db = tmp_path / "q.duckdb"
    state, report = _run(inbox=str(inbox), db=str(db), retries=2, retry_delay_s=0)
    assert state.is_completed()  # failed calls do not fail the run
    [pipe] = made.values()
    assert pipe.attempts == Counter({"call": attempts, "other": 1})
    by_file = {Path(o.path).stem: o.status for o in report.outcomes}
    assert by_file == {"call": status, "other": "processed"}
    rows = _query(db, "select stage, transient, attempt, reason, resolved_at is null from failures")
    if status == "failed":
        [(got_stage, got_transient, attempt, reason, open_)] = rows
        assert (got_stage, got_transient, attempt, open_) == (stage, transient, 1, True)
        assert "4111" not in reason
        assert report.failed == 1 and report.failures_by_stage == {stage: 1}
    else:
        assert rows == []
    assert _query(db, "select status from runs") == [("completed_with_failures" if status == "failed" else "completed",)]


@pytest.mark.slow
def test_configuration_error_in_a_worker_fails_the_run(prefect_api, stand_in, tmp_path):
    stand_in({"a": [lambda p: ModelNotFoundError("no Whisper model here; pass --model")]})
    inbox = _fake_inbox(tmp_path / "inbox", ["a"])
    db = tmp_path / "q.duckdb"
    state, _ = _run(inbox=str(inbox), db=str(db), retries=2, retry_delay_s=0)
    assert state.is_failed()
    assert _query(db, "select status from runs") == [("failed",)]
    assert _query(db, "select count(*) from calls") == [(0,)]


@pytest.mark.slow
def test_sidecar_errors_are_recorded_by_the_flow_without_a_task(prefect_api, stand_in, tmp_path):
    made = stand_in({})
    inbox = _fake_inbox(tmp_path / "inbox", ["good", "badmeta"])
    (inbox / "badmeta.json").write_text("{not json")
    db = tmp_path / "q.duckdb"
    state, report = _run(inbox=str(inbox), db=str(db))
    assert state.is_completed()
    assert sum(p.attempts["badmeta"] for p in made.values()) == 0
    assert _query(db, "select stage, error_type, path from failures") == [
        ("sidecar", "SidecarError", str((inbox / "badmeta.wav").resolve()))]
    assert (report.processed, report.failed) == (1, 1)


@pytest.mark.slow
def test_empty_inbox_is_a_quiet_night_and_a_missing_one_fails(prefect_api, tmp_path):
    (tmp_path / "empty").mkdir()
    state, report = _run(inbox=str(tmp_path / "empty"), db=str(tmp_path / "q.duckdb"))
    assert state.is_completed() and (report.found, report.failed) == (0, 0)
    state, _ = _run(inbox=str(tmp_path / "not-mounted"), db=str(tmp_path / "q.duckdb"))
    assert state.is_failed()
    assert "not a directory" in state.message


@pytest.mark.slow
def test_remote_inbox_is_mirrored_then_processed(prefect_api, stand_in, tmp_path):
    import fsspec

    stand_in({})
    fs = fsspec.filesystem("memory")
    fs.pipe("/nightly-inbox/day1/a.wav", b"RIFF-a-" * 20)
    fs.pipe("/nightly-inbox/day1/a.json", b'{"queue": "cards"}')
    fs.pipe("/nightly-inbox/notes.txt", b"ignored")
    db = tmp_path / "q.duckdb"
    state, report = _run(inbox="memory://nightly-inbox", db=str(db))
    assert state.is_completed() and report.processed == 1
    mirror = tmp_path / "q.duckdb.inbox"
    assert sorted(p.relative_to(mirror).as_posix() for p in mirror.rglob("*") if p.is_file()) == ["day1/a.json", "day1/a.wav"]
    assert _query(db, "select queue from calls") == [("cards",)]


# ---------------------------------------------------------------------- the real flow on real calls


def _artifact_markdown(flow_run_id) -> str:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    [art] = [a for a in arts if a.key == "callqa-nightly"]
    return art.data


def _storage_files_since(t0: float) -> list[Path]:
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH

    root = Path(PREFECT_LOCAL_STORAGE_PATH.value())
    return [p for p in root.rglob("*") if p.is_file() and p.stat().st_mtime >= t0] if root.exists() else []


@pytest.mark.slow
@pytest.mark.model
def test_nightly_on_real_calls_bad_files_duplicates_and_the_next_nights(prefect_api, sample_calls, tmp_path):
    t0 = time.time()
    inbox = make_inbox(tmp_path / "inbox", sample_calls, ["en_stereo_8k_script_breach", "en_stereo_16k_no_sidecar"])
    make_inbox(inbox, sample_calls, ["en_stereo_8k_script_breach"], as_names=["copy-of-breach"])  # same bytes
    (inbox / "bad.wav").write_text("this is a text file, not a recording\n")
    wav = inbox / "truncated.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(sample_calls["en_stereo_16k_no_sidecar"]),
                    "-t", "6", str(wav)], check=True)
    wav.write_bytes(wav.read_bytes()[: wav.stat().st_size // 3])
    db = tmp_path / "calls.duckdb"

    # night 1: two calls scored, the copy skipped as a duplicate, two bad files recorded
    state, report = _run(inbox=str(inbox), db=str(db), publish_every_s=0)
    assert state.is_completed()
    assert (report.found, report.processed, report.skipped, report.duplicates, report.failed) == (5, 2, 0, 1, 2)
    assert report.failures_by_stage == {"decode": 2}
    assert _query(db, "select count(*), count(distinct call_id) from calls") == [(2, 2)]
    failures = _query(db, "select path, stage, error_type, transient, attempt from failures order by path")
    assert failures == [(str((inbox / n).resolve()), "decode", "AudioError", False, 1) for n in ("bad.wav", "truncated.wav")]
    assert _query(db, "select status, calls_processed, calls_failed from runs") == [("completed_with_failures", 2, 2)]

    # the artifact: counts, no file names, no sidecar names, no transcript text
    md = _artifact_markdown(state.state_details.flow_run_id)
    assert "| 5 | 2 | 0 | 1 | 2 |" in md and "| decode | 2 |" in md
    texts = [t for (t,) in _query(db, "select text from turns where length(text) > 25")]
    agent_names = [n for (n,) in _query(db, "select agent_name from calls where agent_name is not null")]
    needles = ["bad.wav", "truncated.wav", "script_breach", "no_sidecar", "copy-of-breach", str(inbox)] + agent_names + \
              [t[:25] for t in texts]
    assert texts and agent_names  # the needles are real
    assert [n for n in needles if n in md] == []
    # nothing Prefect stored holds a file name or transcript text; no result files were written
    prefect_db = prefect_db_file()
    assert prefect_db is not None
    prefect_files = [p for p in prefect_db.parent.glob(prefect_db.name + "*")]
    assert scan_files_for(prefect_files, needles[:5] + agent_names + [t[:25] for t in texts]) == {}
    assert _storage_files_since(t0) == []

    # night 2: only a late copy of a stored call under a new name; the bad files are tried again.
    # Of the files with the same bytes, the first in name order counts as skipped, the others as duplicates.
    make_inbox(inbox, sample_calls, ["en_stereo_16k_no_sidecar"], as_names=["late-copy"])
    state, report = _run(inbox=str(inbox), db=str(db))
    assert (report.found, report.processed, report.skipped, report.duplicates, report.failed) == (6, 0, 2, 2, 2)
    assert _query(db, "select max(attempt) from failures where path like '%bad.wav'") == [(2,)]

    # night 3: bad.wav was fixed (it is now a real call): scored, its failures resolved
    (inbox / "bad.wav").write_bytes(sample_calls["en_mono_8k_interruption"].read_bytes())
    state, report = _run(inbox=str(inbox), db=str(db))
    assert (report.processed, report.skipped, report.duplicates, report.failed) == (1, 2, 2, 1)
    assert _query(db, "select count(*), count(resolved_at) from failures where path like '%bad.wav'") == [(2, 2)]
    assert _query(db, "select count(*) from failures where path like '%truncated.wav' and resolved_at is null") == [(3,)]
    assert _query(db, "select count(*) from calls") == [(3,)]
    # every call once, each with its turns; evaluations (when scoring is on) each with their rule results
    from test_flows_kit import integrity_problems

    with duckdb.connect(str(db), read_only=True) as con:
        assert integrity_problems(con) == {}
        assert con.execute("select count(*) from (select call_id from evaluations group by call_id having count(*) > 1)").fetchone() == (0,)


@pytest.mark.slow
@pytest.mark.model
def test_nightly_on_a_local_dask_cluster_of_two_processes(prefect_api, sample_calls, tmp_path):
    inbox = make_inbox(tmp_path / "inbox", sample_calls, ["en_stereo_8k_script_breach", "en_mono_8k_interruption"])
    db = tmp_path / "calls.duckdb"
    state, report = _run(inbox=str(inbox), db=str(db), task_runner="dask", dask_workers=2)
    assert state.is_completed(), state.message
    assert (report.processed, report.failed) == (2, 0)
    # two worker processes, neither of them this one, each built its pipeline (and model) once
    assert len(report.workers) == 2
    assert all(not w.endswith(f":{os.getpid()}") for w in report.workers)
    assert set(report.pipelines_built.values()) == {1}
    # the flow process wrote: both calls with their turns, one run
    assert _query(db, "select count(*) from calls") == [(2,)]
    assert _query(db, "select count(*) from calls c where exists (select 1 from turns t where t.call_id = c.call_id)") == [(2,)]
    assert _query(db, "select status, json_extract_string(settings, '$.task_runner') from runs") == [("completed", "dask")]


def test_file_ref_finds_the_failure_row_in_sql(tmp_path):
    path = "/srv/calls/2026-11-22 John Smith.wav"
    with duckdb.connect() as con:
        con.execute("create table failures (path varchar)")
        con.execute("insert into failures values (?), ('/srv/calls/other.wav')", [path])
        assert con.execute("select path from failures where sha256(path) like ? || '%'", [file_ref(path)]).fetchall() == [(path,)]


def test_nightly_has_no_prefect_import_in_the_library():
    out = subprocess.run([sys.executable, "-c", "import sys, callqa, callqa.batch, callqa.pipeline, callqa.store, callqa.cli; "
                          "print(any(m == 'prefect' or m.startswith('prefect.') for m in sys.modules))"],
                         capture_output=True, text=True, cwd=REPO, env=subprocess_env(None), timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-500:]

