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

from callqa.types import CallMetadata

from rules_helpers import reference_transcript

REPO = Path(__file__).resolve().parents[1]
REFS = REPO / "sample_audio" / "references"
EXPECTED = sorted(REFS.glob("*.expected.json")) if REFS.is_dir() else []


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
