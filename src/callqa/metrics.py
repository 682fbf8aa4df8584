"""Conversation metrics of one call, from word times (not just turn spans).

Definitions (also in ``docs/rules.md``, where metric rules are described):

- **talk time** of a role: the union of its words' time spans, where gaps
  shorter than ``merge_gap_s`` (0.3 s) inside speech count as speech;
- **talk ratio**: agent talk / (agent + customer talk), and the customer's
  the other way round (both 0 when nobody with a role spoke);
- **silences**: every gap of at least ``min_silence_s`` between any speech
  (anyone's), with the role that spoke just before and just after it. Time
  before the first and after the last word is not a silence. A hold is a
  silence; ``longest_silence_s`` is the dead air;
- **overlaps**: agent and customer both speaking for at least
  ``min_overlap_s``; the *interrupter* is the one who started later (on a
  tie, the customer), the *interrupted* the other one;
- **words per minute** of a role: its words over its talk time;
- **turns**: the transcript's turns, in total and per role;
- **time to first agent word**: seconds from the start of the recording.

Everything is rounded to milliseconds (ratios to 1e-4) so that the same
transcript always gives the same, comparable numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from callqa.types import CallMetrics, Overlap, Role, Silence, TimeSpan, Transcript

MERGE_GAP_S = 0.3
DEFAULT_MIN_SILENCE_S = 2.0
DEFAULT_MIN_OVERLAP_S = 0.2

_ROLE_ORDER = {Role.AGENT: 0, Role.CUSTOMER: 1, Role.UNKNOWN: 2}


@dataclass(frozen=True, slots=True)
class Interval:
    """A stretch of continuous speech by one role (merged word spans)."""

    start: float
    end: float
    role: Role

    @property
    def duration(self) -> float:
        return self.end - self.start


def merge_spans(spans: Iterable[tuple[float, float]], *, merge_gap_s: float = MERGE_GAP_S) -> list[tuple[float, float]]:
    """Union of ``(start, end)`` spans; gaps shorter than ``merge_gap_s`` are closed."""
    out: list[list[float]] = []
    for start, end in sorted((s, max(s, e)) for s, e in spans):
        if out and start - out[-1][1] < merge_gap_s:
            if end > out[-1][1]:
                out[-1][1] = end
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def speech_intervals(transcript: Transcript, *, merge_gap_s: float = MERGE_GAP_S) -> dict[Role, list[Interval]]:
    """Each role's speech as merged intervals, from its words' times."""
    spans: dict[Role, list[tuple[float, float]]] = {}
    for turn, word in transcript.words:
        spans.setdefault(turn.role, []).append((word.start, word.end))
    return {role: [Interval(a, b, role) for a, b in merge_spans(s, merge_gap_s=merge_gap_s)] for role, s in spans.items()}


def find_silences(intervals: dict[Role, list[Interval]], *, min_silence_s: float) -> list[Silence]:
    """Gaps of at least ``min_silence_s`` in everybody's speech, with who spoke before and after."""
    every = sorted((iv for ivs in intervals.values() for iv in ivs), key=lambda iv: (iv.start, iv.end, _ROLE_ORDER[iv.role]))
    silences: list[Silence] = []
    if not every:
        return silences
    end, last_role = every[0].end, every[0].role
    for iv in every[1:]:
        if iv.start - end >= min_silence_s - 1e-9:
            silences.append(Silence(TimeSpan(_r(end), _r(iv.start)), last_role, iv.role))
        if iv.end >= end:
            end, last_role = iv.end, iv.role
    return silences


def find_overlaps(agent: Sequence[Interval], customer: Sequence[Interval], *, min_overlap_s: float) -> list[Overlap]:
    """Agent and customer speaking at once for at least ``min_overlap_s``; the later starter interrupts."""
    overlaps: list[Overlap] = []
    i = j = 0
    while i < len(agent) and j < len(customer):
        a, c = agent[i], customer[j]
        start, end = max(a.start, c.start), min(a.end, c.end)
        if end - start >= min_overlap_s - 1e-9:
            if a.start > c.start:
                interrupter, interrupted = Role.AGENT, Role.CUSTOMER
            else:
                interrupter, interrupted = Role.CUSTOMER, Role.AGENT
            overlaps.append(Overlap(TimeSpan(_r(start), _r(end)), interrupter, interrupted))
        if a.end <= c.end:
            i += 1
        else:
            j += 1
    return overlaps


def compute_metrics(transcript: Transcript, *, min_silence_s: float = DEFAULT_MIN_SILENCE_S,
                    min_overlap_s: float = DEFAULT_MIN_OVERLAP_S, merge_gap_s: float = MERGE_GAP_S,
                    intervals: dict[Role, list[Interval]] | None = None) -> CallMetrics:
    """Talk time and ratio, silences, overlaps, words per minute and turns of one call.

    ``intervals`` may pass :func:`speech_intervals` already computed (with the same ``merge_gap_s``).
    """
    if min_silence_s <= 0 or min_overlap_s <= 0:
        raise ValueError("min_silence_s and min_overlap_s must be positive")
    if intervals is None:
        intervals = speech_intervals(transcript, merge_gap_s=merge_gap_s)
    agent_iv, customer_iv = intervals.get(Role.AGENT, []), intervals.get(Role.CUSTOMER, [])
    agent_talk = sum(iv.duration for iv in agent_iv)
    customer_talk = sum(iv.duration for iv in customer_iv)
    both = agent_talk + customer_talk
    silences = find_silences(intervals, min_silence_s=min_silence_s)
    overlaps = find_overlaps(agent_iv, customer_iv, min_overlap_s=min_overlap_s)

    words = {Role.AGENT: 0, Role.CUSTOMER: 0}
    first_agent: float | None = None
    for turn, word in transcript.words:
        if turn.role in words and word.text.strip():
            words[turn.role] += 1
        if turn.role == Role.AGENT and (first_agent is None or word.start < first_agent):
            first_agent = word.start

    return CallMetrics(
        duration_s=_r(transcript.duration),
        agent_talk_s=_r(agent_talk),
        customer_talk_s=_r(customer_talk),
        agent_talk_ratio=round(agent_talk / both, 4) if both > 0 else 0.0,
        customer_talk_ratio=round(customer_talk / both, 4) if both > 0 else 0.0,
        silence_total_s=_r(sum(s.span.duration for s in silences)),
        longest_silence_s=_r(max((s.span.duration for s in silences), default=0.0)),
        silences=tuple(silences),
        overlap_total_s=_r(sum(o.span.duration for o in overlaps)),
        overlaps=tuple(overlaps),
        agent_interruptions=sum(1 for o in overlaps if o.interrupter == Role.AGENT),
        customer_interruptions=sum(1 for o in overlaps if o.interrupter == Role.CUSTOMER),
        agent_wpm=_wpm(words[Role.AGENT], agent_talk),
        customer_wpm=_wpm(words[Role.CUSTOMER], customer_talk),
        turns=len(transcript.turns),
        agent_turns=sum(1 for t in transcript.turns if t.role == Role.AGENT),
        customer_turns=sum(1 for t in transcript.turns if t.role == Role.CUSTOMER),
        time_to_first_agent_word_s=_r(first_agent) if first_agent is not None else None,
        min_silence_s=float(min_silence_s),
    )


def _wpm(words: int, talk_s: float) -> float:
    return round(words * 60.0 / talk_s, 1) if talk_s > 0 else 0.0


def _r(x: float) -> float:
    return round(float(x), 3)


#: CallMetrics fields a metric rule may test (numbers only), with their unit.
METRIC_FIELDS: dict[str, str] = {
    "duration_s": "s",
    "agent_talk_s": "s",
    "customer_talk_s": "s",
    "agent_talk_ratio": "ratio",
    "customer_talk_ratio": "ratio",
    "silence_total_s": "s",
    "longest_silence_s": "s",
    "silence_count": "count",
    "overlap_total_s": "s",
    "overlap_count": "count",
    "agent_interruptions": "count",
    "customer_interruptions": "count",
    "agent_wpm": "wpm",
    "customer_wpm": "wpm",
    "turns": "count",
    "agent_turns": "count",
    "customer_turns": "count",
    "time_to_first_agent_word_s": "s",
}


def metric_value(metrics: CallMetrics, name: str) -> float | None:
    """A metric by name (``silence_count`` and ``overlap_count`` are derived)."""
    if name == "silence_count":
        return float(len(metrics.silences))
    if name == "overlap_count":
        return float(len(metrics.overlaps))
    value = getattr(metrics, name)
    return None if value is None else float(value)


__all__ = [
    "DEFAULT_MIN_OVERLAP_S", "DEFAULT_MIN_SILENCE_S", "Interval", "MERGE_GAP_S", "METRIC_FIELDS", "compute_metrics",
    "find_overlaps", "find_silences", "merge_spans", "metric_value", "speech_intervals",
]
