"""all.v1 / any.v1 / not.v1 / near.v1 on hand-built transcripts."""

from __future__ import annotations

import pytest

from callqa.types import CallMetadata, Outcome

from rules_helpers import check, transcript

OPENING = transcript([
    ("agent", (0.0, "hello thank you for calling northwind bank how can i help")),
    ("customer", (6.0, "i want to pay my bill please")),
    ("agent", (10.0, "of course i can take the payment for the bill now")),
])


@pytest.mark.parametrize("kind, of, outcome", [
    ("all.v1", [{"phrases": ["hello"]}, {"phrases": ["northwind bank"]}], Outcome.PASS),
    ("all.v1", [{"phrases": ["hello"]}, {"phrases": ["southwind bank"]}], Outcome.FAIL),
    ("any.v1", [{"phrases": ["good morning"]}, {"phrases": ["hello"]}], Outcome.PASS),
    ("any.v1", [{"phrases": ["good morning"]}, {"phrases": ["good evening"]}], Outcome.FAIL),
    ("all.v1", [{"phrases": ["hello"]}, {"not": {"phrases": ["calm down"]}}], Outcome.PASS),
    ("all.v1", [{"phrases": ["hello"]}, {"not": {"phrases": ["how can i help"]}}], Outcome.FAIL),
    ("any.v1", [{"all": [{"phrases": ["hello"]}, {"phrases": ["northwind bank"]}]}, {"phrases": ["zzz zzz"]}], Outcome.PASS),
])
def test_all_any_not(kind, of, outcome):
    v = check({"kind": kind, "of": of}, OPENING)
    assert v.outcome == outcome, v.explanation


def test_all_explains_what_is_missing_and_keeps_windows_per_condition():
    rule = {"kind": "all.v1", "of": [{"phrases": ["hello"], "window": {"first_s": 15}},
                                     {"phrases": ["take the payment"], "window": {"first_s": 5}}]}
    v = check(rule, OPENING)
    assert v.outcome == Outcome.FAIL
    assert v.explanation.startswith("Agent did not say 'take the payment' in the first 5 s (00:00.0-00:05.0)")
    assert "outside the window" in v.explanation
    ok = check({"kind": "all.v1", "of": [{"phrases": ["hello"]}, {"phrases": ["northwind bank"]}]}, OPENING)
    assert ok.explanation == 'Agent said "hello" at 00:00.0; agent said "northwind bank" at 00:02.0'
    assert [e.turn_index for e in ok.evidence] == [0, 0]


def test_not_fails_with_the_evidence_of_what_was_said():
    v = check({"kind": "not.v1", "of": {"phrases": ["how can i help"]}}, OPENING)
    assert v.outcome == Outcome.FAIL
    assert v.explanation == 'Agent said "how can i help" at 00:02.8, which the rule forbids'  # 8th word: 7 * 0.4 s
    assert v.evidence[0].turn_index == 0
    assert check({"kind": "not.v1", "of": {"phrases": ["calm down"]}}, OPENING).outcome == Outcome.PASS


def test_composition_is_not_applicable_when_a_condition_cannot_be_judged():
    rule = {"kind": "all.v1", "of": [{"phrases": ["hello"]}, {"phrases": ["my name is {agent_first_name}"]}]}
    assert check(rule, OPENING).outcome == Outcome.NA
    # ... unless the verdict does not depend on it
    rule = {"kind": "all.v1", "of": [{"phrases": ["zzz zzz"]}, {"phrases": ["my name is {agent_first_name}"]}]}
    assert check(rule, OPENING).outcome == Outcome.FAIL
    rule = {"kind": "all.v1", "of": [{"phrases": ["hello"]}, {"phrases": ["{agent_first_name} speaking"]}]}
    assert check(rule, OPENING, metadata=CallMetadata(agent_name="Ann Lee")).outcome == Outcome.FAIL


# --------------------------------------------------------------------------- NEAR

NEAR = transcript([
    ("customer", (0.0, "i want to pay the gas bill today")),       # pay ... bill: 2 words between
    ("agent", (4.0, "you can pay online or by phone and the bill is sent monthly")),  # pay ... bill: 6 between
])


@pytest.mark.parametrize("params, outcome", [
    ({"a": "pay", "b": "bill", "within_words": 2, "speaker": "customer"}, Outcome.PASS),
    ({"a": "pay", "b": "bill", "within_words": 1, "speaker": "customer"}, Outcome.FAIL),
    ({"a": "pay", "b": "bill", "within_words": 6, "speaker": "agent"}, Outcome.PASS),
    ({"a": "pay", "b": "bill", "within_words": 5, "speaker": "agent"}, Outcome.FAIL),
    ({"a": "bill", "b": "pay", "within_words": 2, "speaker": "customer", "ordered": True}, Outcome.FAIL),
    ({"a": "bill", "b": "pay", "within_words": 2, "speaker": "customer"}, Outcome.PASS),
    ({"a": "refund", "b": "bill", "within_words": 50, "speaker": "any"}, Outcome.FAIL),
])
def test_near(params, outcome):
    v = check({"kind": "near.v1", **params}, NEAR)
    assert v.outcome == outcome, v.explanation


def test_near_across_speakers_counts_everybodys_words():
    tr = transcript([("customer", (0.0, "can i pay")), ("agent", (2.0, "the bill yes"))])
    # customer's "pay" then the agent's "the bill": 1 word between in the whole conversation
    base = {"kind": "near.v1", "a": {"phrases": ["pay"], "speaker": "customer"},
            "b": {"phrases": ["bill"], "speaker": "agent"}, "within_words": 1}
    v = check(base, tr)
    assert v.outcome == Outcome.PASS
    assert v.explanation == 'Customer said "pay" at 00:00.8 and agent said "bill" at 00:02.4, 1 word apart (at most 1 allowed)'
    assert check({**base, "same_speaker": True}, tr).outcome == Outcome.FAIL


def test_near_explains_the_distance_when_too_far():
    v = check({"kind": "near.v1", "a": "pay", "b": "bill", "within_words": 3, "speaker": "agent"}, NEAR)
    # "pay" is the agent's 3rd word (4.0 + 2 * 0.4 s), "bill" the 10th (4.0 + 9 * 0.4 s)
    assert v.explanation == 'Agent said "pay" at 00:04.8 and "bill" at 00:07.6, but 6 words apart (at most 3 allowed)'
