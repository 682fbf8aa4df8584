"""Sensitive data in real speech, with the real recogniser (tiny.en): redacted audio and the whole `callqa run`.

Known values are planted in a generated call (espeak-ng): two card numbers (a
Visa and a Mastercard 2-series), a Polish IBAN said as its 26 digits, and a US
SSN. Numbers without repeated adjacent digits are used because tiny.en drops or adds
repeats ("0 0 0 0") on synthetic speech, and a misheard number is not the
planted one any more.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from callqa.normalize import digits_text

pytestmark = [pytest.mark.model, pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")]

REPO = Path(__file__).resolve().parents[1]

VISA = "4916273805142765"
MASTERCARD_2 = "2720591638472053"
IBAN_PL = "PL69105061738294518273640519"
SSN = "536279184"
PLANTED = [VISA, MASTERCARD_2, IBAN_PL[2:], SSN]

DIGIT_WORDS = "zero one two three four five six seven eight nine".split()


def grouped(number: str, sizes=(4,)) -> str:
    """'4532148822310047' -> '4 5 3 2. 1 4 8 8. ...' (how a caller reads it; espeak says each digit)."""
    groups, i, k = [], 0, 0
    while i < len(number):
        n = sizes[min(k, len(sizes) - 1)]
        groups.append(" ".join(number[i:i + n]))
        i, k = i + n, k + 1
    return ". ".join(groups)


SCRIPT = [
    ("agent", "Thank you for calling Northwind Bank. Can I have the long card number please?"),
    ("customer", f"Yes. It is {grouped(VISA)}."),
    ("agent", "Thank you. And your social security number?"),
    ("customer", f"My social security number is {grouped(SSN, (3, 2, 4))}."),
    ("agent", "Which account should the refund go to?"),
    ("customer", f"My Polish account number is {grouped(IBAN_PL[2:], (2, 4))}."),
    ("agent", "Thank you. Do you have another card?"),
    ("customer", f"Yes, the card number is {grouped(MASTERCARD_2)}."),
    ("agent", "Thank you, goodbye."),
]


def synth_call(path: Path) -> Path:
    """A stereo 16 kHz call, agent left, customer right: tools/callsynth.py when present, else espeak-ng here."""
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import callsynth as cs
    except ImportError:
        cs = None
    finally:
        sys.path.pop(0)
    if cs is not None:
        script = cs.CallScript(
            name="pii", language="en",
            voices={"agent": cs.Voice("en-us+f3", speed=150), "customer": cs.Voice("en-gb", speed=135)},
            turns=tuple(cs.ScriptTurn(role, text, gap=0.6) for role, text in SCRIPT), sample_rate=16000,
        )
        return cs.write_audio(cs.render(script), path)
    import soundfile as sf

    rate, parts = 16000, []
    for role, text in SCRIPT:
        voice = "en-us+f3" if role == "agent" else "en-gb"
        wav = path.with_suffix(".part.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", "140" if role == "agent" else "135", "-w", str(wav), "--", text], check=True, timeout=60)
        audio, sr = sf.read(str(wav), dtype="float32")
        idx = np.round(np.arange(0, len(audio) * rate / sr) * sr / rate).astype(int).clip(0, len(audio) - 1)
        parts.append((role, audio[idx]))
        wav.unlink()
    total = sum(len(a) for _, a in parts) + rate * (len(parts) + 1)
    out = np.zeros((total, 2), np.float32)
    pos = rate // 2
    for role, audio in parts:
        out[pos:pos + len(audio), 0 if role == "agent" else 1] = audio * 0.5
        pos += len(audio) + int(0.6 * rate)
    sf.write(str(path), out, rate, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def call_wav(tmp_path_factory) -> Path:
    return synth_call(tmp_path_factory.mktemp("pii-speech") / "planted.wav")


def spoken_forms(number: str) -> list[str]:
    """The number as it could be stored: plain, with separators, grouped, and as digit words."""
    forms = {number, " ".join(number), "-".join(number)}
    for size in (2, 3, 4):
        chunks = [number[i:i + size] for i in range(0, len(number), size)]
        forms.update({" ".join(chunks), "-".join(chunks)})
    if len(number) == 9:
        forms.update({f"{number[:3]}-{number[3:5]}-{number[5:]}", f"{number[:3]} {number[3:5]} {number[5:]}"})
    words = [DIGIT_WORDS[int(d)] for d in number]
    forms.update({" ".join(words), "-".join(words)})
    return sorted(forms)


def test_redacted_audio_does_not_say_the_numbers_again(call_wav, tmp_path):
    from callqa.audio import load_recording
    from callqa.pii import detect, redact_audio, redact_transcript
    from callqa.pipeline import Pipeline
    from callqa.settings import Settings

    pipeline = Pipeline(Settings.from_env())
    raw, _ = pipeline.transcribe(load_recording(call_wav))
    spans = detect(raw)
    entities = [s.entity for s in spans]
    assert entities.count("CARD_NUMBER") >= 1, entities  # the planted cards were heard (tiny.en mishears some digits)
    redacted, spans = redact_transcript(raw, spans)

    before = digits_text(" ".join(w.text for _, w in raw.words))
    out = redact_audio(call_wav, spans, redacted, tmp_path / "redacted.flac", mode="beep")
    again, _ = pipeline.transcribe(load_recording(out.path))
    after = digits_text(" ".join(w.text for _, w in again.words))
    stored = digits_text(" ".join(w.text for _, w in redacted.words))
    checked = 0
    for number in PLANTED:
        heard = [number[i:i + 6] for i in range(len(number) - 5) if number[i:i + 6] in before]
        if not heard or any(h in stored for h in heard):
            continue  # misheard so badly that it was not found: neither text nor audio redaction applies
        checked += 1
        for i in range(len(number) - 5):
            assert number[i:i + 6] not in after, f"digits {i}..{i + 6} of a planted number survived redaction"
    assert checked >= 2


# --------------------------------------------------------------------------- the whole `callqa run`


def test_callqa_run_stores_no_planted_number(call_wav, tmp_path):
    work = tmp_path / "out"
    work.mkdir()
    db = work / "calls.duckdb"
    log = work / "callqa.log"
    env = {**os.environ, "CALLQA_DB": str(db), "CALLQA_CACHE_DIR": str(tmp_path / "cache"),
           "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "0"}
    exe = Path(sys.executable).parent / "callqa"
    with log.open("wb") as fh:
        proc = subprocess.run([str(exe), "run", str(call_wav), "--db", str(db), "-vv"], stdout=fh,
                              stderr=subprocess.STDOUT, env=env, timeout=600, cwd=work)
    assert proc.returncode == 0, log.read_text(errors="replace")[-2000:]

    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        # everything the QA lead can read, as text (the file's pages may be compressed)
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        dump = "\n".join(str(row) for t in tables for row in con.execute(f'SELECT * FROM "{t}"').fetchall())
        findings = con.execute("SELECT entity, masked, tags FROM pii_spans").fetchall()
    finally:
        con.close()
    assert "number" in dump and "[CARD_NUMBER]" in dump  # the dump holds the turns, and a card was found
    assert any(e == "CARD_NUMBER" for e, _, _ in findings)

    files = [p for p in tmp_path.rglob("*") if p.is_file() and p != call_wav]
    assert {db, db.with_name(db.name + ".work"), log} <= set(files)
    blobs = {str(p.relative_to(tmp_path)): p.read_bytes() for p in files}
    blobs["(sql dump)"] = dump.encode()
    blobs["(stdout/log as text)"] = log.read_text(errors="replace").encode()
    leaks = []
    for number in PLANTED:
        for form in spoken_forms(number):
            for name, data in blobs.items():
                if form.encode() in data or form.upper().encode() in data:
                    leaks.append((name, f"planted number #{PLANTED.index(number)} as {len(form)}-char form"))
    assert not leaks, leaks
    digits_only = re.sub(r"\D", "", dump)
    for number in PLANTED:
        assert number not in digits_only
