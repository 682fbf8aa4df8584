"""Hand-built transcripts for the rule, metric and scoring tests (no model, no audio)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from callqa.types import Role, RoleAssignment, TimeSpan, Transcript, Turn, Word

WordSpec = tuple[str, float, float]


def words_at(text: str, start: float, *, step: float = 0.4, length: float = 0.3) -> list[WordSpec]:
    """``"a b c"`` starting at ``start`` -> [("a", start, start+length), ("b", start+step, ...), ...]."""
    return [(w, round(start + k * step, 3), round(start + k * step + length, 3)) for k, w in enumerate(text.split())]


def transcript(turns: Sequence[tuple[str, Sequence[WordSpec] | tuple[float, str]]], *, duration: float | None = None,
               language: str = "en", call_id: str = "c" * 64) -> Transcript:
    """Turns as ``(role, [(word, start, end), ...])`` or ``(role, (start, "text"))`` (0.4 s per word)."""
    built = []
    for i, (role, spec) in enumerate(turns):
        if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], str):
            spec = words_at(spec[1], spec[0])
        words = tuple(Word(t, s, e, 0.9) for t, s, e in spec)
        span = TimeSpan(min(w.start for w in words), max(w.end for w in words)) if words else TimeSpan(0, 0)
        speaker = {"agent": "A", "customer": "C"}.get(role, "S1")
        built.append(Turn(index=i, speaker=speaker, role=Role(role), span=span, words=words))
    end = max((t.span.end for t in built), default=0.0)
    speakers = sorted({(t.speaker, t.role) for t in built})
    return Transcript(call_id=call_id, language=language, duration=duration if duration is not None else end + 0.5,
                      turns=tuple(built), asr_model="hand", diarizer="hand", channels=2,
                      roles=RoleAssignment(tuple(speakers), 1.0, "hand", "built by a test"))


# ---------------------------------------------------------------------------- packs and verdicts

import yaml  # noqa: E402

from callqa.metrics import compute_metrics  # noqa: E402
from callqa.rules import CallContext, pack_from_text  # noqa: E402


def pack_text(rules: list[dict], **top) -> str:
    """A valid pack around ``rules`` (each gets id/title/section/kind defaults), as YAML."""
    data = {"id": "test", "version": "1", "languages": [top.pop("language", "en")], "pass_mark": 80,
            "sections": [{"id": "main", "title": "Main"}]}
    data.update(top)
    data["rules"] = [{"id": f"r{i}", "title": f"rule {i}", "section": "main", **r} for i, r in enumerate(rules)]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def make_pack(rules: list[dict], **top):
    return pack_from_text(pack_text(rules, **top), "test.yaml")


def check(rule: dict, tr, *, pii=None, metadata=None, **top):
    """The verdict of one rule (a dict as in a pack) on a transcript."""
    pack = make_pack([rule], **top)
    ctx = CallContext(tr, metrics=compute_metrics(tr), pii=pii, metadata=metadata)
    return pack.rules[0].check(ctx)


def reference_transcript(path: Path) -> Transcript:
    """A sample call's reference (``sample_audio/references/<name>.json``) as a transcript: words spread over each turn."""
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
