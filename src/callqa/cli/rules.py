"""``callqa rules check``, ``callqa rules list`` and ``callqa rescore``."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from callqa.cli._app import DB_HELP, app, console, db_path, err_console, handle_errors, setup_logging
from callqa.errors import RulePackError, StoreError

rules_app = typer.Typer(
    name="rules",
    help="Check and list QA rule packs (qa_rules/*.yaml).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(rules_app, name="rules")

RULES_HELP = "Rule pack (default: $CALLQA_RULES, else qa_rules/default.yaml)."


@rules_app.command("check")
def rules_check(
    packs: list[Path] = typer.Argument(..., help="Rule pack files to validate."),
) -> None:
    """Validate rule packs: every problem with its file, rule id and field; exit 2 if any pack is invalid.

    Example: callqa rules check qa_rules/*.yaml
    """
    from callqa.rules import load_pack

    bad = 0
    for path in packs:
        try:
            pack = load_pack(path)
        except RulePackError as exc:
            bad += 1
            for line in str(exc).splitlines():
                err_console.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True, markup=True)
            continue
        delegates = "".join(f"; {lang} calls -> {alt.path.name} ({len(alt.rules)} rules)" for lang, alt in pack.alternates.items())
        console.print(f"ok: {path}: {pack.id} {pack.version}, {len(pack.rules)} rules in {len(pack.sections)} sections, "
                      f"languages {', '.join(pack.languages)}{delegates}", highlight=False, soft_wrap=True)
        for note in pack.notes + [n for alt in pack.alternates.values() for n in alt.notes]:
            err_console.print(f"[yellow]warning:[/] {path}: {note}", highlight=False, soft_wrap=True)
    if bad:
        raise typer.Exit(2)


@rules_app.command("list")
@handle_errors
def rules_list(
    pack_path: Path = typer.Argument(..., metavar="PACK", help="Rule pack file."),
    language: Optional[str] = typer.Option(None, "--language", help="List the pack used for calls in this language "
                                                                    "(one of the pack's language_packs)."),
) -> None:
    """Print a pack's rules: id, section, kind, points, critical, title.

    Example: callqa rules list qa_rules/default.yaml --language ru
    """
    from callqa.rules import load_pack

    pack = load_pack(pack_path).for_language(language)
    title = f"{pack.id} {pack.version} ({pack.path.name}, pass mark {pack.pass_mark:g})"
    if console.width >= 110:
        table = Table(title=title, show_lines=False)
        for col in ("id", "section", "kind"):
            table.add_column(col, no_wrap=True)
        table.add_column("points", justify="right", no_wrap=True)
        table.add_column("critical", no_wrap=True)
        table.add_column("title", overflow="fold", min_width=20)
        for rule in pack.rules:
            h = rule.header
            table.add_row(h.id, h.section, h.kind, f"{h.points:g}", "yes" if h.critical else "", h.title)
        console.print(table)
    else:  # a narrow terminal (or a pipe): two lines per rule
        console.print(title, highlight=False)
        for rule in pack.rules:
            h = rule.header
            crit = "  [bold red]CRITICAL[/]" if h.critical else ""
            console.print(f"[bold]{h.id}[/]  {h.section}  {h.kind}  {h.points:g} pts{crit}", highlight=False, soft_wrap=True)
            console.print(f"    {h.title}", highlight=False, soft_wrap=True, markup=False)
    weights = ", ".join(f"{s.id} {s.weight:g}" if s.weight is not None else f"{s.id} (points)" for s in pack.sections)
    console.print(f"sections: {weights}", highlight=False)


def _parse_day(value: Optional[str], option: str) -> Optional[datetime]:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r}; use a date like 2026-11-22 or 2026-11-22T08:00", param_hint=option) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@app.command()
@handle_errors
def rescore(
    calls: Optional[list[str]] = typer.Argument(None, metavar="[CALL_ID]...",
                                                help="Call ids (or unique prefixes, or recording file names)."),
    rules: Optional[Path] = typer.Option(None, "--rules", help=RULES_HELP),
    all_calls: bool = typer.Option(False, "--all", help="Every stored call."),
    since: Optional[str] = typer.Option(None, "--since", help="Calls recorded on or after this date (UTC unless given)."),
    until: Optional[str] = typer.Option(None, "--until", help="Calls recorded before this date."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_HELP),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Scoring processes (the database stays in this one)."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-vv for debug)."),
) -> None:
    """Score stored calls again with a rule pack; adds a new evaluation, never touches audio or the recogniser.

    Reads the stored (redacted) transcripts, sensitive-data findings and
    metadata; metrics are recomputed. Earlier evaluations stay (the newest is
    what `callqa show` prints). Calls are chosen by id, by recording date
    (--since/--until) or all of them.

    Example: callqa rescore --all --rules qa_rules/default.yaml
    """
    from callqa.scoring import Scorer, rescore_calls
    from callqa.store import Store, resolve_call_id, select_call_ids

    setup_logging(verbose)
    start, end = _parse_day(since, "--since"), _parse_day(until, "--until")
    if not calls and not all_calls and start is None and end is None:
        raise typer.BadParameter("give call ids, --all, or --since/--until", param_hint="CALL_ID")
    scorer = Scorer(rules)
    store = Store(db_path(db))
    if not store.exists():
        raise StoreError(f"{store.path}: no callqa database here yet; run `callqa run RECORDINGS --db {store.path}` first")
    with store.writing() as writer:
        ids = [resolve_call_id(writer.con, ref, store.path) for ref in (calls or ())]
        if all_calls or start is not None or end is not None:
            ids += select_call_ids(writer.con, since=start, until=end)
        ids = list(dict.fromkeys(ids))
        run_id = writer.start_run("rescore", {"rules": str(scorer.pack.path), "pack": scorer.pack_id,
                                              "pack_sha256": scorer.pack_sha256, "calls": len(ids)})
        summary = rescore_calls(writer, scorer, ids, run_id=run_id, workers=workers)
        writer.finish_run(run_id, files_seen=len(ids), processed=summary.scored, skipped=0, failed=summary.failed)

    shown = summary.outcomes[:50]
    table = Table(title=f"callqa rescore -> {store.path}", show_lines=False)
    for col in ("call", "pack", "score", "verdict", "notes"):
        table.add_column(col, overflow="fold")
    for o in shown:
        verdict = ("[red]AUTO-FAILED[/]" if o.auto_failed else "passed" if o.passed else "[yellow]failed[/]") if o.ok else "[red]error[/]"
        table.add_row(o.call_id[:12], o.pack or "", f"{o.score:.1f}" if o.score is not None else "", verdict, o.reason or "")
    if shown:
        console.print(table)
    more = f" (first {len(shown)} shown)" if len(summary.outcomes) > len(shown) else ""
    console.print(f"{summary.scored} calls re-scored with {scorer.pack_id} {scorer.pack.version} "
                  f"(sha256 {scorer.pack_sha256[:12]}) in {summary.seconds:.1f} s, {summary.failed} failed{more}",
                  highlight=False)
    if summary.failed:
        raise typer.Exit(1)
