"""``callqa report`` (HTML evaluation and agent pages) and ``callqa export`` (VTT, SRT, JSON, RTTM)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Optional

import typer

from callqa.cli._app import DB_HELP, app, db_path, err_console, handle_errors

CALL_HELP = "Call id (or a unique prefix of it, or the recording's file name)."


def _parse_date(value: Optional[str], option: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r}; use a date like 2026-11-22", param_hint=option) from None


@app.command()
@handle_errors
def report(
    call: Optional[str] = typer.Argument(None, help=CALL_HELP + " Omit it with --agent."),
    agent: Optional[str] = typer.Option(None, "--agent", help="Write the scorecard page of this agent id instead."),
    since: Optional[str] = typer.Option(None, "--from", help="With --agent: first day, e.g. 2026-11-01 (default: the first call)."),
    until: Optional[str] = typer.Option(None, "--to", help="With --agent: last day, included (default: the last call)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file to write (default: report-<callid12>.html, "
                                       "or agent-<id>[-<from>_<to>].html, in the current folder)."),
    audio: str = typer.Option("link", "--audio", help="Redacted recording on the page: link (path relative to the page), "
                              "copy (next to the page), embed (inside it) or none."),
    audio_file: Optional[Path] = typer.Option(None, "--audio-file", help="A redacted recording (from `callqa redact-audio`) "
                                              "to play instead of the stored calls.redacted_audio_path."),
    calls: bool = typer.Option(False, "--calls", help="With --agent: also write the evaluation page of every call listed, "
                               "next to the agent page, so its links open them."),
) -> None:
    """Write a self-contained HTML page: one call's evaluation, or an agent's scorecard.

    The evaluation page shows the call's header and score, a timeline (turns,
    silences, overlaps, redacted sensitive data, rule evidence), the scorecard
    with every rule's verdict, evidence and time, and the redacted transcript;
    clicking a time plays that moment of the redacted recording when one is
    available. The agent page shows calls, mean score, pass rate, auto-fails,
    section means, daily trends, the most failed rules and the calls to praise
    and to coach.

    Example: callqa report 3fa2c1 --out call.html

    Example: callqa report --agent A-1042 --from 2026-11-01 --to 2026-11-30 --calls
    """
    from callqa.report.html import pages_text, write_agent_page, write_evaluation_page
    from callqa.report.media import AUDIO_MODES
    from callqa.store import Store

    if audio not in AUDIO_MODES:
        raise typer.BadParameter(f"{audio!r}; use {', '.join(AUDIO_MODES)}", param_hint="--audio")
    if (call is None) == (agent is None):
        raise typer.BadParameter("give a CALL id or --agent AGENT_ID (one of them)", param_hint="CALL")
    if agent is None and (since or until or calls):
        raise typer.BadParameter("--from, --to and --calls go with --agent", param_hint="--agent")
    if agent is not None and audio_file is not None:
        raise typer.BadParameter("--audio-file goes with one CALL", param_hint="--audio-file")
    path = db_path(db)
    with Store(path).connect_read() as con:
        if agent is not None:
            pages = write_agent_page(con, agent, path, since=_parse_date(since, "--from"), until=_parse_date(until, "--to"),
                                     out=out, with_calls=calls, audio_mode=audio)
        else:
            pages = [write_evaluation_page(con, call, path, out, audio_mode=audio, audio_file=audio_file)]
    err_console.print(pages_text(pages), highlight=False, soft_wrap=True, markup=False)


@app.command()
@handle_errors
def export(
    call: str = typer.Argument(..., help=CALL_HELP),
    fmt: str = typer.Option(..., "--format", "-f", help="vtt (WebVTT), srt, json (the `callqa show` document) or rttm."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="File to write (default: standard output)."),
    speakers: str = typer.Option("label", "--speakers", help="RTTM speaker names: label (the diarizer's) or role "
                                 "(agent / customer)."),
) -> None:
    """Export a stored call's redacted transcript as subtitles (VTT, SRT), JSON, or its diarization as RTTM.

    VTT names the speaker's role with a voice tag, SRT with a label; cues are
    timed by the words. RTTM has one SPEAKER line per turn, file id = the
    recording's name.

    Example: callqa export 3fa2c1 --format vtt --out call.vtt
    """
    from callqa.report.export import FORMATS, RTTM_SPEAKERS
    from callqa.report.export import export as render_export
    from callqa.report.view import call_view
    from callqa.store import Store

    if fmt not in FORMATS:
        raise typer.BadParameter(f"{fmt!r}; use {', '.join(FORMATS)}", param_hint="--format")
    if speakers not in RTTM_SPEAKERS:
        raise typer.BadParameter(f"{speakers!r}; use {' or '.join(RTTM_SPEAKERS)}", param_hint="--speakers")
    path = db_path(db)
    with Store(path).connect_read() as con:
        view = call_view(con, call, path)
    text = render_export(view, fmt, rttm_speakers=speakers)
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    err_console.print(f"wrote {out} ({fmt}, call {view['call_id'][:12]})", highlight=False, soft_wrap=True)
