"""The committed sample calls through the real recogniser, diarizer and rule pack (the acceptance checks).

* English WER against the reference with the default model (tiny.en), and the
  roles of every stereo call;
* ``callqa run sample_audio`` (the real CLI, twice: each call is stored once),
  then each call's stored evaluation against its intended verdicts
  (``references/<name>.expected.json``), and the agent/customer roles the
  mono calls got from the conversation;
* the default diarizer's DER on every mono sample call.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_audio"
REFS = SAMPLES / "references"
AUDIO = sorted(p for p in SAMPLES.iterdir() if p.suffix.lower() in (".wav", ".flac", ".mp3", ".ogg")) \
    if SAMPLES.is_dir() else []

pytestmark = [pytest.mark.model, pytest.mark.slow,
              pytest.mark.skipif(len(AUDIO) < 6, reason="sample_audio/ is incomplete")]


def reference(path: Path) -> dict:
    return json.loads((REFS / f"{path.stem}.json").read_text(encoding="utf-8"))


def normalize(text: str, language: str) -> str:
    sys.path.insert(0, str(REPO / "tools"))
    try:
        from make_samples import normalize_for_wer
    finally:
        sys.path.pop(0)
    return normalize_for_wer(text, language)


# --------------------------------------------------------------------------- recognition, in process


@pytest.fixture(scope="module")
def pipeline():
    from callqa.pipeline import Pipeline
    from callqa.settings import Settings

    return Pipeline(Settings.from_env(), mono_diarizer=False)


@pytest.mark.parametrize("path", [p for p in AUDIO if p.name.startswith("en_stereo")], ids=lambda p: p.stem)
def test_english_wer_and_stereo_roles(path, pipeline):
    import jiwer

    from callqa.audio import load_recording

    ref = reference(path)
    raw, _ = pipeline.transcribe(load_recording(path))
    hyp_text = normalize(" ".join(t.text for t in raw.turns), "en")
    ref_text = normalize(" ".join(t["text"] for t in sorted(ref["turns"], key=lambda t: t["start"])), "en")
    assert jiwer.wer(ref_text, hyp_text) <= 0.25
    # every channel's role is the reference's, whatever side the agent is on
    want = {f"ch{i}": role for i, role in enumerate(ref["channel_roles"])}
    assert {spk: role.value for spk, role in raw.roles.roles} == want
    for turn in raw.turns:
        assert turn.role.value == ref["channel_roles"][turn.channel]


# --------------------------------------------------------------------------- `callqa run sample_audio`


def _run(db: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "0"}
    exe = Path(sys.executable).parent / "callqa"
    return subprocess.run([str(exe), "run", str(SAMPLES), "--db", str(db)], capture_output=True, text=True,
                          env=env, timeout=1500, cwd=cwd)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("samples-e2e")
    db = work / "samples.duckdb"
    first = _run(db, work)
    assert first.returncode == 0, first.stderr[-3000:]
    return db


def _query(db: Path, sql: str, params=()):
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_running_twice_stores_each_call_once(sample_db):
    before = _query(sample_db, "SELECT count(*) FROM calls")[0][0]
    evaluations = _query(sample_db, "SELECT count(*) FROM evaluations")[0][0]
    assert before == len(AUDIO) and evaluations == len(AUDIO)
    again = _run(sample_db, sample_db.parent)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{len(AUDIO)} skipped" in again.stdout + again.stderr
    assert _query(sample_db, "SELECT count(*) FROM calls")[0][0] == len(AUDIO)
    assert _query(sample_db, "SELECT count(*) FROM evaluations")[0][0] == evaluations
    assert _query(sample_db, "SELECT count(*) FROM turns")[0][0] > 0


# Held to every intended verdict: the English calls, stereo and mono. Not held (see docs/ACCURACY.md): the
# Russian and Polish calls, whose espeak-ng speech multilingual base recognises poorly (ENVIRONMENT: WER 0.8+;
# at 8 kHz hardly a word). The same rules give their intended verdicts on their reference transcripts
# (tests/test_rules_samples.py).
VERDICT_CALLS = [p for p in AUDIO if p.name.startswith("en_")]
# Roles from the conversation: every mono call but the Polish one, an 8 kHz call in which base recognises
# hardly a word, so there is no conversation to tell the agent by (its diarization is checked below).
ROLE_CALLS = [p for p in AUDIO if "_mono_" in p.name and not p.name.startswith("pl_")]


@pytest.mark.parametrize("path", VERDICT_CALLS, ids=lambda p: p.stem)
def test_stored_evaluation_has_the_intended_verdicts(path, sample_db):
    expected = json.loads((REFS / f"{path.stem}.expected.json").read_text(encoding="utf-8"))
    rows = _query(sample_db, """
        SELECT r.rule_id, r.outcome, r.explanation, e.passed, e.auto_failed, e.pack_id
        FROM latest_evaluations e JOIN rule_results r USING (evaluation_id)
        WHERE e.source_name = ?""", [path.name])
    got = {rule: outcome for rule, outcome, *_ in rows}
    wrong = {rule: (expected["verdicts"].get(rule), got[rule], why) for rule, _, why, *_ in rows
             if got[rule] != expected["verdicts"].get(rule)}
    assert not wrong
    _, _, _, passed, auto_failed, pack = rows[0]
    assert (pack, passed, auto_failed) == (expected["pack"], expected["passed"], expected["auto_failed"])


@pytest.mark.parametrize("path", ROLE_CALLS, ids=lambda p: p.stem)
def test_mono_calls_get_their_roles_from_the_conversation(path, sample_db):
    ref = reference(path)
    (call_id, method, confidence), = _query(
        sample_db, "SELECT call_id, role_method, role_confidence FROM calls WHERE source_name = ?", [path.name])
    assert method == "conversation" and confidence >= 0.6
    turns = _query(sample_db, "SELECT speaker, role, start_s, end_s FROM turns WHERE call_id = ?", [call_id])
    # each diarized speaker's role is the reference role it overlaps most
    overlap: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for speaker, _, start, end in turns:
        for t in ref["turns"]:
            overlap[speaker][t["role"]] += max(0.0, min(end, t["end"]) - max(start, t["start"]))
    roles = {speaker: role for speaker, role, _, _ in turns}
    for speaker, by_role in overlap.items():
        assert roles[speaker] == max(by_role, key=by_role.get), (speaker, dict(by_role))
    assert set(roles.values()) == {"agent", "customer"}


# --------------------------------------------------------------------------- the diarizer on the mono calls


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
@pytest.mark.parametrize("path", [p for p in AUDIO if "_mono_" in p.name], ids=lambda p: p.stem)
def test_default_diarizer_der_on_the_mono_samples(path):
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    from callqa.audio import load_recording
    from callqa.diarization import default_diarizer

    audio = load_recording(path).downmix()
    reference = Annotation()
    for i, line in enumerate((REFS / f"{path.stem}.rttm").read_text().splitlines()):
        f = line.split()
        reference[Segment(float(f[3]), float(f[3]) + float(f[4])), i] = f[7]
    hypothesis = default_diarizer()(audio, 16000)
    uem = Timeline([Segment(0.0, len(audio) / 16000)])
    assert DiarizationErrorRate(collar=0.0, skip_overlap=False)(reference, hypothesis, uem=uem) <= 0.10
