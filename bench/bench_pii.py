"""Sensitive data: what detection and redaction add to the pipeline's time per call.

1. Share of the pipeline: the whole ``Pipeline.process`` (decode, recognition
   with the default model, speakers, roles, sensitive-data detection and text
   redaction) on generated calls with card numbers, an SSN and an account
   number in them (tools/callsynth.py, espeak-ng) plus any stereo English call
   in sample_audio/; the "pii" stage's seconds over the call's total, median
   of the repeats. The first call of a process also loads spaCy's English
   model (person names) and pymorphy3: reported apart, as "cold".
2. Detection alone on hand-built transcripts of growing length in English,
   Russian and Polish (words per second), and audio redaction (beep) of a
   60 s stereo recording.

Writes the "Sensitive data" section of docs/BENCHMARKS.md.
Run: python -m bench.bench_pii [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.report import table, update_section

REPO = Path(__file__).resolve().parents[1]

SCRIPTS = {
    "cards": [
        ("agent", "Thank you for calling Northwind Bank. Can I have the long card number please?"),
        ("customer", "Yes. It is 4 9 1 6. 2 7 3 8. 0 5 1 4. 2 7 6 5."),
        ("agent", "Thank you. And the expiry date and the security code on the back?"),
        ("customer", "Oh five twenty seven. And the code is 7 3 1."),
        ("agent", "Thank you, the payment of forty nine ninety nine is done. Anything else?"),
        ("customer", "No, that's all, thank you."),
        ("agent", "Thank you for calling, goodbye."),
    ],
    "ids": [
        ("agent", "Good morning, this is Sarah from Contoso Insurance. How can I help you?"),
        ("customer", "Hi, I'd like to update my details. My social security number is 5 3 6. 2 7. 9 1 8 4."),
        ("agent", "Thank you. Which account should the refund go to?"),
        ("customer", "My account number is 6 9. 1 0 5 0. 6 1 7 3. 8 2 9 4."),
        ("agent", "And the best phone number to reach you?"),
        ("customer", "It is 4 1 5. 5 5 5. 0 1 3 2."),
        ("agent", "Perfect, I have updated everything. Have a nice day."),
    ],
}


def generated_calls(directory: Path) -> list[Path]:
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import callsynth as cs
    except ImportError:
        return []
    finally:
        sys.path.pop(0)
    out = []
    for name, lines in SCRIPTS.items():
        script = cs.CallScript(
            name=name, language="en",
            voices={"agent": cs.Voice("en-us+f3", speed=150), "customer": cs.Voice("en-gb", speed=135)},
            turns=tuple(cs.ScriptTurn(role, text, gap=0.6) for role, text in lines), sample_rate=16000,
        )
        out.append(cs.write_audio(cs.render(script), directory / f"{name}.wav"))
    return out


def sample_calls() -> list[Path]:
    from callqa.audio import AUDIO_EXTENSIONS, load_recording

    samples = REPO / "sample_audio"
    calls = []
    if samples.is_dir():
        for path in sorted(samples.iterdir()):
            if path.suffix.lower() in AUDIO_EXTENSIONS:
                rec = load_recording(path)
                if rec.is_stereo and (rec.metadata.language or "en") == "en":
                    calls.append(path)
    return calls[:3]


def share_of_pipeline(calls: list[Path], repeats: int) -> tuple[list[list[object]], float, float]:
    from callqa.pipeline import Pipeline
    from callqa.settings import Settings

    pipeline = Pipeline(Settings.from_env())
    rows, shares = [], []
    cold = None
    for path in calls:
        totals, piis = [], []
        rec = pipeline.load(path)
        for _ in range(repeats):
            t0 = time.perf_counter()
            pc = pipeline.process(rec)
            total = time.perf_counter() - t0
            pii = pipeline.times.seconds.get("pii", 0.0)
            if cold is None:
                cold = pii
                continue  # the first call loads spaCy and pymorphy3
            totals.append(total)
            piis.append(pii)
        total, pii = statistics.median(totals), statistics.median(piis)
        shares.append(pii / total)
        rows.append([path.name, round(rec.duration, 1), len(pc.pii), round(total, 2), round(pii * 1000, 1),
                     f"{100 * pii / total:.2f}%"])
    return rows, statistics.median(shares), cold or 0.0


def synthetic_transcript(language: str, turns: int):
    from callqa.types import Role, RoleAssignment, TimeSpan, Transcript, Turn, Word

    lines = {
        "en": ["thank you for calling how can I help you today", "I would like to check the balance on my card please",
               "sure can I have the card number", "four nine one six two seven three eight zero five one four two seven six five",
               "thank you and your date of birth", "march fifth nineteen eighty four", "and the phone number on the account",
               "four one five five five five zero one three two"],
        "ru": ["здравствуйте чем могу помочь", "я хочу узнать баланс карты", "назовите номер карты пожалуйста",
               "четыре девять один шесть два семь три восемь ноль пять один четыре два семь шесть пять",
               "спасибо а ваш ИНН", "пять ноль ноль один ноль ноль семь три два два пять девять",
               "и номер телефона", "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь"],
        "pl": ["dzień dobry w czym mogę pomóc", "chciałbym sprawdzić saldo karty", "proszę podać numer karty",
               "cztery dziewięć jeden sześć dwa siedem trzy osiem zero pięć jeden cztery dwa siedem sześć pięć",
               "dziękuję a numer PESEL", "cztery cztery zero pięć jeden cztery zero jeden cztery pięć osiem",
               "i numer telefonu", "sześćset jeden dwieście trzydzieści cztery pięćset sześćdziesiąt siedem"],
    }[language]
    built, t = [], 0.0
    for i in range(turns):
        role = Role.AGENT if i % 2 == 0 else Role.CUSTOMER
        words = []
        for w in lines[i % len(lines)].split():
            words.append(Word(w, t, t + 0.3, 0.9))
            t += 0.35
        built.append(Turn(i, role.value, role, TimeSpan(words[0].start, words[-1].end), tuple(words), i % 2))
        t += 0.6
    return Transcript("b" * 64, language, t, tuple(built), "bench", "channels", 2,
                      RoleAssignment((("agent", Role.AGENT), ("customer", Role.CUSTOMER)), 1.0, "bench", ""))


def detection_speed(repeats: int) -> list[list[object]]:
    from callqa.pii import detect, redact_transcript

    rows = []
    for language in ("en", "ru", "pl"):
        for turns in (40, 400):
            tr = synthetic_transcript(language, turns)
            n_words = sum(len(t.words) for t in tr.turns)
            detect(tr)  # warm: models loaded
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                spans = detect(tr)
                redact_transcript(tr, spans)
                times.append(time.perf_counter() - t0)
            sec = statistics.median(times)
            rows.append([language, turns, n_words, round(tr.duration / 60, 1), len(spans), round(sec * 1000, 1),
                         round(n_words / sec)])
    return rows


def audio_redaction_speed(repeats: int) -> float:
    from callqa.pii import detect, redact_audio

    tr = synthetic_transcript("en", 60)
    spans = detect(tr)
    rate = 16000
    noise = np.random.default_rng(0).uniform(-0.2, 0.2, (2, int(rate * tr.duration))).astype(np.float32)
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            t0 = time.perf_counter()
            redact_audio(list(noise), spans, tr, Path(tmp) / "r.flac")
            times.append(time.perf_counter() - t0)
    return statistics.median(times) / tr.duration


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        calls = generated_calls(Path(tmp)) + sample_calls()
        if calls:
            rows, share, cold = share_of_pipeline(calls, args.repeats + 1)
        else:
            rows, share, cold = [], float("nan"), 0.0
    speed = detection_speed(args.repeats)
    audio = audio_redaction_speed(args.repeats)
    verdict = "meets" if share < 0.05 else "MISSES"
    body = f"""
Detection plus text redaction (`callqa.pii.detect` + `redact_transcript`, every default detector) is
**{100 * share:.2f}%** of the pipeline's time per call (median over calls; target < 5%: {verdict} it).
The first call in a process also loads spaCy's English NER model and pymorphy3: {cold:.2f} s once.

Whole pipeline per call (default model), warm; median of {args.repeats} runs:

{table(["call", "audio s", "findings", "pipeline s", "pii ms", "pii share"], rows) if rows else "(no calls: tools/callsynth.py and sample_audio/ missing)"}

Detection + redaction alone on hand-built transcripts (a card, a date of birth or an ID and a phone number
every 8 turns):

{table(["language", "turns", "words", "minutes", "findings", "ms", "words/s"], speed)}

Audio redaction (16 kHz stereo arrays in, beep, FLAC out): {1000 * audio:.2f} ms per second of audio.
"""
    update_section("bench_pii", "Sensitive data", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
