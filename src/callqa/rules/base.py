"""What every rule kind shares: the per-call context, verdicts, evidence, the rule base class.

A *rule kind* (``phrase.v1``, ``metric.v1`` ...) is a class registered in
:data:`RULE_KINDS`. It declares its parameters as a pydantic model
(``Params``, ``extra="forbid"``) and is built once per pack load
(``Kind(header, params, env)``); :meth:`Rule.check` then runs once per call
on a :class:`CallContext` and returns a :class:`Verdict`. Points, sections
and the critical flag are the scorecard's business (``callqa.evaluate``).

The context is built once per call and shared by all rules: the words of
each role as folded text with a map back to words (``RoleText``), the call's
metrics, the sensitive-data findings (``None`` when no detector ran) and
per-call variables from the metadata (``agent_first_name`` ...).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Sequence

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from callqa.normalize import FoldedWords, fold
from callqa.registry import Registry
from callqa.types import CallMetadata, CallMetrics, Evidence, Outcome, PiiSpan, Role, TimeSpan, Transcript, Turn

EPS = 1e-6

#: Per-call variables a phrase may use as ``{name}``; filled from the call's metadata.
CALL_VARS = ("agent_name", "agent_first_name", "agent_id", "queue", "team")


# ---------------------------------------------------------------------------- parameters


class Strict(BaseModel):
    """Base of every pack model: unknown keys are errors that name the allowed ones."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = {(f.alias or name) for name, f in cls.model_fields.items()} | set(cls.model_fields)
            unknown = [k for k in data if k not in allowed]
            if unknown:
                import difflib

                shown = sorted(f.alias or n for n, f in cls.model_fields.items())
                close = difflib.get_close_matches(str(unknown[0]), shown, n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise PydanticCustomError(
                    "unknown_field", "unknown field {name}{hint}; allowed: {allowed}",
                    {"name": repr(unknown[0]), "field": str(unknown[0]), "hint": hint, "allowed": ", ".join(shown)})
        return data


# ---------------------------------------------------------------------------- verdicts


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a rule found on one call: outcome, one line for a coach, and the evidence."""

    outcome: Outcome
    explanation: str
    evidence: tuple[Evidence, ...] = ()

    @classmethod
    def passed(cls, explanation: str, evidence: Iterable[Evidence] = ()) -> "Verdict":
        return cls(Outcome.PASS, explanation, tuple(evidence))

    @classmethod
    def failed(cls, explanation: str, evidence: Iterable[Evidence] = ()) -> "Verdict":
        return cls(Outcome.FAIL, explanation, tuple(evidence))

    @classmethod
    def na(cls, explanation: str, evidence: Iterable[Evidence] = ()) -> "Verdict":
        return cls(Outcome.NA, explanation, tuple(evidence))


@dataclass(frozen=True, slots=True)
class RuleHeader:
    """The fields every rule has, whatever its kind."""

    id: str
    title: str
    section: str
    kind: str
    points: float
    critical: bool
    description: str = ""


class Rule:
    """Base class of rule kinds. Subclasses set ``Params`` and implement :meth:`check`."""

    Params: ClassVar[type[Strict]]
    #: Short description shown by ``callqa rules list`` and the docs.
    summary: ClassVar[str] = ""

    def __init__(self, header: RuleHeader, params: Any, env: "PackEnv"):
        self.header = header
        self.params = params

    @property
    def id(self) -> str:
        return self.header.id

    def check(self, ctx: "CallContext") -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError


RULE_KINDS: Registry[type[Rule]] = Registry("rule kind")


class PackProblem(Exception):
    """Raised while building a rule: ``field`` is the path inside the rule, ``message`` one line."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass
class PackEnv:
    """What building rules needs from the pack: language, variables, named phrase lists, shared caches."""

    language: str
    vars: dict[str, str]
    phrase_lists: dict[str, list[str]]
    threshold: float = 85.0  # the pack's default fuzzy threshold
    speaker: str = "agent"  # the pack's default speaker
    cache: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # warnings shown by `callqa rules check`


# ---------------------------------------------------------------------------- time and text helpers


def clock(seconds: float) -> str:
    """``83.25`` -> ``"01:23.2"`` (minutes:seconds, tenths; truncated so a boundary never rounds across)."""
    seconds = max(seconds, 0.0)
    minutes, secs = divmod(int(seconds * 10 + 1e-6), 600)
    return f"{minutes:02d}:{secs // 10:02d}.{secs % 10}"


def clock_span(span: TimeSpan) -> str:
    return f"{clock(span.start)}-{clock(span.end)}"


def seconds(x: float) -> str:
    """``6.5`` -> ``"6.5 s"``."""
    return f"{x:.1f} s"


ROLE_LABEL = {Role.AGENT: "agent", Role.CUSTOMER: "customer", Role.UNKNOWN: "unattributed speaker"}


def who(role: Role | str | None, *, capital: bool = False) -> str:
    text = "anyone" if role in (None, "any") else ROLE_LABEL.get(Role(role), str(role))
    return text[:1].upper() + text[1:] if capital else text


# ---------------------------------------------------------------------------- per-call context


@dataclass
class RoleText:
    """One role's words in time order as folded text, with the way back to turns and words.

    Only words that fold to something are kept, so ``folded.indices[k] == k``:
    ``refs[k]`` is (turn index, word index in the turn), ``starts[k]``/``ends[k]``
    its times, ``order[k]`` its position in the whole call's time-ordered words.
    """

    role: Role
    folded: FoldedWords
    refs: list[tuple[int, int]]
    starts: list[float]
    ends: list[float]
    order: list[int]
    cache: dict[Any, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.refs)

    def word_range(self, t0: float, t1: float) -> tuple[int, int]:
        """Positions [i0, i1) of the words that *start* in [t0, t1] (inclusive)."""
        return bisect.bisect_left(self.starts, t0 - EPS), bisect.bisect_right(self.starts, t1 + EPS)

    def char_of(self, k: int) -> int:
        """Folded-text offset where word ``k`` starts (``len(text)`` past the end)."""
        return self.folded.starts[k] if k < len(self.refs) else len(self.folded.text) + 1


class CallContext:
    """Everything a rule may read about one call, built once and shared by all rules."""

    def __init__(self, transcript: Transcript, *, metrics: CallMetrics, pii: Sequence[PiiSpan] | None = None,
                 metadata: CallMetadata | None = None):
        self.transcript = transcript
        self.metrics = metrics
        self.pii = tuple(pii) if pii is not None else None
        self.metadata = metadata
        self.vars = call_vars(metadata)
        #: Scratch space for rule kinds that share per-call work (keyed by the kind's own keys).
        self.cache: dict[Any, Any] = {}
        self._roles: dict[Role, RoleText] | None = None
        self._turn_offsets: dict[int, list[tuple[int, int] | None]] = {}
        self._turn_texts: dict[int, str] = {}
        self.turns: dict[int, Turn] = {t.index: t for t in transcript.turns}
        starts = [w.start for t in transcript.turns for w in t.words]
        ends = [w.end for t in transcript.turns for w in t.words]
        #: The conversation: first word to last word. Windows ("first 15 s", "last 25 %") are on this span.
        self.conversation = TimeSpan(min(starts), max(max(ends), min(starts))) if starts else TimeSpan(0.0, 0.0)
        present = {t.role for t in transcript.turns if t.words}
        self.roles_known = bool(present & {Role.AGENT, Role.CUSTOMER})
        self.roles_present = present

    # -- words by role ---------------------------------------------------------------

    def role_text(self, role: Role) -> RoleText:
        if self._roles is None:
            self._roles = self._build_roles()
        return self._roles.get(role) or _EMPTY[role]

    def _build_roles(self) -> dict[Role, RoleText]:
        items = []  # (start, turn index, word index, role, folded)
        for turn in self.transcript.turns:
            for wi, word in enumerate(turn.words):
                items.append((word.start, turn.index, wi, turn.role, word))
        items.sort(key=lambda x: (x[0], x[1], x[2]))
        per_role: dict[Role, list[tuple[int, Any]]] = {}
        for pos, item in enumerate(items):
            per_role.setdefault(item[3], []).append((pos, item))
        out = {}
        for role, entries in per_role.items():
            texts, refs, starts, ends, order = [], [], [], [], []
            for pos, (_start, ti, wi, _, word) in entries:
                f = fold_word(word.text)
                if not f:
                    continue
                texts.append(f)
                refs.append((ti, wi))
                starts.append(word.start)
                ends.append(word.end)
                order.append(pos)
            folded = _folded_from(texts)
            out[role] = RoleText(role, folded, refs, starts, ends, order)
        return out

    def roles_for(self, speaker: str) -> list[Role]:
        """Roles searched for ``speaker`` = agent | customer | any."""
        if speaker == "any":
            return [Role.AGENT, Role.CUSTOMER, Role.UNKNOWN]
        return [Role(speaker)]

    # -- windows -----------------------------------------------------------------------

    def window_span(self, window: Any | None) -> TimeSpan:
        """The time span of a ``Window`` on this call's conversation (the whole of it when None)."""
        conv = self.conversation
        if window is None:
            return conv
        return window.span(conv)

    # -- evidence -------------------------------------------------------------------------

    def turn_offsets(self, turn_index: int) -> list[tuple[int, int] | None]:
        """Character offsets of each word in ``Turn.text`` (None for words that print nothing)."""
        offsets = self._turn_offsets.get(turn_index)
        if offsets is None:
            offsets, pos, parts = [], 0, []
            for word in self.turns[turn_index].words:
                text = word.text.strip()
                if not text:
                    offsets.append(None)
                    continue
                if pos:
                    pos += 1
                offsets.append((pos, pos + len(text)))
                parts.append(text)
                pos += len(text)
            self._turn_offsets[turn_index] = offsets
            self._turn_texts[turn_index] = " ".join(parts)  # == Turn.text
        return offsets

    def turn_text(self, turn_index: int) -> str:
        """``Turn.text`` (computed once per call)."""
        if turn_index not in self._turn_texts:
            self.turn_offsets(turn_index)
        return self._turn_texts[turn_index]

    def word_evidence(self, first: tuple[int, int], last: tuple[int, int], *, context_words: int = 3) -> tuple[Evidence, str]:
        """Evidence for the words ``first``..``last`` ((turn, word) refs) and the quoted words themselves."""
        ti, wi = first
        tj, wj = last
        turn = self.turns[ti]
        if tj != ti:  # a phrase that runs into the next turn: quote the part in the first turn
            wj = len(turn.words) - 1
        offsets = self.turn_offsets(ti)
        text = self.turn_text(ti)
        present = [k for k in range(wi, wj + 1) if offsets[k] is not None]
        if present:
            c0, c1 = offsets[present[0]][0], offsets[present[-1]][1]
        else:
            c0 = c1 = 0
        quoted = text[c0:c1]
        lo = max(0, wi - context_words)
        hi = min(len(turn.words) - 1, wj + context_words)
        around = [offsets[k] for k in range(lo, hi + 1) if offsets[k] is not None]
        e0, e1 = (around[0][0], around[-1][1]) if around else (c0, c1)
        excerpt = ("… " if e0 > 0 else "") + text[e0:e1] + (" …" if e1 < len(text) else "")
        end_word = self.turns[tj].words[last[1]] if tj != ti else turn.words[wj]
        span = TimeSpan(turn.words[wi].start, max(turn.words[wi].start, end_word.end))
        return Evidence(turn_index=ti, char_start=c0, char_end=c1, span=span, excerpt=excerpt, role=turn.role), quoted

    def window_evidence(self, span: TimeSpan, speaker: str, what: str = "speech") -> Evidence:
        """Evidence for a search that found nothing: the window that was searched."""
        role = None if speaker == "any" else Role(speaker)
        label = f"{who(speaker)} {what}" if speaker != "any" else f"all {what}"
        return Evidence(turn_index=None, char_start=0, char_end=0, span=span, excerpt=f"{label} {clock_span(span)}", role=role)


_FOLDED: dict[str, str] = {}


def fold_word(text: str) -> str:
    """``fold`` with a cache: calls repeat the same words over and over."""
    f = _FOLDED.get(text)
    if f is None:
        f = fold(text)
        if len(_FOLDED) > 200_000:
            _FOLDED.clear()
        _FOLDED[text] = f
    return f


def _folded_from(texts: list[str]) -> FoldedWords:
    starts, pos = [], 0
    for t in texts:
        starts.append(pos)
        pos += len(t) + 1
    return FoldedWords(" ".join(texts), tuple(starts), tuple(range(len(texts))))


_EMPTY = {role: RoleText(role, FoldedWords("", (), ()), [], [], [], []) for role in Role}


def call_vars(metadata: CallMetadata | None) -> dict[str, str]:
    """``{agent_name}``, ``{agent_first_name}`` ... from a call's metadata (only those it has)."""
    out: dict[str, str] = {}
    if metadata is None:
        return out
    if metadata.agent_name and metadata.agent_name.strip():
        out["agent_name"] = metadata.agent_name.strip()
        out["agent_first_name"] = metadata.agent_name.strip().split()[0]
    for name in ("agent_id", "queue", "team"):
        value = getattr(metadata, name)
        if value:
            out[name] = str(value)
    return out


__all__ = [
    "CALL_VARS", "CallContext", "PackEnv", "PackProblem", "RULE_KINDS", "Rule", "RuleHeader", "RoleText", "Strict",
    "Verdict", "call_vars", "clock", "clock_span", "seconds", "who",
]
