"""The scorecard: rule verdicts -> points, section scores, score 0-100, pass / fail / auto-fail.

Arithmetic (also in ``docs/rules.md``):

- a rule that passes earns its ``points``; one that fails earns 0; an N/A
  rule is left out of the possible score (stored with 0 of 0 points);
- a section's share is ``earned / possible`` over its applicable rules;
- section weights: ``weight`` from the pack, or, when a section has none,
  its possible points (so a pack without weights is plain points);
  sections with no applicable rule drop out and the others' weights are
  renormalised;
- ``score = 100 * sum(weight * share) / sum(weight)``, rounded to 0.01;
  ``Evaluation.sections`` holds each section's weighted contribution and its
  maximum, so the contributions add up to the score (before an auto-fail);
- any failed ``critical: true`` rule sets ``auto_failed`` and the score to 0;
- ``passed`` = not auto-failed and score >= the pack's ``pass_mark``. A call
  where no rule applies scores 0 and does not pass, and a call whose speaker
  roles are unknown (mono without diarization) does not pass either: nothing,
  or next to nothing, could be judged, so someone should look at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from callqa import __version__
from callqa.errors import CallQAError, ProcessingError
from callqa.rules.base import CallContext, Rule, Verdict
from callqa.rules.pack import RulePack
from callqa.types import CallMetadata, CallMetrics, Evaluation, Outcome, PiiSpan, RuleResult, Transcript

MAX_SCORE = 100.0


@dataclass(frozen=True, slots=True)
class Scorecard:
    results: tuple[RuleResult, ...]
    score: float
    max_score: float
    passed: bool
    auto_failed: bool
    sections: tuple[tuple[str, float, float], ...]


def rule_result(rule: Rule, verdict: Verdict) -> RuleResult:
    h = rule.header
    points = float(h.points)
    earned = points if verdict.outcome == Outcome.PASS else 0.0
    possible = 0.0 if verdict.outcome == Outcome.NA else points
    return RuleResult(rule_id=h.id, outcome=verdict.outcome, points=earned, max_points=possible, critical=h.critical,
                      explanation=verdict.explanation, evidence=verdict.evidence, title=h.title, section=h.section,
                      kind=h.kind)


def scorecard(pack: RulePack, results: Sequence[RuleResult], *, roles_known: bool = True) -> Scorecard:
    """Score rule results on the pack's sections (see the module docstring for the arithmetic).

    ``roles_known=False`` (nobody in the call is known to be the agent or the
    customer): the call does not pass, whatever the score of the few rules
    that could be judged.
    """
    earned: dict[str, float] = {s.id: 0.0 for s in pack.sections}
    possible: dict[str, float] = {s.id: 0.0 for s in pack.sections}
    for r in results:
        earned[r.section] = earned.get(r.section, 0.0) + r.points
        possible[r.section] = possible.get(r.section, 0.0) + r.max_points
    weights = {s.id: (s.weight if s.weight is not None else possible[s.id]) for s in pack.sections}
    applicable = [s.id for s in pack.sections if possible[s.id] > 0 and weights[s.id] > 0]
    total_weight = sum(weights[s] for s in applicable)
    sections = []
    score = 0.0
    for s in pack.sections:
        if s.id in applicable:
            top = MAX_SCORE * weights[s.id] / total_weight
            got = top * earned[s.id] / possible[s.id]
            score += got
            sections.append((s.id, round(got, 2), round(top, 2)))
        else:
            sections.append((s.id, 0.0, 0.0))
    auto_failed = any(r.critical and r.outcome == Outcome.FAIL for r in results)
    score = 0.0 if auto_failed or not applicable else round(score, 2)
    passed = bool(applicable) and roles_known and not auto_failed and score >= pack.pass_mark - 1e-9
    return Scorecard(tuple(results), score, MAX_SCORE, passed, auto_failed, tuple(sections))


def run_rules(pack: RulePack, ctx: CallContext) -> list[RuleResult]:
    out = []
    for rule in pack.rules:
        try:
            verdict = rule.check(ctx)
        except CallQAError:
            raise
        except Exception as exc:  # a bug in a rule kind: name the rule, never the transcript
            raise ProcessingError(f"rule {rule.id!r} ({rule.header.kind}) failed: {type(exc).__name__}: {exc}",
                                  stage="score") from exc
        out.append(rule_result(rule, verdict))
    return out


def evaluate(pack: RulePack, transcript: Transcript, *, metrics: CallMetrics, pii: Sequence[PiiSpan] | None = None,
             metadata: CallMetadata | None = None, pack_sha256: str | None = None,
             created_at: datetime | None = None, intervals: Any = None) -> Evaluation:
    """Run every rule of ``pack`` on one transcript and score the results.

    ``intervals``: :func:`callqa.metrics.speech_intervals` of the transcript, when already computed.
    """
    ctx = CallContext(transcript, metrics=metrics, pii=pii, metadata=metadata)
    if intervals is not None:
        ctx.cache["intervals"] = intervals
    card = scorecard(pack, run_rules(pack, ctx), roles_known=ctx.roles_known)
    return Evaluation(
        call_id=transcript.call_id, pack=pack.id, pack_version=pack.version, pack_sha256=pack_sha256 or pack.sha256,
        score=card.score, max_score=card.max_score, passed=card.passed, auto_failed=card.auto_failed,
        results=card.results, pii=tuple(pii or ()), metrics=metrics, engine_version=__version__,
        created_at=created_at or datetime.now(timezone.utc), sections=card.sections,
    )


__all__ = ["MAX_SCORE", "Scorecard", "evaluate", "rule_result", "run_rules", "scorecard"]
