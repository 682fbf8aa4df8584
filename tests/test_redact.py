"""Redaction of transcripts (text and words) and of recordings (beep / silence), and `callqa redact-audio`."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
from conftest import make_transcript
from typer.testing import CliRunner

from callqa.cli import app
from callqa.errors import ConfigError
from callqa.pii import Redacted, detect, redact_audio, redact_channels, redact_transcript, redaction_intervals
from callqa.types import PiiSpan, Role, TimeSpan

CARD_WORDS = "four five three two one four eight eight two two three one zero zero four seven"


def call_with_secrets():
    return make_transcript([
        ("agent", 0.0, "can I have the card number"),
        ("customer", 3.0, "sure it's " + " ".join(CARD_WORDS.split()[:8])),
        ("agent", 7.0, "mm-hmm"),
        ("customer", 7.6, " ".join(CARD_WORDS.split()[8:]) + " thanks"),
        ("agent", 13.0, "and your social security number"),
        ("customer", 15.0, "it is 078-05-1123 okay"),
    ])


def test_redacted_transcript_holds_no_digits_of_a_finding():
    tr = call_with_secrets()
    spans = detect(tr)
    assert [s.entity for s in spans] == ["CARD_NUMBER", "US_SSN"]
    result = redact_transcript(tr, spans)
    assert isinstance(result, Redacted)
    red, new_spans = result
    texts = [t.text for t in red.turns]
    assert texts == [
        "can I have the card number", "sure it's [CARD_NUMBER]", "mm-hmm", "[CARD_NUMBER] thanks",
        "and your social security number", "it is [US_SSN] okay",
    ]
    number_words = set(CARD_WORDS.split())
    for turn in red.turns:
        assert not (number_words & {w.text for w in turn.words})
        assert not re.search(r"\d", turn.text)
    # same turns, same times; collapsed tokens span the replaced words
    assert [t.index for t in red.turns] == [t.index for t in tr.turns]
    assert [t.span for t in red.turns] == [t.span for t in tr.turns]
    token = red.turns[1].words[2]
    assert token.text == "[CARD_NUMBER]"
    assert (token.start, token.end) == (tr.turns[1].words[2].start, tr.turns[1].words[9].end)
    assert token.probability == min(w.probability for w in tr.turns[1].words[2:10])


def test_remapped_word_refs_point_at_the_tokens():
    tr = call_with_secrets()
    red, spans = redact_transcript(tr, detect(tr))
    card, ssn = spans
    assert card.words == ((1, 2), (3, 0))
    assert ssn.words == ((5, 2),)
    for s in spans:
        for t, w in s.words:
            assert red.turns[t].words[w].text == f"[{s.entity}]"
        for e in s.evidence:  # evidence offsets point at the token in the stored (redacted) text
            text = red.turns[e.turn_index].text
            assert text[e.char_start:e.char_end] == f"[{s.entity}]"


def test_nothing_to_redact_returns_the_same_transcript():
    tr = make_transcript([("agent", 0.0, "hello there")])
    red, spans = redact_transcript(tr, ())
    assert red is tr and spans == ()


def test_refs_outside_the_transcript_are_an_error():
    tr = make_transcript([("agent", 0.0, "hello there")])
    bad = PiiSpan("CVV", "x.v1", 0.9, Role.AGENT, TimeSpan(0, 1), "•••", "x", words=((0, 7),))
    with pytest.raises(ValueError, match="word 7 of turn 0"):
        redact_transcript(tr, [bad])


def test_intervals_per_turn_padded_and_merged():
    tr = call_with_secrets()
    spans = detect(tr)
    ivs = redaction_intervals(spans, tr, padding_s=0.15)
    t1, t3, t5 = tr.turns[1], tr.turns[3], tr.turns[5]
    assert len(ivs) == 3
    assert abs(ivs[0].start - (t1.words[2].start - 0.15)) < 1e-9 and abs(ivs[0].end - (t1.words[9].end + 0.15)) < 1e-9
    assert abs(ivs[1].start - (t3.words[0].start - 0.15)) < 1e-9 and abs(ivs[1].end - (t3.words[7].end + 0.15)) < 1e-9
    assert abs(ivs[2].start - (t5.words[2].start - 0.15)) < 1e-9
    # the agent's "mm-hmm" between the two halves is not covered
    assert not any(iv.overlap(tr.turns[2].span) > 0 for iv in ivs)
    # redacted transcript + remapped spans give the same intervals
    red, new_spans = redact_transcript(tr, spans)
    assert redaction_intervals(new_spans, red) == ivs
    # without word refs, the finding's own span is used
    assert redaction_intervals([replace(spans[1], words=())], None, padding_s=0) == (spans[1].span,)


@pytest.mark.parametrize("mode", ["beep", "silence"])
def test_redact_channels(mode):
    rate = 16000
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, (2, rate * 2)).astype(np.float32)
    out = redact_channels(list(noise), [TimeSpan(0.5, 1.0)], rate, mode=mode)
    for orig, red in zip(noise, out):
        seg = red[8000:16000]
        if mode == "silence":
            assert not seg.any()
        else:
            spectrum = np.abs(np.fft.rfft(seg))
            assert abs(np.argmax(spectrum) * rate / len(seg) - 1000) < 5
        assert np.array_equal(red[:8000], orig[:8000]) and np.array_equal(red[16000:], orig[16000:])


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
def test_redact_audio_writes_every_channel(tmp_path, suffix):
    rate = 16000
    tr = call_with_secrets()
    spans = detect(tr)
    tone = (0.3 * np.sin(2 * np.pi * 300 * np.arange(rate * 18) / rate)).astype(np.float32)
    result = redact_audio([tone, tone * 0.5], spans, tr, tmp_path / f"out{suffix}", mode="silence")
    data, sr = sf.read(str(result.path), always_2d=True)
    assert sr == rate and data.shape[1] == 2
    for iv in result.intervals:
        a, b = int(iv.start * rate) + 80, int(iv.end * rate) - 80  # lossy codecs ring at the edges
        assert np.abs(data[a:b]).max() < 0.02
    assert np.abs(data[int(0.5 * rate):int(1.0 * rate)]).max() > 0.1  # untouched elsewhere
    assert result.seconds == pytest.approx(sum(i.duration for i in result.intervals))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": "bleep"}, "use one of: beep, silence"),
    ({"out": "x.mp3"}, "use one of: .flac, .ogg, .wav"),
])
def test_redact_audio_rejects_bad_options(tmp_path, kwargs, message):
    tr = call_with_secrets()
    out = tmp_path / kwargs.pop("out", "x.wav")
    with pytest.raises(ConfigError, match=re.escape(message)):
        redact_audio([np.zeros(16000, np.float32)], detect(tr), tr, out, **kwargs)


# --------------------------------------------------------------------------- the CLI command


def _stored_call(tmp_path):
    """A stored call whose recording is a real file (its sha256 is the call id)."""
    from callqa.audio import load_recording
    from callqa.store import Store
    from callqa.types import CallRecord, ProcessedCall

    rate = 16000
    rec_path = tmp_path / "call.wav"
    noise = np.random.default_rng(1).uniform(-0.3, 0.3, (rate * 18, 2)).astype(np.float32)
    sf.write(str(rec_path), noise, rate, subtype="PCM_16")
    rec = load_recording(rec_path)
    raw = replace(call_with_secrets(), call_id=rec.call_id)
    red, spans = redact_transcript(raw, detect(raw))
    record = CallRecord(call_id=rec.call_id, source_path=str(rec_path), size_bytes=rec.size_bytes, container="wav",
                        codec="pcm_s16le", source_sample_rate=rate, channels=2, duration_s=rec.duration,
                        language_probability=1.0, settings_key="test")
    db = tmp_path / "calls.duckdb"
    with Store(db).writing() as writer:
        writer.save_call(ProcessedCall(record=record, transcript=red, pii=spans), run_id=None)
    return db, rec_path, rec.call_id, red, spans


def test_cli_redact_audio(tmp_path):
    db, rec_path, call_id, red, spans = _stored_call(tmp_path)
    out = tmp_path / "redacted.flac"
    result = CliRunner().invoke(app, ["redact-audio", call_id[:10], str(out), "--db", str(db), "--mode", "silence"])
    assert result.exit_code == 0, result.output
    assert "2 finding(s), 3 interval(s)" in result.output
    data, rate = sf.read(str(out), always_2d=True)
    assert data.shape[1] == 2
    for iv in redaction_intervals(spans, red):
        assert not data[int(iv.start * rate) + 1:int(iv.end * rate) - 1].any()


def test_cli_redact_audio_refuses_another_recording(tmp_path):
    db, rec_path, call_id, _, _ = _stored_call(tmp_path)
    other = tmp_path / "other.wav"
    sf.write(str(other), np.random.default_rng(2).uniform(-0.3, 0.3, (16000, 2)).astype(np.float32), 16000)
    result = CliRunner().invoke(app, ["redact-audio", call_id, str(tmp_path / "o.wav"), "--db", str(db),
                                      "--source", str(other)])
    assert result.exit_code == 1
    assert "is not the recording of call" in result.output
    moved = CliRunner().invoke(app, ["redact-audio", call_id, str(tmp_path / "o.wav"), "--db", str(db),
                                     "--source", str(tmp_path / "gone.wav")])
    assert moved.exit_code == 1 and "pass its current location with --source" in moved.output


def test_gap_extensions_cover_untranscribed_audio_next_to_a_finding():
    from callqa.pii import gap_extensions

    tr = make_transcript([
        ("agent", 0.0, "the card number please"),
        ("customer", 6.0, "four five three two one four eight eight two two three one zero zero four seven"),
        ("agent", 14.0, "thank you"),
    ])
    tr = replace(tr, turns=tuple(replace(t, channel=0 if t.role == Role.AGENT else 1) for t in tr.turns))
    [card] = detect(tr)
    ext = gap_extensions([card], tr, max_s=4.0)
    words = tr.turns[1].words
    # nothing recognised on the customer's channel before or after: up to 4 s each way, customer channel only
    assert ext == ((TimeSpan(words[0].start - 4.0, words[0].start), 1), (TimeSpan(words[-1].end, words[-1].end + 4.0), 1))
    mono = replace(tr, channels=1)
    [(before, ch), (after, _)] = gap_extensions([card], mono, max_s=10.0)
    assert ch is None and before.start == tr.turns[0].words[-1].end  # stops at the agent's words on the one channel


def test_misheard_ssn_after_its_name_is_still_redacted():
    from conftest import make_transcript as mk

    tr = mk([("customer", 0.0, "my social security number is 536 27984")])
    [ssn] = detect(tr)
    assert ssn.entity == "US_SSN" and "unverified" in ssn.tags and ssn.score < 0.6
