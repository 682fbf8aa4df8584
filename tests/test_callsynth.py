"""tools/callsynth.py and the committed sample_audio/: timing, references, audio layout.

Fast: a fake synthesiser stands in for espeak-ng/flite (no ASR, no TTS) except in
one smoke test per engine that is skipped where the binary is missing.
"""

from __future__ import annotations

import json
import shutil
import sys
import wave
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import callsynth as cs  # noqa: E402
import make_samples as ms  # noqa: E402

SAMPLES = ROOT / "sample_audio"
RATE = 16000


def fake_synth(text: str, voice: cs.Voice) -> cs.Utterance:
    """0.1 s of 440 Hz tone per word, at the source rate 16 kHz (so times stay exact)."""
    n = int(0.1 * RATE) * len(text.split())
    t = np.arange(n) / RATE
    return cs.Utterance((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE)


AGENT = cs.Voice("en-us+f3", pitch=62)
CUSTOMER = cs.Voice("en-gb+m3", pitch=30)


def make_script(turns, **kw) -> cs.CallScript:
    kw.setdefault("sample_rate", RATE)
    kw.setdefault("lead_in", 0.5)
    kw.setdefault("tail", 1.0)
    return cs.CallScript(name="t", language="en", voices={"agent": AGENT, "customer": CUSTOMER},
                         turns=tuple(turns), **kw)


def words(n: int) -> str:
    return " ".join(["word"] * n)


# --------------------------------------------------------------------------- timing


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        # plain alternation: each start = latest end + gap
        ([("agent", 10, 0.0), ("customer", 5, 0.6), ("agent", 3, 0.4)],
         [(0.5, 1.5), (2.1, 2.6), (3.0, 3.3)]),
        # a hold: 8 s of silence before the agent comes back
        ([("agent", 5, 0.0), ("agent", 5, 8.0)], [(0.5, 1.0), (9.0, 9.5)]),
        # interruption: the customer starts 0.5 s before the agent ends
        ([("agent", 10, 0.0), ("customer", 10, -0.5)], [(0.5, 1.5), (1.0, 2.0)]),
        # a back-channel inside a long turn: the next turn waits for the latest end of speech
        ([("agent", 30, 0.0), ("customer", 2, -2.0), ("customer", 4, 0.5)],
         [(0.5, 3.5), (1.5, 1.7), (4.0, 4.4)]),
    ],
)
def test_compose_places_turns_at_exact_times(turns, expected):
    script = make_script([cs.ScriptTurn(r, words(n), gap) for r, n, gap in turns])
    call = cs.render(script, synth=fake_synth)
    got = [(round(t.start, 6), round(t.end, 6)) for t in call.turns]
    assert got == expected
    assert call.duration == pytest.approx(max(e for _, e in expected) + 1.0)


def test_gap_before_reports_silences_and_overlaps():
    script = make_script([
        cs.ScriptTurn("agent", words(10), 0.0),
        cs.ScriptTurn("customer", words(5), 0.7),
        cs.ScriptTurn("agent", words(5), 12.0, tag="dead_air"),
        cs.ScriptTurn("customer", words(5), -0.5, tag="interruption"),
    ])
    call = cs.render(script, synth=fake_synth)
    assert [round(t.gap_before, 6) for t in call.turns] == [0.5, 0.7, 12.0, -0.5]
    assert [t.tag for t in call.turns] == [None, None, "dead_air", "interruption"]


def test_a_party_cannot_talk_over_itself():
    script = make_script([cs.ScriptTurn("agent", words(10), 0.0), cs.ScriptTurn("agent", words(2), -0.3)])
    with pytest.raises(ValueError, match="talk over their own turn"):
        cs.render(script, synth=fake_synth)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layout": "quad"}, "layout must be one of"),
        ({"sample_rate": 11025}, "sample_rate must be"),
        ({"channel_roles": ("agent", "agent")}, "must list each role"),
    ],
)
def test_call_script_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_script([cs.ScriptTurn("agent", "hello")], **kwargs)


def test_call_script_rejects_a_role_without_voice():
    with pytest.raises(ValueError, match="role 'supervisor' has no voice"):
        make_script([cs.ScriptTurn("supervisor", "hello")])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "en us"}, "one word"),
        ({"name": "en", "speed": 20}, "speed must be"),
        ({"name": "en", "pitch": 120}, "pitch must be"),
        ({"name": "slt", "engine": "say"}, "engine must be one of"),
        ({"name": "slt", "engine": "flite", "pitch": 50}, "espeak-ng settings"),
        ({"name": "en", "stretch": 1.2}, "flite setting"),
    ],
)
def test_voice_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cs.Voice(**kwargs)


# --------------------------------------------------------------------------- audio layout


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


@pytest.mark.parametrize("channel_roles", [("agent", "customer"), ("customer", "agent")])
def test_stereo_puts_each_role_on_its_channel(channel_roles):
    script = make_script([cs.ScriptTurn("agent", words(10), 0.0), cs.ScriptTurn("customer", words(10), 1.0)],
                         channel_roles=channel_roles)
    call = cs.render(script, synth=fake_synth)
    assert call.samples.shape == (round(call.duration * RATE), 2)
    for turn in call.turns:
        own = channel_roles.index(turn.role)
        assert turn.channel == own
        seg = call.samples[turn.start_sample: turn.end_sample]
        assert _rms(seg[:, own]) > 0.05          # speech level
        assert _rms(seg[:, 1 - own]) < 1e-3      # only the noise floor
    silence = call.samples[: call.turns[0].start_sample]
    assert 0 < _rms(silence) < 1e-3              # noise floor, never digital zero


def test_mono_mixes_both_parties_and_is_deterministic():
    script = make_script([cs.ScriptTurn("agent", words(10), 0.0), cs.ScriptTurn("customer", words(10), -0.5)],
                         layout="mono", seed=7)
    a = cs.render(script, synth=fake_synth)
    b = cs.render(script, synth=fake_synth)
    assert a.samples.shape[1] == 1
    assert np.array_equal(a.samples, b.samples)
    assert all(t.channel is None for t in a.turns)
    first, second = a.turns
    both = a.samples[second.start_sample: first.end_sample, 0]
    one = a.samples[first.start_sample: second.start_sample, 0]
    assert _rms(both) > 1.2 * _rms(one)          # the overlap carries both parties


def _dominant_hz(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / rate)[np.argmax(spec)])


@pytest.mark.parametrize(("src", "dst"), [(22050, 8000), (22050, 16000), (16000, 8000), (8000, 16000)])
def test_resample_keeps_length_and_pitch(src, dst):
    n = src  # one second
    x = np.sin(2 * np.pi * 1000 * np.arange(n) / src).astype(np.float32)
    y = cs.resample(x, src, dst)
    assert y.size == dst
    assert _dominant_hz(y, dst) == pytest.approx(1000, abs=3)
    assert _rms(y[dst // 10: -dst // 10]) == pytest.approx(_rms(x), rel=0.02)


@pytest.mark.parametrize(("hz", "kept"), [(100, False), (1000, True), (3000, True), (3800, False)])
def test_telephone_band_pass(hz, kept):
    rate = 8000
    x = np.sin(2 * np.pi * hz * np.arange(rate) / rate).astype(np.float32)
    y = cs.band_pass(x, rate, 300, 3400)
    ratio = _rms(y[800:-800]) / _rms(x)
    assert (ratio > 0.9) if kept else (ratio < 0.01)


def test_trim_silence_cuts_to_the_speech():
    x = np.zeros(1000, dtype=np.float32)
    x[200:700] = 0.5
    x[150] = 0.001                                  # below 0.5 % of the peak: not speech
    y = cs.trim_silence(x)
    assert y.size == 500 and y[0] == 0.5 and y[-1] == 0.5


# --------------------------------------------------------------------------- references and files


def test_reference_dict_and_rttm(tmp_path):
    script = make_script([cs.ScriptTurn("agent", words(10), 0.0), cs.ScriptTurn("customer", words(5), 0.5)],
                         channel_roles=("customer", "agent"), scenario={"goodbye": False})
    call = cs.render(script, synth=fake_synth)
    json_path, rttm_path = cs.write_reference(call, tmp_path)
    ref = json.loads(json_path.read_text())
    assert ref["channels"] == 2 and ref["sample_rate"] == RATE
    assert ref["speakers"] == {"A": "agent", "B": "customer"}
    assert ref["turns"] == [
        {"speaker": "A", "role": "agent", "channel": 1, "start": 0.5, "end": 1.5, "text": words(10),
         "gap_before": 0.5},
        {"speaker": "B", "role": "customer", "channel": 0, "start": 2.0, "end": 2.5, "text": words(5),
         "gap_before": 0.5},
    ]
    assert ref["scenario"] == {"goodbye": False}
    assert rttm_path.read_text().splitlines() == [
        "SPEAKER t 1 0.500 1.000 <NA> <NA> agent <NA> <NA>",
        "SPEAKER t 1 2.000 0.500 <NA> <NA> customer <NA> <NA>",
    ]


def test_write_wav_round_trips(tmp_path):
    call = cs.render(make_script([cs.ScriptTurn("agent", words(5), 0.0)], layout="mono", sample_rate=8000),
                     synth=fake_synth)
    path = cs.write_audio(call, tmp_path / "x.wav")
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (1, 8000, call.samples.shape[0])


def test_unknown_audio_suffix_is_refused(tmp_path):
    call = cs.render(make_script([cs.ScriptTurn("agent", "hi")]), synth=fake_synth)
    with pytest.raises(ValueError, match="unsupported audio suffix"):
        cs.write_audio(call, tmp_path / "x.aiff")


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
@pytest.mark.parametrize("suffix", ["flac", "mp3", "ogg"])
def test_ffmpeg_formats_are_bit_exact(tmp_path, suffix):
    call = cs.render(make_script([cs.ScriptTurn("agent", words(5), 0.0), cs.ScriptTurn("customer", words(3))]),
                     synth=fake_synth)
    a = cs.write_audio(call, tmp_path / f"a.{suffix}").read_bytes()
    b = cs.write_audio(call, tmp_path / f"b.{suffix}").read_bytes()
    assert len(a) > 1000 and a == b


@pytest.mark.parametrize(
    ("voice", "binary"),
    [(cs.Voice("en-us", speed=150), "espeak-ng"), (cs.Voice("slt", engine="flite"), "flite")],
)
def test_real_engine_returns_trimmed_speech(voice, binary):
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} not installed")
    utt = cs.synthesize("Thank you for calling.", voice)
    peak = float(np.max(np.abs(utt.samples)))
    assert 0.5 < utt.duration < 3.0
    assert abs(utt.samples[0]) > 0.005 * peak and abs(utt.samples[-1]) > 0.005 * peak


# --------------------------------------------------------------------------- WER normalisation


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("It's 4539, 1476-0352 7186.", "en",
         "its four five three nine one four seven six zero three five two seven one eight six"),
        ("the 4th of July 1982", "en", "the fourth of july nineteen eighty two"),
        ("open from 10 until 1", "en", "open from ten until one"),
        ("the 23rd of May", "en", "the twenty third of may"),
        ("Номер 4916", "ru", "номер четыре девять один шесть"),
        ("Ещё!", "ru", "еще"),
    ],
)
def test_normalize_for_wer(text, language, expected):
    assert ms.normalize_for_wer(text, language) == expected


# --------------------------------------------------------------------------- the committed samples

SAMPLE_CALLS = ms.sample_calls()


def test_sample_scripts_cover_the_brief():
    langs = {(c.script.language, c.script.layout, c.script.sample_rate) for c in SAMPLE_CALLS}
    for lang in ("en", "ru", "pl"):
        assert {layout for la, layout, _ in langs if la == lang} == {"stereo", "mono"}
    assert {rate for *_, rate in langs} == {8000, 16000}
    assert {c.audio_format for c in SAMPLE_CALLS} >= {"wav", "flac", "mp3", "ogg"}
    stereo = [c for c in SAMPLE_CALLS if c.script.layout == "stereo"]
    assert [c.script.name for c in stereo if c.sidecar is None] == ["en_stereo_16k_no_sidecar"]
    assert any(tuple(c.script.channel_roles) == ("customer", "agent") for c in stereo)
    assert sum(1 for c in SAMPLE_CALLS if c.script.scenario["breaks_script"]) == 1


@pytest.mark.parametrize("sample", SAMPLE_CALLS, ids=lambda c: c.script.name)
def test_committed_sample_matches_its_script(sample):
    name = sample.script.name
    audio = SAMPLES / sample.filename
    ref_path = SAMPLES / "references" / f"{name}.json"
    assert audio.is_file() and ref_path.is_file() and (SAMPLES / "references" / f"{name}.rttm").is_file()
    ref = json.loads(ref_path.read_text(encoding="utf-8"))
    assert [t["text"] for t in ref["turns"]] == [t.text for t in sample.script.turns]
    assert ref["language"] == sample.script.language and ref["sample_rate"] == sample.script.sample_rate
    assert 30 <= ref["duration"] <= 90
    assert all(0 < t["start"] < t["end"] <= ref["duration"] for t in ref["turns"])
    sidecar = SAMPLES / f"{name}.json"
    if sample.sidecar is None:
        assert not sidecar.exists()
        return
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    assert meta == sample.sidecar
    assert datetime.fromisoformat(meta["started_at"]).tzinfo is not None
    assert ("channels" in meta) == (sample.script.layout == "stereo")


def test_committed_sidecars_share_one_day_at_different_times():
    starts = [datetime.fromisoformat(c.sidecar["started_at"]) for c in SAMPLE_CALLS if c.sidecar]
    assert len({s.date() for s in starts}) == 1
    assert len(set(starts)) == len(starts)


def test_sample_audio_stays_small():
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 12_500_000
