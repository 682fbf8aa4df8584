"""The redacted recording an evaluation page plays: find it, check it, link, copy or embed it.

The page never plays the original recording: a file whose sha256 is the call
id *is* the original (the call id is the recording's sha256), and is refused.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from callqa.errors import ConfigError, InputError

log = logging.getLogger("callqa.report")

AUDIO_MODES = ("link", "copy", "embed", "none")
MIME_TYPES = {
    ".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".oga": "audio/ogg",
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".webm": "audio/webm",
}


@dataclass(frozen=True, slots=True)
class AudioSource:
    """What the page's ``<audio>`` element plays (``src`` None: no player, ``note`` says why)."""

    src: str | None
    mime: str | None
    note: str
    name: str | None = None
    copied_to: Path | None = None


def find_redacted_audio(stored: str | None, db: Path) -> Path | None:
    """``calls.redacted_audio_path`` as a file: absolute, else relative to the database's folder, else to cwd."""
    if not stored:
        return None
    path = Path(stored)
    candidates = [path] if path.is_absolute() else [db.parent / path, Path.cwd() / path]
    return next((c for c in candidates if c.is_file()), None)


def is_original_recording(path: Path, call_id: str) -> bool:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest() == call_id


def audio_for_report(call_id: str, *, stored: str | None, db: Path, out: Path, mode: str = "link",
                     explicit: Path | None = None) -> AudioSource:
    """The player source of a report written to ``out``.

    ``mode``: ``link`` refers to the redacted file by a path relative to the
    report's folder, ``copy`` copies it next to the report (``<report>.<ext>``)
    and refers to the copy, ``embed`` puts it inside the page (a data: URI),
    ``none`` leaves audio out. ``explicit`` is a redacted file given by the
    user instead of the stored one.
    """
    if mode not in AUDIO_MODES:
        raise ConfigError(f"audio mode {mode!r}; use one of {', '.join(AUDIO_MODES)}")
    short = call_id[:12]
    if mode == "none":
        return AudioSource(None, None, "Audio was left out of this report; times are shown but cannot be played.")
    if explicit is not None and not explicit.is_file():
        raise InputError(explicit, "no such redacted recording")
    path = explicit or find_redacted_audio(stored, db)
    if path is None:
        return AudioSource(None, None, _missing_note(stored, short))
    if is_original_recording(path, call_id):
        raise InputError(path, f"is the original recording of call {short}, not a redacted copy; write one with "
                               f"`callqa redact-audio {short} FILE` and pass that")
    mime = MIME_TYPES.get(path.suffix.lower(), "audio/wav")
    if mode == "embed":
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        log.info("call %s: embedding %s (%d bytes)", short, path.name, path.stat().st_size)
        return AudioSource(f"data:{mime};base64,{data}", mime, "", path.name)
    if mode == "copy":
        target = out.with_suffix(path.suffix.lower())
        if target.resolve() != path.resolve():
            shutil.copyfile(path, target)
        return AudioSource(quote(target.name), mime, "", path.name, target)
    rel = os.path.relpath(path.resolve(), out.resolve().parent)
    return AudioSource(quote(Path(rel).as_posix()), mime, "", path.name)


def _missing_note(stored: str | None, short: str) -> str:
    how = (f"write one with `callqa redact-audio {short} FILE` and pass it with `--audio-file FILE`")
    if stored:
        return f"The redacted recording ({Path(stored).name}) was not found; times are shown but cannot be played ({how})."
    return f"No redacted recording is stored for this call; times are shown but cannot be played ({how})."
