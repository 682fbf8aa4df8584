"""Shared fixtures. Tests run offline: no telemetry, no hub look-ups."""

from __future__ import annotations

import os

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from callqa.types import Role, RoleAssignment, TimeSpan, Transcript, Turn, Word  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLE_AUDIO = REPO / "sample_audio"
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the user's ~/.cache or CALLQA_* settings from the environment."""
    for name in list(os.environ):
        if name.startswith("CALLQA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CALLQA_CACHE_DIR", str(_shared_cache(tmp_path_factory)))


_CACHE: Path | None = None


def _shared_cache(factory) -> Path:
    # one cache per test session: the joined base model is made once
    global _CACHE
    if _CACHE is None:
        _CACHE = factory.mktemp("callqa-cache")
    return _CACHE


def make_transcript(turns: list[tuple[str, float, str]], *, call_id: str = "c" * 64, language: str = "en",
                    duration: float | None = None, word_s: float = 0.3) -> Transcript:
    """Build a transcript by hand: ``[(role, start, "text ..."), ...]``; words ``word_s`` apart."""
    built = []
    for i, (role, start, text) in enumerate(turns):
        words = tuple(Word(w, round(start + k * word_s, 3), round(start + (k + 1) * word_s - 0.05, 3), 0.9)
                      for k, w in enumerate(text.split()))
        span = TimeSpan(words[0].start, words[-1].end) if words else TimeSpan(start, start)
        built.append(Turn(index=i, speaker=role, role=Role(role), span=span, words=words))
    end = max((t.span.end for t in built), default=0.0)
    speakers = sorted({t.speaker for t in built})
    return Transcript(call_id=call_id, language=language, duration=duration or end + 1.0, turns=tuple(built),
                      asr_model="hand", diarizer="hand", channels=2,
                      roles=RoleAssignment(tuple((s, Role(s)) for s in speakers), 1.0, "hand", "built by a test"))


@pytest.fixture
def transcript_factory():
    return make_transcript
