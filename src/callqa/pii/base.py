"""What every sensitive-data detector shares: the prepared call, candidates, the registry, and PiiSpans.

A detector is *patterns + context words + a checksum* (the idea Presidio made
common): it proposes :class:`Candidate` values, each with a confidence. A
passing checksum raises the confidence, a failing one means no candidate at
all, and context words ("card number", "номер карты", "numer karty") said
shortly before raise it again. :func:`detect` runs the chosen detectors over a
:class:`PiiDocument`, keeps the best non-overlapping candidates above
``min_score``, and turns them into :class:`~callqa.types.PiiSpan` values that
hold no raw value: a masked form, an explanation, masked evidence, the words
that carry the value, and tags decided while the raw value was in memory.

Raw values live only inside this module's local variables while ``detect``
runs. Nothing here logs transcript text or values.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol, Sequence

from callqa.registry import Registry
from callqa.normalize import NumberToken, fold, is_filler, number_language, spoken_numbers
from callqa.types import Evidence, PiiSpan, Role, TimeSpan, Transcript, Turn

log = logging.getLogger("callqa.pii")

#: Candidates below this confidence are not reported.
MIN_SCORE = 0.5
#: Digits of one speaker are joined across a pause of at most this many seconds.
JOIN_GAP_S = 4.0
#: ... and across other-speaker turns of at most this many words ("mm-hmm", "okay go on").
JOIN_MAX_OTHER_WORDS = 4
#: Words before a value (same turn) searched for context words.
CONTEXT_WORDS_BEFORE = 14
#: Earlier turns (anyone's, within CONTEXT_TURN_S) searched for context words: "what's your PESEL?"
CONTEXT_TURNS_BEFORE = 2
CONTEXT_TURN_S = 30.0

MASK = "•"

#: Short replies that do not interrupt someone reading out a number.
BACKCHANNELS = frozenset({
    "mm", "hmm", "mhm", "mm hmm", "uh huh", "okay", "ok", "yes", "yeah", "yep", "right", "go on", "got it", "sure",
    "alright", "all right", "continue", "go", "on", "got", "it", "uh", "huh", "thanks", "thank", "you", "please",
    "ага", "угу", "да", "так", "хорошо", "понятно", "дальше", "записываю", "продолжайте", "слушаю",
    "tak", "dobrze", "aha", "okej", "dalej", "proszę", "mhm", "notuję", "słucham",
})

Ref = tuple[int, int]  # (turn index, word index)

ENTITIES = (
    "CARD_NUMBER", "CVV", "CARD_EXPIRY", "IBAN", "BANK_ACCOUNT", "ROUTING_NUMBER", "US_SSN", "PL_PESEL", "PL_NIP",
    "RU_INN", "RU_SNILS", "PHONE_NUMBER", "EMAIL", "DATE_OF_BIRTH", "PERSON", "LONG_NUMBER",
)
#: Entities that say "sensitive, type unknown" (the safety net): not a claim about which type a value is.
UNTYPED_ENTITIES = frozenset({"LONG_NUMBER"})

# --------------------------------------------------------------------------- registry


#: Detector classes by versioned name ("card.v1"); see :mod:`callqa.registry` for the contract.
DETECTORS: Registry[type] = Registry("pii detector")
register = DETECTORS.register
_INSTANCES: dict[str, "Detector"] = {}


def get_detector(name: str) -> "Detector":
    """The (shared, stateless) detector registered as ``name``; ConfigError listing the known names otherwise."""
    if name not in _INSTANCES:
        det = DETECTORS.get(name)()
        det.name = name
        _INSTANCES[name] = det
    return _INSTANCES[name]


# --------------------------------------------------------------------------- the prepared call


@dataclass(frozen=True, slots=True)
class Num:
    """One number said in one turn, with the words that carry it."""

    turn: int
    digits: str
    refs: tuple[Ref, ...]
    kind: str  # spoken | written | amount | ordinal | plus
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class DigitRun:
    """Digits one speaker said in a row, possibly across turns (other party's "mm-hmm" in between).

    ``digits`` is what a reader would write (a leading "+" stays out of it:
    see ``plus``); ``nums[i]`` starts at ``offsets[i]`` in ``digits``.
    """

    speaker: str
    role: Role
    nums: tuple[Num, ...]
    plus: bool = False

    @property
    def digits(self) -> str:
        return "".join(n.digits for n in self.nums)

    @property
    def offsets(self) -> tuple[int, ...]:
        out, pos = [], 0
        for n in self.nums:
            out.append(pos)
            pos += len(n.digits)
        return tuple(out)

    @property
    def boundaries(self) -> frozenset[int]:
        """Digit offsets where a number starts or ends: values are cut only there."""
        return frozenset(self.offsets) | {len(self.digits)}

    def nums_between(self, a: int, b: int) -> tuple[Num, ...]:
        """The numbers carrying digits [a, b)."""
        out = []
        for off, n in zip(self.offsets, self.nums):
            if off < b and off + len(n.digits) > a:
                out.append(n)
        return tuple(out)

    @property
    def turns(self) -> tuple[int, ...]:
        return tuple(sorted({n.turn for n in self.nums}))


@dataclass(frozen=True, slots=True)
class TurnWords:
    """A turn's words as text (single spaces) with char offsets back to word indices."""

    text: str
    starts: tuple[int, ...]
    folded: tuple[str, ...]

    @classmethod
    def of(cls, turn: Turn) -> "TurnWords":
        parts, starts, pos = [], [], 0
        for w in turn.words:
            t = w.text.strip()
            starts.append(pos)
            parts.append(t)
            pos += len(t) + 1
        return cls(" ".join(parts), tuple(starts), tuple(fold(w.text) for w in turn.words))

    def words_in(self, a: int, b: int) -> tuple[int, ...]:
        """Word indices overlapping text[a:b]."""
        if not self.starts:
            return ()
        first = max(0, bisect.bisect_right(self.starts, a) - 1)
        last = max(0, bisect.bisect_right(self.starts, max(a, b - 1)) - 1)
        return tuple(range(first, last + 1))


class PiiDocument:
    """A transcript prepared once for every detector: numbers, digit runs, word text, context look-ups."""

    def __init__(self, transcript: Transcript, language: str | None):
        self.transcript = transcript
        self.language = number_language(language) if language else number_language(transcript.language)
        self.raw_language = (language or transcript.language or "").lower()
        self.turns = transcript.turns
        self.words = [TurnWords.of(t) for t in transcript.turns]
        self.numbers: list[tuple[Num, ...]] = []
        for t_pos, turn in enumerate(transcript.turns):
            toks = spoken_numbers([w.text for w in turn.words], self.language)
            self.numbers.append(tuple(self._num(t_pos, turn, tok) for tok in toks))
        self.runs = tuple(self._build_runs())

    # turn positions: detectors use positions in transcript.turns; PiiSpan refs use Turn.index
    def _num(self, t_pos: int, turn: Turn, tok: NumberToken) -> Num:
        ws = [turn.words[i] for i in tok.words]
        return Num(t_pos, tok.digits, tuple((t_pos, i) for i in tok.words), tok.kind,
                   min(w.start for w in ws), max(w.end for w in ws))

    def _only_fillers(self, t_pos: int, lo: int, hi: int) -> bool:
        """True when every word with index in [lo, hi) is a filler or folds to nothing."""
        folded = self.words[t_pos].folded
        return all((not folded[i]) or is_filler(folded[i], self.language) for i in range(max(lo, 0), min(hi, len(folded))))

    def _is_backchannel(self, t_pos: int) -> bool:
        folded = [f for f in self.words[t_pos].folded if f]
        if len(folded) > JOIN_MAX_OTHER_WORDS:
            return False
        number_words = {i for n in self.numbers[t_pos] for _, i in n.refs}
        return all(
            i in number_words or f in BACKCHANNELS or is_filler(f, self.language)
            for i, f in enumerate(self.words[t_pos].folded) if f
        )

    def _build_runs(self) -> Iterator[DigitRun]:
        open_runs: dict[str, list[Num]] = {}
        open_meta: dict[str, tuple[Role, bool, float]] = {}  # speaker -> (role, plus, last end)
        joinable: dict[str, bool] = {}

        def close(speaker: str) -> Iterator[DigitRun]:
            nums = open_runs.pop(speaker, None)
            role, plus, _ = open_meta.pop(speaker, (Role.UNKNOWN, False, 0.0))
            joinable.pop(speaker, None)
            if nums:
                yield DigitRun(speaker, role, tuple(nums), plus)

        for t_pos, turn in enumerate(self.turns):
            spk = turn.speaker
            # anything but a short back-channel ("mm-hmm", "okay", digits read back) from someone
            # else ends everybody else's open run
            if not self._is_backchannel(t_pos):
                for other in [s for s in open_runs if s != spk]:
                    yield from close(other)
            nums = self.numbers[t_pos]
            prev_word_end = -1  # index of the last word of the previous number in this turn
            for num in nums:
                first_w = min(i for _, i in num.refs)
                last_w = max(i for _, i in num.refs)
                if num.kind in ("amount", "ordinal"):
                    yield from close(spk)
                    prev_word_end = last_w
                    continue
                cont = False
                if spk in open_runs:
                    if prev_word_end >= 0:
                        cont = self._only_fillers(t_pos, prev_word_end + 1, first_w)
                    else:  # first number of this turn: join the same speaker's run from an earlier turn?
                        cont = (joinable.get(spk, False) and self._only_fillers(t_pos, 0, first_w)
                                and num.start - open_meta[spk][2] <= JOIN_GAP_S)
                if not cont:
                    yield from close(spk)
                if num.kind == "plus":
                    yield from close(spk)
                    open_runs[spk] = []
                    open_meta[spk] = (turn.role, True, num.end)
                    prev_word_end = last_w
                    continue
                if spk not in open_runs:
                    open_runs[spk] = []
                    open_meta[spk] = (turn.role, False, num.end)
                open_runs[spk].append(num)
                role, plus, _ = open_meta[spk]
                open_meta[spk] = (role, plus, num.end)
                prev_word_end = last_w
            if spk in open_runs:
                # the run may go on in this speaker's next turn only if nothing but fillers follow it here
                joinable[spk] = prev_word_end >= 0 and self._only_fillers(t_pos, prev_word_end + 1, len(turn.words))
                if not joinable[spk]:
                    yield from close(spk)
        for spk in list(open_runs):
            yield from close(spk)

    # ------------------------------------------------------------------ helpers for detectors

    def turn_index(self, t_pos: int) -> int:
        return self.turns[t_pos].index

    def span_of(self, refs: Iterable[Ref]) -> TimeSpan:
        ws = [self.turns[t].words[w] for t, w in refs]
        return TimeSpan(min(w.start for w in ws), max(w.end for w in ws))

    def context(self, refs: Sequence[Ref], *, after: int = 3, turns: int = CONTEXT_TURNS_BEFORE) -> str:
        """Folded words said before (and just after) ``refs``, with earlier turns: " w1 w2 ... " for matching."""
        t0, w0 = min(refs)
        t1, w1 = max(refs)
        parts: list[str] = []
        start_time = self.turns[t0].words[w0].start
        k, taken = t0 - 1, 0
        earlier: list[str] = []
        while k >= 0 and taken < turns and start_time - self.turns[k].end <= CONTEXT_TURN_S:
            earlier = [f for f in self.words[k].folded[-24:] if f] + earlier
            taken += 1
            k -= 1
        parts.extend(earlier)
        parts.extend(f for f in self.words[t0].folded[max(0, w0 - CONTEXT_WORDS_BEFORE):w0] if f)
        parts.extend(f for f in self.words[t1].folded[w1 + 1:w1 + 1 + after] if f)
        return " " + " ".join(parts) + " "

    def find_context(self, refs: Sequence[Ref], keywords: Sequence[str], *, after: int = 3,
                     turns: int = CONTEXT_TURNS_BEFORE) -> tuple[str, ...]:
        """Which of ``keywords`` (folded; a keyword matches at the start of a word) occur around ``refs``."""
        text = self.context(refs, after=after, turns=turns)
        return tuple(k for k in keywords if " " + k in text)


# --------------------------------------------------------------------------- candidates and detectors


@dataclass(frozen=True, slots=True)
class Candidate:
    """A value a detector believes it found. ``value`` is raw: it never leaves :func:`detect`."""

    entity: str
    score: float
    refs: tuple[Ref, ...]
    value: str
    pattern: str
    checksum: str | None = None
    context: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    detector: str = ""


class Detector(Protocol):
    """A plug-in: ``find`` proposes candidates; ``name`` is set by the registry ("card.v1")."""

    name: str
    entities: tuple[str, ...]

    def find(self, doc: PiiDocument) -> Iterable[Candidate]: ...


def with_context(base: float, found: Sequence[str], boost: float = 0.15) -> float:
    return min(1.0, base + (boost if found else 0.0))


# --------------------------------------------------------------------------- masking


def mask_digits(value: str, *, keep: int = 4, group: int = 4) -> str:
    """``"4532114822310045"`` -> ``"•••• •••• •••• 0045"`` (at most the last ``keep`` digits)."""
    digits = "".join(ch for ch in value if ch.isalnum())
    keep = min(keep, max(0, len(digits) - 4)) if len(digits) <= 8 else keep
    hidden = len(digits) - keep
    blocks = [MASK * min(group, hidden - i) for i in range(0, hidden, group)]
    tail = digits[len(digits) - keep:] if keep else ""
    return " ".join(blocks + ([tail] if tail else []))


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    labels = domain.split(".")
    tld = labels[-1] if len(labels) > 1 else ""
    host = labels[0] if labels else ""
    return f"{local[:1]}{MASK * 3}@{host[:1]}{MASK * 3}" + (f".{tld}" if tld else "")


def mask_value(entity: str, value: str) -> str:
    if entity == "EMAIL":
        return mask_email(value)
    if entity == "PERSON":
        return "[PERSON]"
    if entity == "CVV":
        return MASK * max(3, min(4, len(value)))
    if entity == "CARD_EXPIRY":
        return f"{MASK * 2}/{MASK * 2}"
    if entity == "DATE_OF_BIRTH":
        return f"{MASK * 2}.{MASK * 2}.{MASK * 4}"
    if entity == "IBAN":
        cc, rest = value[:2].upper(), value[4:]
        return f"{cc}{MASK * 2} " + mask_digits(rest)
    if entity == "US_SSN":
        return f"{MASK * 3}-{MASK * 2}-{value[-4:]}" if len(value) == 9 else mask_digits(value)
    return mask_digits(value)


def token_for(entity: str) -> str:
    return f"[{entity}]"


# --------------------------------------------------------------------------- choosing and building findings


def _resolve(cands: Sequence[Candidate], min_score: float) -> list[Candidate]:
    """The best candidates whose words do not overlap, highest confidence first."""
    chosen: list[Candidate] = []
    taken: set[Ref] = set()
    for c in sorted(cands, key=lambda c: (-c.score, -len(c.value), c.refs)):
        if c.score < min_score or not c.refs:
            continue
        if taken.intersection(c.refs):
            continue
        chosen.append(c)
        taken.update(c.refs)
    return sorted(chosen, key=lambda c: min(c.refs))


def _comparable(value: str) -> str:
    return "".join(ch for ch in value.casefold() if ch.isalnum())


def said_within(value: str, said: str) -> bool:
    """``value`` (comparable form) is in what someone ``said``: equal, or -- for numbers of 6 digits or
    more -- a stretch of ``said`` apart by what recogniser slips do (a digit misheard, dropped or doubled:
    at most one edit per 8 digits). ``said`` may go on around it: the recogniser runs numbers said one
    after the other together ("card number, then CVV" heard as one 19-digit number); a short value (3-5
    digits, a CVV) only exactly, at the start or the end of ``said``."""
    if value == said:
        return True
    if not (value.isdigit() and said.isdigit()):
        return False
    if len(value) < 6:  # short (a CVV): exactly, at either end of a number it was run into
        return len(value) >= 3 and (said.startswith(value) or said.endswith(value))
    return _infix_distance(value, said) <= max(1, len(value) // 8)


def _infix_distance(needle: str, hay: str) -> int:
    """Fewest edits that turn ``needle`` into some stretch of ``hay`` (free start and end in ``hay``)."""
    prev = [0] * (len(hay) + 1)
    for i, ch in enumerate(needle, 1):
        cur = [i] + [0] * len(hay)
        for j, hj in enumerate(hay, 1):
            cur[j] = min(prev[j - 1] + (ch != hj), prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return min(prev)


def _tags(doc: PiiDocument, c: Candidate, chosen: Sequence[Candidate]) -> tuple[str, ...]:
    tags = list(c.tags)
    if c.checksum:
        tags.append("checksum_valid")
    if c.context:
        tags.append("context")
    turns = {t for t, _ in c.refs}
    if len(turns) > 1:
        tags.append("split_across_turns")
    role = doc.turns[min(c.refs)[0]].role
    if role == Role.AGENT:
        # Where the customer said the same value: their findings, and their digit runs (a number
        # the recogniser heard a little differently may have been found as another type, or not at all).
        mine = _comparable(c.value)
        said_at = [min(o.refs) for o in chosen
                   if o is not c and doc.turns[min(o.refs)[0]].role == Role.CUSTOMER
                   and said_within(mine, _comparable(o.value))]
        said_at += [min(refs_of(r.nums)) for r in doc.runs
                    if r.role == Role.CUSTOMER and mine.isdigit() and said_within(mine, r.digits)]
        if any(ref < min(c.refs) for ref in said_at):
            tags.append("repeated_from_customer")
        elif not said_at:
            tags.append("agent_only")
    return tuple(dict.fromkeys(tags))


def owner_map(spans_words: Sequence[Sequence[Ref]]) -> dict[Ref, int]:
    """(turn position, word) -> index of the first finding that claims it."""
    owner: dict[Ref, int] = {}
    for k, refs in enumerate(spans_words):
        for ref in refs:
            owner.setdefault(ref, k)
    return owner


def collapse_turn(turn: Turn, t_pos: int, owner: dict[Ref, int]) -> list[tuple[int | None, list[int]]]:
    """Group a turn's words: ``(finding or None, [word indices])``; a finding's consecutive words form one group."""
    groups: list[tuple[int | None, list[int]]] = []
    for i in range(len(turn.words)):
        k = owner.get((t_pos, i))
        if k is not None and groups and groups[-1][0] == k:
            groups[-1][1].append(i)
        else:
            groups.append((k, [i]))
    return groups


def _redacted_layout(turn: Turn, t_pos: int, owner: dict[Ref, int],
                     entities: Sequence[str]) -> tuple[list[str], dict[int, tuple[int, int, int]]]:
    """The redacted turn's words and, per finding, (part index, char_start, char_end) of its first token."""
    parts: list[str] = []
    where: dict[int, tuple[int, int, int]] = {}
    pos = 0
    for k, idx in collapse_turn(turn, t_pos, owner):
        text = turn.words[idx[0]].text.strip() if k is None else token_for(entities[k])
        if not text:
            continue
        if k is not None:
            where.setdefault(k, (len(parts), pos, pos + len(text)))
        parts.append(text)
        pos += len(text) + 1
    return parts, where


def _excerpt(parts: Sequence[str], j: int, masked: str, width: int = 8) -> str:
    """Up to ``width`` redacted words either side of part ``j``, which is shown masked."""
    left = list(parts[max(0, j - width):j])
    right = list(parts[j + 1:j + 1 + width])
    return " ".join((["…"] if j > width else []) + left + [masked] + right + (["…"] if j + 1 + width < len(parts) else []))


def build_spans(doc: PiiDocument, chosen: Sequence[Candidate]) -> tuple[PiiSpan, ...]:
    owner = owner_map([c.refs for c in chosen])
    entities = [c.entity for c in chosen]
    masks = [mask_value(c.entity, c.value) for c in chosen]
    evidence: dict[int, list[Evidence]] = {k: [] for k in range(len(chosen))}
    touched = sorted({t for c in chosen for t, _ in c.refs})
    for t_pos in touched:
        turn = doc.turns[t_pos]
        parts, where = _redacted_layout(turn, t_pos, owner, entities)
        for k, (j, a, b) in sorted(where.items()):
            refs_here = [r for r in chosen[k].refs if r[0] == t_pos]
            evidence[k].append(Evidence(
                turn_index=turn.index, char_start=a, char_end=b, span=doc.span_of(refs_here),
                excerpt=_excerpt(parts, j, masks[k]), role=turn.role,
            ))
    spans = []
    for k, c in enumerate(chosen):
        role = doc.turns[min(c.refs)[0]].role
        turns = sorted({doc.turn_index(t) for t, _ in c.refs})
        parts = [f"{c.detector}: {c.pattern}"]
        if c.checksum:
            parts.append(f"{c.checksum} checksum passed")
        if c.context:
            parts.append("context: " + ", ".join(repr(x) for x in c.context))
        parts.append(f"{len(c.refs)} word(s) in turn(s) {', '.join(map(str, turns))}")
        parts.append(f"confidence {c.score:.2f}")
        spans.append(PiiSpan(
            entity=c.entity, detector=c.detector, score=round(c.score, 3), role=role, span=doc.span_of(c.refs),
            masked=masks[k], explanation="; ".join(parts), evidence=tuple(evidence[k]),
            words=tuple(sorted((doc.turn_index(t), w) for t, w in c.refs)),
            tags=_tags(doc, c, chosen),
        ))
    return tuple(spans)


#: Detectors run by default, in this order.
DEFAULT_DETECTORS = (
    "card.v1", "card_cvv.v1", "card_expiry.v1", "iban.v2", "bank_account.v2", "routing_number.v1", "us_ssn.v1",
    "pl_pesel.v1", "pl_nip.v1", "ru_inn.v1", "ru_snils.v1", "phone.v1", "email.v1", "date_of_birth.v1", "person.v2",
    "long_number.v1",
)


def detect(transcript: Transcript, *, language: str | None = None, detectors: Sequence[str] | None = None,
           min_score: float = MIN_SCORE) -> tuple[PiiSpan, ...]:
    """Sensitive values in a raw transcript (in memory only), as masked findings.

    ``language`` defaults to the transcript's; ``detectors`` to
    :data:`DEFAULT_DETECTORS` (an unknown name raises ConfigError listing the
    known ones). ``PiiSpan.words`` refer to ``transcript``'s (turn index, word
    index); after :func:`callqa.pii.redact_transcript` use the spans it returns.
    """
    names = tuple(detectors) if detectors is not None else DEFAULT_DETECTORS
    dets = [get_detector(n) for n in names]
    doc = PiiDocument(transcript, language)
    cands: list[Candidate] = []
    for det in dets:
        for c in det.find(doc):
            cands.append(c if c.detector else _with_detector(c, det.name))
    chosen = _resolve(cands, min_score)
    spans = build_spans(doc, chosen)
    if log.isEnabledFor(logging.DEBUG):
        counts: dict[str, int] = {}
        for s in spans:
            counts[s.entity] = counts.get(s.entity, 0) + 1
        log.debug("call %s: %d sensitive-data finding(s) %s from %d candidate(s)", transcript.call_id[:12], len(spans),
                  counts, len(cands))
    return spans


def _with_detector(c: Candidate, name: str) -> Candidate:
    return Candidate(c.entity, c.score, c.refs, c.value, c.pattern, c.checksum, c.context, c.tags, name)


def refs_of(nums: Iterable[Num]) -> tuple[Ref, ...]:
    return tuple(sorted({r for n in nums for r in n.refs}))


def is_counting(run: DigitRun) -> bool:
    """Four or more numbers in a row, each one more than the last: "one two three four ..."."""
    values = [int(n.digits) for n in run.nums if n.digits.isdigit()]
    return len(values) >= 4 and all(b == a + 1 for a, b in zip(values, values[1:]))


def aligned_windows(run: DigitRun, lengths: Iterable[int]) -> Iterator[tuple[int, int]]:
    """(start, end) digit offsets of substrings with the given lengths that start and end on number boundaries."""
    bounds = run.boundaries
    lens = sorted(set(lengths), reverse=True)
    for a in sorted(bounds):
        for n in lens:
            if a + n in bounds:
                yield a, a + n


__all__ = [
    "Candidate", "DEFAULT_DETECTORS", "DETECTORS", "Detector", "get_detector", "DigitRun", "ENTITIES", "MIN_SCORE",
    "UNTYPED_ENTITIES",
    "Num", "PiiDocument", "TurnWords", "aligned_windows", "build_spans", "detect", "is_counting", "mask_digits", "mask_email",
    "mask_value", "refs_of", "register", "said_within", "token_for", "with_context",
]

