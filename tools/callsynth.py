"""Synthetic two-party contact-centre calls from scripts, with exact references.

``callsynth`` turns a :class:`CallScript` (who says what, with which voice, and
how long each party waits before speaking) into a recording and a reference
transcript whose turn times are the real speech boundaries. It is used by
``tools/make_samples.py`` (the committed ``sample_audio/``), by the evaluation
set, and by tests that plant known numbers in speech.

Needs only numpy and binaries: ``espeak-ng`` (speech in any language) or
``flite`` (English; recognised far better in 8 kHz telephone audio), and
``ffmpeg`` for flac, mp3 and ogg/opus output. WAV is written without ffmpeg.

How a call is built::

    script = CallScript(
        name="demo",
        language="en",
        voices={"agent": Voice("slt", engine="flite"), "customer": Voice("en-gb+m3", pitch=38)},
        turns=(
            ScriptTurn("agent", "Thank you for calling Northwind Bank."),
            ScriptTurn("customer", "Hi, I'd like to check my balance.", gap=0.6),
            ScriptTurn("agent", "One moment please.", gap=0.5),
            ScriptTurn("agent", "Thank you for holding.", gap=8.0, tag="hold"),
        ),
        layout="stereo",
        sample_rate=8000,
    )
    call = render(script)            # RenderedCall: samples (n, channels) + placed turns
    write_audio(call, "demo.flac")   # format from the suffix
    write_reference(call, "references/")   # demo.json + demo.rttm

Timing model. Every turn starts ``gap`` seconds after the *latest end of
speech so far* (either party). A negative gap starts the turn before that
speech ends, so both talk at once (an interruption or back-channel). Long
gaps are holds, dead air or a silent caller; ``tag`` labels them for the
reference. Each utterance is synthesised alone, its leading and trailing
silence trimmed, resampled to the call's rate and placed on an integer sample,
so the reference's start/end are where speech really begins and ends.

Audio. Each utterance is levelled to the same loudness; stereo puts each
role on its own channel (``channel_roles``), mono sums the parties. At 8 kHz
the result is band-passed to the telephone band (300-3400 Hz). A very low
seeded noise floor keeps silences from being digital zero. Everything is
deterministic for a given script and espeak-ng/flite/ffmpeg versions.

Speaker labels in the reference are ``A``, ``B``, ... in the order of the
script's ``voices`` mapping (so ``A`` is the agent when the agent's voice is
listed first); RTTM files use the role as the speaker name.
"""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CallScript",
    "PlacedTurn",
    "RenderedCall",
    "ScriptTurn",
    "SynthesisError",
    "Utterance",
    "Voice",
    "band_pass",
    "compose",
    "reference_dict",
    "render",
    "resample",
    "rttm_lines",
    "synthesize",
    "trim_silence",
    "write_audio",
    "write_reference",
]

TELEPHONE_BAND = (300.0, 3400.0)
AUDIO_FORMATS = ("wav", "flac", "mp3", "ogg", "opus")


class SynthesisError(RuntimeError):
    """espeak-ng, flite or ffmpeg is missing or failed."""


# --------------------------------------------------------------------------- script


ENGINES = ("espeak-ng", "flite")


@dataclass(frozen=True)
class Voice:
    """One party's voice; kept the same for the whole call.

    ``engine`` is ``"espeak-ng"`` (every language; ``name`` is a voice with an
    optional variant: ``en-us+f3``, ``ru+f2``) or ``"flite"`` (English only,
    far better recognised in 8 kHz telephone audio; ``name`` is one of
    ``slt`` (female), ``rms``, ``awb``, ``kal16`` (male)).

    espeak-ng only: ``speed`` in words per minute (``-s``, default 160),
    ``pitch`` 0-99 (``-p``; ``None`` keeps the variant's own), ``word_gap``
    extra pause between words in 10 ms units (``-g``).
    flite only: ``stretch`` multiplies durations (>1 is slower).
    """

    name: str
    engine: str = "espeak-ng"
    speed: int | None = None
    pitch: int | None = None
    word_gap: int = 0
    stretch: float = 1.0

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"voice name must be one word, got {self.name!r}")
        if self.speed is not None and not 80 <= self.speed <= 450:
            raise ValueError(f"speed must be 80..450 words per minute, got {self.speed}")
        if self.pitch is not None and not 0 <= self.pitch <= 99:
            raise ValueError(f"pitch must be 0..99, got {self.pitch}")
        if not 0 <= self.word_gap <= 100:
            raise ValueError(f"word_gap must be 0..100 (x10 ms), got {self.word_gap}")
        if not 0.5 <= self.stretch <= 2.0:
            raise ValueError(f"stretch must be 0.5..2.0, got {self.stretch}")
        if self.engine == "flite" and (self.speed is not None or self.pitch is not None or self.word_gap):
            raise ValueError("speed, pitch and word_gap are espeak-ng settings; use stretch with flite")
        if self.engine == "espeak-ng" and self.stretch != 1.0:
            raise ValueError("stretch is a flite setting; use speed with espeak-ng")


@dataclass(frozen=True)
class ScriptTurn:
    """One thing one party says.

    ``gap`` is the silence in seconds between the latest end of speech so far
    and the start of this turn; negative overlaps it (interruption). ``tag``
    names what the gap before the turn is ("hold", "dead_air",
    "silent_caller", "interruption", ...) and is copied into the reference.
    """

    role: str
    text: str
    gap: float = 0.5
    tag: str | None = None

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError(f"empty text in a {self.role!r} turn")
        if not math.isfinite(self.gap):
            raise ValueError(f"gap must be finite, got {self.gap!r}")


LAYOUTS = ("stereo", "mono")


@dataclass(frozen=True)
class CallScript:
    """A whole call: voices, turns and how to render it.

    ``voices`` maps each role to its :class:`Voice` (order gives speaker
    labels A, B, ...). ``layout`` is ``"stereo"`` (one channel per role, in
    ``channel_roles`` order, left first) or ``"mono"`` (mixdown).
    ``telephone_band`` defaults to on at 8 kHz. ``lead_in``/``tail`` are the
    silences before the first and after the last speech. ``scenario`` is a
    free dict describing what happens in the call, copied into the reference.
    """

    name: str
    language: str
    voices: Mapping[str, Voice]
    turns: Sequence[ScriptTurn]
    layout: str = "stereo"
    sample_rate: int = 16000
    channel_roles: Sequence[str] = ("agent", "customer")
    telephone_band: bool | None = None
    lead_in: float = 0.5
    tail: float = 0.8
    noise_dbfs: float = -80.0
    level_dbfs: float = -20.0
    seed: int = 0
    scenario: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")
        if self.sample_rate not in (8000, 16000, 22050, 44100, 48000):
            raise ValueError(
                f"sample_rate must be 8000, 16000, 22050, 44100 or 48000, got {self.sample_rate}"
            )
        if not self.turns:
            raise ValueError(f"call {self.name!r} has no turns")
        for turn in self.turns:
            if turn.role not in self.voices:
                raise ValueError(
                    f"call {self.name!r}: role {turn.role!r} has no voice (voices: {sorted(self.voices)})"
                )
        if self.layout == "stereo":
            if sorted(self.channel_roles) != sorted(self.voices):
                raise ValueError(
                    f"call {self.name!r}: channel_roles {list(self.channel_roles)} must list each role"
                    f" of voices {list(self.voices)} once"
                )
        if self.turns[0].gap < 0:
            raise ValueError("the first turn cannot overlap anything (negative gap)")

    @property
    def speakers(self) -> dict[str, str]:
        """Role -> speaker label (A, B, ...) in voices order."""
        return {role: chr(ord("A") + i) for i, role in enumerate(self.voices)}

    @property
    def band_limited(self) -> bool:
        return self.sample_rate == 8000 if self.telephone_band is None else self.telephone_band


# --------------------------------------------------------------------------- synthesis


@dataclass(frozen=True)
class Utterance:
    """Synthesised speech: float32 mono samples (silence trimmed) and their rate."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.sample_rate


def _binary(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise SynthesisError(f"{name} not found on PATH (Debian: apt-get install {name})")
    return exe


def _engine_command(text_file: Path, out: Path, voice: Voice) -> list[str]:
    if voice.engine == "flite":
        return [_binary("flite"), "-voice", voice.name, "--setf", f"duration_stretch={voice.stretch}",
                "-f", str(text_file), "-o", str(out)]
    cmd = [_binary("espeak-ng"), "-v", voice.name, "-b", "1", "-g", str(voice.word_gap)]
    if voice.speed is not None:
        cmd += ["-s", str(voice.speed)]
    if voice.pitch is not None:
        cmd += ["-p", str(voice.pitch)]
    return cmd + ["-f", str(text_file), "-w", str(out)]


@functools.lru_cache(maxsize=1024)
def synthesize(text: str, voice: Voice) -> Utterance:
    """Speak ``text`` with ``voice``; leading and trailing silence trimmed (cached)."""
    with tempfile.TemporaryDirectory(prefix="callsynth-") as tmp:
        text_file, out = Path(tmp) / "u.txt", Path(tmp) / "u.wav"
        text_file.write_text(text + "\n", encoding="utf-8")
        proc = subprocess.run(_engine_command(text_file, out, voice), capture_output=True, timeout=120)
        if proc.returncode != 0 or not out.exists():
            raise SynthesisError(
                f"{voice.engine} failed for voice {voice.name!r}: "
                f"{proc.stderr.decode(errors='replace').strip() or 'no output file'}"
            )
        with wave.open(str(out), "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise SynthesisError(f"{voice.engine} wrote an unexpected WAV layout")
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    samples = trim_silence(pcm.astype(np.float32) / 32768.0)
    if samples.size == 0:
        raise SynthesisError(f"{voice.engine} produced silence for voice {voice.name!r}")
    samples.setflags(write=False)
    return Utterance(samples, rate)


def trim_silence(x: np.ndarray, rel_threshold: float = 0.005) -> np.ndarray:
    """Cut leading and trailing samples quieter than ``rel_threshold`` x peak."""
    if x.size == 0:
        return x
    peak = float(np.max(np.abs(x)))
    if peak == 0.0:
        return x[:0]
    loud = np.flatnonzero(np.abs(x) > peak * rel_threshold)
    return x[loud[0]: loud[-1] + 1]


# --------------------------------------------------------------------------- DSP


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited (FFT) resampling of a short mono signal.

    The result has ``round(len(x) * dst_rate / src_rate)`` samples and spans
    the same time; zero padding around the signal keeps the circular FFT's
    wrap-around out of it.
    """
    if src_rate == dst_rate or x.size == 0:
        return np.asarray(x, dtype=np.float32)
    n_out = int(round(x.size * dst_rate / src_rate))
    pad = max(256, src_rate // 20)
    n_in = x.size + 2 * pad
    # choose a padded length that maps to an integer length at the new rate
    step = src_rate // math.gcd(src_rate, dst_rate)
    n_in = int(math.ceil(n_in / step) * step)
    n_res = n_in * dst_rate // src_rate
    buf = np.zeros(n_in, dtype=np.float64)
    buf[pad: pad + x.size] = x
    spec = np.fft.rfft(buf)
    keep = n_res // 2 + 1
    if keep <= spec.size:
        spec = spec[:keep].copy()
        # gentle roll-off over the top 5 % to limit ringing at the new Nyquist
        ramp = max(1, keep // 20)
        spec[-ramp:] *= 0.5 * (1 + np.cos(np.linspace(0, np.pi, ramp)))
    else:
        spec = np.concatenate([spec, np.zeros(keep - spec.size, dtype=spec.dtype)])
    y = np.fft.irfft(spec, n_res) * (n_res / n_in)
    start = int(round(pad * dst_rate / src_rate))
    return y[start: start + n_out].astype(np.float32)


def band_pass(x: np.ndarray, rate: int, low: float, high: float) -> np.ndarray:
    """Zero-phase FFT band-pass with 100 Hz raised-cosine edges (1-D signal)."""
    if x.size == 0:
        return x
    n = 1 << int(math.ceil(math.log2(x.size + 1)))
    spec = np.fft.rfft(x.astype(np.float64), n)
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    edge = 100.0
    gain = np.ones_like(freqs)
    lo = freqs < low
    gain[lo] = 0.5 * (1 + np.cos(np.pi * np.clip((low - freqs[lo]) / edge, 0, 1)))
    gain[freqs < low - edge] = 0.0
    hi = freqs > high
    gain[hi] = 0.5 * (1 + np.cos(np.pi * np.clip((freqs[hi] - high) / edge, 0, 1)))
    gain[freqs > high + edge] = 0.0
    return np.fft.irfft(spec * gain, n)[: x.size].astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


# --------------------------------------------------------------------------- composing


@dataclass(frozen=True)
class PlacedTurn:
    """A turn where it landed: times in seconds, exact to the sample."""

    index: int
    role: str
    speaker: str
    channel: int | None
    start: float
    end: float
    text: str
    tag: str | None
    start_sample: int
    end_sample: int
    gap_before: float
    """Seconds from the latest end of earlier speech to this start (negative: overlap; first turn: from 0)."""


@dataclass(frozen=True)
class RenderedCall:
    """A rendered call: ``samples`` is float32 (n_samples, n_channels) in [-1, 1]."""

    script: CallScript
    samples: np.ndarray
    sample_rate: int
    turns: tuple[PlacedTurn, ...]

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    @property
    def channels(self) -> int:
        return self.samples.shape[1]


Synth = Callable[[str, Voice], "Utterance"]


def compose(
    script: CallScript,
    utterances: Sequence[np.ndarray],
    rate: int,
) -> tuple[tuple[PlacedTurn, ...], int]:
    """Place already-rendered utterances (one per turn, at ``rate``) on the timeline.

    Pure timing logic: returns the placed turns and the call's total length in
    samples (lead-in, speech, gaps, tail). No audio is mixed here.
    """
    if len(utterances) != len(script.turns):
        raise ValueError(f"{len(script.turns)} turns but {len(utterances)} utterances")
    speakers = script.speakers
    channel_of = {role: i for i, role in enumerate(script.channel_roles)} if script.layout == "stereo" else {}
    placed: list[PlacedTurn] = []
    latest_end = int(round(script.lead_in * rate))
    for i, (turn, audio) in enumerate(zip(script.turns, utterances)):
        gap = int(round(turn.gap * rate))
        start = latest_end + gap if i else latest_end
        if start < 0:
            raise ValueError(f"turn {i} would start before the call does (gap {turn.gap})")
        end = start + int(audio.shape[0])
        for prev in placed:
            if prev.role == turn.role and start < prev.end_sample:
                raise ValueError(
                    f"call {script.name!r} turn {i}: {turn.role} would talk over their own turn {prev.index}"
                )
        placed.append(
            PlacedTurn(
                index=i,
                role=turn.role,
                speaker=speakers[turn.role],
                channel=channel_of.get(turn.role),
                start=start / rate,
                end=end / rate,
                text=turn.text,
                tag=turn.tag,
                start_sample=start,
                end_sample=end,
                gap_before=(start - latest_end) / rate if i else start / rate,
            )
        )
        latest_end = max(latest_end, end)
    total = latest_end + int(round(script.tail * rate))
    return tuple(placed), total


def render(script: CallScript, synth: Synth = synthesize) -> RenderedCall:
    """Synthesise every turn and mix the call (see the module docstring)."""
    rate = script.sample_rate
    target_rms = 10 ** (script.level_dbfs / 20)
    utterances = []
    for turn in script.turns:
        utt = synth(turn.text, script.voices[turn.role])
        audio = resample(np.asarray(utt.samples, dtype=np.float32), utt.sample_rate, rate)
        rms = _rms(audio)
        if rms > 0:
            audio = audio * (target_rms / rms)
        utterances.append(audio.astype(np.float32))
    placed, total = compose(script, utterances, rate)

    n_channels = len(script.channel_roles) if script.layout == "stereo" else 1
    mix = np.zeros((total, n_channels), dtype=np.float64)
    for turn, audio in zip(placed, utterances):
        ch = turn.channel if turn.channel is not None else 0
        mix[turn.start_sample: turn.end_sample, ch] += audio
    if script.band_limited:
        for ch in range(n_channels):
            mix[:, ch] = band_pass(mix[:, ch], rate, *TELEPHONE_BAND)
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    if peak > 0.89:
        mix *= 0.89 / peak
    rng = np.random.default_rng(script.seed)
    mix += rng.standard_normal(mix.shape) * 10 ** (script.noise_dbfs / 20)
    samples = np.clip(mix, -1.0, 1.0).astype(np.float32)
    return RenderedCall(script=script, samples=samples, sample_rate=rate, turns=placed)


# --------------------------------------------------------------------------- output


def _pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")).tobytes()


def write_audio(call: RenderedCall, path: str | os.PathLike[str], bitrate: str | None = None) -> Path:
    """Write the call; the format comes from the suffix (wav, flac, mp3, ogg = Opus, opus).

    WAV is 16-bit PCM written here; the others go through ffmpeg with
    bit-exact flags so the same input gives the same bytes.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in AUDIO_FORMATS:
        raise ValueError(f"unsupported audio suffix {path.suffix!r}; use one of {AUDIO_FORMATS}")
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = _pcm16(call.samples)
    if fmt == "wav":
        with wave.open(str(path), "wb") as w:
            w.setnchannels(call.channels)
            w.setsampwidth(2)
            w.setframerate(call.sample_rate)
            w.writeframes(pcm)
        return path
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SynthesisError(f"ffmpeg not found on PATH; it is needed to write .{fmt}")
    codec = {
        "flac": ["-c:a", "flac", "-compression_level", "8"],
        "mp3": ["-c:a", "libmp3lame", "-b:a", bitrate or ("32k" if call.channels == 1 else "48k")],
        "ogg": ["-c:a", "libopus", "-b:a", bitrate or ("24k" if call.channels == 1 else "32k"),
                "-application", "voip"],
        "opus": ["-c:a", "libopus", "-b:a", bitrate or ("24k" if call.channels == 1 else "32k"),
                 "-application", "voip"],
    }[fmt]
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-f", "s16le", "-ar", str(call.sample_rate), "-ac", str(call.channels), "-i", "pipe:0",
           "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact", *codec, str(path)]
    proc = subprocess.run(cmd, input=pcm, capture_output=True, timeout=300)
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip()
        raise SynthesisError(f"ffmpeg could not write {path.name}: {reason}")
    return path


def reference_dict(call: RenderedCall, decimals: int = 4) -> dict[str, Any]:
    """The reference transcript as a JSON-ready dict (times in seconds)."""
    script = call.script
    return {
        "name": script.name,
        "language": script.language,
        "sample_rate": call.sample_rate,
        "channels": call.channels,
        "layout": script.layout,
        "channel_roles": list(script.channel_roles) if script.layout == "stereo" else None,
        "duration": round(call.duration, decimals),
        "speakers": {label: role for role, label in script.speakers.items()},
        "voices": {
            role: {k: val for k, val in asdict(v).items() if val is not None}
            for role, v in script.voices.items()
        },
        "turns": [
            {
                "speaker": t.speaker,
                "role": t.role,
                "channel": t.channel,
                "start": round(t.start, decimals),
                "end": round(t.end, decimals),
                "text": t.text,
                "gap_before": round(t.gap_before, decimals),
                **({"tag": t.tag} if t.tag else {}),
            }
            for t in call.turns
        ],
        "scenario": dict(script.scenario),
    }


def rttm_lines(call: RenderedCall, uri: str | None = None) -> list[str]:
    """RTTM ``SPEAKER`` lines, one per turn, speaker name = role."""
    uri = uri or call.script.name
    return [
        f"SPEAKER {uri} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.role} <NA> <NA>"
        for t in sorted(call.turns, key=lambda t: (t.start, t.index))
    ]


def write_reference(call: RenderedCall, directory: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``<name>.json`` and ``<name>.rttm`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{call.script.name}.json"
    rttm_path = directory / f"{call.script.name}.rttm"
    text = json.dumps(reference_dict(call), ensure_ascii=False, indent=2) + "\n"
    json_path.write_text(text, encoding="utf-8")
    rttm_path.write_text("\n".join(rttm_lines(call)) + "\n", encoding="utf-8")
    return json_path, rttm_path
