"""``callqa run``, ``callqa show`` and ``callqa sql``."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import duckdb
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from callqa.cli._app import DB_HELP, app, console, db_path, err_console, handle_errors, setup_logging
from callqa.errors import StoreError
from callqa.types import LOW_ROLE_CONFIDENCE


@app.command()
@handle_errors
def run(
    paths: list[Path] = typer.Argument(..., help="Recordings and/or directories of recordings (searched recursively)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    model: Optional[str] = typer.Option(None, "--model", help="CTranslate2 Whisper directory or size name (default: $CALLQA_ASR_MODEL, else the packaged tiny.en / base)."),
    language: Optional[str] = typer.Option(None, "--language", help="auto, en, ru, pl ... (default: the sidecar's language, else en)."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Rule pack to score with (default: $CALLQA_RULES, "
                                         "else qa_rules/default.yaml)."),
    diarization: Optional[str] = typer.Option(
        None, "--diarization",
        help="Mono calls: 'offline' (packaged models), 'none' (one speaker, role unknown) or a local pyannote "
             "pipeline directory (default: $CALLQA_DIARIZATION_PIPELINE, else offline)."),
    speakers: Optional[str] = typer.Option(
        None, "--speakers", help="Speakers in a mono call: a number, or 'auto' for conferences and transfers "
                                 "(default: $CALLQA_SPEAKERS, else 2)."),
    redact_audio: Optional[Path] = typer.Option(
        None, "--redact-audio", help="Also write a copy of each recording with every sensitive-data finding beeped "
                                     "into this folder (<call id>.redacted.flac); `callqa report` plays it "
                                     "(default: $CALLQA_REDACT_AUDIO_DIR, else off)."),
    force: bool = typer.Option(False, "--force", help="Process calls again even when stored with the same settings."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-vv for debug)."),
) -> None:
    """Transcribe, attribute speakers, find sensitive data, score and store recordings; each call once.

    Stereo calls get one speaker per channel; mono calls are diarized and the
    agent is recognised from what each speaker says (greeting, script phrases),
    with a confidence stored per call.

    Calls already stored with the same settings are skipped. A file that fails
    is recorded in the `failures` table with its stage and reason, the batch
    goes on, the exit code is 1, and the next run retries it.

    Example: callqa run sample_audio --db calls.duckdb
    """
    from callqa.batch import CallOutcome, run_batch
    from callqa.pipeline import Pipeline
    from callqa.settings import Settings, parse_speakers
    from callqa.store import Store

    setup_logging(verbose)
    overrides = {"db": db, "model": model, "language": language, "diarization": diarization,
                 "redact_audio_dir": redact_audio, "rules": rules}
    settings = Settings.from_env(**overrides)
    if speakers is not None:
        settings = replace(settings, num_speakers=parse_speakers(speakers, source="--speakers"))
    pipeline = Pipeline(settings)
    store = Store(settings.db)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=not err_console.is_terminal) as progress:
        task = progress.add_task("calls", total=None)

        def on_result(outcome: CallOutcome) -> None:
            progress.update(task, advance=1, description=Path(outcome.path).name)

        summary = run_batch(paths, pipeline, store, force=force,
                            on_start=lambda n: progress.update(task, total=n), on_result=on_result)
    _print_run_summary(summary.outcomes, settings.db)
    if not summary.ok:
        raise typer.Exit(1)


def _print_run_summary(outcomes, db: Path) -> None:
    table = Table(title=f"callqa run -> {db}", show_lines=False)
    for col in ("file", "call", "status", "lang", "duration", "turns", "notes"):
        table.add_column(col, overflow="fold")
    for o in outcomes:
        note = f"{o.stage}: {_without_path(o.reason, o.path)}" if o.reason else ""
        if o.status == "processed" and o.role_confidence is not None and o.role_confidence < LOW_ROLE_CONFIDENCE:
            note = f"roles: {o.roles_note}"
        style = {"failed": "red", "skipped": "dim", "rescored": "cyan"}.get(o.status, "")
        table.add_row(
            Path(o.path).name, (o.call_id or "")[:12], f"[{style}]{o.status}[/]" if style else o.status,
            o.language or "", f"{o.duration_s:.1f}s" if o.duration_s is not None else "",
            str(o.turns) if o.turns is not None else "", note,
        )
    console.print(table)
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("processed", "skipped", "rescored", "failed")}
    console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing to do")


@app.command()
@handle_errors
def show(
    call: str = typer.Argument(..., help="Call id (or a unique prefix of it, or the recording's file name)."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Print a stored call's transcript with times, speakers and roles.

    Example: callqa show 3fa2c1 --format json
    """
    from callqa.report.view import call_view

    if fmt not in ("text", "json"):
        raise typer.BadParameter(f"{fmt!r}; use text or json", param_hint="--format")
    from callqa.store import Store

    with Store(db_path(db)).connect_read() as con:
        view = call_view(con, call, db_path(db))
    if fmt == "json":
        sys.stdout.write(json.dumps(view, ensure_ascii=False, indent=2, default=str) + "\n")
        return
    _print_call_text(view)


def _print_call_text(view: dict[str, Any]) -> None:
    console.print(f"[bold]call[/] {view['call_id']}  ({view['source']})", highlight=False)
    console.print(
        f"duration {view['duration_s']:.1f} s · language {view['language']} · channels {view['channels']} · "
        f"asr {view['asr_model']} · speakers {view['diarizer']}", highlight=False)
    meta = view.get("metadata") or {}
    if any(meta.values()):
        console.print(" · ".join(f"{k} {v}" for k, v in meta.items() if v), highlight=False)
    roles = view["roles"]
    style = "yellow" if roles["confidence"] < LOW_ROLE_CONFIDENCE else "dim"
    console.print(f"[{style}]roles ({roles['method']}, confidence {roles['confidence']:.2f}): {roles['note']}[/]", highlight=False)
    console.print()
    for turn in view["turns"]:
        who = turn["role"] if turn["role"] != "unknown" else turn["speaker"]
        console.print(f"[dim][{_clock(turn['start'])}-{_clock(turn['end'])}][/] [bold]{who}[/]: {turn['text']}", highlight=False)
    ev = view.get("evaluation")
    if ev:
        console.print()
        verdict = "AUTO-FAILED" if ev["auto_failed"] else ("passed" if ev["passed"] else "failed")
        console.print(f"[bold]evaluation[/] {ev['pack']} {ev.get('pack_version', '')}: score {ev['score']:.1f} / {ev['max_score']:.0f} ({verdict})", highlight=False)
        for r in ev["results"]:
            mark = {"pass": "[green]pass[/]", "fail": "[red]FAIL[/]", "na": "[dim]n/a [/]"}[r["outcome"]]
            console.print(f"  {mark} {r['rule_id']}: {r['explanation']}", highlight=False)
            for e in r["evidence"][:3]:
                console.print(f"        [dim]{_clock(e['start'])}-{_clock(e['end'])} {e.get('role') or ''}[/] {e['excerpt']}", highlight=False)


def _without_path(reason: str, path: str) -> str:
    for prefix in (f"{path}: ", f"{Path(path).name}: "):
        if reason.startswith(prefix):
            return reason[len(prefix):]
    return reason


def _clock(seconds: float) -> str:
    m, s = divmod(max(seconds, 0.0), 60)
    return f"{int(m):02d}:{s:04.1f}"


@app.command()
@handle_errors
def sql(
    query: str = typer.Argument(..., help="A SQL query, or the path of a .sql file."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv, json or parquet."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the result to this file instead of the screen."),
    limit: int = typer.Option(1000, "--limit", help="Rows shown in table format (files get every row)."),
) -> None:
    """Run a read-only SQL query on the database.

    Example: callqa sql "select agent_id, count(*) from calls group by all"
    """
    if fmt not in ("table", "csv", "json", "parquet"):
        raise typer.BadParameter(f"{fmt!r}; use table, csv, json or parquet", param_hint="--format")
    if fmt == "parquet" and out is None:
        raise typer.BadParameter("parquet needs --out FILE", param_hint="--format")
    text = query
    if query.strip().lower().endswith(".sql") and "\n" not in query:
        path = Path(query)
        if not path.is_file():
            raise StoreError(f"{path}: no such SQL file")
        text = path.read_text(encoding="utf-8")
    from callqa.store import Store

    with Store(db_path(db)).connect_read() as con:
        try:
            if fmt == "parquet":
                import pyarrow.parquet as pq

                data = con.sql(text).to_arrow_table()
                pq.write_table(data, out)
                err_console.print(f"wrote {out} ({data.num_rows} rows)")
                return
            cursor = con.execute(text)
        except duckdb.Error as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        if cursor.description is None:
            console.print("ok")
            return
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    if fmt == "table":
        table = Table(show_lines=False)
        for col in columns:
            table.add_column(col, overflow="fold")
        for row in rows[:limit]:
            table.add_row(*("" if v is None else str(v) for v in row))
        target = console if out is None else None
        if target is None:
            from rich.console import Console

            with out.open("w", encoding="utf-8") as fh:
                Console(file=fh, width=200).print(table)
        else:
            target.print(table)
            if len(rows) > limit:
                err_console.print(f"({len(rows)} rows, first {limit} shown; use --format csv --out FILE for all)")
        return
    fh = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
    try:
        if fmt == "csv":
            writer = csv.writer(fh)
            writer.writerow(columns)
            writer.writerows(rows)
        else:
            json.dump([dict(zip(columns, r)) for r in rows], fh, ensure_ascii=False, indent=2, default=str)
            fh.write("\n")
    finally:
        if out:
            fh.close()
            err_console.print(f"wrote {out} ({len(rows)} rows)")
