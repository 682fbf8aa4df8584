"""A small callqa database for the report and export tests, built like the pipeline does but without audio.

Raw transcripts with planted card numbers go through the real detectors and
redaction (``callqa.pii``), are scored with the default pack, and are stored
with the real Store. One call has a finding, a silence and an overlap, and a
generated "redacted recording" next to the database.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import soundfile as sf

from callqa.pii import DEFAULT_DETECTORS, detect, redact_transcript
from callqa.scoring import Scorer
from callqa.store import Store
from callqa.types import CallMetadata, CallRecord, ProcessedCall, RoleAssignment

from rules_helpers import transcript

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PACK = REPO / "qa_rules" / "default.yaml"
# person.v1 loads spaCy (seconds); names are not what these tests are about
DETECTORS = tuple(d for d in DEFAULT_DETECTORS if d != "person.v1")

GOOD = "a1" * 32
BAD = "b2" * 32
LATER = "c3" * 32
OTHER = "d4" * 32
AGENT = "A-1042"

# planted raw values: none of these may reach a page or an export
CARD_GOOD = "4539 1488 0343 6467"
CARD_BAD = "4916 3389 2040 1212"
RAW_FORMS = tuple(form for card in (CARD_GOOD, CARD_BAD)
                  for form in (card, card.replace(" ", ""), card.replace(" ", "-"), card.replace(" ", "")[:12]))

HOSTILE_QUEUE = '<script>alert("queue")</script>'
HOSTILE_WORD = "<i>really</i>"

AUDIO_NAME = "audio/good.redacted.wav"
AUDIO_RATE = 8000


def good_call():
    return transcript([
        ("agent", (0.0, "thank you for calling northwind bank my name is sarah this call is recorded for quality "
                        "and training purposes how can i help you today")),
        ("customer", (10.5, f"hi i would like to pay my credit card my card number is {CARD_GOOD}")),
        # the agent starts while the customer still reads the number: an overlap
        ("agent", (15.2, "of course first i need to verify your identity can you confirm your date of birth")),
        ("customer", (22.0, "the fourth of july nineteen eighty two")),
        ("agent", (25.5, "thank you one moment please let me check that for you")),
        # 29.8 .. 37.0: a silence (a hold, announced)
        ("agent", (37.0, "thank you for holding the payment has gone through")),
        ("customer", (41.0, "great thanks")),
        ("agent", (42.5, "is there anything else i can help you with")),
        ("customer", (46.5, "no that's all")),
        ("agent", (48.5, "thank you for calling northwind bank have a nice day goodbye")),
    ], call_id=GOOD)


def bad_call():
    tr = transcript([
        ("agent", (0.0, "yeah hello what do you want")),
        ("customer", (3.0, f"i was charged twice on my card {HOSTILE_WORD} i want a refund")),
        ("agent", (8.0, f"so your card number is {CARD_BAD}")),
        ("customer", (11.0, "yes so why")),
        ("agent", (25.0, "look that's not my problem calm down")),
    ], call_id=BAD)
    return replace(tr, roles=RoleAssignment(tr.roles.roles, 0.4, "greeting", "the customer channel said the greeting"))


def later_call():
    return replace(good_call(), call_id=LATER)


def other_agent_call():
    return replace(bad_call(), call_id=OTHER)


@dataclass(frozen=True)
class ReportDb:
    path: Path
    audio: Path   # the redacted recording of GOOD

    def copy_to(self, folder: Path) -> "ReportDb":
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, folder / self.path.name)
        (folder / "audio").mkdir(exist_ok=True)
        shutil.copyfile(self.audio, folder / AUDIO_NAME)
        return ReportDb(folder / self.path.name, folder / AUDIO_NAME)


def _day(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=timezone.utc)


CALLS = (
    (good_call, CallMetadata(agent_id=AGENT, agent_name="Sarah Lee", queue="cards", team="north", direction="inbound",
                             started_at=_day(20)), AUDIO_NAME),
    (bad_call, CallMetadata(agent_id=AGENT, agent_name="Sarah Lee", queue=HOSTILE_QUEUE, team="north",
                            started_at=_day(21)), None),
    (later_call, CallMetadata(agent_id=AGENT, agent_name="Sarah Lee", queue="cards", team="north",
                              started_at=_day(23, 14)), None),
    (other_agent_call, CallMetadata(agent_id="B-7", agent_name="Tom Ode", started_at=_day(21)), None),
)


def write_audio(path: Path, seconds: float) -> Path:
    """A quiet two-tone signal as long as the call (stands in for the redacted recording)."""
    t = np.arange(int(seconds * AUDIO_RATE)) / AUDIO_RATE
    signal = 0.1 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 660 * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, signal.astype(np.float32), AUDIO_RATE, subtype="PCM_16")
    return path


def build(folder: Path) -> ReportDb:
    scorer = Scorer(DEFAULT_PACK)
    store = Store(folder / "calls.duckdb")
    audio = None
    with store.writing() as w:
        for make, meta, audio_path in CALLS:
            raw = make()
            redacted, pii = redact_transcript(raw, detect(raw, detectors=DETECTORS))
            metrics, ev = scorer.score(redacted, pii=pii, metadata=meta)
            record = CallRecord(call_id=raw.call_id, source_path=f"/recordings/{raw.call_id[:6]} call.flac", size_bytes=1,
                                container="flac", codec="flac", source_sample_rate=8000, channels=2,
                                duration_s=raw.duration, language_probability=1.0, settings_key="k", metadata=meta,
                                redacted_audio_path=audio_path)
            if make is good_call:
                # an older evaluation (another pack run) that the pages must not show
                older = replace(ev, score=12.5, passed=False, created_at=ev.created_at - timedelta(days=1))
                w.save_call(ProcessedCall(record=record, transcript=redacted, pii=pii, metrics=metrics,
                                          evaluation=older), run_id=None)
                w.save_evaluation(ev, run_id=None)
                audio = write_audio(folder / audio_path, raw.duration)
            else:
                w.save_call(ProcessedCall(record=record, transcript=redacted, pii=pii, metrics=metrics, evaluation=ev),
                            run_id=None)
    assert audio is not None
    return ReportDb(store.path, audio)


_BUILT: ReportDb | None = None


def report_db(tmp_path_factory) -> ReportDb:
    """One database per test session (scoring takes a moment); each caller gets its own copy."""
    global _BUILT
    if _BUILT is None:
        _BUILT = build(tmp_path_factory.mktemp("report-db"))
    return _BUILT.copy_to(tmp_path_factory.mktemp("report"))
