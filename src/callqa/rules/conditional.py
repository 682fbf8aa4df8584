"""Conditional rules: *if* something happens, the agent must say something; N/A when it never happens.

``conditional.v1`` takes a ``trigger`` and an ``expect`` phrase condition:

- ``customer_silent: {min_s: 5}``: after an agent *question* nobody speaks for
  at least ``min_s`` and the agent is the next to speak (the customer stayed
  silent). Expected: the agent checks the line ("are you there?") when they
  speak again -- searched from the end of the silence, ``after_s`` (10 s).
- ``hold: {min_s: 5}``: a silence of at least ``min_s`` while the agent has
  the floor (the agent speaks next, and the speech before it was not an
  agent question, which would give the floor to the customer). Expected: the
  agent announces the hold *before* it -- searched in the ``before_s`` (20 s)
  before the silence.
- ``phrase: {phrases: [...], ...}``: every time the trigger phrase is said
  (e.g. a transfer). Expected: a phrase within ``before_s``/``after_s``
  (30 s / 30 s) of it.

``require: each`` (default for silences) needs the expected phrase for every
occurrence; ``require: any`` (default for phrase triggers) for at least one.
A question is an agent utterance whose last word ends with ``?``, or whose
last sentence starts with a question word of the pack's language.

``conditional.v2`` is the same, except that a last "sentence" of courtesy
words only ("Can I have your account number? Please.", as recognisers often
punctuate "..., please?") does not hide the question before it; in v1 the
silence after it counts as a hold instead of a silent caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import field_validator, model_validator

from callqa.metrics import find_silences, speech_intervals
from callqa.rules.base import (
    RULE_KINDS,
    CallContext,
    PackEnv,
    PackProblem,
    Rule,
    RuleHeader,
    Strict,
    Verdict,
    clock,
    clock_span,
    seconds,
    who,
)
from callqa.rules.phrases import Match, PhraseCondition, PhraseSpec, said
from callqa.types import Evidence, Outcome, Role, Silence, TimeSpan

QUESTION_STARTERS: dict[str, frozenset[str]] = {
    "en": frozenset("can could would will may do does did is are was were have has had shall should what when where "
                    "which who whom whose why how".split()),
    "ru": frozenset("как какой какая какое какие что чем где когда почему зачем кто сколько можете можно могу "
                    "могли ли скажите".split()),
    "pl": frozenset("czy jak jaki jaka jakie co gdzie kiedy dlaczego kto ile może mogę".split()),
}
_SENTENCE_END = (".", "!", "?", "…")
#: Words a speaker adds after a question without making it a statement ("... number? Please.").
COURTESY_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("please thanks thank you sir madam ma'am miss okay ok then now".split()),
    "ru": frozenset("пожалуйста спасибо будьте добры".split()),
    "pl": frozenset("proszę dziękuję pani panie pana".split()),
}


class SilenceTrigger(Strict):
    min_s: float = 5.0

    @field_validator("min_s")
    @classmethod
    def _range(cls, v: float) -> float:
        if not (0 < v <= 3600):
            raise ValueError(f"{v:g} is out of range; allowed more than 0 and at most 3600 seconds")
        return v


class TriggerSpec(Strict):
    """Exactly one of ``customer_silent``, ``hold`` or ``phrase``."""

    customer_silent: SilenceTrigger | None = None
    hold: SilenceTrigger | None = None
    phrase: PhraseSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> "TriggerSpec":
        given = [k for k in ("customer_silent", "hold", "phrase") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one trigger: customer_silent, hold or phrase"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self

    @property
    def name(self) -> str:
        return next(k for k in ("customer_silent", "hold", "phrase") if getattr(self, k) is not None)


class Within(Strict):
    before_s: float | None = None
    after_s: float | None = None

    @field_validator("before_s", "after_s")
    @classmethod
    def _range(cls, v: float | None) -> float | None:
        if v is not None and not (0 <= v <= 3600):
            raise ValueError(f"{v:g} is out of range; allowed 0-3600 seconds")
        return v


class ConditionalParams(Strict):
    trigger: TriggerSpec
    expect: PhraseSpec
    within: Within | None = None
    require: Literal["each", "any"] | None = None


DEFAULT_WITHIN = {"customer_silent": (0.0, 10.0), "hold": (20.0, 0.0), "phrase": (30.0, 30.0)}


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One time the trigger happened, and where the expected phrase is searched for it."""

    what: str  # one line: "customer silent 6.5 s after the agent's question at 00:12.3"
    span: TimeSpan
    search: TimeSpan
    evidence: Evidence


@RULE_KINDS.register("conditional.v1")
class Conditional(Rule):
    Params = ConditionalParams
    summary = "conditional: if the trigger happens, the expected phrase must be said (N/A otherwise)"
    #: v2: courtesy words after a question ("... number? Please.") do not make it a statement
    COURTESY_AFTER_QUESTIONS = False

    def __init__(self, header: RuleHeader, params: ConditionalParams, env: PackEnv):
        super().__init__(header, params, env)
        if params.expect.window is not None:
            raise PackProblem("expect.window", "not used by conditional rules; say where to search with "
                                               "'within: {before_s: ..., after_s: ...}' (relative to the trigger)")
        self.kind = params.trigger.name
        self.expect = PhraseCondition(params.expect, env, "expect")
        self.trigger_phrase = (PhraseCondition(params.trigger.phrase, env, "trigger.phrase")
                               if params.trigger.phrase is not None else None)
        before, after = DEFAULT_WITHIN[self.kind]
        if params.within is not None:
            before = params.within.before_s if params.within.before_s is not None else before
            after = params.within.after_s if params.within.after_s is not None else after
        self.before_s, self.after_s = before, after
        self.require = params.require or ("any" if self.kind == "phrase" else "each")
        self.language = env.language

    # -- triggers --------------------------------------------------------------------------

    def _silences(self, ctx: CallContext, min_s: float) -> list[Silence]:
        key = ("silences", min_s)
        cached = ctx.cache.get(key)
        if cached is None:
            intervals = ctx.cache.get("intervals")
            if intervals is None:
                intervals = ctx.cache["intervals"] = speech_intervals(ctx.transcript)
            cached = ctx.cache[key] = find_silences(intervals, min_silence_s=min_s)
        return cached

    def _agent_question_before(self, ctx: CallContext, t: float) -> tuple[bool, tuple[int, int] | None]:
        """Was the agent's last utterance before ``t`` a question? And the ref of its last word."""
        rt = ctx.role_text(Role.AGENT)
        k = rt.word_range(float("-inf"), t)[1] - 1
        while k >= 0 and rt.ends[k] > t + 0.05:
            k -= 1
        if k < 0:
            return False, None
        ti, wi = rt.refs[k]
        words = ctx.turns[ti].words
        starters = QUESTION_STARTERS.get(self.language, QUESTION_STARTERS["en"])
        courtesy = COURTESY_WORDS.get(self.language, COURTESY_WORDS["en"])
        end = wi
        while True:
            if words[end].text.strip().endswith("?"):
                return True, (ti, wi)
            j = end
            while j > 0 and not words[j - 1].text.strip().endswith(_SENTENCE_END):
                j -= 1
            first = words[j].text.strip().strip("¿¡\"'(").lower()
            if first.strip(",.") in starters:
                return True, (ti, wi)
            only_courtesy = all(w.text.strip(" ,.!…").lower() in courtesy for w in words[j:end + 1])
            if not (self.COURTESY_AFTER_QUESTIONS and only_courtesy and j > 0):
                return False, (ti, wi)
            end = j - 1  # "... number? Please.": judge the sentence before the courtesy words

    def occurrences(self, ctx: CallContext, *, limit: int = 10) -> list[Occurrence]:
        """Every time the trigger happened (phrase triggers: up to ``limit`` hits per variant)."""
        trig = self.params.trigger
        out: list[Occurrence] = []
        if self.kind in ("customer_silent", "hold"):
            spec = trig.customer_silent or trig.hold
            for s in self._silences(ctx, spec.min_s):
                if s.after != Role.AGENT:
                    continue
                question, ref = (self._agent_question_before(ctx, s.span.start) if s.before == Role.AGENT
                                 else (False, None))
                d = s.span.duration
                if self.kind == "customer_silent":
                    if not question:
                        continue
                    what = f"the customer stayed silent {seconds(d)} after the agent's question at {clock(s.span.start)}"
                    search = TimeSpan(s.span.end, s.span.end + self.after_s)
                else:
                    if question:
                        continue
                    what = f"{seconds(d)} of silence at {clock(s.span.start)} while the agent had the floor"
                    search = TimeSpan(max(0.0, s.span.start - self.before_s), s.span.start + self.after_s)
                ev = Evidence(turn_index=None, char_start=0, char_end=0, span=s.span,
                              excerpt=f"silence {clock_span(s.span)} ({seconds(d)}) after {who(s.before)}, "
                                      f"before {who(s.after)}", role=None)
                out.append(Occurrence(what, s.span, search, ev))
        else:
            assert self.trigger_phrase is not None
            hits = sorted(self.trigger_phrase.find(ctx, limit=limit), key=lambda m: (m.start, -m.score))
            seen: list[Match] = []
            for m in hits:
                if any(o.role == m.role and not (m.j < o.i or m.i > o.j) for o in seen):
                    continue
                seen.append(m)
                text, ev = said(ctx, m)
                what = text[:1].lower() + text[1:]
                search = TimeSpan(max(0.0, m.start - self.before_s), m.end + self.after_s)
                out.append(Occurrence(what, TimeSpan(m.start, m.end), search, ev))
        return out

    def _never(self) -> str:
        trig = self.params.trigger
        if self.kind == "customer_silent":
            return f"no agent question was followed by {trig.customer_silent.min_s:g} s or more of customer silence"
        if self.kind == "hold":
            return f"no silence of {trig.hold.min_s:g} s or more while the agent had the floor"
        assert self.trigger_phrase is not None
        if self.trigger_phrase.speaker == "any":
            return f"nobody said {self.trigger_phrase.describe()}"
        return f"the {who(self.trigger_phrase.speaker)} never said {self.trigger_phrase.describe()}"

    # -- verdict ---------------------------------------------------------------------------

    def check(self, ctx: CallContext) -> Verdict:
        for cond in (self.expect, self.trigger_phrase):
            if cond is not None and (why := cond.unavailable(ctx)) is not None:
                return Verdict.na(f"Not applicable: {why}")
        if self.kind != "phrase" and not ctx.roles_known:
            return Verdict.na("Not applicable: speaker roles are unknown for this call, so who holds the floor "
                              "cannot be told")
        # "any" needs one satisfied occurrence: try the best hit of each trigger variant first
        occ = self.occurrences(ctx, limit=1 if self.require == "any" else 10)
        if not occ:
            return Verdict.na(f"Not applicable: {self._never()}")
        verdict = self._judge(ctx, occ)
        if verdict.outcome == Outcome.FAIL and self.require == "any" and self.kind == "phrase":
            verdict = self._judge(ctx, self.occurrences(ctx, limit=10))
        return verdict

    def _judge(self, ctx: CallContext, occ: list[Occurrence]) -> Verdict:
        conv = ctx.conversation
        occ = [Occurrence(o.what, o.span, TimeSpan(max(o.search.start, conv.start), max(max(o.search.start, conv.start),
                                                                                    min(o.search.end, conv.end))),
                          o.evidence) for o in occ]
        results: list[tuple[Occurrence, Match | None]] = []
        seen: dict[tuple[float, float], Match | None] = {}  # occurrences often share the searched span
        for o in occ:
            key = (o.search.start, o.search.end)
            if key not in seen:
                seen[key] = self.expect.best(ctx, span=o.search)
            results.append((o, seen[key]))
            if self.require == "any" and results[-1][1] is not None:
                break
        ok = [(o, m) for o, m in results if m is not None]
        bad = [(o, m) for o, m in results if m is None]
        passed = bool(ok) if self.require == "any" else not bad
        expect_who = who(self.expect.speaker, capital=False) if self.expect.speaker != "any" else "someone"
        if passed:
            o, m = ok[0]
            text, ev = said(ctx, m)
            line = f"{_cap(o.what)}; {text[:1].lower() + text[1:]}"
            if self.require == "each" and len(results) > 1:
                line += f" (all {len(results)} times)"
            return Verdict.passed(line, [o.evidence, ev])
        o, _ = bad[0]
        verb = {"customer_silent": "check the line", "hold": "announce it",
                "phrase": "say"}[self.kind]
        searched = f"searched {expect_who} speech {clock_span(o.search)}"
        line = (f"{_cap(o.what)}; the {expect_who} did not {verb} ({self.expect.describe(ctx)}; {searched})"
                if self.kind != "phrase" else
                f"{_cap(o.what)}; the {expect_who} did not say {self.expect.describe(ctx)} ({searched})")
        if self.require == "each" and len(results) > 1:
            line += f" ({len(bad)} of {len(results)} times)"
        return Verdict.failed(line, [o.evidence, ctx.window_evidence(o.search, self.expect.speaker)])


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


@RULE_KINDS.register("conditional.v2")
class ConditionalV2(Conditional):
    summary = ("conditional: if the trigger happens, the expected phrase must be said (N/A otherwise); "
               "courtesy words after a question keep it a question")
    COURTESY_AFTER_QUESTIONS = True


__all__ = ["COURTESY_WORDS", "Conditional", "ConditionalParams", "ConditionalV2", "QUESTION_STARTERS", "TriggerSpec",
           "Within"]
