"""Generate ``eval/``: the labelled evaluation set that ``callqa eval`` measures the pipeline on.

Usage::

    python tools/make_eval.py [--out eval] [--only NAME ...]

For each call this writes the recording ``<name>.<ext>``, its metadata
sidecar ``<name>.json`` and the labels ``<name>.labels.json`` (format in
docs/eval.md), then ``README.md``. The calls are scripted two-party
contact-centre calls rendered by ``tools/callsynth.py`` (flite voices for
English, espeak-ng for Russian and Polish), with the voices, digit words and
script helpers of ``tools/make_samples.py``.

Where the labels come from:

* **turns**: the synthesiser's own timeline (every stretch of speech is placed
  on an exact sample). A sentence that carries a planted value is rendered as
  separate stretches ("My card number is" | "four five three nine ..." | "thanks"),
  0.12 s apart, so the value's start and end are exact too;
* **pii** / **decoys**: the stretches holding a planted sensitive value
  (entity type as callqa names it) or a look-alike that must not be flagged
  (an order number failing Luhn, a price, a time of day, the last four digits
  of a card);
* **verdicts**: the intended outcome of every rule of ``qa_rules/default.yaml``
  (or the language pack it hands the call to), reasoned from the script by
  hand, as in ``sample_audio/references/*.expected.json``; the metric rules
  are checked here against the metrics computed from the timeline;
* **metrics**: talk ratio, silences, overlaps and the first agent word,
  computed from the timeline (speech = the union of the stretches).

Nothing is a real person, account or card: the numbers are made up so that
their checksums hold (or, for the look-alikes, fail).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from callsynth import CallScript, RenderedCall, render, write_audio
from make_samples import (
    CARD_MC,
    CARD_VISA,
    CARD_VISA2,
    EN_DIGITS,
    EN_FEMALE,
    EN_MALE,
    EN_MALE_SCOTTISH,
    EN_MALE_SLOW,
    PL_AGENT,
    PL_CUST,
    PL_DIGITS,
    RU_AGENT,
    RU_CUST,
    RU_DIGITS,
    Dialogue,
    _en_two,
    _sidecar,
    measured_scenario,
    scenario,
    spoken_digits,
)

log = logging.getLogger("callqa.tools.make_eval")

ROOT = Path(__file__).resolve().parent.parent
LABELS_FORMAT = "callqa-eval-labels/1"
PACK = "qa_rules/default.yaml"
#: Silence between the stretches of one sentence (under metrics' 0.3 s merge gap: one stretch of talk).
PART_GAP = 0.12
#: Gaps of at least this long are silences, overlaps at least this long count (the default pack's metrics).
MIN_SILENCE_S = 2.0
MIN_OVERLAP_S = 0.2

RULES = (
    "greeting", "agent_introduction", "recording_disclosure", "identity_verification", "hold_announcement",
    "silent_caller_check", "transfer_announcement", "talk_ratio", "dead_air", "anything_else", "goodbye",
    "forbidden_phrases", "no_bare_dont_know", "profanity", "card_read_back", "cvv_repeated", "agent_only_pii",
)

# Made-up values whose checksums hold, with no digit said twice in a row (tiny.en merges
# "three three" into one digit on synthetic speech). CARD_VISA, CARD_MC and CARD_VISA2 come
# from make_samples.
CARD_MC2 = "5371049628351709"
CARD_MC3 = "5204183695740263"
CARD_AMEX = "371946250817363"
IBAN_DE = "DE91370502195826374916"
IBAN_PL = "PL20109024701836295104739258"
SSN = "624158379"
ACCOUNT = "73124095"
PESEL = "85071926374"
PESEL2 = "92031485264"
NIP = "5263819473"
INN = "503618294793"
SNILS = "15263748069"

# The Russian and Polish voices of the sample calls, a little faster (125 words a minute instead of
# 115) to keep the calls short. English keeps flite's own pace: faster, tiny.en mishears far more.
RU_A, RU_C, PL_A, PL_C = (replace(v, speed=125) for v in (RU_AGENT, RU_CUST, PL_AGENT, PL_CUST))

# Look-alikes: the Visa test number with its last digit changed (fails Luhn), a delivery reference.
ORDER_NUMBER = CARD_VISA[:-1] + "7"
DELIVERY_REF = "742918536204"


def check_values() -> None:
    """Every planted value passes its checksum and every look-alike fails the card checksum."""
    from stdnum import iban, luhn
    from stdnum.pl import nip, pesel
    from stdnum.ru import inn
    from stdnum.us import ssn

    from callqa.pii import snils_valid

    for card in (CARD_VISA, CARD_MC, CARD_VISA2, CARD_MC2, CARD_MC3, CARD_AMEX):
        assert luhn.is_valid(card), card
    assert iban.is_valid(IBAN_DE) and iban.is_valid(IBAN_PL)
    assert ssn.is_valid(SSN) and pesel.is_valid(PESEL) and pesel.is_valid(PESEL2) and nip.is_valid(NIP)
    assert inn.is_valid(INN) and snils_valid(SNILS)
    assert not luhn.is_valid(ORDER_NUMBER) and not luhn.is_valid(DELIVERY_REF)


def en_pairs(digits: str) -> str:
    """'371946' -> 'thirty seven, nineteen, forty six' (a leading zero is said: 'zero eight')."""
    out = []
    for i in range(0, len(digits), 2):
        pair = digits[i: i + 2]
        out.append(" ".join(EN_DIGITS[int(d)] for d in pair) if pair[0] == "0" or len(pair) == 1
                   else _en_two(int(pair)))
    return ", ".join(out)


def spelled_iban(value: str, words: list[str], letters: str) -> str:
    """'DE91 3705 ...' -> 'D E nine one, three seven zero five, ...' (``letters``: the country as said)."""
    return f"{letters} " + spoken_digits(value[2:], words, group=4)


# --------------------------------------------------------------------------- script building


@dataclass(frozen=True)
class Plant:
    """A stretch of speech that holds a planted value (``entity``) or a look-alike (``decoy``)."""

    text: str
    entity: str | None = None
    decoy: str | None = None
    form: str = "spoken"


def pii(entity: str, text: str) -> Plant:
    return Plant(text, entity=entity)


def decoy(kind: str, text: str) -> Plant:
    return Plant(text, decoy=kind)


class EvalDialogue(Dialogue):
    """make_samples' Dialogue, plus sentences cut into stretches around planted values."""

    def __init__(self, seed: str) -> None:
        super().__init__(seed)
        self.plants: dict[int, Plant] = {}

    def say(self, role: str, *parts: str | Plant, gap: float | None = None, tag: str | None = None) -> EvalDialogue:
        for k, part in enumerate(parts):
            text = part.text if isinstance(part, Plant) else part
            add = self.agent if role == "agent" else self.customer
            add(text, gap if k == 0 else PART_GAP, tag if k == 0 else None)
            if isinstance(part, Plant):
                self.plants[len(self.turns) - 1] = part
        return self


def verdicts(*, identity: str, hold: str, silent: str, transfer: str, **others: str) -> dict[str, str]:
    """Every rule's intended outcome: the four conditional rules always stated, the rest 'pass' unless given."""
    unknown = set(others) - set(RULES)
    if unknown:
        raise ValueError(f"unknown rule ids {sorted(unknown)}")
    out = {rule: "pass" for rule in RULES}
    out.update(identity_verification=identity, hold_announcement=hold, silent_caller_check=silent,
               transfer_announcement=transfer, **others)
    bad = {k: v for k, v in out.items() if v not in ("pass", "fail", "na")}
    if bad:
        raise ValueError(f"verdicts must be pass, fail or na: {bad}")
    return out


@dataclass(frozen=True)
class EvalCall:
    script: CallScript
    audio_format: str
    description: str
    sidecar: dict[str, Any]
    verdicts: dict[str, str]
    plants: dict[int, Plant]
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"{self.script.name}.{self.audio_format}"


def call(name: str, d: EvalDialogue, *, language: str, layout: str, rate: int, voices: dict, fmt: str,
         description: str, agent: tuple[str, str], verdicts: dict[str, str], notes: dict[str, str] | None = None,
         channel_roles: tuple[str, str] = ("agent", "customer"), direction: str = "inbound",
         time: str = "10:00:00", scen: dict[str, Any] | None = None) -> EvalCall:
    tz = {"en": "+00:00", "ru": "+03:00", "pl": "+01:00"}[language]
    script = CallScript(name=name, language=language, layout=layout, sample_rate=rate, voices=voices,
                        turns=tuple(d.turns), channel_roles=channel_roles, seed=zlib.crc32(name.encode()),
                        scenario=scenario(**(scen or {})))
    sidecar = _sidecar(script, agent_id=agent[0], agent_name=agent[1], queue="eval", team="eval",
                       direction=direction, time=time, tz=tz)
    return EvalCall(script, fmt, description, sidecar, verdicts, dict(d.plants), notes or {})


def en(d: str) -> str:
    return spoken_digits(d, EN_DIGITS)


def ru(d: str, group: int = 4) -> str:
    return spoken_digits(d, RU_DIGITS, group=group)


def pl(d: str, group: int = 4) -> str:
    return spoken_digits(d, PL_DIGITS, group=group)


# --------------------------------------------------------------------------- the English calls


def en_card_payment() -> EvalCall:
    d = EvalDialogue("en_card_payment")
    d.say("agent", "Thank you for calling Northwind Bank, my name is", pii("PERSON", "Sarah."),
          "This call is recorded. How can I help?")
    d.say("customer", "Hi, I want to pay my credit card bill.")
    d.say("agent", "Sure. Can you confirm your date of birth?")
    d.say("customer", pii("DATE_OF_BIRTH", "The fourth of July, nineteen eighty two."))
    d.say("agent", "Thank you, you are verified. What is the card number?")
    d.say("customer", pii("CARD_NUMBER", en(CARD_VISA) + "."))
    d.say("agent", "One moment please, let me check.")
    d.say("agent", "Thanks for holding. The card ending in", decoy("last4", en(CARD_VISA[-4:])), "is paid.",
          gap=5.5, tag="hold")
    d.say("customer", "Great.")
    d.say("agent", "Anything else I can help you with?")
    d.say("customer", "No.")
    d.say("agent", "Thank you for calling, goodbye.")
    return call("en_stereo_8k_card_payment", d, language="en", layout="stereo", rate=8000,
                voices={"agent": EN_FEMALE, "customer": EN_MALE}, fmt="flac", agent=("EV-101", "Sarah Collins"),
                description="Full script; the card number read in groups of four; an announced 5.5 s hold; the "
                            "agent confirms only the last four digits.",
                verdicts=verdicts(identity="pass", hold="pass", silent="na", transfer="na"),
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, hold_announced=True, card_number_spoken_by="customer",
                          card_last4_said_by_agent=True, anything_else=True, goodbye=True))


def en_paraphrased_greeting() -> EvalCall:
    d = EvalDialogue("en_paraphrase")
    d.say("agent", "Hi there, you've reached Northwind Bank,", pii("PERSON", "Tom"),
          "speaking. Just so you know, calls are recorded. What can I do for you?")
    d.say("customer", "Hello. What does the premium plan cost?")
    d.say("agent", "The premium plan is", decoy("price", "forty nine ninety nine"), "a month.")
    d.say("customer", "Can I sign up at the branch?")
    d.say("agent", "Sure, the branch is open until", decoy("time_of_day", "half past five"),
          "today, and tomorrow from", decoy("time_of_day", "nine thirty."))
    d.say("customer", "Great, thank you.")
    d.say("agent", "Anything else I can do for you?")
    d.say("customer", "No thanks.")
    d.say("agent", "Alright, thanks for calling, take care. Bye.")
    return call("en_stereo_16k_paraphrased_greeting", d, language="en", layout="stereo", rate=16000,
                voices={"agent": EN_MALE, "customer": EN_FEMALE}, fmt="mp3", agent=("EV-102", "Tom Hardy"),
                description="A male agent greets in his own words ('Hi there, you've reached Northwind Bank, "
                            "Tom speaking'); a price and two times of day that are not sensitive data.",
                verdicts=verdicts(identity="na", hold="na", silent="na", transfer="na"),
                notes={"greeting": "'Hi there, you've reached Northwind Bank': a greeting with the company name",
                       "identity_verification": "a question about a plan's price, not about the caller's account"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          anything_else=True, goodbye=True))


def en_missing_closing() -> EvalCall:
    d = EvalDialogue("en_missing_closing")
    d.say("agent", "Good morning, Northwind Bank, my name is", pii("PERSON", "Laura."),
          "This call may be recorded. How can I help?")
    d.say("customer", "Hi, I want to check the balance of my savings account.")
    d.say("agent", "Sure. Can you confirm your full name and your date of birth?")
    d.say("customer", "Yes, it's", pii("PERSON", "Peter Walsh,"), "born on",
          pii("DATE_OF_BIRTH", "the twenty third of May, nineteen ninety."))
    d.say("agent", "Thank you, you are verified. Your balance is",
          decoy("price", "two thousand four hundred and ten pounds."))
    d.say("customer", "Okay. And when did the last payment come in?")
    d.say("agent", "The last payment came in on Monday at", decoy("time_of_day", "ten fifteen."))
    d.say("customer", "Okay, that's fine then.")
    d.say("agent", "Right, okay then.")
    return call("en_mono_8k_missing_closing", d, language="en", layout="mono", rate=8000,
                voices={"agent": EN_FEMALE, "customer": EN_MALE}, fmt="ogg", agent=("EV-103", "Laura Bennett"),
                description="Good opening and verification, then the agent ends the call without offering more "
                            "help or saying goodbye; a balance and a time that are not sensitive data.",
                verdicts=verdicts(identity="pass", hold="na", silent="na", transfer="na",
                                  anything_else="fail", goodbye="fail"),
                notes={"anything_else": "the agent never offers further help",
                       "goodbye": "'Right, okay then.': no thanks, no goodbye"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True))


def en_silent_caller_ssn() -> EvalCall:
    d = EvalDialogue("en_silent_ssn")
    d.say("agent", "Hello, thank you for calling Northwind Bank, you're speaking with", pii("PERSON", "Emma."),
          "This call is recorded. How can I help?")
    d.say("customer", "Hi, I need to update the address on my account.")
    d.say("agent", "Sure. For security, can you tell me your social security number?")
    d.say("agent", "Hello, are you still there?", gap=6.5, tag="silent_caller")
    d.say("customer", "Sorry, yes. It's", pii("US_SSN", f"{spoken_digits(SSN, EN_DIGITS, group=3)}."))
    d.say("agent", "Thank you, you are verified. What is the new address?")
    d.say("customer", "Twelve Oak Street, Springfield.")
    d.say("agent", "Done. Is there anything else I can help you with?")
    d.say("customer", "No, thank you.")
    d.say("agent", "Thanks for calling, goodbye.")
    return call("en_mono_16k_silent_caller_ssn", d, language="en", layout="mono", rate=16000,
                voices={"agent": EN_FEMALE, "customer": EN_MALE_SCOTTISH}, fmt="mp3", agent=("EV-104", "Emma Stone"),
                description="The caller stays silent 6.5 s after the agent's question and the agent checks the "
                            "line; a US social security number read in groups of three.",
                verdicts=verdicts(identity="pass", hold="na", silent="pass", transfer="na"),
                notes={"hold_announcement": "the only long silence follows an agent question: the floor is the "
                                            "customer's, so it is not a hold"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, silent_caller_check=True, anything_else=True, goodbye=True))


def en_silent_caller_unchecked() -> EvalCall:
    d = EvalDialogue("en_silent_unchecked")
    d.say("agent", "Good afternoon, Northwind Bank, my name is", pii("PERSON", "David."),
          "Calls are recorded. How may I help you?")
    d.say("customer", "Hello, I was charged twice for the same order.")
    d.say("agent", "Sorry about that. What is the order number?")
    d.say("customer", "The order number is", decoy("order_number", en(ORDER_NUMBER) + "."))
    d.say("agent", "And what is your account number?")
    d.say("agent", "So, I need the account number to go on.", gap=6.0, tag="silent_caller")
    d.say("customer", "Oh, sorry. It's", pii("BANK_ACCOUNT", en(ACCOUNT) + "."))
    d.say("agent", "Thanks. I'll refund it today.")
    d.say("agent", "Is there anything else I can help you with?")
    d.say("customer", "No.")
    d.say("agent", "Thank you for calling, goodbye.")
    return call("en_stereo_8k_silent_caller_unchecked", d, language="en", layout="stereo", rate=8000,
                voices={"agent": EN_MALE, "customer": EN_FEMALE}, fmt="ogg", agent=("EV-105", "David Green"),
                description="The caller is silent 6 s after the agent's question and the agent carries on "
                            "without checking the line; a 16-digit order number that fails Luhn; no verification "
                            "on a refund.",
                verdicts=verdicts(identity="fail", hold="na", silent="fail", transfer="na"),
                notes={"identity_verification": "a refund of a double charge to the caller's account, and the "
                                                "agent never verifies who is calling",
                       "silent_caller_check": "'So, I need the account number to go on.' is not a line check"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          anything_else=True, goodbye=True))


def en_iban_transfer() -> EvalCall:
    d = EvalDialogue("en_iban_transfer")
    d.say("agent", "Thank you for calling Northwind Bank, my name is", pii("PERSON", "Julia."),
          "This call is recorded. How can I help?")
    d.say("customer", "Hello. I want to send money from my account to Germany.")
    d.say("agent", "First, please confirm your date of birth.")
    d.say("customer", pii("DATE_OF_BIRTH", "The ninth of November, nineteen sixty eight."))
    d.say("agent", "Thank you. What is the IBAN?")
    d.say("customer", pii("IBAN", spelled_iban(IBAN_DE, EN_DIGITS, "D E") + "."))
    d.say("agent", "Thanks. Payments abroad are made by our international team, so I'm transferring you now.")
    d.say("agent", "Is there anything else before I transfer you?")
    d.say("customer", "No, that's all.")
    d.say("agent", "Thank you for calling, have a nice day.")
    return call("en_stereo_16k_iban_transfer", d, language="en", layout="stereo", rate=16000,
                voices={"agent": EN_FEMALE, "customer": EN_MALE_SCOTTISH}, fmt="mp3",
                agent=("EV-106", "Julia Roberts"),
                description="A German IBAN spelled out with its country letters; the agent announces a transfer "
                            "to the international payments team.",
                verdicts=verdicts(identity="pass", hold="na", silent="na", transfer="pass"),
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, transfer_announced=True, anything_else=True, goodbye=True))


def en_interruption() -> EvalCall:
    d = EvalDialogue("en_interruption_ref")
    d.say("agent", "Hello, thank you for calling Northwind Bank, my name is", pii("PERSON", "Sarah."),
          "This call is recorded. How can I help?")
    d.say("customer", "Hi. My new debit card has not arrived.")
    d.say("agent", "Sorry to hear that. Can you confirm your full name, please?")
    d.say("customer", "Yes, it's", pii("PERSON", "John Miller."))
    d.say("agent", "Thank you. The card was sent on Monday, so it should arrive by the end of the week.")
    d.say("customer", "The end of the week? That is too late.", gap=-0.6, tag="interruption")
    d.say("agent", "Then I'll send one by express. The delivery reference is",
          decoy("reference_number", spoken_digits(DELIVERY_REF, EN_DIGITS, group=3) + "."))
    d.say("agent", "Is there anything else I can help you with?")
    d.say("customer", "No, thanks.")
    d.say("agent", "Thank you for calling. Goodbye.")
    return call("en_mono_8k_interruption", d, language="en", layout="mono", rate=8000,
                voices={"agent": EN_FEMALE, "customer": EN_MALE}, fmt="ogg", agent=("EV-101", "Sarah Collins"),
                description="The customer interrupts the agent 0.6 s before she finishes; a 12-digit delivery "
                            "reference that is not sensitive data.",
                verdicts=verdicts(identity="pass", hold="na", silent="na", transfer="na"),
                notes={"identity_verification": "'Can you confirm your full name' about the caller's debit card"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, anything_else=True, goodbye=True))


def en_card_cvv_read_back() -> EvalCall:
    d = EvalDialogue("en_cvv_read_back")
    d.say("agent", "Northwind Bank, good morning, this is", pii("PERSON", "Megan."), "How can I help?")
    d.say("customer", "Hi. I'd like to pay my bill with my card.")
    d.say("agent", "Sure. What's the card number?")
    d.say("customer", pii("CARD_NUMBER", en(CARD_MC2) + "."))
    d.say("agent", "So that's", pii("CARD_NUMBER", en(CARD_MC2) + ","), "right?")
    d.say("customer", "Yes.")
    d.say("agent", "And the security code on the back?")
    d.say("customer", "It's", pii("CVV", "three nine one."))
    d.say("agent", pii("CVV", "Three nine one,"), "thank you. The payment is done.")
    d.say("customer", "Thanks.")
    d.say("agent", "Anything else I can help you with?")
    d.say("customer", "No.")
    d.say("agent", "Have a nice day, goodbye.")
    return call("en_stereo_8k_card_cvv_read_back", d, language="en", layout="stereo", rate=8000,
                voices={"agent": EN_FEMALE, "customer": EN_MALE_SLOW}, fmt="flac", agent=("EV-107", "Megan Dawson"),
                description="The agent reads back the full card number and repeats the security code (both "
                            "critical); no recording disclosure, no verification.",
                verdicts=verdicts(identity="fail", hold="na", silent="na", transfer="na",
                                  recording_disclosure="fail", card_read_back="fail", cvv_repeated="fail"),
                notes={"greeting": "'Northwind Bank, good morning': salutation and company",
                       "card_read_back": "the agent reads the whole card number back (critical)",
                       "cvv_repeated": "the agent repeats the security code (critical)",
                       "agent_only_pii": "everything the agent says, the customer said first"},
                scen=dict(greeting_company=True, greeting_agent_name=True, card_number_spoken_by="customer",
                          card_read_back_by_agent=True, anything_else=True, goodbye=True))


def en_dead_air_conduct() -> EvalCall:
    d = EvalDialogue("en_dead_air")
    d.say("agent", "Good evening, Northwind Bank, my name is", pii("PERSON", "Mark."),
          "This call is recorded. How can I help?")
    d.say("customer", "Hi, my card was declined at a shop today.")
    d.say("agent", "Can you confirm your date of birth?")
    d.say("customer", pii("DATE_OF_BIRTH", "The second of March, nineteen seventy five."))
    d.say("agent", "Thank you, you are verified.")
    d.say("agent", "Damn, the system is slow. The card was blocked by our fraud checks.",
          gap=11.0, tag="dead_air")
    d.say("customer", "Why? That makes no sense!")
    d.say("agent", "Calm down, please. It is unblocked now.")
    d.say("customer", "Fine.")
    d.say("agent", "Is there anything else?")
    d.say("customer", "No.")
    d.say("agent", "Bye.")
    return call("en_stereo_16k_dead_air_conduct", d, language="en", layout="stereo", rate=16000,
                voices={"agent": EN_MALE, "customer": EN_FEMALE}, fmt="mp3", agent=("EV-108", "Mark Evans"),
                description="11 s of unannounced dead air, then profanity ('damn') and a dismissive 'calm down'.",
                verdicts=verdicts(identity="pass", hold="fail", silent="na", transfer="na",
                                  dead_air="fail", profanity="fail", forbidden_phrases="fail"),
                notes={"hold_announcement": "11 s silence after the agent's own statement, not announced",
                       "dead_air": "11 s silence (limit 10 s)", "profanity": "'Damn, the system is so slow'",
                       "forbidden_phrases": "'Calm down, please'"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, forbidden_phrase=["calm down"], anything_else=True, goodbye=True))


def en_dont_know_agent_only() -> EvalCall:
    d = EvalDialogue("en_dont_know")
    d.say("agent", "Welcome to Northwind Bank, my name is", pii("PERSON", "Anna."),
          "This call is recorded. How can I help you?")
    d.say("customer", "Hi. Why does my statement show a fee?")
    d.say("agent", "Let me see. Is your date of birth", pii("DATE_OF_BIRTH", "the third of June, nineteen seventy?"))
    d.say("customer", "Yes, that's right.")
    d.say("agent", "The fee is for a late payment. I don't know why it was charged twice.")
    d.say("customer", "Can you refund it?")
    d.say("agent", "Yes, I will refund", decoy("price", "twelve fifty"), "today.")
    d.say("customer", "Thank you.")
    d.say("agent", "Is there anything else I can help you with?")
    d.say("customer", "No, that's it.")
    d.say("agent", "Thank you for calling Northwind Bank. Goodbye.")
    return call("en_mono_16k_dont_know_agent_only", d, language="en", layout="mono", rate=16000,
                voices={"agent": EN_FEMALE, "customer": EN_MALE_SCOTTISH}, fmt="mp3", agent=("EV-109", "Anna Clark"),
                description="The agent reads the caller's date of birth out to them (data the caller never gave) "
                            "and leaves them with a bare 'I don't know'.",
                verdicts=verdicts(identity="pass", hold="na", silent="na", transfer="na",
                                  no_bare_dont_know="fail", agent_only_pii="fail"),
                notes={"identity_verification": "the agent does check the date of birth ('Is your date of birth "
                                                "...?'), if the wrong way round",
                       "no_bare_dont_know": "'I don't know why it was charged twice.' and no offer to find out",
                       "agent_only_pii": "the agent says the date of birth, the caller never does (critical)"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, anything_else=True, goodbye=True))


def en_outbound_customer_left() -> EvalCall:
    d = EvalDialogue("en_outbound_left")
    d.say("agent", "Hello, this is", pii("PERSON", "Helen"), "calling from Northwind Bank. Am I speaking with",
          pii("PERSON", "Mister Thomas Reed?"))
    d.say("customer", "Yes, speaking.")
    d.say("agent", "This call is recorded. It's about your credit card. Can you confirm your date of birth?")
    d.say("customer", pii("DATE_OF_BIRTH", "The fifth of August, nineteen eighty four."))
    d.say("agent", "Thank you. Did you pay", decoy("price", "three hundred and twenty dollars"),
          "to a shop at", decoy("time_of_day", "eleven forty"), "last night?")
    d.say("customer", "No, that was not me.")
    d.say("agent", "Then I will block the card. One moment please.")
    d.say("agent", "Thanks for waiting. The card ending in", decoy("last4", en(CARD_MC[-4:])),
          "is blocked.", gap=5.5, tag="hold")
    d.say("agent", "Is there anything else I can help you with?")
    d.say("customer", "No.")
    d.say("agent", "Thank you for your time. Goodbye.")
    return call("en_stereo_8k_outbound_customer_left", d, language="en", layout="stereo", rate=8000,
                channel_roles=("customer", "agent"), direction="outbound",
                voices={"agent": EN_FEMALE, "customer": EN_MALE}, fmt="flac", agent=("EV-110", "Helen Price"),
                description="Outbound fraud check with the customer on the LEFT channel (sidecar channels); a "
                            "price, a time of day and the card's last four digits; an announced 5.5 s hold.",
                verdicts=verdicts(identity="pass", hold="pass", silent="na", transfer="na"),
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, hold_announced=True, card_last4_said_by_agent=True,
                          anything_else=True, goodbye=True))


def en_lookalikes() -> EvalCall:
    d = EvalDialogue("en_lookalikes")
    d.say("agent", "Good morning, thank you for calling Northwind Bank, my name is", pii("PERSON", "Chris."),
          "This call is recorded. How can I help?")
    d.say("customer", "Hi, I'd like an appointment about a loan.")
    d.say("agent", "Sure. Your full name and date of birth, to verify your identity?")
    d.say("customer", pii("PERSON", "Kate Brown,"), "born",
          pii("DATE_OF_BIRTH", "the first of October, nineteen eighty seven."))
    d.say("agent", "Thanks. I can offer the twelfth at", decoy("time_of_day", "four thirty"),
          "or", decoy("time_of_day", "two fifteen."))
    d.say("customer", decoy("time_of_day", "Four thirty"), "is good. What does it cost?")
    d.say("agent", "A loan of", decoy("price", "fifteen thousand pounds"), "costs",
          decoy("price", "two hundred and forty nine"), "a month.")
    d.say("agent", "Is there anything else I can help you with?")
    d.say("customer", "No, thank you.")
    d.say("agent", "Thank you for calling, have a great day.")
    return call("en_mono_8k_lookalikes", d, language="en", layout="mono", rate=8000,
                voices={"agent": EN_MALE, "customer": EN_FEMALE}, fmt="ogg", agent=("EV-111", "Chris Hall"),
                description="Times of day, a date, amounts and prices everywhere, none of them sensitive data; a "
                            "male agent and a female caller on one channel.",
                verdicts=verdicts(identity="pass", hold="na", silent="na", transfer="na"),
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, anything_else=True, goodbye=True))


def en_amex_pairs_transfer() -> EvalCall:
    d = EvalDialogue("en_amex_pairs")
    d.say("agent", "Thank you for calling Northwind Bank, my name is", pii("PERSON", "Grace."),
          "This call is recorded. How can I help you?")
    d.say("customer", "Hi. I lost my credit card and I need a new one.")
    d.say("agent", "Let me verify your identity first. What is your date of birth?")
    d.say("customer", pii("DATE_OF_BIRTH", "The tenth of January, nineteen ninety three."))
    d.say("agent", "Thank you. What is the number of the lost card?")
    d.say("customer", pii("CARD_NUMBER", en_pairs(CARD_AMEX) + "."))
    d.say("agent", "Thank you, the card is blocked. I'm transferring you now to order the new one.")
    d.say("agent", "Is there anything else I can help you with?")
    d.say("customer", "No.")
    d.say("agent", "Thanks for calling, goodbye.")
    return call("en_stereo_16k_amex_pairs_transfer", d, language="en", layout="stereo", rate=16000,
                voices={"agent": EN_FEMALE, "customer": EN_MALE_SCOTTISH}, fmt="ogg",
                agent=("EV-112", "Grace Lee"),
                description="An Amex number read in pairs ('thirty seven, nineteen, ...'); the agent transfers "
                            "the caller without saying where to.",
                verdicts=verdicts(identity="pass", hold="na", silent="na", transfer="fail"),
                notes={"transfer_announcement": "'I'm transferring you now to order the new one': no department, "
                                                "team or person named"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, card_number_spoken_by="customer", anything_else=True, goodbye=True))


# --------------------------------------------------------------------------- the Russian calls


def ru_card_hold() -> EvalCall:
    d = EvalDialogue("ru_card_hold")
    d.say("agent", "Здравствуйте, вы позвонили в банк Норд, меня зовут", pii("PERSON", "Анна."),
          "Разговор записывается. Чем могу помочь?")
    d.say("customer", "Здравствуйте. Я хочу оплатить кредит картой.")
    d.say("agent", "Для проверки назовите дату рождения.")
    d.say("customer", pii("DATE_OF_BIRTH", "Пятое марта тысяча девятьсот восемьдесят пятого года."))
    d.say("agent", "Спасибо. Номер карты?")
    d.say("customer", pii("CARD_NUMBER", ru(CARD_VISA2) + "."))
    d.say("agent", "Одну минуту, я проверю.")
    d.say("agent", "Спасибо за ожидание. Платёж прошёл.", gap=5.5, tag="hold")
    d.say("agent", "Чем ещё могу помочь?")
    d.say("customer", "Ничего.")
    d.say("agent", "До свидания!")
    return call("ru_stereo_16k_card_hold", d, language="ru", layout="stereo", rate=16000,
                voices={"agent": RU_A, "customer": RU_C}, fmt="mp3", agent=("EV-201", "Анна Смирнова"),
                description="Russian, full script: a card number in Russian digit words, an announced 5.5 s hold.",
                verdicts=verdicts(identity="pass", hold="pass", silent="na", transfer="na"),
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, hold_announced=True, card_number_spoken_by="customer",
                          anything_else=True, goodbye=True))


def ru_inn_missing_closing() -> EvalCall:
    d = EvalDialogue("ru_inn")
    d.say("agent", "Добрый день, банк Норд, меня зовут", pii("PERSON", "Ольга."),
          "Разговор записывается. Чем могу помочь?")
    d.say("customer", "Добрый день. Мне нужна справка о счёте для налоговой.")
    d.say("agent", "Для проверки назовите вашу фамилию и ИНН.")
    d.say("customer", pii("PERSON", "Смирнов,"), "ИНН", pii("RU_INN", ru(INN) + "."))
    d.say("agent", "Спасибо. Справка будет готова завтра к", decoy("time_of_day", "десяти часам."))
    d.say("customer", "Хорошо.")
    d.say("agent", "Ладно.")
    return call("ru_mono_16k_inn_missing_closing", d, language="ru", layout="mono", rate=16000,
                voices={"agent": RU_A, "customer": RU_C}, fmt="ogg", agent=("EV-202", "Ольга Петрова"),
                description="Russian mono: a personal INN (12 digits) after 'ИНН'; the agent ends the call "
                            "without offering more help or saying goodbye.",
                verdicts=verdicts(identity="pass", hold="na", silent="na", transfer="na",
                                  anything_else="fail", goodbye="fail"),
                notes={"anything_else": "no 'чем ещё могу помочь'", "goodbye": "'Ладно.': no goodbye"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True))


def ru_silent_snils() -> EvalCall:
    d = EvalDialogue("ru_silent_snils")
    d.say("agent", "Здравствуйте, банк Норд, меня зовут", pii("PERSON", "Ирина."),
          "Разговор записывается. Чем могу помочь?")
    d.say("customer", "Здравствуйте. Я хочу узнать баланс по карте.")
    d.say("agent", "Можете назвать ваш СНИЛС для проверки?")
    d.say("agent", "Алло, вы меня слышите?", gap=6.5, tag="silent_caller")
    d.say("customer", "Да, извините. СНИЛС", pii("RU_SNILS", ru(SNILS, group=3) + "."))
    d.say("agent", "Спасибо. Баланс", decoy("price", "двенадцать тысяч рублей."))
    d.say("agent", "Чем ещё могу помочь?")
    d.say("customer", "Ничего, спасибо.")
    d.say("agent", "Всего доброго, до свидания!")
    return call("ru_stereo_8k_silent_snils", d, language="ru", layout="stereo", rate=8000,
                voices={"agent": RU_A, "customer": RU_C}, fmt="flac", agent=("EV-203", "Ирина Волкова"),
                description="Russian telephone band: the caller is silent 6.5 s after the agent's question and the "
                            "agent checks the line; a SNILS in digit words; a balance.",
                verdicts=verdicts(identity="pass", hold="na", silent="pass", transfer="na"),
                notes={"hold_announcement": "the long silence follows an agent question: not a hold"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, silent_caller_check=True, anything_else=True, goodbye=True))


def ru_paraphrase_decoys() -> EvalCall:
    d = EvalDialogue("ru_paraphrase")
    d.say("agent", "Добрый день! Банк Норд, с вами говорит", pii("PERSON", "Дмитрий."),
          "Все разговоры записываются. Слушаю вас.")
    d.say("customer", "Добрый день. Сколько стоит премиальный тариф?")
    d.say("agent", "Премиальный тариф стоит", decoy("price", "девятьсот девяносто девять рублей"), "в месяц.")
    d.say("customer", "А до скольки работает отделение?")
    d.say("agent", "Отделение работает до", decoy("time_of_day", "восемнадцати тридцати."))
    d.say("customer", "Понятно, спасибо.")
    d.say("agent", "Остались ли у вас вопросы?")
    d.say("customer", "Нет.")
    d.say("agent", "Спасибо за звонок, всего доброго!")
    return call("ru_stereo_16k_paraphrase_decoys", d, language="ru", layout="stereo", rate=16000,
                voices={"agent": RU_A, "customer": RU_C}, fmt="ogg", agent=("EV-204", "Дмитрий Орлов"),
                description="Russian: the agent greets in his own words ('Банк Норд, с вами говорит Дмитрий', "
                            "'слушаю вас'); a price and a time of day.",
                verdicts=verdicts(identity="na", hold="na", silent="na", transfer="na"),
                notes={"identity_verification": "a question about a tariff's price, not about the caller's account"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          anything_else=True, goodbye=True))


def ru_interruption_transfer() -> EvalCall:
    d = EvalDialogue("ru_transfer")
    d.say("agent", "Здравствуйте, банк Норд, меня зовут", pii("PERSON", "Павел."),
          "Разговор записывается. Чем могу помочь?")
    d.say("customer", "Здравствуйте. У меня вопрос по ипотеке.")
    d.say("agent", "Назовите, пожалуйста, вашу фамилию и дату рождения.")
    d.say("customer", pii("PERSON", "Кузнецова,"),
          pii("DATE_OF_BIRTH", "первое июня тысяча девятьсот девяностого года."))
    d.say("agent", "Спасибо. По ипотеке вас проконсультирует наш специалист, это займёт немного времени.")
    d.say("customer", "А это долго?", gap=-0.6, tag="interruption")
    d.say("agent", "Нет, совсем недолго. Могу ли я ещё чем-то помочь?")
    d.say("customer", "Нет, спасибо.")
    d.say("agent", "Перевожу вас в отдел ипотеки. Всего доброго!")
    return call("ru_mono_16k_interruption_transfer", d, language="ru", layout="mono", rate=16000,
                voices={"agent": RU_A, "customer": RU_C}, fmt="mp3", agent=("EV-205", "Павел Соколов"),
                description="Russian mono: the caller interrupts; the agent announces a transfer to the mortgage "
                            "department.",
                verdicts=verdicts(identity="pass", hold="na", silent="na", transfer="pass"),
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, transfer_announced=True, anything_else=True, goodbye=True))


# --------------------------------------------------------------------------- the Polish calls


def pl_iban() -> EvalCall:
    d = EvalDialogue("pl_iban")
    d.say("agent", "Dzień dobry, Bank Północny, nazywam się", pii("PERSON", "Anna."),
          "Rozmowa jest nagrywana. W czym mogę pomóc?")
    d.say("customer", "Dzień dobry. Chcę zrobić przelew na inne konto.")
    d.say("agent", "Proszę podać hasło do konta.")
    d.say("customer", "Zielony parasol.")
    d.say("agent", "Dziękuję. Numer konta odbiorcy?")
    d.say("customer", pii("IBAN", spelled_iban(IBAN_PL, PL_DIGITS, "P L") + "."))
    d.say("agent", "Przelew wysłany. Czy mogę jeszcze w czymś pomóc?")
    d.say("customer", "Nie.")
    d.say("agent", "Do widzenia!")
    return call("pl_stereo_16k_iban", d, language="pl", layout="stereo", rate=16000,
                voices={"agent": PL_A, "customer": PL_C}, fmt="mp3", agent=("EV-301", "Anna Kowalska"),
                description="Polish: an IBAN said with its country letters and 26 digits in Polish words.",
                verdicts=verdicts(identity="pass", hold="na", silent="na", transfer="na"),
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, anything_else=True, goodbye=True))


def pl_pesel_dead_air() -> EvalCall:
    d = EvalDialogue("pl_pesel_dead_air")
    d.say("agent", "Dzień dobry, Bank Północny, z tej strony", pii("PERSON", "Marta."),
          "Rozmowa jest nagrywana. W czym mogę pomóc?")
    d.say("customer", "Dzień dobry. Jakie mam saldo konta?")
    d.say("agent", "Proszę podać numer PESEL.")
    d.say("customer", pii("PL_PESEL", pl(PESEL, group=3) + "."))
    d.say("agent", "Dziękuję.")
    d.say("agent", "Saldo wynosi", decoy("price", "dwa tysiące złotych."), gap=11.0, tag="dead_air")
    d.say("agent", "Czy mogę jeszcze w czymś pomóc?")
    d.say("customer", "Nie.")
    d.say("agent", "Do widzenia!")
    return call("pl_mono_16k_pesel_dead_air", d, language="pl", layout="mono", rate=16000,
                voices={"agent": PL_A, "customer": PL_C}, fmt="ogg", agent=("EV-302", "Marta Nowak"),
                description="Polish mono: a PESEL in digit words, then 11 s of unannounced dead air.",
                verdicts=verdicts(identity="pass", hold="fail", silent="na", transfer="na", dead_air="fail"),
                notes={"hold_announcement": "11 s silence after the agent's 'Dziękuję.', not announced",
                       "dead_air": "11 s silence (limit 10 s)"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, anything_else=True, goodbye=True))


def pl_card_read_back() -> EvalCall:
    d = EvalDialogue("pl_read_back")
    d.say("agent", "Dzień dobry, Bank Północny, nazywam się", pii("PERSON", "Ewa."),
          "Rozmowa jest nagrywana. W czym mogę pomóc?")
    d.say("customer", "Dzień dobry. Chcę zapłacić kartą ratę kredytu.")
    d.say("agent", "Proszę podać hasło do konta.")
    d.say("customer", "Stary młyn.")
    d.say("agent", "Numer karty?")
    d.say("customer", pii("CARD_NUMBER", pl(CARD_MC3) + "."))
    d.say("agent", "Powtarzam:", pii("CARD_NUMBER", pl(CARD_MC3) + "."))
    d.say("agent", "Czy mogę jeszcze w czymś pomóc?")
    d.say("customer", "Nie.")
    d.say("agent", "Do widzenia!")
    return call("pl_stereo_8k_card_read_back", d, language="pl", layout="stereo", rate=8000,
                voices={"agent": PL_A, "customer": PL_C}, fmt="flac", agent=("EV-303", "Ewa Wiśniewska"),
                description="Polish telephone band: the agent reads the whole card number back (critical).",
                verdicts=verdicts(identity="pass", hold="na", silent="na", transfer="na", card_read_back="fail"),
                notes={"card_read_back": "'Powtarzam: ...' the full card number (critical)"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True, card_number_spoken_by="customer", card_read_back_by_agent=True,
                          anything_else=True, goodbye=True))


def pl_nip_missing_closing() -> EvalCall:
    d = EvalDialogue("pl_nip")
    d.say("agent", "Dzień dobry, Bank Północny, nazywam się", pii("PERSON", "Tomasz."),
          "Rozmowa jest nagrywana. W czym mogę pomóc?")
    d.say("customer", "Dzień dobry. Chcę otworzyć konto firmowe.")
    d.say("agent", "Proszę podać NIP i numer PESEL.")
    d.say("customer", "NIP", pii("PL_NIP", pl(NIP, group=3) + ","), "PESEL", pii("PL_PESEL", pl(PESEL2, group=3) + "."))
    d.say("agent", "Dziękuję, konto będzie otwarte jutro o", decoy("time_of_day", "dziesiątej trzydzieści."))
    d.say("customer", "Dobrze.")
    d.say("agent", "No dobrze.")
    return call("pl_mono_8k_nip_missing_closing", d, language="pl", layout="mono", rate=8000,
                voices={"agent": PL_A, "customer": PL_C}, fmt="ogg", agent=("EV-304", "Tomasz Zieliński"),
                description="Polish mono telephone band: a NIP and a PESEL one after the other; the agent ends "
                            "the call without offering more help or saying goodbye.",
                verdicts=verdicts(identity="pass", hold="na", silent="na", transfer="na",
                                  anything_else="fail", goodbye="fail"),
                notes={"anything_else": "no 'czy mogę jeszcze w czymś pomóc'", "goodbye": "'No dobrze.': no goodbye"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          verification=True))


def pl_transfer_decoys() -> EvalCall:
    d = EvalDialogue("pl_transfer")
    d.say("agent", "Dzień dobry, Bank Północny, nazywam się", pii("PERSON", "Piotr."),
          "Rozmowa jest nagrywana. W czym mogę pomóc?")
    d.say("customer", "Dzień dobry. Pytam o zamówienie numer", decoy("order_number", pl(ORDER_NUMBER) + "."))
    d.say("agent", "Kosztuje", decoy("price", "czterdzieści dziewięć złotych"), "i obsługuje je dział sklepu.")
    d.say("agent", "Czy mogę jeszcze w czymś pomóc?")
    d.say("customer", "Nie, dziękuję.")
    d.say("agent", "Przełączam pana do działu sklepu. Do widzenia!")
    return call("pl_stereo_16k_transfer_decoys", d, language="pl", layout="stereo", rate=16000,
                voices={"agent": PL_A, "customer": PL_C}, fmt="mp3", agent=("EV-305", "Piotr Lewandowski"),
                description="Polish: an order number that fails Luhn and a price; the agent announces a transfer "
                            "to the shop department.",
                verdicts=verdicts(identity="na", hold="na", silent="na", transfer="pass"),
                notes={"identity_verification": "a question about a shop order, not about the caller's account"},
                scen=dict(greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
                          transfer_announced=True, anything_else=True, goodbye=True))


def eval_calls() -> list[EvalCall]:
    return [
        en_card_payment(), en_paraphrased_greeting(), en_missing_closing(), en_silent_caller_ssn(),
        en_silent_caller_unchecked(), en_iban_transfer(), en_interruption(), en_card_cvv_read_back(),
        en_dead_air_conduct(), en_dont_know_agent_only(), en_outbound_customer_left(), en_lookalikes(),
        en_amex_pairs_transfer(),
        ru_card_hold(), ru_inn_missing_closing(), ru_silent_snils(), ru_paraphrase_decoys(), ru_interruption_transfer(),
        pl_iban(), pl_pesel_dead_air(), pl_card_read_back(), pl_nip_missing_closing(), pl_transfer_decoys(),
    ]


# --------------------------------------------------------------------------- labels


def _union(spans: list[tuple[float, float]], merge_gap: float = 0.0) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1] + merge_gap:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def timeline_metrics(rendered: RenderedCall) -> dict[str, float]:
    """Conversation metrics from the synthesiser's timeline (speech = union of the stretches per role)."""
    by_role = {role: _union([(t.start, t.end) for t in rendered.turns if t.role == role], 0.3)
               for role in ("agent", "customer")}
    talk = {role: sum(b - a for a, b in spans) for role, spans in by_role.items()}
    everyone = _union([s for spans in by_role.values() for s in spans])
    gaps = [b[0] - a[1] for a, b in zip(everyone, everyone[1:])]
    silences = [g for g in gaps if g >= MIN_SILENCE_S]
    overlaps = [min(a1, b1) - max(a0, b0) for a0, a1 in by_role["agent"] for b0, b1 in by_role["customer"]]
    overlaps = [o for o in overlaps if o >= MIN_OVERLAP_S]
    total = talk["agent"] + talk["customer"]
    return {
        "duration_s": round(rendered.duration, 3),
        "agent_talk_ratio": round(talk["agent"] / total, 4) if total else 0.0,
        "longest_silence_s": round(max(silences), 3) if silences else 0.0,
        "silence_count": float(len(silences)),
        "overlap_total_s": round(sum(overlaps), 3),
        "time_to_first_agent_word_s": round(by_role["agent"][0][0], 3),
    }


def check_metric_verdicts(c: EvalCall, metrics: dict[str, float]) -> None:
    """The metric rules' labels agree with the timeline (the limits of the default pack)."""
    talk = "pass" if 0.30 <= metrics["agent_talk_ratio"] <= 0.85 else "fail"
    dead = "pass" if metrics["longest_silence_s"] <= 10 else "fail"
    for rule, want in (("talk_ratio", talk), ("dead_air", dead)):
        if c.verdicts[rule] != want:
            raise ValueError(f"{c.script.name}: {rule} is labelled {c.verdicts[rule]!r} but the timeline says "
                             f"{want!r} ({metrics})")


def labels_dict(c: EvalCall, rendered: RenderedCall) -> dict[str, Any]:
    script = rendered.script
    metrics = timeline_metrics(rendered)
    check_metric_verdicts(c, metrics)
    turns, sensitive, decoys = [], [], []
    for t in rendered.turns:
        turns.append({"speaker": t.speaker, "role": t.role, "channel": t.channel, "start": round(t.start, 3),
                      "end": round(t.end, 3), "text": t.text, **({"tag": t.tag} if t.tag else {})})
        plant = c.plants.get(t.index)
        if plant is None:
            continue
        span = {"role": t.role, "start": round(t.start, 3), "end": round(t.end, 3), "turn": t.index}
        if plant.entity:
            sensitive.append({"entity": plant.entity, **span, "form": plant.form})
        else:
            decoys.append({"kind": plant.decoy, **span})
    return {
        "format": LABELS_FORMAT,
        "call": script.name,
        "audio": c.filename,
        "language": script.language,
        "layout": script.layout,
        "sample_rate": rendered.sample_rate,
        "channels": rendered.channels,
        "channel_roles": list(script.channel_roles) if script.layout == "stereo" else None,
        "duration": round(rendered.duration, 3),
        "description": c.description,
        "pack": PACK,
        "turns": turns,
        "verdicts": c.verdicts,
        "notes": c.notes,
        "pii": sensitive,
        "decoys": decoys,
        "metrics": metrics,
        "scenario": measured_scenario(rendered),
    }


def write_call(c: EvalCall, out: Path) -> dict[str, Any]:
    rendered = render(c.script)
    audio = write_audio(rendered, out / c.filename)
    (out / f"{c.script.name}.json").write_text(json.dumps(c.sidecar, ensure_ascii=False, indent=2) + "\n",
                                              encoding="utf-8")
    labels = labels_dict(c, rendered)
    (out / f"{c.script.name}.labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=2) + "\n",
                                                     encoding="utf-8")
    log.info("wrote %s (%.1f s)", audio.name, rendered.duration)
    return {"call": c, "labels": labels, "bytes": audio.stat().st_size}


def readme(rows: list[dict[str, Any]]) -> str:
    total = sum(r["bytes"] for r in rows)
    lines = [
        "# eval/: the labelled evaluation set",
        "",
        "Scripted two-party contact-centre calls with exact labels, for `callqa eval eval/` (see "
        "[docs/eval.md](../docs/eval.md) for the labels format and how each figure is measured, and "
        "[docs/ACCURACY.md](../docs/ACCURACY.md) for the latest figures). Generated by `tools/make_eval.py` "
        "with `tools/callsynth.py` (flite voices for English, espeak-ng for Russian and Polish); nothing here "
        "is a real person, account or card. Kept apart from `sample_audio/` (the demo calls) and from the "
        "tests.",
        "",
        "```",
        ".venv/bin/python tools/make_eval.py     # regenerate (needs flite, espeak-ng, ffmpeg)",
        "make eval                               # measure; writes docs/ACCURACY.md",
        "```",
        "",
        f"{len(rows)} calls, {total / 1e6:.1f} MB. Each call is `<name>.<ext>` (the recording), `<name>.json` "
        "(its metadata sidecar, as `callqa run` reads it) and `<name>.labels.json` (the labels).",
        "",
        "| call | lang | layout | rate | s | sensitive data (planted) | look-alikes | intended failures | what it exercises |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lab = row["labels"]
        ents = ", ".join(sorted({p["entity"] for p in lab["pii"]})) or "—"
        dec = ", ".join(sorted({p["kind"] for p in lab["decoys"]})) or "—"
        fails = ", ".join(k for k, v in lab["verdicts"].items() if v == "fail") or "—"
        lines.append(f"| `{row['call'].filename}` | {lab['language']} | {lab['layout']} | {lab['sample_rate'] // 1000} kHz "
                     f"| {lab['duration']:.0f} | {ents} | {dec} | {fails} | {lab['description']} |")
    lines += [
        "",
        "## Licence",
        "",
        "Generated by the callqa project from its own scripts; released under the repository's licence "
        "(Apache-2.0).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "eval", help="output directory")
    parser.add_argument("--only", nargs="*", metavar="NAME", help="only these calls (by name)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    check_values()
    calls = eval_calls()
    known = {c.script.name for c in calls}
    if args.only and set(args.only) - known:
        parser.error(f"unknown call(s) {sorted(set(args.only) - known)}; known: {sorted(known)}")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [write_call(c, args.out) for c in calls if not args.only or c.script.name in args.only]
    if not args.only:
        (args.out / "README.md").write_text(readme(rows), encoding="utf-8")
    for row in rows:
        print(f"{row['call'].filename:45s} {row['labels']['duration']:6.1f} s {row['bytes'] / 1024:8.0f} KiB")
    print(f"{len(rows)} calls, {sum(r['bytes'] for r in rows) / 1e6:.2f} MB of audio in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
