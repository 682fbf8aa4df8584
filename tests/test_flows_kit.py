"""Fixtures and helpers shared by the flow and reliability tests (no tests here).

* one Prefect test server per test session (``prefect_api_for``) (``prefect_test_harness``), whose
  URL subprocesses get through ``PREFECT_API_URL``;
* real sample calls from ``sample_audio/`` (made by tools/make_samples.py when
  the directory is missing), cut to their first 20 s so the real model stays
  quick;
* integrity checks a QA lead's reader would make on the published database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import flows  # noqa: F401  (offline Prefect defaults first)
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_AUDIO = REPO / "sample_audio"
#: Short English sample calls: two stereo (one without a sidecar), one mono.
SAMPLE_NAMES = ("en_stereo_8k_script_breach", "en_stereo_16k_no_sidecar", "en_mono_8k_interruption")
CLIP_SECONDS = 20

_harness = None


def _start_harness() -> str:
    """Enter Prefect's test harness once per process; its server stops at exit."""
    global _harness
    if _harness is None:
        from prefect.settings import PREFECT_API_URL
        from prefect.testing.utilities import prefect_test_harness

        _harness = prefect_test_harness(server_startup_timeout=180)
        _harness.__enter__()
        _harness.url = PREFECT_API_URL.value()
    return _harness.url


def _stop_harness() -> None:
    global _harness
    if _harness is not None:
        harness, _harness = _harness, None
        harness.__exit__(None, None, None)


def prefect_api_for(request) -> str:
    """URL of the session's Prefect test server (a temporary SQLite database), shared by every module.

    Call it from a session fixture; the harness stops when the session ends.
    """
    started = _harness is None
    url = _start_harness()
    if started:
        request.session.config.add_cleanup(_stop_harness)
    return url


def prefect_db_file() -> Path | None:
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value() or ""
    return Path(url.split("///", 1)[1]) if "sqlite" in url and "///" in url else None


def _find_samples() -> dict[str, Path]:
    found = {}
    for name in SAMPLE_NAMES:
        hits = sorted(p for p in SAMPLE_AUDIO.glob(f"{name}.*") if p.suffix != ".json") if SAMPLE_AUDIO.is_dir() else []
        if hits:
            found[name] = hits[0]
    return found


_clips: dict[str, Path] = {}


def sample_calls_for(tmp_path_factory) -> dict[str, Path]:
    """Real sample calls cut to their first 20 s (sidecars alongside), by sample name; made once per session."""
    if not _clips:
        _clips.update(_make_clips(tmp_path_factory))
    return dict(_clips)


def _make_clips(tmp_path_factory) -> dict[str, Path]:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to cut the sample calls")
    found = _find_samples()
    if len(found) < len(SAMPLE_NAMES):
        made = tmp_path_factory.mktemp("made-samples")
        proc = subprocess.run([sys.executable, str(REPO / "tools" / "make_samples.py"), "--out", str(made),
                               "--only", *SAMPLE_NAMES], capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            pytest.skip(f"sample_audio/ is missing and tools/make_samples.py failed: {proc.stderr[-300:]}")
        found = {n: next(p for p in made.glob(f"{n}.*") if p.suffix != ".json") for n in SAMPLE_NAMES}
    out = tmp_path_factory.mktemp("clips")
    clips = {}
    for name, src in found.items():
        dst = out / f"{name}.flac"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(src), "-t", str(CLIP_SECONDS),
                        "-c:a", "flac", str(dst)], check=True, timeout=120)
        sidecar = src.with_suffix(".json")
        if sidecar.is_file():
            shutil.copyfile(sidecar, dst.with_suffix(".json"))
        clips[name] = dst
    return clips


def make_inbox(root: Path, calls: dict[str, Path], names: list[str] | tuple[str, ...], *, as_names: list[str] | None = None) -> Path:
    """Copy sample calls (and their sidecars) into ``root``; ``as_names`` renames them."""
    root.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        src = calls[name]
        stem = as_names[i] if as_names else name
        shutil.copyfile(src, root / f"{stem}{src.suffix}")
        if src.with_suffix(".json").is_file():
            shutil.copyfile(src.with_suffix(".json"), root / f"{stem}.json")
    return root


def subprocess_env(api_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALLQA_", "PREFECT_"))}
    env.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false", HF_HUB_OFFLINE="1",
               PYANNOTE_METRICS_ENABLED="0", PREFECT_LOGGING_LEVEL="WARNING",
               PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""))
    if os.environ.get("CALLQA_CACHE_DIR"):
        env["CALLQA_CACHE_DIR"] = os.environ["CALLQA_CACHE_DIR"]
    if api_url:
        env["PREFECT_API_URL"] = api_url
    env.update(extra)
    return env


INTEGRITY_SQL = {
    # every stored call has its transcript turns (the sample calls all contain speech)
    "call without turns": "select count(*) from calls c where not exists (select 1 from turns t where t.call_id = c.call_id)",
    "turns without call": "select count(*) from turns t where not exists (select 1 from calls c where c.call_id = t.call_id)",
    "evaluation without rule results": "select count(*) from evaluations e where not exists "
                                       "(select 1 from rule_results r where r.evaluation_id = e.evaluation_id)",
    "rule results without evaluation": "select count(*) from rule_results r where not exists "
                                       "(select 1 from evaluations e where e.evaluation_id = r.evaluation_id)",
    "evaluation without call": "select count(*) from evaluations e where not exists (select 1 from calls c where c.call_id = e.call_id)",
}


def integrity_problems(con) -> dict[str, int]:
    """Partial calls a reader could see: name -> count (empty when consistent)."""
    out = {}
    for name, sql in INTEGRITY_SQL.items():
        n = con.execute(sql).fetchone()[0]
        if n:
            out[name] = n
    return out


def scan_files_for(paths: list[Path], needles: list[str]) -> dict[str, list[str]]:
    """Which needles occur in which files (bytes, case-sensitive)."""
    hits: dict[str, list[str]] = {}
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        found = [n for n in needles if n.encode() in data]
        if found:
            hits[str(path)] = found
    return hits
