"""``privacy.v1``: fails when a sensitive-data finding of the given kind exists.

It reads the :class:`~callqa.types.PiiSpan` findings of the sensitive-data
detectors (``callqa.pii``), never the raw values: ``entities`` (empty = any),
``said_by`` (agent / customer / any), ``require_tags`` (all must be on the
finding) and ``forbid_tags`` (none may be), ``min_score``. The detectors
decide facts while the raw value is in memory and record them as tags, e.g.
``full_number`` (a complete card number, not just the last four digits),
``repeated_from_customer`` (the agent said back what the customer said) and
``agent_only`` (the agent said it and the customer never did).

When no detector ran on the call (``pii=None``) the rule is N/A, with the
reason "sensitive-data detection did not run". Explanations quote only the
finding's masked form (at most the last four digits).
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from callqa.rules.base import RULE_KINDS, CallContext, PackEnv, Rule, RuleHeader, Strict, Verdict, clock, who
from callqa.rules.phrases import Speaker
from callqa.types import Evidence, PiiSpan

MAX_EVIDENCE = 5
_ENTITY = re.compile(r"^[A-Z][A-Z0-9_]*$")
_TAG = re.compile(r"^[a-z][a-z0-9_]*$")


class PrivacyParams(Strict):
    entities: list[str] = Field(default_factory=list)
    said_by: Speaker = "agent"
    require_tags: list[str] = Field(default_factory=list)
    forbid_tags: list[str] = Field(default_factory=list)
    min_score: float = 0.0

    @field_validator("entities")
    @classmethod
    def _entities(cls, v: list[str]) -> list[str]:
        for e in v:
            if not _ENTITY.match(e):
                raise ValueError(f"{e!r} is not an entity name; use upper case like CARD_NUMBER, CVV, IBAN")
        return v

    @field_validator("require_tags", "forbid_tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        for t in v:
            if not _TAG.match(t):
                raise ValueError(f"{t!r} is not a tag name; use lower case like full_number, repeated_from_customer")
        return v

    @field_validator("min_score")
    @classmethod
    def _score(cls, v: float) -> float:
        if not (0 <= v <= 1):
            raise ValueError(f"{v:g} is out of range; allowed 0-1 (detector confidence)")
        return v


#: How a required tag reads in an explanation ("No card number said by the agent in full").
TAG_TEXT = {
    "full_number": "in full",
    "agent_only": "that the customer did not say",
    "repeated_from_customer": "repeating what the customer said",
}


def _label(entity: str) -> str:
    return entity.replace("_", " ").lower()


@RULE_KINDS.register("privacy.v1")
class PrivacyRule(Rule):
    Params = PrivacyParams
    summary = "privacy: fails when a matching sensitive-data finding exists (N/A if detection did not run)"

    def __init__(self, header: RuleHeader, params: PrivacyParams, env: PackEnv):
        super().__init__(header, params, env)
        self.entities = frozenset(params.entities)

    def matches(self, span: PiiSpan) -> bool:
        p = self.params
        if self.entities and span.entity not in self.entities:
            return False
        if p.said_by != "any" and span.role.value != p.said_by:
            return False
        tags = set(span.tags)
        return (span.score >= p.min_score and all(t in tags for t in p.require_tags)
                and not any(t in tags for t in p.forbid_tags))

    def _what(self) -> str:
        p = self.params
        if not p.entities or len(p.entities) > 3:
            kinds = "sensitive data"
        else:
            kinds = " or ".join(_label(e) for e in p.entities)
        by = f" said by the {p.said_by}" if p.said_by != "any" else ""
        extra = "".join(f" {TAG_TEXT.get(t, f'tagged {t}')}" for t in p.require_tags)
        return f"{kinds}{by}{extra}"

    def check(self, ctx: CallContext) -> Verdict:
        if ctx.pii is None:
            return Verdict.na("Not applicable: sensitive-data detection did not run")
        found = sorted((s for s in ctx.pii if self.matches(s)), key=lambda s: (s.span.start, s.entity))
        if not found:
            return Verdict.passed(f"No {self._what()} ({len(ctx.pii)} finding{'s' if len(ctx.pii) != 1 else ''} "
                                  f"checked)")
        first = found[0]
        tags = f" ({', '.join(first.tags)})" if first.tags else ""
        text = (f"{who(first.role, capital=True)} said a {_label(first.entity)} ({first.masked}) at "
                f"{clock(first.span.start)}{tags}, found by {first.detector}")
        if len(found) > 1:
            text += f"; {len(found) - 1} more finding{'s' if len(found) > 2 else ''}"
        return Verdict.failed(text, [self._evidence(ctx, s) for s in found[:MAX_EVIDENCE]])

    @staticmethod
    def _evidence(ctx: CallContext, s: PiiSpan) -> Evidence:
        turn = s.words[0][0] if s.words else (s.evidence[0].turn_index if s.evidence else None)
        c0 = c1 = 0
        if s.words and turn in ctx.turns:
            offsets = ctx.turn_offsets(turn)
            inside = [offsets[w] for t, w in s.words if t == turn and w < len(offsets) and offsets[w] is not None]
            if inside:
                c0, c1 = inside[0][0], inside[-1][1]
        elif s.evidence:
            c0, c1 = s.evidence[0].char_start, s.evidence[0].char_end
        return Evidence(turn_index=turn, char_start=c0, char_end=c1, span=s.span,
                        excerpt=f"{_label(s.entity)} {s.masked}", role=s.role)


__all__ = ["PrivacyParams", "PrivacyRule"]
