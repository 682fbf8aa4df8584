"""Compositions: ALL / ANY / NOT of conditions, and NEAR (two phrases within N words).

A *condition* in a pack is one of::

    {phrases: [...], patterns: [...], speaker: ..., window: ...}   # a phrase condition
    {all: [condition, ...]}                                        # every one holds
    {any: [condition, ...]}                                        # at least one holds
    {not: condition}                                               # it does not hold
    {near: {a: ..., b: ..., within_words: N, same_speaker: ...}}   # a and b close together

and the rule kinds ``all.v1``, ``any.v1`` (``of: [conditions]``), ``not.v1``
(``of: condition``) and ``near.v1`` (the NEAR parameters themselves) score
them. A condition that cannot be judged on a call (roles unknown, a needed
metadata variable missing) makes the composition N/A unless the verdict is
already decided without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Iterable, Union

from pydantic import Discriminator, Field, Tag, field_validator

from callqa.rules.base import RULE_KINDS, CallContext, PackEnv, Rule, RuleHeader, Strict, Verdict, who
from callqa.rules.phrases import Match, PhraseCondition, PhraseSpec, Speaker, Window, missing_explanation, said
from callqa.types import Evidence

MAX_NEAR_HITS = 20


# ---------------------------------------------------------------------------- parameters


class NearSpec(Strict):
    """``a`` and ``b`` said within ``within_words`` words of each other.

    ``speaker`` and ``window`` are the defaults for ``a`` and ``b``. With
    ``same_speaker: true`` both must be said by the same person and the
    distance counts that person's words; otherwise it counts everybody's
    words in time order. ``ordered: true`` requires ``a`` before ``b``.
    """

    a: PhraseSpec
    b: PhraseSpec
    within_words: int = Field(5)
    same_speaker: bool = False
    ordered: bool = False
    speaker: Speaker | None = None
    window: Window | None = None

    @field_validator("within_words")
    @classmethod
    def _range(cls, v: int) -> int:
        if not (0 <= v <= 200):
            raise ValueError(f"{v} is out of range; allowed 0-200 words")
        return v


class AllCond(Strict):
    all: list["Condition"] = Field(min_length=1)


class AnyCond(Strict):
    any: list["Condition"] = Field(min_length=1)


class NotCond(Strict):
    not_: "Condition" = Field(alias="not")


class NearCond(Strict):
    near: NearSpec


def _cond_tag(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("all", "any", "not", "near"):
            if key in value:
                return f"cond:{key}"
    return "cond:phrase"


Condition = Annotated[
    Union[
        Annotated[AllCond, Tag("cond:all")],
        Annotated[AnyCond, Tag("cond:any")],
        Annotated[NotCond, Tag("cond:not")],
        Annotated[NearCond, Tag("cond:near")],
        Annotated[PhraseSpec, Tag("cond:phrase")],
    ],
    Discriminator(_cond_tag),
]
AllCond.model_rebuild()
AnyCond.model_rebuild()
NotCond.model_rebuild()


class ListParams(Strict):
    of: list[Condition] = Field(min_length=1)


class NotParams(Strict):
    of: Condition


class NearParams(NearSpec):
    """Parameters of ``near.v1``."""


# ---------------------------------------------------------------------------- evaluation


@dataclass
class CondResult:
    ok: bool | None  # None: cannot be judged on this call
    text: str
    evidence: list[Evidence] = field(default_factory=list)


class Node:
    def eval(self, ctx: CallContext) -> CondResult:  # pragma: no cover - abstract
        raise NotImplementedError


class PhraseNode(Node):
    def __init__(self, cond: PhraseCondition, *, diagnose: bool = True):
        self.cond = cond
        self.diagnose = diagnose  # say where a missing phrase was said instead (not needed under NOT)

    def eval(self, ctx: CallContext) -> CondResult:
        cond = self.cond
        if (why := cond.unavailable(ctx)) is not None:
            return CondResult(None, why)
        span = cond.span(ctx)
        m = cond.best(ctx, span=span)
        if m is not None:
            text, ev = said(ctx, m)
            return CondResult(True, text, [ev])
        if not self.diagnose:
            speaker = who(cond.speaker, capital=True) if cond.speaker != "any" else "Nobody"
            verb = "did not say" if cond.speaker != "any" else "said"
            return CondResult(False, f"{speaker} {verb} {cond.describe(ctx)} {cond.where(ctx, span)}",
                              [ctx.window_evidence(span, cond.speaker)])
        text, evidence = missing_explanation(ctx, cond, span)
        return CondResult(False, text, evidence)


class AllNode(Node):
    def __init__(self, children: list[Node]):
        self.children = children

    def eval(self, ctx: CallContext) -> CondResult:
        results = [c.eval(ctx) for c in self.children]
        failed = [r for r in results if r.ok is False]
        unknown = [r for r in results if r.ok is None]
        if failed:
            return CondResult(False, _join(r.text for r in failed), [e for r in failed for e in r.evidence])
        if unknown:
            return CondResult(None, unknown[0].text)
        return CondResult(True, _join(r.text for r in results), [e for r in results for e in r.evidence])


class AnyNode(Node):
    def __init__(self, children: list[Node]):
        self.children = children

    def eval(self, ctx: CallContext) -> CondResult:
        results = []
        for c in self.children:
            r = c.eval(ctx)
            if r.ok:
                return r
            results.append(r)
        unknown = [r for r in results if r.ok is None]
        if unknown:
            return CondResult(None, unknown[0].text)
        return CondResult(False, "none of the alternatives held: " + _join(r.text for r in results),
                          [e for r in results for e in r.evidence])


class NotNode(Node):
    def __init__(self, child: Node):
        self.child = child

    def eval(self, ctx: CallContext) -> CondResult:
        r = self.child.eval(ctx)
        if r.ok is None:
            return r
        if r.ok:
            return CondResult(False, r.text + ", which the rule forbids", r.evidence)
        return CondResult(True, r.text, r.evidence)


class NearNode(Node):
    def __init__(self, spec: NearSpec, env: PackEnv, field: str):
        self.spec = spec
        self.a = PhraseCondition(spec.a, env, f"{field}a" if not field else f"{field}.a", speaker=spec.speaker,
                                 window=spec.window)
        self.b = PhraseCondition(spec.b, env, f"{field}b" if not field else f"{field}.b", speaker=spec.speaker,
                                 window=spec.window)

    def eval(self, ctx: CallContext) -> CondResult:
        for cond in (self.a, self.b):
            if (why := cond.unavailable(ctx)) is not None:
                return CondResult(None, why)
        hits_a = self.a.find(ctx, limit=MAX_NEAR_HITS)
        hits_b = self.b.find(ctx, limit=MAX_NEAR_HITS)
        n = self.spec.within_words
        if not hits_a or not hits_b:
            missing = self.a if not hits_a else self.b
            text, evidence = missing_explanation(ctx, missing, missing.span(ctx))
            return CondResult(False, f"{text}, so it cannot be near {self._other(missing).describe(ctx, limit=1)}", evidence)
        best: tuple[int, float, Match, Match] | None = None
        for ma in hits_a:
            for mb in hits_b:
                d = self._distance(ma, mb)
                if d is None:
                    continue
                key = (d, min(ma.start, mb.start))
                if best is None or key < best[:2]:
                    best = (d, key[1], ma, mb)
        if best is None:
            why = "by the same speaker" if self.spec.same_speaker else "in that order"
            return CondResult(False, f"{self.a.describe(ctx, limit=1)} and {self.b.describe(ctx, limit=1)} "
                                     f"were both said, but never {why}")
        d, _, ma, mb = best
        ta, ea = said(ctx, ma)
        tb, eb = said(ctx, mb, prefix="" if mb.role == ma.role else None)
        tb = tb if mb.role == ma.role else tb[:1].lower() + tb[1:]
        words = f"{d} word{'s' if d != 1 else ''} apart"
        if d <= n:
            return CondResult(True, f"{ta} and {tb}, {words} (at most {n} allowed)", [ea, eb])
        return CondResult(False, f"{ta} and {tb}, but {words} (at most {n} allowed)", [ea, eb])

    def _other(self, cond: PhraseCondition) -> PhraseCondition:
        return self.b if cond is self.a else self.a

    def _distance(self, ma: Match, mb: Match) -> int | None:
        """Words strictly between the two hits (0 = adjacent); None when the pair does not qualify."""
        if self.spec.same_speaker and ma.role != mb.role:
            return None
        if self.spec.same_speaker:
            a0, a1, b0, b1 = ma.i, ma.j, mb.i, mb.j
        else:
            a0, a1 = ma.rt.order[ma.i], ma.rt.order[ma.j]
            b0, b1 = mb.rt.order[mb.i], mb.rt.order[mb.j]
        if self.spec.ordered and b0 <= a1:
            return None
        if a1 < b0:
            return b0 - a1 - 1
        if b1 < a0:
            return a0 - b1 - 1
        return 0  # overlapping hits


def build_node(spec: Any, env: PackEnv, field: str) -> Node:
    if isinstance(spec, AllCond):
        return AllNode([build_node(c, env, f"{field}.all[{i}]") for i, c in enumerate(spec.all)])
    if isinstance(spec, AnyCond):
        return AnyNode([build_node(c, env, f"{field}.any[{i}]") for i, c in enumerate(spec.any)])
    if isinstance(spec, NotCond):
        child = build_node(spec.not_, env, f"{field}.not")
        if isinstance(child, PhraseNode):
            child.diagnose = False
        return NotNode(child)
    if isinstance(spec, NearCond):
        return NearNode(spec.near, env, f"{field}.near")
    return PhraseNode(PhraseCondition(spec, env, field))


def _join(texts: Iterable[str]) -> str:
    """Sentences joined with '; ', each after the first starting in lower case."""
    out = [t for t in texts if t]
    return "; ".join([out[0]] + [t[:1].lower() + t[1:] for t in out[1:]]) if out else ""


# ---------------------------------------------------------------------------- rule kinds


def _verdict(r: CondResult) -> Verdict:
    if r.ok is None:
        return Verdict.na(f"Not applicable: {r.text}")
    text = r.text[:1].upper() + r.text[1:]
    return Verdict.passed(text, r.evidence) if r.ok else Verdict.failed(text, r.evidence)


@RULE_KINDS.register("all.v1")
class AllOf(Rule):
    """Passes when every condition under ``of`` holds."""

    Params = ListParams
    summary = "ALL: every condition under 'of' holds"

    def __init__(self, header: RuleHeader, params: ListParams, env: PackEnv):
        super().__init__(header, params, env)
        self.node = AllNode([build_node(c, env, f"of[{i}]") for i, c in enumerate(params.of)])

    def check(self, ctx: CallContext) -> Verdict:
        return _verdict(self.node.eval(ctx))


@RULE_KINDS.register("any.v1")
class AnyOf(Rule):
    """Passes when at least one condition under ``of`` holds."""

    Params = ListParams
    summary = "ANY: at least one condition under 'of' holds"

    def __init__(self, header: RuleHeader, params: ListParams, env: PackEnv):
        super().__init__(header, params, env)
        self.node = AnyNode([build_node(c, env, f"of[{i}]") for i, c in enumerate(params.of)])

    def check(self, ctx: CallContext) -> Verdict:
        return _verdict(self.node.eval(ctx))


@RULE_KINDS.register("not.v1")
class NotOf(Rule):
    """Passes when the condition under ``of`` does not hold."""

    Params = NotParams
    summary = "NOT: the condition under 'of' does not hold"

    def __init__(self, header: RuleHeader, params: NotParams, env: PackEnv):
        super().__init__(header, params, env)
        child = build_node(params.of, env, "of")
        if isinstance(child, PhraseNode):
            child.diagnose = False
        self.node = NotNode(child)

    def check(self, ctx: CallContext) -> Verdict:
        return _verdict(self.node.eval(ctx))


@RULE_KINDS.register("near.v1")
class Near(Rule):
    """Passes when phrase ``a`` and phrase ``b`` are said within ``within_words`` words."""

    Params = NearParams
    summary = "NEAR: phrase a and phrase b within N words of each other"

    def __init__(self, header: RuleHeader, params: NearParams, env: PackEnv):
        super().__init__(header, params, env)
        self.node = NearNode(params, env, "")

    def check(self, ctx: CallContext) -> Verdict:
        return _verdict(self.node.eval(ctx))


__all__ = ["AllOf", "AnyOf", "Condition", "NearSpec", "Near", "NotOf", "build_node"]
