"""Redaction: the transcript (text and words table) and the recording itself.

``redact_transcript`` replaces every word of a finding with one token word
(``[CARD_NUMBER]``) spanning the replaced words' times; turn indices stay, so
the findings' word references are re-mapped to the token words and returned
with the transcript.

``redact_audio`` writes a copy of the recording in which the time of every
finding's words (per turn: first word start to last word end, plus padding) is
silenced or replaced by a 1 kHz tone, on every channel (cross-talk on the
other channel must not leak the value either).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from callqa.errors import ConfigError, InputError
from callqa.pii.base import collapse_turn, token_for
from callqa.types import PiiSpan, TimeSpan, Transcript, Turn, Word

log = logging.getLogger("callqa.pii")

BEEP_HZ = 1000.0
BEEP_LEVEL = 0.2  # amplitude (about -14 dBFS)
AUDIO_MODES = ("beep", "silence")
AUDIO_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}


class Redacted(NamedTuple):
    """What :func:`redact_transcript` returns: the redacted transcript and the findings re-mapped to it."""

    transcript: Transcript
    spans: tuple[PiiSpan, ...]


def redact_transcript(transcript: Transcript, spans: Sequence[PiiSpan]) -> Redacted:
    """The transcript with every finding's words replaced by its token, and the findings re-mapped.

    Consecutive words of one finding in a turn collapse into one word
    ``[ENTITY]`` from the first word's start to the last word's end, with the
    lowest probability among them. A word claimed by two findings belongs to
    the first. ``spans`` must refer to ``transcript`` (as :func:`detect`
    returns them); the returned spans refer to the returned transcript.
    """
    pos_of = {t.index: k for k, t in enumerate(transcript.turns)}
    owner: dict[tuple[int, int], int] = {}
    for k, s in enumerate(spans):
        for t_idx, w in s.words:
            if t_idx in pos_of and 0 <= w < len(transcript.turns[pos_of[t_idx]].words):
                owner.setdefault((pos_of[t_idx], w), k)
            else:
                raise ValueError(f"finding {k} ({s.entity}) refers to word {w} of turn {t_idx}, which this transcript lacks")
    if not owner:
        return Redacted(transcript, tuple(spans))
    new_index: dict[tuple[int, int], int] = {}
    turns: list[Turn] = []
    for t_pos, turn in enumerate(transcript.turns):
        if not any(key[0] == t_pos for key in owner):
            turns.append(turn)
            for w in range(len(turn.words)):
                new_index[(t_pos, w)] = w
            continue
        words: list[Word] = []
        for k, idx in collapse_turn(turn, t_pos, owner):
            if k is None:
                new_index[(t_pos, idx[0])] = len(words)
                words.append(turn.words[idx[0]])
                continue
            first = turn.words[idx[0]]
            lead = first.text[: len(first.text) - len(first.text.lstrip())]
            for i in idx:
                new_index[(t_pos, i)] = len(words)
            words.append(Word(lead + token_for(spans[k].entity), first.start, max(w.end for w in (turn.words[i] for i in idx)),
                              min(turn.words[i].probability for i in idx)))
        turns.append(replace(turn, words=tuple(words)))
    remapped = tuple(
        replace(s, words=tuple(dict.fromkeys((t_idx, new_index[(pos_of[t_idx], w)]) for t_idx, w in s.words)))
        for s in spans
    )
    return Redacted(replace(transcript, turns=tuple(turns)), remapped)


# --------------------------------------------------------------------------- audio


@dataclass(frozen=True, slots=True)
class AudioRedaction:
    """What :func:`redact_audio` wrote: the file, the mode, the intervals covered on every channel, and the
    untranscribed stretches next to a finding covered on the speaker's channel only (``(span, channel)``)."""

    path: Path
    mode: str
    intervals: tuple[TimeSpan, ...]
    sample_rate: int
    extensions: tuple[tuple[TimeSpan, int | None], ...] = ()

    @property
    def seconds(self) -> float:
        return sum(i.duration for i in self.intervals)


def redaction_intervals(spans: Sequence[PiiSpan], transcript: Transcript | None, *, padding_s: float = 0.15,
                        duration: float | None = None) -> tuple[TimeSpan, ...]:
    """Merged time intervals to cover: per finding and turn, first word start to last word end, padded.

    Word references are read against ``transcript`` (raw or redacted, as the
    spans were made for); without usable references the finding's own span is used.
    """
    raw: list[tuple[float, float]] = []
    turns = {t.index: t for t in transcript.turns} if transcript is not None else {}
    for s in spans:
        by_turn: dict[int, list[Word]] = {}
        ok = bool(s.words)
        for t_idx, w in s.words:
            turn = turns.get(t_idx)
            if turn is None or not 0 <= w < len(turn.words):
                ok = False
                break
            by_turn.setdefault(t_idx, []).append(turn.words[w])
        if ok:
            for ws in by_turn.values():
                raw.append((min(w.start for w in ws), max(w.end for w in ws)))
        else:
            raw.append((s.span.start, s.span.end))
    out: list[list[float]] = []
    for a, b in sorted(raw):
        a, b = max(0.0, a - padding_s), b + padding_s
        if duration is not None:
            b = min(b, duration)
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple(TimeSpan(a, b) for a, b in out if b > a)


def gap_extensions(spans: Sequence[PiiSpan], transcript: Transcript, *, max_s: float = 10.0,
                   padding_s: float = 0.15) -> tuple[tuple[TimeSpan, int | None], ...]:
    """Stretches with no recognised word right before or after a finding, on the finding speaker's channel.

    Whisper's word times drift at segment edges: a value can be heard seconds
    away from where its words are placed, in audio the recogniser left without
    words. Beeping from the finding back to the previous recognised word on the
    same channel (and on to the next one), at most ``max_s`` each way, covers
    that audio; other channels keep their speech. ``channel`` is ``None`` for a
    mono recording (one channel holds everyone, so other speakers' words stop
    the stretch too).
    """
    by_turn = {t.index: t for t in transcript.turns}
    times: dict[int | None, list[tuple[float, float]]] = {}
    for t in transcript.turns:
        key = t.channel if transcript.channels > 1 else None
        times.setdefault(key, []).extend((w.start, w.end) for w in t.words)
    out: list[tuple[TimeSpan, int | None]] = []
    for s in spans:
        parts: dict[int, list[Word]] = {}
        for t_idx, w in s.words:
            turn = by_turn.get(t_idx)
            if turn is not None and 0 <= w < len(turn.words):
                parts.setdefault(t_idx, []).append(turn.words[w])
        for t_idx, ws in parts.items():
            turn = by_turn[t_idx]
            key = turn.channel if transcript.channels > 1 else None
            first, last = min(w.start for w in ws), max(w.end for w in ws)
            others = [(a, b) for a, b in times.get(key, []) if b <= first - 1e-6 or a >= last + 1e-6]
            prev_end = max((b for a, b in others if b <= first), default=0.0)
            next_start = min((a for a, b in others if a >= last), default=last + max_s)
            if first - prev_end > padding_s:
                out.append((TimeSpan(max(prev_end, first - max_s), first), key))
            if next_start - last > padding_s:
                out.append((TimeSpan(last, min(next_start, last + max_s)), key))
    return tuple(out)


def redact_channels(channels: Sequence[np.ndarray], intervals: Sequence[TimeSpan], sample_rate: int, *,
                    mode: str = "beep") -> list[np.ndarray]:
    """Copies of ``channels`` with ``intervals`` silenced or beeped (5 ms ramps at the tone's edges)."""
    if mode not in AUDIO_MODES:
        raise ConfigError(f"redaction mode {mode!r}; use one of: {', '.join(AUDIO_MODES)}")
    out = [np.array(ch, dtype=np.float32, copy=True) for ch in channels]
    for iv in intervals:
        a = max(0, int(np.floor(iv.start * sample_rate)))
        for ch in out:
            b = min(len(ch), int(np.ceil(iv.end * sample_rate)))
            if b <= a:
                continue
            if mode == "silence":
                ch[a:b] = 0.0
            else:
                t = np.arange(b - a, dtype=np.float32) / sample_rate
                tone = BEEP_LEVEL * np.sin(2 * np.pi * BEEP_HZ * t).astype(np.float32)
                ramp = min(len(tone) // 2, int(0.005 * sample_rate))
                if ramp > 0:
                    env = np.linspace(0.0, 1.0, ramp, dtype=np.float32)
                    tone[:ramp] *= env
                    tone[-ramp:] *= env[::-1]
                ch[a:b] = tone
    return out


def redact_audio(source, spans: Sequence[PiiSpan], transcript: Transcript | None, out_path: str | Path, *,
                 mode: str = "beep", padding_s: float = 0.15, fill_gaps_s: float = 10.0,
                 sample_rate: int = 16_000) -> AudioRedaction:
    """Write a copy of a recording with every finding's words silenced or beeped.

    ``source`` is a path (decoded like any recording, 16 kHz), a
    :class:`~callqa.audio.Recording`, or a sequence of channel arrays at
    ``sample_rate``. The output keeps every channel; its format follows
    ``out_path``'s extension (.wav, .flac, .ogg). ``fill_gaps_s`` > 0 also
    covers untranscribed audio next to each finding (see :func:`gap_extensions`).
    """
    import soundfile as sf

    from callqa.audio import SAMPLE_RATE, Recording, load_recording

    out_path = Path(out_path)
    fmt = AUDIO_FORMATS.get(out_path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"{out_path}: output format {out_path.suffix or '(none)'!r}; use one of: "
                          f"{', '.join(sorted(AUDIO_FORMATS))}")
    if mode not in AUDIO_MODES:
        raise ConfigError(f"redaction mode {mode!r}; use one of: {', '.join(AUDIO_MODES)}")
    if isinstance(source, (str, Path)):
        source = load_recording(source)
    if isinstance(source, Recording):
        channels, rate = list(source.channels), SAMPLE_RATE
    else:
        channels, rate = [np.asarray(ch, dtype=np.float32) for ch in source], sample_rate
    if not channels or any(ch.ndim != 1 for ch in channels):
        raise InputError(out_path, "redact_audio needs one 1-D array per channel")
    duration = max(len(ch) for ch in channels) / rate
    intervals = redaction_intervals(spans, transcript, padding_s=padding_s, duration=duration)
    redacted = redact_channels(channels, intervals, rate, mode=mode)
    extensions = gap_extensions(spans, transcript, max_s=fill_gaps_s, padding_s=padding_s) \
        if transcript is not None and fill_gaps_s > 0 else ()
    for span, channel in extensions:
        targets = range(len(redacted)) if channel is None or channel >= len(redacted) else [channel]
        for i in targets:
            redacted[i] = redact_channels([redacted[i]], [span], rate, mode=mode)[0]
    n = max(len(ch) for ch in redacted)
    data = np.zeros((n, len(redacted)), dtype=np.float32)
    for i, ch in enumerate(redacted):
        data[: len(ch), i] = ch
    out_path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"subtype": "PCM_16"} if fmt in ("WAV", "FLAC") else {"subtype": "VORBIS"}
    sf.write(str(out_path), np.clip(data, -1.0, 1.0), rate, format=fmt, **kwargs)
    log.info("redacted audio written to %s: %d interval(s), %.1f s %s, %d untranscribed stretch(es) next to them",
             out_path.name, len(intervals), sum(i.duration for i in intervals), mode, len(extensions))
    return AudioRedaction(out_path, mode, intervals, rate, extensions)
