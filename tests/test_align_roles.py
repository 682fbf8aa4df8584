"""Words x speakers -> turns, and speaker -> role on stereo calls."""

from __future__ import annotations

import pytest

from callqa.align import assign_words, build_turns
from callqa.roles import greeting_score, stereo_roles
from callqa.types import Role, TimeSpan, Word


def words(text: str, start: float, step: float = 0.4) -> list[Word]:
    return [Word(w, round(start + i * step, 2), round(start + i * step + 0.3, 2)) for i, w in enumerate(text.split())]


def test_turns_alternate_and_keep_times():
    agent = words("hello thanks for calling", 0.0) + words("sure one moment", 6.0)
    customer = words("hi I lost my card", 2.5)
    turns = build_turns({"ch0": agent, "ch1": customer}, {"ch0": Role.AGENT, "ch1": Role.CUSTOMER},
                        channels={"ch0": 0, "ch1": 1})
    assert [(t.role, t.text) for t in turns] == [
        (Role.AGENT, "hello thanks for calling"),
        (Role.CUSTOMER, "hi I lost my card"),
        (Role.AGENT, "sure one moment"),
    ]
    assert [t.index for t in turns] == [0, 1, 2]
    assert turns[0].span == TimeSpan(0.0, 1.5) and turns[1].channel == 1


def test_long_pause_splits_a_turn_and_interruption_overlaps():
    agent = words("let me check", 0.0) + words("okay I found it", 5.0)  # 3.9 s pause: a hold
    customer = words("wait", 0.5)  # starts while the agent is talking
    turns = build_turns({"a": agent, "c": customer}, {"a": Role.AGENT, "c": Role.CUSTOMER}, max_pause_s=1.5)
    assert [t.text for t in turns] == ["let me check", "wait", "okay I found it"]
    assert turns[0].span.overlap(turns[1].span) > 0


def test_assign_words_to_diarized_regions():
    ws = words("good morning how can I help", 0.0) + words("my card", 3.0)
    regions = [(TimeSpan(0.0, 2.4), "SPEAKER_00"), (TimeSpan(2.9, 4.0), "SPEAKER_01")]
    streams = assign_words(ws, regions, fallback="SPEAKER_00")
    assert [w.text for w in streams["SPEAKER_01"]] == ["my", "card"]
    assert len(streams["SPEAKER_00"]) == 6


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("thank you for calling northwind bank my name is sarah", "en", True),
        ("thanks for calling, how can I help you today", "en", True),
        ("hi I'm calling about my card", "en", False),
        ("здравствуйте спасибо за звонок меня зовут анна", "ru", True),
        ("dzień dobry nazywam się anna w czym mogę pomóc", "pl", True),
        ("dzień dobry mam problem z kartą", "pl", False),
    ],
)
def test_greeting_score(text, language, expected):
    score, _ = greeting_score(words(text, 0.0), language)
    assert (score >= 85) is expected, score


def test_stereo_roles_confident_when_agent_channel_greets():
    streams = {"ch0": words("thank you for calling northwind my name is sarah", 0.0), "ch1": words("hi there", 4.0)}
    ra = stereo_roles(streams, (Role.AGENT, Role.CUSTOMER), ["ch0", "ch1"], "en", source="settings")
    assert ra.role_of("ch0") == Role.AGENT and ra.confidence >= 0.9


def test_stereo_roles_low_confidence_when_customer_channel_greets():
    streams = {"ch0": words("hi I have a question about my bill", 4.0), "ch1": words("thank you for calling northwind how can I help", 0.0)}
    ra = stereo_roles(streams, (Role.AGENT, Role.CUSTOMER), ["ch0", "ch1"], "en", source="sidecar")
    assert ra.role_of("ch0") == Role.AGENT  # never silently swapped
    assert ra.confidence < 0.6
    assert "channel 1 (customer) says the opening greeting" in ra.explanation
