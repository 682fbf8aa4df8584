"""The nightly flow as real processes: killed mid-batch, and read by a QA lead while it runs.

Each test starts ``python -m flows.nightly`` as a subprocess (the command
``make demo`` runs) against the session's Prefect test server, on real sample
calls with the real recogniser.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

import test_flows_kit as kit
from callqa.store import Store
from test_flows_kit import REPO, integrity_problems, make_inbox, subprocess_env


@pytest.fixture(scope="session")
def prefect_api(request) -> str:
    return kit.prefect_api_for(request)


@pytest.fixture(scope="session")
def sample_calls(tmp_path_factory) -> dict[str, Path]:
    return kit.sample_calls_for(tmp_path_factory)

pytestmark = [pytest.mark.slow, pytest.mark.model]

NAMES = ["en_stereo_8k_script_breach", "en_stereo_16k_no_sidecar", "en_mono_8k_interruption"]


def _flow_cmd(inbox: Path, db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "flows.nightly", "--inbox", str(inbox), "--db", str(db), "--publish-every", "0", *extra]


def _published_calls(db: Path) -> int:
    """Calls in the published copy, or -1 while there is none yet."""
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("select count(*) from calls").fetchone()[0]
    except duckdb.Error:
        return -1


def _scalar(db: Path, sql: str):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_sigkill_mid_batch_then_rerun_scores_every_call_exactly_once(prefect_api, sample_calls, tmp_path):
    inbox = make_inbox(tmp_path / "inbox", sample_calls, NAMES)
    db = tmp_path / "calls.duckdb"
    env = subprocess_env(prefect_api)
    log = (tmp_path / "run1.log").open("w")
    proc = subprocess.Popen(_flow_cmd(inbox, db, "--concurrency", "1"), cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while _published_calls(db) < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        stored_before_kill = _published_calls(db)
        os.kill(proc.pid, signal.SIGKILL)  # the flow process, mid-batch: no cleanup of any kind
        proc.wait(timeout=30)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything it started
        except ProcessLookupError:
            pass
        log.close()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "run1.log").read_text()[-3000:]
    assert 1 <= stored_before_kill < len(NAMES)  # killed with work done and work left

    # the lock died with the process; the working copy holds every committed call; run again
    rerun = subprocess.run(_flow_cmd(inbox, db), cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]

    with duckdb.connect(str(db), read_only=True) as con:
        per_call = con.execute("select call_id, count(*) from calls group by call_id").fetchall()
        assert len(per_call) == len(NAMES) and {n for _, n in per_call} == {1}
        assert integrity_problems(con) == {}  # no call without turns, no half-written evaluation
        evaluated = con.execute("select count(*) from evaluations").fetchone()[0]
        if evaluated:  # scoring on: exactly one evaluation per call, none repeated by the re-run
            assert con.execute("select count(distinct call_id), count(*) from evaluations").fetchone() == (len(NAMES), len(NAMES))
        runs = con.execute("select run_id, status, calls_processed, calls_skipped, calls_failed from runs "
                           "order by started_at").fetchall()
        killed_flow_run = con.execute("select json_extract_string(settings, '$.prefect_flow_run_id') from runs "
                                      "order by started_at limit 1").fetchone()[0]
        by_run = dict(con.execute("select run_id, count(*) from calls group by run_id").fetchall())
        assert con.execute("select count(*) from failures").fetchone()[0] == 0
    (killed, killed_status, *_), (rerun_id, rerun_status, processed, skipped, failed) = runs
    assert (killed_status, rerun_status, failed) == ("crashed", "completed", 0)
    # the re-run processed exactly what the killed run had not committed, and skipped what it had
    assert by_run.get(killed, 0) == skipped >= stored_before_kill
    assert by_run.get(rerun_id, 0) == processed == len(NAMES) - skipped
    # and the killed flow run no longer shows "Running" in the Prefect UI
    from prefect import get_client

    with get_client(sync_client=True) as client:
        assert client.read_flow_run(killed_flow_run).state.type.value == "CRASHED"


READER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import duckdb
    from test_flows_kit import INTEGRITY_SQL

    db, ready, stop, out = sys.argv[1:5]
    held = duckdb.connect(db, read_only=True)          # the QA lead's session, open the whole night
    held_calls = held.execute("select count(*) from calls").fetchone()[0]
    Path(ready).write_text("ready")
    seen, violations, errors, polls = [], [], [], 0
    while not Path(stop).exists():
        polls += 1
        assert held.execute("select count(*) from calls").fetchone()[0] == held_calls  # a stable snapshot
        try:
            with duckdb.connect(db, read_only=True) as con:     # a fresh look, as a new query would
                seen.append(con.execute("select count(*) from calls").fetchone()[0])
                for name, sql in INTEGRITY_SQL.items():
                    n = con.execute(sql).fetchone()[0]
                    if n:
                        violations.append([name, n])
        except Exception as exc:
            errors.append(repr(exc)[:200])
        time.sleep(0.05)
    held_after = held.execute("select count(*) from calls").fetchone()[0]
    held.close()
    Path(out).write_text(json.dumps({"seen": seen, "violations": violations, "errors": errors, "polls": polls,
                                     "held_before": held_calls, "held_after": held_after}))
""")


def test_a_reader_holding_the_published_database_neither_blocks_the_run_nor_sees_partial_calls(
        prefect_api, sample_calls, tmp_path):
    inbox = make_inbox(tmp_path / "inbox", sample_calls, NAMES[:2])
    db = tmp_path / "calls.duckdb"
    with Store(db).writing():  # an existing, published (empty) database, as after an earlier night
        pass
    script = tmp_path / "reader.py"
    script.write_text(READER)
    ready, stop, out = tmp_path / "ready", tmp_path / "stop", tmp_path / "reader.json"
    env = subprocess_env(prefect_api, PYTHONPATH=f"{REPO / 'tests'}{os.pathsep}{REPO}")
    reader = subprocess.Popen([sys.executable, str(script), str(db), str(ready), str(stop), str(out)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and reader.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready.exists(), reader.communicate()[0][-2000:]
        run = subprocess.run(_flow_cmd(inbox, db), cwd=REPO, env=subprocess_env(prefect_api), capture_output=True,
                             text=True, timeout=600)
        stop.write_text("stop")
        reader_out = reader.communicate(timeout=60)[0]
    finally:
        if reader.poll() is None:
            reader.kill()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert reader.returncode == 0, reader_out[-3000:]
    seen = json.loads(out.read_text())
    assert seen["errors"] == [] and seen["violations"] == []
    assert seen["polls"] > 10
    assert seen["held_before"] == seen["held_after"] == 0  # the long session kept its consistent snapshot
    assert seen["seen"] == sorted(seen["seen"]) and seen["seen"][0] == 0  # calls only ever appear, whole
    assert _published_calls(db) == 2  # a fresh reader after the run sees every call
    assert _scalar(db, "select status from runs") == "completed"
