"""Transcript exports of one stored call: WebVTT, SRT, JSON (the ``callqa show`` document) and RTTM.

Every function takes the call view of :func:`callqa.report.view.call_view`
(read from the redacted database), so nothing raw can appear in an export.

- **WebVTT / SRT**: subtitle cues cut from each turn's words (a new cue when
  one would pass ``max_chars`` characters or ``max_cue_s`` seconds, or after a
  pause of ``max_pause_s``), two lines at most, timed by the words. WebVTT names
  the speaker with a voice tag (``<v agent>``), SRT with a label (``agent:``).
  Cues of the two parties may overlap in time, as the speech does.
- **RTTM**: one ``SPEAKER`` line per turn (what diarization attributed), speaker
  named by its diarization label or by its role.
"""

from __future__ import annotations

import json
import logging
import re
import textwrap
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

log = logging.getLogger("callqa.report")

FORMATS = ("vtt", "srt", "json", "rttm")
RTTM_SPEAKERS = ("label", "role")


@dataclass(frozen=True, slots=True)
class CueOptions:
    """How turns are cut into subtitle cues."""

    max_chars: int = 84       # two lines of 42
    line_chars: int = 42
    max_cue_s: float = 7.0
    max_pause_s: float = 1.5


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle: who speaks, from when to when, what (redacted) text."""

    start: float
    end: float
    speaker: str
    text: str


def speaker_name(turn: Mapping[str, Any]) -> str:
    """The turn's role, or its diarization label when the role is unknown."""
    role = turn.get("role") or "unknown"
    return str(turn.get("speaker") or role) if role == "unknown" else str(role)


def cues(view: Mapping[str, Any], options: CueOptions = CueOptions()) -> list[Cue]:
    """Subtitle cues of every turn, in time order."""
    out = [cue for turn in view["turns"] for cue in _turn_cues(turn, options)]
    return sorted(out, key=lambda c: (c.start, c.end))


def _turn_cues(turn: Mapping[str, Any], options: CueOptions) -> Iterator[Cue]:
    who = speaker_name(turn)
    words = [w for w in turn.get("words") or () if str(w["text"]).strip()]
    if not words:
        text = _clean(turn.get("text") or "")
        if text:
            yield Cue(float(turn["start"]), max(float(turn["end"]), float(turn["start"])), who, text)
        return
    for group in _word_groups(words, options):
        text = _clean(" ".join(str(w["text"]).strip() for w in group))
        yield Cue(float(group[0]["start"]), max(float(group[-1]["end"]), float(group[0]["start"])), who, text)


def _word_groups(words: Sequence[Mapping[str, Any]], options: CueOptions) -> Iterator[list[Mapping[str, Any]]]:
    group: list[Mapping[str, Any]] = []
    length = 0
    for w in words:
        size = len(str(w["text"]).strip())
        if group and (length + 1 + size > options.max_chars
                      or float(w["end"]) - float(group[0]["start"]) > options.max_cue_s
                      or float(w["start"]) - float(group[-1]["end"]) > options.max_pause_s):
            yield group
            group, length = [], 0
        length += size + (1 if group else 0)
        group.append(w)
    if group:
        yield group


def _clean(text: str) -> str:
    """One line of text without the cue separator ``-->`` or blank lines (they would end a cue)."""
    return re.sub(r"\s+", " ", text.replace("-->", "->")).strip()


def _lines(text: str, width: int) -> list[str]:
    lines = textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False) or [text]
    if len(lines) > 2:  # never more than two lines: the rest joins the second
        lines = [lines[0], " ".join(lines[1:])]
    return lines


def clock(seconds: float, *, decimal: str = ".") -> str:
    """``HH:MM:SS.mmm`` (``decimal=","`` for SRT), rounded to the millisecond."""
    ms = int(round(max(seconds, 0.0) * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{ms:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_voice(name: str) -> str:
    return re.sub(r"[<>&\s]+", "_", name) or "unknown"


def to_vtt(view: Mapping[str, Any], options: CueOptions = CueOptions()) -> str:
    """The transcript as WebVTT, the speaker as a voice tag on every cue."""
    parts = [f"WEBVTT - callqa call {view['call_id'][:12]} (redacted)", ""]
    for n, cue in enumerate(cues(view, options), 1):
        lines = _lines(cue.text, options.line_chars)
        body = [f"<v {_vtt_voice(cue.speaker)}>{_vtt_escape(lines[0])}"] + [_vtt_escape(x) for x in lines[1:]]
        parts += [str(n), f"{clock(cue.start)} --> {clock(cue.end)}", *body, ""]
    return "\n".join(parts)


def to_srt(view: Mapping[str, Any], options: CueOptions = CueOptions()) -> str:
    """The transcript as SRT, each cue's text starting with the speaker label (``agent: ...``)."""
    parts: list[str] = []
    for n, cue in enumerate(cues(view, options), 1):
        lines = _lines(f"{cue.speaker}: {cue.text}", options.line_chars)
        parts += [str(n), f"{clock(cue.start, decimal=',')} --> {clock(cue.end, decimal=',')}", *lines, ""]
    return "\n".join(parts)


def to_json(view: Mapping[str, Any]) -> str:
    """The ``callqa show --format json`` document."""
    return json.dumps(view, ensure_ascii=False, indent=2, default=str) + "\n"


def rttm_uri(view: Mapping[str, Any]) -> str:
    """The RTTM file id: the recording's file name without its extension (no spaces)."""
    name = str(view.get("source") or view["call_id"])
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return re.sub(r"\s+", "_", stem) or view["call_id"]


def to_rttm(view: Mapping[str, Any], *, speakers: str = "label", uri: str | None = None) -> str:
    """Diarization as RTTM ``SPEAKER`` lines (one per turn, in time order).

    ``speakers``: ``label`` names each speaker by its diarization label,
    ``role`` by agent / customer (as the sample calls' references do).
    """
    if speakers not in RTTM_SPEAKERS:
        raise ValueError(f"speakers={speakers!r}; use one of {', '.join(RTTM_SPEAKERS)}")
    uri = uri or rttm_uri(view)
    lines = []
    for turn in sorted(view["turns"], key=lambda t: (t["start"], t["index"])):
        start, end = float(turn["start"]), float(turn["end"])
        if end <= start:
            continue
        name = turn["speaker"] if speakers == "label" else turn["role"]
        name = re.sub(r"\s+", "_", str(name)) or "unknown"
        lines.append(f"SPEAKER {uri} 1 {start:.3f} {end - start:.3f} <NA> <NA> {name} <NA> <NA>")
    return "\n".join(lines) + ("\n" if lines else "")


def export(view: Mapping[str, Any], fmt: str, *, rttm_speakers: str = "label") -> str:
    """The view in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "vtt":
        return to_vtt(view)
    if fmt == "srt":
        return to_srt(view)
    if fmt == "json":
        return to_json(view)
    if fmt == "rttm":
        return to_rttm(view, speakers=rttm_speakers)
    raise ValueError(f"format {fmt!r}; use one of {', '.join(FORMATS)}")

