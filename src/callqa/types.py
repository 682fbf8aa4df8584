"""Value types shared by every stage of callqa.

All of them are small frozen dataclasses without I/O: the pipeline passes them
from stage to stage, the store writes them, and tests build them by hand.

Naming: we never call anything ``Segment`` (faster-whisper and pyannote each
mean a different thing by it). A stretch of time is a :class:`TimeSpan`, one
speaker's stretch of speech is a :class:`Turn`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Iterable, Iterator


class Role(StrEnum):
    """Who a speaker is in the conversation."""

    AGENT = "agent"
    CUSTOMER = "customer"
    UNKNOWN = "unknown"


class Outcome(StrEnum):
    """Verdict of one rule on one call. ``NA`` is excluded from the score."""

    PASS = "pass"
    FAIL = "fail"
    NA = "na"


@dataclass(frozen=True, slots=True, order=True)
class TimeSpan:
    """A closed interval of seconds on the call's timeline.

    ``a & b`` is the intersection (or ``None``), ``t in span`` tests a time,
    ``a in b`` tests containment, and spans order by (start, end).
    """

    start: float
    end: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise ValueError(f"TimeSpan needs finite times, got {self.start!r}..{self.end!r}")
        if self.end < self.start:
            raise ValueError(f"TimeSpan ends before it starts: {self.start:.3f} > {self.end:.3f}")

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2

    def __and__(self, other: TimeSpan) -> TimeSpan | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return TimeSpan(start, end) if start < end else None

    def __or__(self, other: TimeSpan) -> TimeSpan:
        """The smallest span covering both."""
        return TimeSpan(min(self.start, other.start), max(self.end, other.end))

    def __contains__(self, item: float | TimeSpan) -> bool:
        if isinstance(item, TimeSpan):
            return self.start <= item.start and item.end <= self.end
        return self.start <= item <= self.end

    def overlap(self, other: TimeSpan) -> float:
        """Seconds shared with ``other`` (0 when disjoint)."""
        return max(0.0, min(self.end, other.end) - max(self.start, other.start))

    def gap(self, other: TimeSpan) -> float:
        """Seconds between the two spans (0 when they touch or overlap)."""
        return max(0.0, max(self.start, other.start) - min(self.end, other.end))

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes):02d}:{secs:05.2f}"


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its time and the recogniser's probability."""

    text: str
    start: float
    end: float
    probability: float = 1.0

    @property
    def span(self) -> TimeSpan:
        return TimeSpan(self.start, self.end)


@dataclass(frozen=True, slots=True)
class Turn:
    """A stretch of speech by one speaker: consecutive words, no one else in between."""

    index: int
    speaker: str
    role: Role
    span: TimeSpan
    words: tuple[Word, ...] = ()
    channel: int | None = None

    @property
    def text(self) -> str:
        return join_words(self.words)

    @property
    def start(self) -> float:
        return self.span.start

    @property
    def end(self) -> float:
        return self.span.end


def join_words(words: Iterable[Word]) -> str:
    """Join recognised words into readable text (whisper words carry their own spaces)."""
    return " ".join(w.text.strip() for w in words if w.text.strip())


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """How speakers were mapped to roles, and how sure we are.

    ``confidence`` is in [0, 1]; below ``LOW_ROLE_CONFIDENCE`` a reviewer
    should check the roles before trusting role-dependent verdicts.
    """

    roles: tuple[tuple[str, Role], ...]
    confidence: float
    method: str
    explanation: str

    def role_of(self, speaker: str) -> Role:
        return dict(self.roles).get(speaker, Role.UNKNOWN)


LOW_ROLE_CONFIDENCE = 0.6


@dataclass(frozen=True, slots=True)
class Transcript:
    """Speaker-attributed transcript of one call: what every later stage reads.

    Re-scoring starts from this value read back from the store: no audio and
    no recogniser are needed after it exists.
    """

    call_id: str
    language: str
    duration: float
    turns: tuple[Turn, ...]
    asr_model: str
    diarizer: str
    channels: int
    roles: RoleAssignment

    @property
    def words(self) -> Iterator[tuple[Turn, Word]]:
        for turn in self.turns:
            for word in turn.words:
                yield turn, word

    def turns_of(self, role: Role) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if t.role == role)

    @property
    def text(self) -> str:
        return "\n".join(f"{t.role}: {t.text}" for t in self.turns)


@dataclass(frozen=True, slots=True)
class CallMetadata:
    """What the recording's sidecar ``<recording>.json`` says about the call."""

    agent_id: str | None = None
    agent_name: str | None = None
    queue: str | None = None
    team: str | None = None
    direction: str | None = None  # "inbound" | "outbound"
    started_at: datetime | None = None
    language: str | None = None
    channel_roles: tuple[Role, ...] | None = None  # role of channel 0, 1, ...
    extra: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a verdict or finding comes from: text position AND time.

    ``turn_index`` is ``None`` when the evidence is a window that was searched
    (a missing phrase); then ``excerpt`` describes the window.
    """

    turn_index: int | None
    char_start: int
    char_end: int
    span: TimeSpan
    excerpt: str
    role: Role | None = None


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One sensitive-data finding. ``masked`` and the evidence excerpts never hold raw values."""

    entity: str  # CARD_NUMBER, CVV, IBAN, ...
    detector: str  # versioned plug-in name, e.g. "card.v1"
    score: float
    role: Role
    span: TimeSpan
    masked: str
    explanation: str
    evidence: tuple[Evidence, ...] = ()
    # (turn index, word index) of every word that carries part of the value;
    # redaction silences exactly these words' times.
    words: tuple[tuple[int, int], ...] = ()
    # facts decided while the raw value was in memory, e.g. "repeated_from_customer",
    # "agent_only", "full_number"; privacy rules read these after re-loading.
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleResult:
    """Verdict of one rule, with the evidence a coach needs."""

    rule_id: str
    outcome: Outcome
    points: float
    max_points: float
    critical: bool
    explanation: str
    evidence: tuple[Evidence, ...] = ()
    title: str = ""
    section: str = ""
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Silence:
    """A gap with nobody speaking; ``before``/``after`` say who spoke around it."""

    span: TimeSpan
    before: Role | None
    after: Role | None


@dataclass(frozen=True, slots=True)
class Overlap:
    """Both parties speaking at once; ``interrupter`` started while ``interrupted`` was talking."""

    span: TimeSpan
    interrupter: Role
    interrupted: Role


@dataclass(frozen=True, slots=True)
class CallMetrics:
    """Conversation metrics of one call (computed from the Transcript alone)."""

    duration_s: float
    agent_talk_s: float
    customer_talk_s: float
    agent_talk_ratio: float  # agent talk / (agent + customer talk); 0..1
    customer_talk_ratio: float
    silence_total_s: float
    longest_silence_s: float  # dead air
    silences: tuple[Silence, ...]
    overlap_total_s: float
    overlaps: tuple[Overlap, ...]
    agent_interruptions: int  # times the agent started while the customer was talking
    customer_interruptions: int
    agent_wpm: float
    customer_wpm: float
    turns: int
    agent_turns: int
    customer_turns: int
    time_to_first_agent_word_s: float | None
    min_silence_s: float  # the gap threshold the silences were found with


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A scored call: one scoring run of one rule pack over one transcript."""

    call_id: str
    pack: str
    pack_version: str
    pack_sha256: str
    score: float
    max_score: float
    passed: bool
    auto_failed: bool
    results: tuple[RuleResult, ...]
    pii: tuple[PiiSpan, ...]
    metrics: CallMetrics | None
    engine_version: str
    created_at: datetime
    sections: tuple[tuple[str, float, float], ...] = field(default=())  # (section, score, max)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What the store keeps about a recording besides its transcript."""

    call_id: str
    source_path: str
    size_bytes: int
    container: str
    codec: str
    source_sample_rate: int
    channels: int
    duration_s: float
    language_probability: float
    settings_key: str
    metadata: CallMetadata = CallMetadata()
    redacted_audio_path: str | None = None

    @property
    def source_name(self) -> str:
        return self.source_path.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class ProcessedCall:
    """Everything one recording produced; the store writes it in one transaction.

    ``transcript`` is already redacted; ``pii`` holds masked findings only.
    """

    record: CallRecord
    transcript: Transcript
    pii: tuple[PiiSpan, ...] = ()
    metrics: CallMetrics | None = None
    evaluation: Evaluation | None = None
