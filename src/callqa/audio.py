"""Recordings in: decode, validate, identify, and read the metadata sidecar.

Anything PyAV (FFmpeg) decodes is accepted: wav, flac, mp3, ogg/opus, m4a ...
at any sample rate (8 kHz telephone audio included), mono or stereo. Audio is
resampled to 16 kHz float32 once, here; stereo stays split into its channels
(one party each), never downmixed for recognition.

``call_id`` is the sha256 of the file's bytes, so the same recording dropped
twice under different names is one call.

Every rejection is an :class:`~callqa.errors.AudioError` or
:class:`~callqa.errors.SidecarError` whose one-line message names the file and
the reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callqa.errors import AudioError, SidecarError
from callqa.types import CallMetadata, Role

log = logging.getLogger("callqa.audio")

SAMPLE_RATE = 16_000
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wma", ".webm", ".mka", ".aif", ".aiff"}
)
#: A recording whose loudest 30 ms frame is quieter than this (dBFS) is pure silence.
SILENCE_DBFS = -50.0
#: Decoding may stop this close to the declared end (damaged last frames) without failing the file.
TRUNCATION_TOLERANCE_S = 0.5
#: Channels this similar are one signal copied twice (dual-mono telephony files).
DUAL_MONO_CORRELATION = 0.995


@dataclass(frozen=True, slots=True)
class Recording:
    """A decoded, validated recording. ``channels`` are 16 kHz float32 arrays, one per channel."""

    path: Path
    call_id: str
    size_bytes: int
    container: str
    codec: str
    source_sample_rate: int
    source_channels: int
    channels: tuple[np.ndarray, ...]
    metadata: CallMetadata
    sidecar_path: Path | None = None

    @property
    def duration(self) -> float:
        return len(self.channels[0]) / SAMPLE_RATE

    @property
    def is_stereo(self) -> bool:
        return len(self.channels) == 2

    def downmix(self) -> np.ndarray:
        if len(self.channels) == 1:
            return self.channels[0]
        return np.mean(np.stack(self.channels), axis=0).astype(np.float32)


def file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def is_audio_file(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS


def discover(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand files and directories into audio files (sorted, recursive).

    Returns ``(recordings, problems)``: a path that does not exist, cannot be
    read, or a directory without audio is a problem, not an exception, so a
    batch can report it and go on.
    """
    found: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            try:
                files = sorted(p for p in path.rglob("*") if p.is_file() and is_audio_file(p))
            except OSError as exc:
                problems.append((path, f"cannot list directory: {exc.strerror or exc}"))
                continue
            if not files:
                exts = ", ".join(sorted(AUDIO_EXTENSIONS))
                problems.append((path, f"directory has no audio files (looked for {exts})"))
            found.extend(files)
        elif path.is_file():
            found.append(path)
        elif path.exists():
            problems.append((path, "not a regular file"))
        else:
            problems.append((path, "no such file or directory"))
    seen: set[Path] = set()
    unique = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique, problems


# --------------------------------------------------------------------------- sidecar


class _Sidecar(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    agent_id: str | None = None
    agent_name: str | None = None
    queue: str | None = None
    team: str | None = None
    direction: Literal["inbound", "outbound", "internal"] | None = None
    started_at: datetime | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    channels: list[Role] | None = Field(default=None, min_length=1, max_length=2)
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("agent_id", "agent_name", "queue", "team", mode="before")
    @classmethod
    def _scalar_to_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


SIDECAR_FIELDS = tuple(_Sidecar.model_fields)


def sidecar_path_for(recording: Path) -> Path | None:
    """``call.wav`` -> ``call.json`` (or ``call.wav.json``) when it exists."""
    for candidate in (recording.with_suffix(".json"), recording.with_name(recording.name + ".json")):
        if candidate.is_file():
            return candidate
    return None


def read_sidecar(path: Path) -> CallMetadata:
    """Parse and validate a metadata sidecar; errors name the field."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise SidecarError(path, "", "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SidecarError(path, "", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except OSError as exc:
        raise SidecarError(path, "", f"cannot read: {exc.strerror or exc}") from None
    if not isinstance(raw, dict):
        raise SidecarError(path, "", f"must be a JSON object, got {type(raw).__name__}")
    try:
        model = _Sidecar.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "?"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown field; known fields: {', '.join(SIDECAR_FIELDS)} (put free-form data under 'extra')"
        raise SidecarError(path, field, msg) from None
    started = model.started_at
    if started is not None and started.tzinfo is None:
        started = started.replace(tzinfo=timezone.utc)
    return CallMetadata(
        agent_id=model.agent_id,
        agent_name=model.agent_name,
        queue=model.queue,
        team=model.team,
        direction=model.direction,
        started_at=started,
        language=model.language,
        channel_roles=tuple(model.channels) if model.channels else None,
        extra=tuple(sorted(model.extra.items())),
    )


# --------------------------------------------------------------------------- decoding


def _decode(path: Path, max_duration_s: float) -> tuple[str, str, int, int, np.ndarray]:
    """Decode to 16 kHz float32, shape (channels, samples). Raises AudioError."""
    import av  # PyAV, installed with faster-whisper

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise AudioError(path, "not an audio file FFmpeg can decode (invalid data; wrong extension or corrupt header?)") from None
    except av.error.FFmpegError as exc:
        raise AudioError(path, f"cannot open as audio ({_av_reason(exc)})") from None
    with container:
        streams = container.streams.audio
        if not streams:
            raise AudioError(path, "file has no audio stream")
        stream = streams[0]
        codec = stream.codec_context.name or "?"
        src_rate = int(stream.codec_context.sample_rate or 0)
        src_channels = int(stream.codec_context.channels or 0)
        if src_channels > 2:
            raise AudioError(path, f"{src_channels} audio channels; callqa takes mono or stereo (one party per channel)")
        declared = _declared_wav_duration(path) if container.format.name == "wav" else None
        if declared is None and stream.duration is not None and stream.time_base is not None:
            declared = float(stream.duration * stream.time_base)
        if declared is None and container.duration is not None:
            declared = container.duration / 1_000_000
        if declared is not None and declared > max_duration_s:
            raise AudioError(path, f"recording is {declared:.0f} s long; the maximum is {max_duration_s:.0f} s (CALLQA_MAX_DURATION)")
        layout = "stereo" if src_channels == 2 else "mono"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        total = 0
        limit = int(max_duration_s * SAMPLE_RATE)
        try:
            for frame in container.decode(stream):
                frame.pts = None
                for out in resampler.resample(frame):
                    arr = out.to_ndarray()
                    chunks.append(arr)
                    total += arr.shape[1]
                if total > limit:
                    raise AudioError(path, f"recording is longer than the maximum of {max_duration_s:.0f} s (CALLQA_MAX_DURATION)")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
        except av.error.FFmpegError as exc:
            decoded = total / SAMPLE_RATE
            if declared is None or decoded < declared - TRUNCATION_TOLERANCE_S:
                where = f"{decoded:.1f} s" + (f" of {declared:.1f} s" if declared else "")
                raise AudioError(path, f"corrupt or truncated audio: decoding failed at {where} ({_av_reason(exc)})") from None
            log.warning("%s: damaged audio in the last %.2f s ignored (%s)", path, declared - decoded, _av_reason(exc))
    if not chunks:
        raise AudioError(path, "audio stream contains no samples (zero-length audio)")
    audio = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    decoded = audio.shape[1] / SAMPLE_RATE
    if declared is not None and decoded < declared * 0.98 - TRUNCATION_TOLERANCE_S:
        raise AudioError(path, f"truncated audio: the file declares {declared:.1f} s but holds {decoded:.1f} s")
    return container.format.name, codec, src_rate, src_channels, audio


def _declared_wav_duration(path: Path) -> float | None:
    """Duration a PCM WAV header declares (FFmpeg derives WAV durations from the file size instead)."""
    import wave

    try:
        with wave.open(str(path), "rb") as w:
            frames, rate = w.getnframes(), w.getframerate()
    except (wave.Error, EOFError, OSError):
        return None
    if rate <= 0 or frames <= 0 or frames >= 0xFFFFFFFF // 8:  # streaming writers leave 0 / 0xFFFFFFFF
        return None
    return frames / rate


def _av_reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[-1].strip() if ":" in text else text


def _frame_peak_dbfs(audio: np.ndarray, frame: int = 480) -> float:
    n = (audio.shape[-1] // frame) * frame
    if n == 0:
        rms = float(np.sqrt(np.mean(np.square(audio)))) if audio.size else 0.0
    else:
        frames = audio[..., :n].reshape(*audio.shape[:-1], -1, frame)
        rms = float(np.sqrt(np.mean(np.square(frames), axis=-1)).max())
    return 20 * math.log10(rms) if rms > 0 else -math.inf


@dataclass(frozen=True, slots=True)
class Identity:
    """What can be known about a recording without decoding it: id, size, sidecar metadata."""

    path: Path
    call_id: str
    size_bytes: int
    metadata: CallMetadata
    sidecar_path: Path | None


def identify(path: str | Path) -> Identity:
    """Hash the file (call id) and read its sidecar; cheap enough to decide whether to process it."""
    path = Path(path)
    if path.is_dir():
        raise AudioError(path, "is a directory, not a recording")
    try:
        call_id, size = file_sha256(path)
    except FileNotFoundError:
        raise AudioError(path, "no such file") from None
    except PermissionError:
        raise AudioError(path, "permission denied (cannot read the file)") from None
    except OSError as exc:
        raise AudioError(path, f"cannot read: {exc.strerror or exc}") from None
    if size == 0:
        raise AudioError(path, "file is empty (0 bytes)")
    sidecar = sidecar_path_for(path)
    metadata = read_sidecar(sidecar) if sidecar else CallMetadata()
    return Identity(path, call_id, size, metadata, sidecar)


def load_recording(path: str | Path | Identity, *, max_duration_s: float = 4 * 3600.0,
                   min_duration_s: float = 0.5) -> Recording:
    """Identify, decode and validate one recording and its sidecar."""
    ident = path if isinstance(path, Identity) else identify(path)
    path = ident.path
    container, codec, rate, nch, audio = _decode(path, max_duration_s)
    duration = audio.shape[1] / SAMPLE_RATE
    if duration < min_duration_s:
        raise AudioError(path, f"audio is only {duration:.2f} s long (minimum {min_duration_s} s)")
    peak = _frame_peak_dbfs(audio)
    if peak < SILENCE_DBFS:
        raise AudioError(path, f"audio is silent (loudest frame {peak:.0f} dBFS, below {SILENCE_DBFS:.0f} dBFS)")

    channels = tuple(np.ascontiguousarray(ch) for ch in audio)
    if len(channels) == 2 and _is_dual_mono(channels):
        log.info("%s: both channels carry the same signal; treating it as mono", path.name)
        channels = (channels[0],)
    metadata = ident.metadata
    if metadata.channel_roles and len(metadata.channel_roles) != len(channels) and len(channels) == 2:
        raise SidecarError(ident.sidecar_path or path, "channels",
                           f"lists {len(metadata.channel_roles)} role(s) for a 2-channel recording")
    return Recording(
        path=path,
        call_id=ident.call_id,
        size_bytes=ident.size_bytes,
        container=container,
        codec=codec,
        source_sample_rate=rate,
        source_channels=nch,
        channels=channels,
        metadata=metadata,
        sidecar_path=ident.sidecar_path,
    )


def _is_dual_mono(channels: tuple[np.ndarray, ...]) -> bool:
    a, b = channels
    if np.array_equal(a, b):
        return True
    sa, sb = float(np.std(a)), float(np.std(b))
    if sa == 0 or sb == 0:
        return False
    corr = float(np.dot(a - a.mean(), b - b.mean()) / (len(a) * sa * sb))
    return corr >= DUAL_MONO_CORRELATION
