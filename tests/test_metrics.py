"""Conversation metrics on hand-built transcripts; expected values worked out by hand in the comments."""

from __future__ import annotations

import pytest

from callqa.metrics import compute_metrics, merge_spans, metric_value
from callqa.types import Overlap, Role, Silence, TimeSpan

from rules_helpers import transcript


def two_party():
    # agent: "hello" 0.5-0.9, "thanks" 1.0-1.4 (gap 0.1 < 0.3: one stretch 0.5-1.4 = 0.9 s),
    #        "for" 1.8-2.2 (gap 0.4: a new stretch, 0.4 s)            -> agent talk 1.3 s, 3 words
    # customer: "hi" 5.0-5.5, "there" 5.6-6.0 (one stretch, 1.0 s)    -> customer talk 1.0 s, 2 words
    # silence 2.2-5.0 = 2.8 s, agent before, customer after
    return transcript([
        ("agent", [("hello", 0.5, 0.9), ("thanks", 1.0, 1.4), ("for", 1.8, 2.2)]),
        ("customer", [("hi", 5.0, 5.5), ("there", 5.6, 6.0)]),
    ], duration=7.0)


def test_talk_time_silence_wpm_from_word_times():
    m = compute_metrics(two_party())
    assert m.duration_s == 7.0
    assert m.agent_talk_s == pytest.approx(1.3)
    assert m.customer_talk_s == pytest.approx(1.0)
    assert m.agent_talk_ratio == pytest.approx(1.3 / 2.3, abs=1e-4)
    assert m.customer_talk_ratio == pytest.approx(1.0 / 2.3, abs=1e-4)
    assert m.silences == (Silence(TimeSpan(2.2, 5.0), Role.AGENT, Role.CUSTOMER),)
    assert m.silence_total_s == pytest.approx(2.8) and m.longest_silence_s == pytest.approx(2.8)
    assert m.agent_wpm == pytest.approx(round(3 * 60 / 1.3, 1))
    assert m.customer_wpm == pytest.approx(120.0)
    assert (m.turns, m.agent_turns, m.customer_turns) == (2, 1, 1)
    assert m.time_to_first_agent_word_s == 0.5
    assert m.overlaps == () and m.overlap_total_s == 0.0
    assert metric_value(m, "silence_count") == 1.0


@pytest.mark.parametrize("gap, counted", [(2.0, True), (1.99, False), (2.5, True)])
def test_silence_threshold_is_inclusive(gap, counted):
    tr = transcript([("agent", [("one", 0.0, 1.0)]), ("customer", [("two", 1.0 + gap, 2.0 + gap)])])
    m = compute_metrics(tr, min_silence_s=2.0)
    assert len(m.silences) == (1 if counted else 0)


def test_hold_inside_agent_speech_is_a_silence_with_agent_on_both_sides():
    tr = transcript([
        ("agent", [("one", 0.0, 0.5), ("moment", 0.6, 1.0)]),
        ("customer", [("ok", 1.5, 1.8)]),
        ("agent", [("thanks", 9.8, 10.2), ("for", 10.3, 10.5), ("holding", 10.6, 11.0)]),
    ])
    m = compute_metrics(tr)
    assert m.silences == (Silence(TimeSpan(1.8, 9.8), Role.CUSTOMER, Role.AGENT),)
    assert m.longest_silence_s == pytest.approx(8.0)


def test_gaps_in_one_speakers_words_inside_the_other_speakers_speech_are_not_silences():
    # the agent pauses 3 s (1.0-4.0) but the customer talks 0.5-4.5: nobody-silent gap is zero
    tr = transcript([
        ("agent", [("a", 0.0, 1.0), ("b", 4.0, 5.0)]),
        ("customer", [("c", 0.5, 2.5), ("d", 2.6, 4.5)]),
    ])
    assert compute_metrics(tr).silences == ()


def test_overlaps_say_who_interrupted_whom():
    # agent speaks 0.0-3.0; customer starts at 2.5 (0.5 s overlap: customer interrupts agent);
    # agent starts again at 4.8 while the customer still speaks until 5.0 (0.2 s: agent interrupts)
    # and a 0.1 s touch at 8.0-8.1 is below the 0.2 s minimum
    tr = transcript([
        ("agent", [("a", 0.0, 1.4), ("b", 1.5, 3.0)]),
        ("customer", [("c", 2.5, 5.0)]),
        ("agent", [("d", 4.8, 8.1)]),
        ("customer", [("e", 8.0, 9.0)]),
    ])
    m = compute_metrics(tr, min_overlap_s=0.2)
    assert m.overlaps == (
        Overlap(TimeSpan(2.5, 3.0), Role.CUSTOMER, Role.AGENT),
        Overlap(TimeSpan(4.8, 5.0), Role.AGENT, Role.CUSTOMER),
    )
    assert m.customer_interruptions == 1 and m.agent_interruptions == 1
    assert m.overlap_total_s == pytest.approx(0.7)
    # talk times are unions per role: agent 0.0-3.0 and 4.8-8.1 = 6.3 s; customer 2.5-5.0, 8.0-9.0 = 3.5 s
    assert m.agent_talk_s == pytest.approx(6.3) and m.customer_talk_s == pytest.approx(3.5)


def test_call_without_agent_speech():
    tr = transcript([("customer", [("hello", 1.0, 1.5)]), ("customer", [("anyone", 4.0, 4.5)])])
    m = compute_metrics(tr)
    assert m.time_to_first_agent_word_s is None
    assert m.agent_talk_ratio == 0.0 and m.customer_talk_ratio == 1.0
    assert m.silences == (Silence(TimeSpan(1.5, 4.0), Role.CUSTOMER, Role.CUSTOMER),)


def test_empty_transcript():
    m = compute_metrics(transcript([], duration=3.0))
    assert (m.agent_talk_s, m.customer_talk_s, m.longest_silence_s, m.turns) == (0.0, 0.0, 0.0, 0)


@pytest.mark.parametrize("spans, merged", [
    ([(0, 1), (1.29, 2)], [(0, 2)]),
    ([(0, 1), (1.3, 2)], [(0, 1), (1.3, 2)]),       # a gap of exactly 0.3 s is not merged
    ([(2, 3), (0, 1), (0.5, 2.5)], [(0, 3)]),       # unsorted, overlapping
])
def test_merge_spans(spans, merged):
    assert merge_spans(spans) == merged
