"""``callqa eval``: measure the pipeline against a labelled evaluation set (callqa.accuracy)."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from callqa.cli._app import app, console, err_console, handle_errors, setup_logging


@app.command("eval")
@handle_errors
def eval_cmd(
    dataset: Path = typer.Argument(..., help="Folder of recordings, each with <name>.labels.json (see docs/eval.md)."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Rule pack the verdicts are scored with "
                                         "(default: $CALLQA_RULES, else qa_rules/default.yaml)."),
    model: Optional[list[str]] = typer.Option(None, "--model", help="Recogniser; repeat to compare several. "
                                              "'default' = packaged tiny.en for English and base for other "
                                              "languages; 'tiny.en', 'base' = the packaged ones; or a CTranslate2 "
                                              "directory. Default: default."),
    language: Optional[str] = typer.Option(None, "--language", help="Force a language for every call "
                                           "(default: each call's sidecar language)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the Markdown report here."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the full JSON report here."),
    builtin: bool = typer.Option(True, "--builtin/--no-builtin", help="Also measure WER and DER on the real "
                                 "recording pyannote.audio ships in its package."),
    collar: float = typer.Option(0.5, "--collar", min=0.0, max=2.0, help="DER collar in seconds, pyannote's "
                                 "convention (total width: half before, half after each reference boundary)."),
    tolerance: float = typer.Option(0.5, "--pii-tolerance", min=0.0, max=5.0, help="Seconds a sensitive-data "
                                    "finding may lie outside the labelled value's span and still match it."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-vv for debug)."),
) -> None:
    """Measure WER, DER, role accuracy, rule verdicts, sensitive-data precision/recall and metric errors.

    Every recording goes through the real pipeline and scorer in memory
    (nothing is stored); the report compares the result with the labels, for
    each --model, next to the same rules and detectors run on the labels' own
    transcript. No raw sensitive value is written: findings are masked.

    Example: callqa eval eval/ --model default --model base --out docs/ACCURACY.md --json accuracy.json
    """
    from callqa import accuracy
    from callqa.scoring import Scorer
    from callqa.settings import Settings

    setup_logging(verbose)
    items = accuracy.load_dataset(dataset)
    scorer = Scorer(rules)
    for item in items:
        pack = item.labels.pack
        if pack and Path(pack).name != Path(scorer.pack.path).name:
            err_console.print(f"[yellow]note:[/] {item.source}: labelled for pack {pack}, scored with "
                              f"{scorer.pack.path}", highlight=False)
    extra = []
    if builtin:
        sample = accuracy.pyannote_sample()
        if sample is None:
            err_console.print("[yellow]note:[/] pyannote.audio's sample recording is not installed; skipped")
        else:
            extra.append(sample)
    base = Settings.from_env(language=language)
    runs = []
    for name in model or ["default"]:
        # nothing is written: no redacted audio copies either
        settings = replace(base, model=accuracy.packaged_model(name, base.cache_dir), redact_audio_dir=None)
        todo = [*items, *extra]
        done = [0]

        def progress(item, result, name=name, todo=todo, done=done):
            done[0] += 1
            if result is None:
                note = "not evaluated"
            else:
                v = result.get("verdicts", {})
                ok = sum(1 for x in v.values() if x["predicted"] == x["expected"])
                wer = result["wer"]["wer"]
                note = (f"WER {wer:.2f}" if wer is not None else "WER -") + (f", verdicts {ok}/{len(v)}" if v else "")
            err_console.print(f"[dim]{name} {done[0]}/{len(todo)}[/] {item.name}: {note}", highlight=False)

        runs.append(accuracy.run_eval(todo, settings, scorer, model_label=name, collar=collar, tolerance_s=tolerance,
                                      on_call=progress))
    reference = [accuracy.evaluate_reference(i, scorer, tolerance_s=tolerance) for i in items]
    command = "callqa eval " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if len(sys.argv) > 2 else "callqa eval"
    report = accuracy.build_report(runs, reference, dataset=str(dataset), pack=scorer.pack, collar=collar,
                                   tolerance_s=tolerance, command=command)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        err_console.print(f"wrote {json_out}")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(accuracy.markdown_report(report), encoding="utf-8")
        err_console.print(f"wrote {out}")
    _print_summary(report)
    if any(r.failures for r in runs):
        raise typer.Exit(1)


def _print_summary(report: dict) -> None:
    def pct(x):
        return "-" if x is None else f"{100 * x:.1f}%"

    table = Table(title=f"callqa eval {report['dataset']}")
    table.add_column("figure")
    for run in report["runs"]:
        table.add_column(run["model"])
    table.add_column("reference text")
    from callqa.accuracy import summary_value

    ref = report["reference_text"]["summary"]
    rows = [("WER", "wer.all.wer", False), ("DER (mono)", "der.der", False),
            ("roles stereo", "roles.stereo.accuracy", False), ("roles mono", "roles.mono.accuracy", False),
            ("verdict accuracy", "verdicts.accuracy", True), ("kappa", "verdicts.kappa", True),
            ("PII precision", "pii.micro.precision", True), ("PII recall", "pii.micro.recall", True)]
    for label, key, with_ref in rows:
        fmt = (lambda x: "-" if x is None else f"{x:.3f}") if key.endswith("kappa") else pct
        table.add_row(label, *[fmt(summary_value(r["summary"], key)) for r in report["runs"]],
                      fmt(summary_value(ref, key)) if with_ref else "")
    console.print(table)
