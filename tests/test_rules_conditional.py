"""conditional.v1: silent customer, hold announcement, transfer; N/A when the trigger never happens."""

from __future__ import annotations

import pytest

from callqa.types import Outcome

from rules_helpers import check, transcript

SILENT = {"kind": "conditional.v1", "trigger": {"customer_silent": {"min_s": 5}},
          "expect": {"phrases": ["are you there", "can you hear me"]}}
HOLD = {"kind": "conditional.v1", "trigger": {"hold": {"min_s": 5}},
        "expect": {"phrases": ["one moment please", "let me check"]}}
TRANSFER = {"kind": "conditional.v1", "trigger": {"phrase": {"phrases": ["transferring you", "transfer you"]}},
            "expect": {"phrases": ["department", "team"]}}


def end_of(start: float, text: str) -> float:
    """When a turn of ``text`` built by ``transcript`` (0.4 s per word, 0.3 s long) ends."""
    return round(start + 0.4 * (len(text.split()) - 1) + 0.3, 3)


QUESTION = "can i have your account number please?"   # 7 words: 0.0 - 2.7 s


@pytest.mark.parametrize("gap, then, outcome", [
    (6.5, ("agent", "hello are you there i can't hear you"), Outcome.PASS),
    (6.5, ("agent", "so anyway as i was saying"), Outcome.FAIL),
    (6.5, ("customer", "sorry yes it is one two three"), Outcome.NA),   # the customer answered: no silent caller
    (5.0, ("agent", "so anyway"), Outcome.FAIL),                       # exactly the minimum counts
    (4.9, ("agent", "so anyway"), Outcome.NA),
])
def test_silent_customer_after_a_question(gap, then, outcome):
    q_end = end_of(0.0, QUESTION)
    tr = transcript([("agent", (0.0, QUESTION)), (then[0], (q_end + gap, then[1])),
                     ("customer", (q_end + gap + 5.0, "okay thanks"))])
    v = check(SILENT, tr)
    assert v.outcome == outcome, v.explanation


def test_silent_customer_explanations_and_evidence():
    q_end = end_of(0.0, QUESTION)
    tr = transcript([("agent", (0.0, QUESTION)), ("agent", (q_end + 6.5, "hello are you there")),
                     ("customer", (15.0, "yes sorry"))])
    v = check(SILENT, tr)
    assert v.explanation == ("The customer stayed silent 6.5 s after the agent's question at 00:02.7; "
                             'agent said "are you there" at 00:09.6')
    silence, said = v.evidence
    assert silence.turn_index is None and silence.span.duration == pytest.approx(6.5)
    assert silence.excerpt == "silence 00:02.7-00:09.2 (6.5 s) after agent, before agent"
    assert said.turn_index == 1
    bad = transcript([("agent", (0.0, QUESTION)), ("agent", (q_end + 6.5, "so anyway")), ("customer", (15.0, "yes"))])
    v = check(SILENT, bad)
    assert v.explanation == ("The customer stayed silent 6.5 s after the agent's question at 00:02.7; the agent did "
                             "not check the line ('are you there', 'can you hear me'; searched agent speech "
                             "00:09.2-00:15.3)")  # 10 s after the silence, cut at the end of the conversation
    assert v.evidence[1].turn_index is None and v.evidence[1].excerpt == "agent speech 00:09.2-00:15.3"


def test_a_question_is_also_recognised_without_a_question_mark():
    text = "can you confirm your postcode"
    tr = transcript([("agent", (0.0, text)), ("agent", (end_of(0.0, text) + 6.0, "hello can you hear me"))])
    assert check(SILENT, tr).outcome == Outcome.PASS


@pytest.mark.parametrize("before, gap, after_role, after, outcome", [
    # the agent holds the floor and announces it
    (("agent", "one moment please let me check that"), 8.0, "agent", "thank you for holding", Outcome.PASS),
    # ... and does not
    (("agent", "okay"), 8.0, "agent", "right so", Outcome.FAIL),
    # dead air after the customer spoke: the agent had the floor
    (("customer", "why was i charged twice"), 12.0, "agent", "look that is the system", Outcome.FAIL),
    # a silence after an agent question is the customer's: not a hold
    (("agent", "what is your postcode?"), 8.0, "agent", "hello", Outcome.NA),
    # the customer speaks after the silence: not a hold
    (("agent", "okay"), 8.0, "customer", "hello", Outcome.NA),
    # short pauses only
    (("agent", "okay"), 4.0, "agent", "right so", Outcome.NA),
])
def test_hold_announcement(before, gap, after_role, after, outcome):
    tr = transcript([("customer", (0.0, "i need help")), (before[0], (2.0, before[1])),
                     (after_role, (end_of(2.0, before[1]) + gap, after))])
    v = check(HOLD, tr)
    assert v.outcome == outcome, v.explanation


def test_hold_announcement_must_come_shortly_before_the_silence():
    long_talk = " ".join(["and"] * 60)  # 24 s of talk between the announcement and the hold
    tr = transcript([("agent", (0.0, "one moment please")), ("agent", (2.0, long_talk)),
                     ("agent", (end_of(2.0, long_talk) + 8.0, "thanks for waiting"))])
    v = check(HOLD, tr)
    assert v.outcome == Outcome.FAIL
    assert v.explanation.startswith("8.0 s of silence at 00:25.9 while the agent had the floor; the agent did not "
                                    "announce it ('one moment please', 'let me check'; searched agent speech "
                                    "00:05.9-00:25.9)")
    assert check({**HOLD, "within": {"before_s": 30}}, tr).outcome == Outcome.PASS


def test_every_hold_needs_its_announcement():
    customer_talk = " ".join(["words"] * 50)  # 10.1 - 30.0 s
    tr = transcript([
        ("agent", (0.0, "one moment please")), ("agent", (8.0, "thanks okay")),  # hold 1.1-8.0 s, announced
        ("customer", (9.0, "great thanks")), ("customer", (10.1, customer_talk)),
        ("agent", (30.5, "right")), ("agent", (38.8, "here we are")),           # hold 30.8-38.8 s, not announced
    ])
    v = check(HOLD, tr)
    assert v.outcome == Outcome.FAIL and v.explanation.endswith("(1 of 2 times)")
    assert check({**HOLD, "require": "any"}, tr).outcome == Outcome.PASS


@pytest.mark.parametrize("agent, outcome", [
    ("i am transferring you to our mortgage department now", Outcome.PASS),
    ("the mortgage team handles that so i am transferring you now", Outcome.PASS),  # said just before
    ("i am transferring you now", Outcome.FAIL),
    ("i will answer that myself", Outcome.NA),
])
def test_transfer_announcement(agent, outcome):
    tr = transcript([("customer", (0.0, "a question about my mortgage")), ("agent", (3.0, agent)),
                     ("customer", (12.0, "okay thank you"))])
    v = check(TRANSFER, tr)
    assert v.outcome == outcome, v.explanation
    if outcome == Outcome.NA:
        assert v.explanation == "Not applicable: the agent never said 'transferring you', 'transfer you'"


def test_transfer_phrase_from_the_customer_does_not_trigger():
    tr = transcript([("customer", (0.0, "can you transfer you know the money")), ("agent", (4.0, "sure"))])
    assert check(TRANSFER, tr).outcome == Outcome.NA


def test_conditional_rules_need_roles():
    tr = transcript([("unknown", (0.0, "what is your postcode?")), ("unknown", (10.0, "hello"))])
    assert check(HOLD, tr).outcome == Outcome.NA


@pytest.mark.parametrize("question, v2, v1", [
    # recognisers punctuate "..., please?" so; v1 (released) judges the last "sentence" alone
    ("can i have your account number? please.", Outcome.PASS, Outcome.NA),
    ("what is your postcode? thank you.", Outcome.PASS, Outcome.NA),
    ("i will check your account. please.", Outcome.NA, Outcome.NA),      # a statement stays a statement
    ("please.", Outcome.NA, Outcome.NA),                                  # courtesy words alone ask nothing
])
def test_courtesy_words_after_a_question_do_not_hide_it(question, v2, v1):
    tr = transcript([("agent", (0.0, question)), ("agent", (end_of(0.0, question) + 6.0, "hello are you there"))])
    assert check({**SILENT, "kind": "conditional.v2"}, tr).outcome == v2
    assert check(SILENT, tr).outcome == v1
