"""Roles on diarized mono calls from what each speaker says (callqa.roles.mono_roles); settings for it."""

from __future__ import annotations

import pytest

from callqa.errors import ConfigError
from callqa.roles import mono_roles
from callqa.settings import Settings, parse_speakers
from callqa.types import LOW_ROLE_CONFIDENCE, Role, Word


def words(text: str, start: float) -> list[Word]:
    return [Word(w, start + 0.4 * i, start + 0.4 * i + 0.3, 0.9) for i, w in enumerate(text.split())]


AGENT_EN = "Thank you for calling Northwind Bank, my name is Sarah. How can I help you today?"
CUSTOMER_EN = "Hi, I would like to change the phone number on my account."


@pytest.mark.parametrize(("streams", "language", "agent", "confident"), [
    # the agent speaks first and greets
    ({"SPEAKER_00": words(AGENT_EN, 0.5), "SPEAKER_01": words(CUSTOMER_EN, 7.0)}, "en", "SPEAKER_00", True),
    # the customer is heard first ("hello?"), the agent greets after: the greeting wins over speaking first
    ({"SPEAKER_00": words("Hello? Hello?", 0.2) + words(CUSTOMER_EN, 12.0),
      "SPEAKER_01": words(AGENT_EN, 2.0) + words("One moment please, let me check.", 18.0)}, "en", "SPEAKER_01", True),
    ({"SPEAKER_00": words("Здравствуйте, меня зовут Анна, чем могу помочь?", 0.3),
      "SPEAKER_01": words("Здравствуйте, я хочу сменить номер телефона.", 5.0)}, "ru", "SPEAKER_00", True),
    ({"SPEAKER_00": words("Dzień dobry, chciałbym zmienić numer telefonu.", 6.0),
      "SPEAKER_01": words("Dzień dobry, nazywam się Piotr, w czym mogę pomóc?", 0.4)}, "pl", "SPEAKER_01", True),
    # nothing script-like: the first speaker is a guess, and the confidence says so
    ({"SPEAKER_00": words("yes okay", 0.5), "SPEAKER_01": words("right sure", 2.0)}, "en", "SPEAKER_00", False),
], ids=["en-agent-first", "en-customer-first", "ru", "pl", "no-evidence"])
def test_mono_roles(streams, language, agent, confident):
    roles = mono_roles(streams, language, diarizer="test")
    assert roles.role_of(agent) == Role.AGENT and roles.method == "conversation"
    assert all(roles.role_of(s) == Role.CUSTOMER for s in streams if s != agent)
    assert (roles.confidence >= LOW_ROLE_CONFIDENCE) is confident, roles.explanation
    assert agent in roles.explanation


def test_transfer_with_a_second_agent():
    streams = {"SPEAKER_00": words(AGENT_EN, 0.5) + words("I will transfer you to our mortgage team.", 20.0),
               "SPEAKER_01": words(CUSTOMER_EN, 7.0),
               "SPEAKER_02": words("Thank you for calling the mortgage team, my name is Tom, how can I help?", 40.0)}
    roles = mono_roles(streams, "en", diarizer="test")
    assert [roles.role_of(s) for s in sorted(streams)] == [Role.AGENT, Role.CUSTOMER, Role.AGENT]


def test_one_speaker_found_is_low_confidence():
    roles = mono_roles({"SPEAKER_00": words(AGENT_EN + " " + CUSTOMER_EN, 0.5)}, "en", diarizer="test")
    assert roles.confidence < LOW_ROLE_CONFIDENCE and "only one speaker" in roles.explanation


@pytest.mark.parametrize(("value", "expected"), [("2", 2), ("auto", None), (" AUTO ", None), ("3", 3), (None, None)])
def test_parse_speakers(value, expected):
    assert parse_speakers(value, source="--speakers") == expected


@pytest.mark.parametrize("value", ["two", "0", "99"])
def test_bad_speaker_counts(value):
    with pytest.raises(ConfigError, match="--speakers"):
        parse_speakers(value, source="--speakers")


def test_speakers_and_diarization_from_the_environment(monkeypatch, tmp_path):
    from callqa.diarization import diarizer_name_for_setting
    from callqa.pipeline import Pipeline

    monkeypatch.setenv("CALLQA_SPEAKERS", "auto")
    monkeypatch.setenv("CALLQA_DIARIZATION_PIPELINE", "none")
    s = Settings.from_env()
    assert s.num_speakers is None and s.diarization == "none"
    assert Pipeline(s).mono_diarizer() is None and Pipeline(s).mono_diarizer_name == "none"
    assert diarizer_name_for_setting(None) == diarizer_name_for_setting("offline") == "offline-seg30-campp.v2"
    assert diarizer_name_for_setting(str(tmp_path)) == f"pyannote-dir:{tmp_path}"
