"""The whole mono pipeline (decode, recognise, diarize, roles, sensitive data, score) on the mono sample calls.

Models are loaded (one call processed) before timing; each call is then
processed once with ``Pipeline.process`` and its stage times are reported,
with the ratio of audio seconds to processing seconds (x real time).

Writes the "Mono pipeline" section of docs/BENCHMARKS.md.
Run: python -m bench.bench_mono
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench.report import table, update_section

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    from callqa.audio import AUDIO_EXTENSIONS
    from callqa.pipeline import Pipeline
    from callqa.settings import Settings

    calls = sorted(p for p in (REPO / "sample_audio").iterdir()
                   if "_mono_" in p.name and p.suffix.lower() in AUDIO_EXTENSIONS)
    pipeline = Pipeline(Settings.from_env())
    pipeline.process(pipeline.load(calls[0]))  # load the models once
    rows, totals = [], {}
    for path in calls:
        rec = pipeline.load(path)
        t0 = time.perf_counter()
        pc = pipeline.process(rec)
        seconds = time.perf_counter() - t0
        st = pipeline.times.seconds
        lang = pc.transcript.language
        audio, spent = totals.get(lang, (0.0, 0.0))
        totals[lang] = (audio + rec.duration, spent + seconds)
        rows.append([path.name, round(rec.duration, 1), round(seconds, 2), round(st.get("asr", 0), 2),
                     round(st.get("diarize", 0), 2), round(rec.duration / seconds, 1), pc.transcript.roles.confidence])
    per_lang = [[lang, round(a, 1), round(s, 1), round(a / s, 1)] for lang, (a, s) in sorted(totals.items())]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = (
        "Each mono sample call through `Pipeline.process` (the default diarizer, torch on 1 thread, in a "
        "background thread while the recogniser runs on all cores; `asr s` and `diarize s` overlap), models "
        f"loaded before timing. Load average at the end: {load} on "
        f"{os.cpu_count()} cores.\n\n"
        + table(["call", "audio s", "pipeline s", "asr s", "diarize s", "x real time", "role confidence"], rows)
        + "\n\nPer language:\n\n" + table(["language", "audio s", "pipeline s", "x real time"], per_lang)
        + "\n\nTarget: the whole mono pipeline at least 10x faster than real time on 2 cores."
    )
    update_section("bench_mono", "Mono pipeline", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
