"""privacy.v1: reads the masked findings of the sensitive-data detectors (never raw values)."""

from __future__ import annotations

import pytest

from callqa.types import Evidence, Outcome, PiiSpan, Role, TimeSpan

from rules_helpers import check, transcript

CALL = transcript([
    ("customer", (0.0, "it is [CARD_NUMBER]")),
    ("agent", (3.0, "so that is [CARD_NUMBER] right")),
])


def span(entity="CARD_NUMBER", role=Role.AGENT, tags=("full_number", "repeated_from_customer"), score=0.95, turn=1):
    return PiiSpan(entity=entity, detector="card.v1", score=score, role=role, span=TimeSpan(4.2, 4.5),
                   masked="•••• •••• •••• 9903", explanation="Luhn-valid 16-digit number", words=((turn, 3),), tags=tags,
                   evidence=(Evidence(turn, 11, 24, TimeSpan(4.2, 4.5), "•••• 9903", role),))


READ_BACK = {"kind": "privacy.v1", "entities": ["CARD_NUMBER"], "said_by": "agent", "require_tags": ["full_number"]}


@pytest.mark.parametrize("rule, pii, outcome", [
    (READ_BACK, [span()], Outcome.FAIL),
    (READ_BACK, [span(role=Role.CUSTOMER, turn=0)], Outcome.PASS),            # the customer may say their number
    (READ_BACK, [span(tags=("last_four",))], Outcome.PASS),                   # not the full number
    (READ_BACK, [], Outcome.PASS),                                            # detection ran, found nothing
    (READ_BACK, None, Outcome.NA),                                            # detection did not run
    ({**READ_BACK, "forbid_tags": ["repeated_from_customer"]}, [span()], Outcome.PASS),
    ({**READ_BACK, "min_score": 0.99}, [span()], Outcome.PASS),
    ({"kind": "privacy.v1", "entities": ["CVV"]}, [span()], Outcome.PASS),
    ({"kind": "privacy.v1", "said_by": "any"}, [span(role=Role.CUSTOMER, turn=0)], Outcome.FAIL),  # any entity
])
def test_privacy_rule(rule, pii, outcome):
    v = check(rule, CALL, pii=pii)
    assert v.outcome == outcome, v.explanation


def test_privacy_explanation_is_masked_and_evidence_points_at_the_words():
    v = check(READ_BACK, CALL, pii=[span()])
    assert v.explanation == ("Agent said a card number (•••• •••• •••• 9903) at 00:04.2 (full_number, "
                             "repeated_from_customer), found by card.v1")
    (ev,) = v.evidence
    assert ev.turn_index == 1 and ev.role == Role.AGENT and ev.excerpt == "card number •••• •••• •••• 9903"
    assert CALL.turns[1].text[ev.char_start:ev.char_end] == "[CARD_NUMBER]"
    assert "9903" not in v.explanation.replace("•••• •••• •••• 9903", "")
    na = check(READ_BACK, CALL, pii=None)
    assert na.explanation == "Not applicable: sensitive-data detection did not run"
