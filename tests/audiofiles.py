"""Write small test recordings in any container PyAV can encode."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

CODECS = {".wav": "pcm_s16le", ".flac": "flac", ".mp3": "libmp3lame", ".ogg": "libopus", ".opus": "libopus"}


def tone(seconds: float, rate: int = 16000, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_audio(path: Path, channels: list[np.ndarray] | np.ndarray, rate: int = 16000) -> Path:
    """Encode float32 samples (one array per channel) to ``path``; the codec follows the extension."""
    if isinstance(channels, np.ndarray):
        channels = [channels]
    data = np.stack(channels).astype(np.float32)
    codec = CODECS[path.suffix.lower()]
    out_rate = 48000 if codec == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000) else rate
    layout = "stereo" if len(channels) == 2 else "mono"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=out_rate, layout=layout)
        fmt = stream.codec_context.codec.audio_formats[0].name
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="fltp", layout=layout)
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=fmt, layout=layout, rate=out_rate)
        for chunk in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(chunk):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
