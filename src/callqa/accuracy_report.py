"""The readable form of ``callqa eval``'s report: Markdown tables (``docs/ACCURACY.md``).

:func:`callqa.accuracy.build_report` makes the JSON report; :func:`markdown_report`
here renders it. Nothing is measured here.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

from callqa.accuracy import METRIC_FIELDS, OUTCOMES, TARGETS, summary_value


def _pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f} %"


def _num(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _clock(t: float) -> str:
    m, s = divmod(max(t, 0.0), 60)
    return f"{int(m):02d}:{s:04.1f}"


def markdown_report(report: Mapping[str, Any]) -> str:
    """A readable report (Markdown tables) of :func:`build_report`'s JSON."""
    runs = report["runs"]
    ref = report["reference_text"]["summary"]
    names = [r["model"] for r in runs]
    s = {r["model"]: r["summary"] for r in runs}
    lines = [
        "# Accuracy",
        "",
        f"Measured by `{report['command'] or 'callqa eval'}` on {report['created_at'][:10]} "
        f"(callqa {report['engine_version']}), dataset `{report['dataset']}`, rule pack `{report['pack']['path']}` "
        f"({report['pack']['id']} {report['pack']['version']}, sha256 {report['pack']['sha256'][:12]}). "
        "How each figure is measured, and the labels format: [docs/eval.md](eval.md). "
        "Regenerate with `make eval`.",
        "",
        "Every call goes through the real pipeline (decode, faster-whisper, channels or the offline mono "
        "diarizer, roles, sensitive-data detection and redaction) and the real scorer, in memory. The "
        "*reference text* column runs the same rules and detectors on the labels' own transcript (no audio, "
        "no model): the difference to it is what recognition and speaker attribution cost.",
        "",
        "## Summary",
        "",
        *[f"- `{r['model']}`: {', '.join(sorted({c['asr_model'] for c in r['calls']})) or '—'}" for r in runs],
        "",
    ]

    def row(label: str, key: str, fmt: Callable[[Any], str], with_ref: bool = True) -> list[str]:
        return [label, *[fmt(summary_value(s[n], key)) for n in names], fmt(summary_value(ref, key)) if with_ref else "—"]

    langs = [k for k in (s[names[0]].get("wer") or {}) if k != "all"] if names else []
    ref_lang = report["reference_text"].get("by_language", {})
    rows = [
        [f"calls ({', '.join(langs)})", *[str(s[n]["calls"]) for n in names], str(ref["calls"])],
        row("WER, all calls", "wer.all.wer", _pct, False),
        *[row(f"WER, {lang}", f"wer.{lang}.wer", _pct, False) for lang in langs],
        row(f"DER, mono calls (collar {report['settings']['collar_s']} s)", "der.der", _pct, False),
        row("role accuracy, stereo (words)", "roles.stereo.accuracy", _pct, False),
        row("role accuracy, mono (words)", "roles.mono.accuracy", _pct, False),
        row("rule-verdict accuracy", "verdicts.accuracy", _pct),
        *[row(f"rule-verdict accuracy, {lang}", f"verdicts.by_language.{lang}", _pct) for lang in langs],
        row("Cohen's kappa of verdicts", "verdicts.kappa", _num),
        row("sensitive data: precision", "pii.micro.precision", _pct),
        row("sensitive data: recall", "pii.micro.recall", _pct),
        row("card number recall", "pii.per_entity.CARD_NUMBER.recall", _pct),
        row("IBAN recall", "pii.per_entity.IBAN.recall", _pct),
        *[[f"sensitive data, {lang}: precision / recall",
           *[f"{_pct(summary_value(r['by_language'].get(lang, {}).get('summary', {}), 'pii.micro.precision'))} / "
             f"{_pct(summary_value(r['by_language'].get(lang, {}).get('summary', {}), 'pii.micro.recall'))}"
             for r in runs],
           f"{_pct(summary_value(ref_lang.get(lang, {}).get('summary', {}), 'pii.micro.precision'))} / "
           f"{_pct(summary_value(ref_lang.get(lang, {}).get('summary', {}), 'pii.micro.recall'))}"] for lang in langs],
        row("sensitive values redacted (found as any type)", "pii.redacted.share", _pct),
        [f"look-alikes flagged (of {ref.get('pii', {}).get('decoys', {}).get('total', 0)})",
         *[str(summary_value(s[n], "pii.decoys.flagged")) for n in names], str(summary_value(ref, "pii.decoys.flagged"))],
    ]
    lines += _table(["figure", *names, "reference text"], rows)

    lines += ["## Targets", "", "Over all calls, and per language of the calls.", ""]

    def verdict(t: Mapping[str, Any]) -> str:
        return "—" if t["value"] is None else f"{_pct(t['value'])} {'met' if t['met'] else '**missed**'}"

    trows = []
    for k, (name, key, goal) in enumerate(TARGETS):
        for r in runs:
            trows.append([name, f"≥ {_pct(goal, 0)}", r["model"], verdict(r["targets"][k]),
                          *[verdict(r["by_language"][lang]["targets"][k]) if lang in r["by_language"] else "—"
                            for lang in langs]])
    lines += _table(["target", "goal", "model", "all calls", *langs], trows)

    for r in runs:
        lines += [f"## Per call: {r['model']}", "",
                  f"{len(r['calls'])} calls in {r['seconds']:.0f} s of wall time; recogniser(s): "
                  f"{', '.join(sorted({c['asr_model'] for c in r['calls']})) or '—'}.", ""]
        crows = []
        for c in r["calls"]:
            v = c.get("verdicts", {})
            ok = sum(1 for x in v.values() if x["predicted"] == x["expected"])
            p = c.get("pii", {}).get("counts", {})
            tp, fn, fp = (sum(k[x] for k in p.values()) for x in ("tp", "fn", "fp"))
            crows.append([f"`{c['call']}`", c["language"], c["layout"], f"{(c['sample_rate'] or 0) // 1000} kHz",
                          _pct(c["wer"]["wer"]), _pct(c["der"]["der"]) if c.get("der") else "—",
                          _pct(c["roles"]["accuracy"]) if c.get("roles") else "—", f"{ok}/{len(v)}",
                          f"{tp}/{tp + fn}", str(fp), _num(c.get("score"), 1),
                          "auto-fail" if c.get("auto_failed") else ("pass" if c.get("passed") else "fail")])
        lines += _table(["call", "lang", "layout", "rate", "WER", "DER", "roles", "verdicts", "PII found",
                         "false PII", "score", "result"], crows)
        if r["failures"]:
            lines += ["Not evaluated:", ""] + [f"- `{f['call']}`: {f['reason']}" for f in r["failures"]] + [""]

    lines += ["## Rule verdicts per rule", "",
              "Accuracy per rule and how each expected outcome was predicted (pass / fail / n/a), pooled over "
              "the calls.", ""]
    rules = list((s[names[0]].get("verdicts") or {}).get("per_rule", {})) if names else []
    vrows = []
    for rule in rules:
        cells = [f"`{rule}`"]
        for n in names:
            pr = s[n]["verdicts"]["per_rule"].get(rule)
            cells.append(_pct(pr["accuracy"], 0) if pr else "—")
        pr = ref.get("verdicts", {}).get("per_rule", {}).get(rule)
        cells.append(_pct(pr["accuracy"], 0) if pr else "—")
        for n in names:
            conf = s[n]["verdicts"]["per_rule"][rule]["confusion"]
            cells.append("; ".join(f"{e}→{conf[e]['pass']}/{conf[e]['fail']}/{conf[e]['na']}" for e in OUTCOMES
                                   if sum(conf[e].values())))
        vrows.append(cells)
    lines += _table(["rule", *names, "reference text", *[f"{n}: expected→predicted pass/fail/n/a" for n in names]],
                    vrows)
    for n in names:
        conf = s[n]["verdicts"]["confusion"]
        lines += [f"All verdicts, {n} (rows expected, columns predicted):", ""]
        lines += _table(["expected \\ predicted", *OUTCOMES], [[e, *[conf[e][p] for p in OUTCOMES]] for e in OUTCOMES])

    lines += ["## Sensitive data per entity type", "",
              f"A finding is correct when a value of the same type was said within "
              f"{report['settings']['pii_tolerance_s']} s of it (one finding per value). Precision / recall "
              "(found of labelled, false findings).", ""]
    ents = sorted({e for x in [*s.values(), ref] for e in (x.get("pii") or {}).get("per_entity", {})})
    prow = []
    for e in ents:
        cells = [e]
        for x in [*[s[n] for n in names], ref]:
            k = (x.get("pii") or {}).get("per_entity", {}).get(e)
            cells.append("—" if k is None else
                         f"{_pct(k['precision'], 0)} / {_pct(k['recall'], 0)} ({k['tp']}/{k['tp'] + k['fn']}, {k['fp']} false)")
        prow.append(cells)
    lines += _table(["entity", *names, "reference text"], prow)
    lines += ["Redacted: labelled values that some finding covers, whatever type it gives them (what the stored "
              "transcript hides; a value found as the wrong type is redacted all the same).", ""]
    rrow = []
    for e in ents:
        cells = [e]
        for x in [*[s[n] for n in names], ref]:
            k = (x.get("pii") or {}).get("redacted", {}).get("per_entity", {}).get(e)
            cells.append("—" if k is None else f"{k['covered']}/{k['values']}")
        rrow.append(cells)
    lines += _table(["entity", *names, "reference text"], rrow)

    lines += ["## Metric errors", "", "Predicted minus expected, over the calls that label the metric: mean, mean "
              "absolute, largest absolute.", ""]
    mnames = sorted({m for x in [*s.values(), ref] for m in x.get("metrics", {})}, key=list(METRIC_FIELDS).index)
    mrows = []
    for m in mnames:
        cells = [f"`{m}`"]
        for x in [*[s[n] for n in names], ref]:
            k = x.get("metrics", {}).get(m)
            cells.append("—" if k is None else f"{k['mean_error']:+.3f} / {k['mean_abs_error']:.3f} / {k['max_abs_error']:.3f}")
        mrows.append(cells)
    lines += _table(["metric", *names, "reference text"], mrows)

    builtin = [(r["model"], b) for r in runs for b in r["builtin"]]
    if builtin:
        lines += ["## Real recording: pyannote.audio's sample", "",
                  "The 30 s two-party phone call that pyannote.audio ships in its package (`pyannote/audio/sample/"
                  "sample.wav`, reference `sample.rttm`, transcript `sample.stm`), read from the installed package. "
                  "Its speakers are two callers, not an agent and a customer: only WER and DER are measured.", ""]
        lines += _table(["model", "recogniser", "WER", "DER", "missed / false alarm / confusion (s)"],
                        [[m, b["asr_model"], _pct(b["wer"]["wer"]),
                          _pct(b["der"]["der"]) if b.get("der") else "—",
                          (f"{b['der']['missed']:.1f} / {b['der']['false_alarm']:.1f} / {b['der']['confusion']:.1f}"
                           if b.get("der") else "—")] for m, b in builtin])

    lines += ["## Where it went wrong", "",
              "Verdicts that differ from the labels, missed values and false findings (masked; times from the "
              "start of the recording).", ""]
    for r in runs:
        wrong = [[f"`{c['call']}`", f"`{rule}`", v["expected"], v["predicted"], v.get("explanation", "")]
                 for c in r["calls"] for rule, v in c.get("verdicts", {}).items() if v["predicted"] != v["expected"]]
        lines += [f"### {r['model']}: verdicts", ""]
        lines += _table(["call", "rule", "expected", "predicted", "explanation"], wrong) if wrong else ["none", ""]
        pii_rows = [[f"`{c['call']}`", "missed", m["entity"], m["role"], f"{_clock(m['start'])}-{_clock(m['end'])}", ""]
                    for c in r["calls"] for m in c.get("pii", {}).get("missed", [])]
        pii_rows += [[f"`{c['call']}`", "false" + (f" (on a {f['decoy']})" if f.get("decoy") else ""), f["entity"],
                      f["role"], f"{_clock(f['start'])}-{_clock(f['end'])}", f"{f['masked']} ({f['detector']})"]
                     for c in r["calls"] for f in c.get("pii", {}).get("false", [])]
        pii_rows += [[f"`{c['call']}`", "redacted, type unknown", f["entity"], f["role"],
                      f"{_clock(f['start'])}-{_clock(f['end'])}", f"{f['masked']} ({f['detector']})"]
                     for c in r["calls"] for f in c.get("pii", {}).get("untyped", [])]
        lines += [f"### {r['model']}: sensitive data", ""]
        lines += _table(["call", "what", "entity", "role", "time", "finding"], pii_rows) if pii_rows else ["none", ""]
    return "\n".join(lines).rstrip() + "\n"



__all__ = ["markdown_report"]
