"""metric.v1 thresholds on conversation metrics."""

from __future__ import annotations

import pytest

from callqa.types import Outcome

from rules_helpers import check, transcript

# agent talks 0-2.7 s (7 words) and 12.0-12.3 s; customer 3.0-3.3 s. Silences: 3.3-12.0 (8.7 s).
CALL = transcript([
    ("agent", (0.0, "thank you for calling how can i")),
    ("customer", (3.0, "hi")),
    ("agent", (12.0, "help")),
])


@pytest.mark.parametrize("metric, bounds, outcome", [
    ("longest_silence_s", {"max": 10}, Outcome.PASS),
    ("longest_silence_s", {"max": 8.7}, Outcome.PASS),    # limits are inclusive
    ("longest_silence_s", {"max": 8}, Outcome.FAIL),
    ("agent_talk_ratio", {"min": 0.3, "max": 0.85}, Outcome.FAIL),   # 3.0 / 3.3 = 91 %
    ("agent_talk_ratio", {"max": 0.95}, Outcome.PASS),
    ("customer_turns", {"min": 2}, Outcome.FAIL),
    ("silence_count", {"max": 1}, Outcome.PASS),
    ("time_to_first_agent_word_s", {"max": 0}, Outcome.PASS),
])
def test_metric_thresholds(metric, bounds, outcome):
    v = check({"kind": "metric.v1", "metric": metric, **bounds}, CALL)
    assert v.outcome == outcome, v.explanation


def test_metric_explanation_and_evidence():
    v = check({"kind": "metric.v1", "metric": "longest_silence_s", "max": 8}, CALL)
    assert v.explanation == ("Longest silence 8.7 s (00:03.3-00:12.0, after customer, before agent); "
                             "outside the limit (at most 8.0 s)")
    (ev,) = v.evidence
    assert ev.turn_index is None and ev.span.start == pytest.approx(3.3) and ev.span.end == pytest.approx(12.0)
    v = check({"kind": "metric.v1", "metric": "agent_talk_ratio", "min": 0.3, "max": 0.85}, CALL)
    assert v.explanation == ("Agent share of talk time 91% (agent 3.0 s, customer 0.3 s); outside the limit "
                             "(at least 30% and at most 85%)")


def test_metric_not_applicable():
    customer_only = transcript([("customer", (0.0, "hello anyone there"))])
    v = check({"kind": "metric.v1", "metric": "time_to_first_agent_word_s", "max": 5}, customer_only)
    assert v.outcome == Outcome.NA and "nobody in that role spoke" in v.explanation
    unknown = transcript([("unknown", (0.0, "hello there")), ("unknown", (5.0, "hi"))])
    assert check({"kind": "metric.v1", "metric": "agent_talk_ratio", "max": 0.8}, unknown).outcome == Outcome.NA
    # a metric about nobody in particular still works without roles
    assert check({"kind": "metric.v1", "metric": "longest_silence_s", "max": 10}, unknown).outcome == Outcome.PASS
