"""Audio in: formats, rates, channels, identity, sidecars, and every kind of bad input."""

from __future__ import annotations

import hashlib
import json
import wave
from pathlib import Path

import numpy as np
import pytest

from audiofiles import tone, write_audio
from callqa.audio import discover, identify, load_recording, read_sidecar
from callqa.errors import AudioError, SidecarError
from callqa.types import Role


@pytest.mark.parametrize("ext", [".wav", ".flac", ".mp3", ".ogg"])
@pytest.mark.parametrize("rate", [8000, 16000])
@pytest.mark.parametrize("nch", [1, 2])
def test_formats_rates_and_channels_decode_to_16k(tmp_path, ext, rate, nch):
    chans = [tone(1.5, rate, 440)] if nch == 1 else [tone(1.5, rate, 440), tone(1.5, rate, 880, amp=0.1)]
    path = write_audio(tmp_path / f"call{ext}", chans, rate)
    rec = load_recording(path)
    assert len(rec.channels) == nch
    assert rec.duration == pytest.approx(1.5, abs=0.08)  # lossy codecs pad a little
    assert all(ch.dtype == np.float32 for ch in rec.channels)
    # the 440 Hz left channel stays on the left: stereo is never downmixed
    spectrum = np.abs(np.fft.rfft(rec.channels[0][:16000]))
    assert abs(np.argmax(spectrum) - 440) <= 2


def test_call_id_is_sha256_of_the_bytes(tmp_path):
    path = write_audio(tmp_path / "a.wav", tone(1.0))
    copy = tmp_path / "renamed.wav"
    copy.write_bytes(path.read_bytes())
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert identify(path).call_id == identify(copy).call_id == expected


def test_dual_mono_stereo_is_treated_as_mono(tmp_path):
    sig = tone(1.0)
    rec = load_recording(write_audio(tmp_path / "dual.wav", [sig, sig]))
    assert len(rec.channels) == 1 and rec.source_channels == 2


def _zero_length_wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"")
    return path


def _truncated(tmp_path: Path) -> Path:
    full = write_audio(tmp_path / "full.flac", tone(6.0, freq=300) + np.random.default_rng(0).normal(0, 0.05, 96000).astype(np.float32))
    cut = tmp_path / "truncated.flac"
    cut.write_bytes(full.read_bytes()[: len(full.read_bytes()) // 3])
    return cut


def _truncated_wav(tmp_path: Path) -> Path:
    full = write_audio(tmp_path / "full.wav", tone(6.0))
    cut = tmp_path / "truncated.wav"
    cut.write_bytes(full.read_bytes()[: len(full.read_bytes()) // 2])
    return cut


BAD_INPUTS = {
    "empty file": (lambda d: (d / "empty.wav").write_bytes(b"") and d / "empty.wav" or d / "empty.wav", "empty (0 bytes)"),
    "text named .wav": (lambda d: _write(d / "notes.wav", b"this is not audio\n"), "not an audio file"),
    "corrupt header": (lambda d: _write(d / "junk.mp3", bytes(range(256)) * 40), "not an audio file"),
    "truncated flac": (_truncated, "truncated"),
    "truncated wav": (_truncated_wav, "truncated"),
    "zero-length audio": (lambda d: _zero_length_wav(d / "zero.wav"), "zero-length"),
    "pure silence": (lambda d: write_audio(d / "silent.wav", np.zeros(32000, np.float32)), "silent"),
    "missing file": (lambda d: d / "nope.wav", "no such file"),
    "broken symlink": (lambda d: _symlink(d / "link.wav", d / "gone.wav"), "no such file"),
    "directory": (lambda d: _mkdir(d / "dir.wav"), "directory"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _symlink(link: Path, target: Path) -> Path:
    link.symlink_to(target)
    return link


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_naming_the_file(tmp_path, case):
    make, reason = BAD_INPUTS[case]
    path = make(tmp_path)
    with pytest.raises(AudioError) as info:
        load_recording(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert reason in message, message
    assert "\n" not in message


def test_too_long_is_rejected_before_decoding_everything(tmp_path):
    path = write_audio(tmp_path / "long.wav", tone(5.0))
    with pytest.raises(AudioError, match=r"5 s long; the maximum is 3 s"):
        load_recording(path, max_duration_s=3)


def test_too_long_without_declared_duration(tmp_path):
    path = write_audio(tmp_path / "long.mp3", tone(5.0))
    with pytest.raises(AudioError, match="maximum"):
        load_recording(path, max_duration_s=3)


def test_sidecar_metadata_is_read(tmp_path):
    path = write_audio(tmp_path / "c1.wav", [tone(1.0), tone(1.0, freq=600)])
    (tmp_path / "c1.json").write_text(json.dumps({
        "agent_id": 1042, "agent_name": "Sarah Lee", "queue": "cards", "direction": "inbound",
        "started_at": "2026-11-22T09:15:00+01:00", "language": "en", "channels": ["customer", "agent"],
        "extra": {"crm_case": "A-17"},
    }))
    meta = load_recording(path).metadata
    assert meta.agent_id == "1042" and meta.agent_name == "Sarah Lee" and meta.queue == "cards"
    assert meta.started_at.isoformat() == "2026-11-22T09:15:00+01:00"
    assert meta.channel_roles == (Role.CUSTOMER, Role.AGENT)
    assert dict(meta.extra) == {"crm_case": "A-17"}


@pytest.mark.parametrize(
    "content, field, words",
    [
        ("{not json", "", "invalid JSON at line 1"),
        ('["a list"]', "", "must be a JSON object"),
        ('{"started_at": "yesterday"}', "started_at", "datetime"),
        ('{"direction": "sideways"}', "direction", "inbound"),
        ('{"channels": ["agent", "boss"]}', "channels.1", "agent"),
        ('{"agentid": "7"}', "agentid", "unknown field; known fields: agent_id"),
        ('{"language": "English"}', "language", "pattern"),
    ],
)
def test_malformed_sidecar_names_the_field(tmp_path, content, field, words):
    sidecar = tmp_path / "call.json"
    sidecar.write_text(content)
    with pytest.raises(SidecarError) as info:
        read_sidecar(sidecar)
    message = str(info.value)
    assert message.startswith(str(sidecar))
    if field:
        assert f"field {field!r}" in message
    assert words in message


def test_sidecar_channel_count_must_match_recording(tmp_path):
    path = write_audio(tmp_path / "c.wav", [tone(1.0), tone(1.0, freq=700)])
    (tmp_path / "c.json").write_text('{"channels": ["agent"]}')
    with pytest.raises(SidecarError, match="channels"):
        load_recording(path)


def test_discover_expands_directories_and_reports_problems(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    a = write_audio(tmp_path / "in" / "a.wav", tone(1.0))
    b = write_audio(tmp_path / "in" / "sub" / "b.flac", tone(1.0))
    (tmp_path / "in" / "a.json").write_text("{}")
    (tmp_path / "empty").mkdir()
    files, problems = discover([tmp_path / "in", a, tmp_path / "empty", tmp_path / "missing.wav"])
    assert files == [a, b]  # sorted, recursive, each once, sidecars not taken as audio
    assert [(p.name, r.split(" (")[0]) for p, r in problems] == [
        ("empty", "directory has no audio files"), ("missing.wav", "no such file or directory"),
    ]
