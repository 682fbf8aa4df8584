"""Scorecard arithmetic: points, N/A left out, section weights, critical auto-fail, pass mark."""

from __future__ import annotations

import pytest

from callqa.evaluate import scorecard
from callqa.types import Outcome, RuleResult

from rules_helpers import make_pack

P, F, NA = Outcome.PASS, Outcome.FAIL, Outcome.NA


def results(pack, outcomes: dict[str, Outcome]) -> list[RuleResult]:
    out = []
    for rule in pack.rules:
        h = rule.header
        o = outcomes[h.id]
        out.append(RuleResult(rule_id=h.id, outcome=o, points=h.points if o == P else 0.0,
                              max_points=0.0 if o == NA else h.points, critical=h.critical, explanation="",
                              section=h.section))
    return out


def pack(weights=(None, None), pass_mark=80, critical=False):
    sections = [{"id": "a", "title": "A", **({"weight": weights[0]} if weights[0] is not None else {})},
                {"id": "b", "title": "B", **({"weight": weights[1]} if weights[1] is not None else {})}]
    rules = [
        {"id": "a1", "section": "a", "kind": "phrase.v1", "phrases": ["x"], "points": 10},
        {"id": "a2", "section": "a", "kind": "phrase.v1", "phrases": ["x"], "points": 30},
        {"id": "b1", "section": "b", "kind": "phrase.v1", "phrases": ["x"], "points": 20},
        {"id": "b2", "section": "b", "kind": "privacy.v1", "points": 0, "critical": critical},
    ]
    return make_pack(rules, sections=sections, pass_mark=pass_mark)


@pytest.mark.parametrize("weights, outcomes, score, sections", [
    # no weights: plain points. 10 + 20 of 60
    ((None, None), {"a1": P, "a2": F, "b1": P, "b2": P}, 50.0, [("a", 16.67, 66.67), ("b", 33.33, 33.33)]),
    # N/A leaves the possible score: a2 N/A -> 30 of 30
    ((None, None), {"a1": P, "a2": NA, "b1": P, "b2": P}, 100.0, [("a", 33.33, 33.33), ("b", 66.67, 66.67)]),
    # weights 1:3; section a 10/40 = 25 %, section b 100 % -> 0.25 * 25 + 1.0 * 75
    ((1, 3), {"a1": P, "a2": F, "b1": P, "b2": P}, 81.25, [("a", 6.25, 25.0), ("b", 75.0, 75.0)]),
    # a section whose rules are all N/A drops out; the others are renormalised
    ((1, 3), {"a1": NA, "a2": NA, "b1": F, "b2": P}, 0.0, [("a", 0.0, 0.0), ("b", 0.0, 100.0)]),
    ((1, 3), {"a1": P, "a2": P, "b1": NA, "b2": NA}, 100.0, [("a", 100.0, 100.0), ("b", 0.0, 0.0)]),
])
def test_weighted_score(weights, outcomes, score, sections):
    p = pack(weights)
    card = scorecard(p, results(p, outcomes))
    assert card.score == pytest.approx(score)
    assert card.max_score == 100.0
    assert [(s, a, b) for s, a, b in card.sections] == [(s, pytest.approx(a), pytest.approx(b)) for s, a, b in sections]
    assert not card.auto_failed


@pytest.mark.parametrize("pass_mark, outcomes, passed", [
    (80, {"a1": P, "a2": P, "b1": P, "b2": P}, True),
    (80, {"a1": F, "a2": P, "b1": P, "b2": P}, True),      # 50 of 60 = 83.3
    (85, {"a1": F, "a2": P, "b1": P, "b2": P}, False),
    (50, {"a1": P, "a2": F, "b1": P, "b2": P}, True),      # exactly the pass mark passes
])
def test_pass_mark(pass_mark, outcomes, passed):
    p = pack(pass_mark=pass_mark)
    assert scorecard(p, results(p, outcomes)).passed is passed


def test_failed_critical_rule_auto_fails_with_score_zero():
    p = pack(critical=True)
    card = scorecard(p, results(p, {"a1": P, "a2": P, "b1": P, "b2": F}))
    assert card.auto_failed and card.score == 0.0 and not card.passed
    # the sections still show where the points were
    assert card.sections[0] == ("a", pytest.approx(66.67), pytest.approx(66.67))
    # an N/A critical rule does not auto-fail
    card = scorecard(p, results(p, {"a1": P, "a2": P, "b1": P, "b2": NA}))
    assert not card.auto_failed and card.score == 100.0 and card.passed


def test_nothing_applicable_scores_zero_and_does_not_pass():
    p = pack()
    card = scorecard(p, results(p, {"a1": NA, "a2": NA, "b1": NA, "b2": NA}))
    assert card.score == 0.0 and not card.passed and not card.auto_failed


def test_rule_points_in_results_exclude_na():
    from callqa.evaluate import rule_result
    from callqa.rules.base import Verdict

    p = pack()
    r = rule_result(p.rule("a2"), Verdict.na("Not applicable: x"))
    assert (r.points, r.max_points, r.outcome, r.section, r.kind, r.title) == (0.0, 0.0, NA, "a", "phrase.v1", "rule 1")
    r = rule_result(p.rule("a2"), Verdict.failed("y"))
    assert (r.points, r.max_points) == (0.0, 30.0)


def test_a_call_with_unknown_roles_does_not_pass():
    from callqa.metrics import compute_metrics
    from callqa.evaluate import evaluate
    from rules_helpers import transcript

    p = make_pack([{"id": "greet", "kind": "phrase.v1", "phrases": ["hello"]},
                   {"id": "air", "kind": "metric.v1", "metric": "longest_silence_s", "max": 10}])
    tr = transcript([("unknown", (0.0, "hello there"))])
    ev = evaluate(p, tr, metrics=compute_metrics(tr))
    assert [r.outcome for r in ev.results] == [NA, P]
    assert ev.score == 100.0 and not ev.passed and not ev.auto_failed
