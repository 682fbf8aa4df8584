"""``callqa redact-audio``: a copy of a stored call's recording with its sensitive words beeped or silenced."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from callqa.cli._app import DB_HELP, app, console, db_path, handle_errors
from callqa.errors import InputError


@app.command("redact-audio")
@handle_errors
def redact_audio_cmd(
    call: str = typer.Argument(..., help="Call id (or a unique prefix of it, or the recording's file name)."),
    out: Path = typer.Argument(..., help="Output file: .wav, .flac or .ogg (all channels, 16 kHz)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    mode: str = typer.Option("beep", "--mode", help="beep (1 kHz tone) or silence."),
    source: Optional[Path] = typer.Option(None, "--source", help="The recording, when it moved since it was processed "
                                          "(default: the path stored with the call)."),
    padding: float = typer.Option(0.15, "--padding", min=0.0, max=2.0, help="Seconds added before and after each finding."),
) -> None:
    """Write a copy of a stored call's recording with every sensitive-data finding beeped or silenced.

    The times come from the stored findings' words; the recording is read from
    where it was processed (or --source) and must be the same file (same sha256).

    Example: callqa redact-audio 3fa2c1 call.redacted.flac --mode silence
    """
    from callqa.audio import load_recording
    from callqa.pii.redact import AUDIO_MODES, redact_audio
    from callqa.store import Store, load_pii, load_transcript, resolve_call_id

    if mode not in AUDIO_MODES:
        raise typer.BadParameter(f"{mode!r}; use {' or '.join(AUDIO_MODES)}", param_hint="--mode")
    path = db_path(db)
    with Store(path).connect_read() as con:
        call_id = resolve_call_id(con, call, path)
        transcript = load_transcript(con, call_id)
        spans = load_pii(con, call_id)
        row = con.execute("SELECT source_path FROM calls WHERE call_id = ?", [call_id]).fetchone()
    recording_path = source or Path(row[0])
    if not recording_path.is_file():
        raise InputError(recording_path, "recording not found; pass its current location with --source")
    rec = load_recording(recording_path)
    if rec.call_id != call_id:
        raise InputError(recording_path, f"is not the recording of call {call_id[:12]} (its content differs)")
    result = redact_audio(rec, spans, transcript, out, mode=mode, padding_s=padding)
    console.print(f"wrote {result.path} ({len(spans)} finding(s), {len(result.intervals)} interval(s), "
                  f"{result.seconds:.1f} s {mode})", highlight=False, soft_wrap=True)
