"""The default packs on the sample calls' *reference* transcripts (no model): verdicts as intended.

``sample_audio/references/<name>.expected.json`` holds the intended verdict of
every default-pack rule for each sample call, reasoned from its script. Here
the reference transcript (the script's words, spread evenly over each turn's
time span) goes through sensitive-data detection and redaction, then the
default pack: the verdicts must be the intended ones. The real-model test
does the same from the audio. Skipped when sample_audio/ has no references.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callqa.types import CallMetadata, Role, RoleAssignment, TimeSpan, Transcript, Turn, Word

REPO = Path(__file__).resolve().parents[1]
REFS = REPO / "sample_audio" / "references"
EXPECTED = sorted(REFS.glob("*.expected.json")) if REFS.is_dir() else []


def reference_transcript(path: Path) -> Transcript:
    ref = json.loads(path.read_text(encoding="utf-8"))
    turns = []
    for t in sorted(ref["turns"], key=lambda t: t["start"]):
        words = t["text"].split()
        step = (t["end"] - t["start"]) / len(words)
        turns.append(Turn(index=len(turns), speaker=t["role"], role=Role(t["role"]), span=TimeSpan(t["start"], t["end"]),
                          words=tuple(Word(w, round(t["start"] + k * step, 3), round(t["start"] + (k + 0.85) * step, 3))
                                      for k, w in enumerate(words))))
    return Transcript(call_id=ref["name"], language=ref["language"], duration=ref["duration"], turns=tuple(turns),
                      asr_model="reference", diarizer="reference", channels=ref["channels"],
                      roles=RoleAssignment((("agent", Role.AGENT), ("customer", Role.CUSTOMER)), 1.0, "reference", ""))


@pytest.fixture(scope="module")
def scorer():
    from callqa.scoring import Scorer

    return Scorer(REPO / "qa_rules" / "default.yaml")


@pytest.mark.skipif(not EXPECTED, reason="sample_audio/references has no .expected.json files")
@pytest.mark.parametrize("expected_path", EXPECTED, ids=[p.name.split(".")[0] for p in EXPECTED])
def test_reference_transcripts_get_the_intended_verdicts(expected_path, scorer):
    from callqa.pii import detect, redact_transcript

    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    ref_path = REFS / f"{expected['call']}.json"
    if not ref_path.is_file():
        pytest.skip(f"no reference transcript {ref_path.name}")
    tr = reference_transcript(ref_path)
    sidecar = REPO / "sample_audio" / f"{expected['call']}.json"
    meta = CallMetadata(agent_name=json.loads(sidecar.read_text())["agent_name"]) if sidecar.is_file() else None
    redacted, findings = redact_transcript(tr, detect(tr))
    _, ev = scorer.score(redacted, pii=findings, metadata=meta)
    got = {r.rule_id: r.outcome.value for r in ev.results}
    assert got == expected["verdicts"], {r.rule_id: r.explanation for r in ev.results
                                         if r.outcome.value != expected["verdicts"].get(r.rule_id)}
    assert (ev.pack, ev.passed, ev.auto_failed) == (expected["pack"], expected["passed"], expected["auto_failed"])
