"""Write one benchmark's section of docs/BENCHMARKS.md, leaving the others alone."""

from __future__ import annotations

import os
import platform
import re
from datetime import datetime, timezone
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"
HEADER = """# Benchmarks

Measured by the scripts in `bench/` (`make bench` runs them all; `python -m bench.NAME`
runs one). Each figure is a ratio or a rate measured within one run on the
machine named in its section: these machines are shared and noisy, so absolute
seconds vary between runs more than the ratios do. Tests never assert timings.
"""


def machine() -> str:
    cpus = os.cpu_count()
    return f"{platform.machine()}, {cpus} CPU cores, Python {platform.python_version()}"


def update_section(key: str, title: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the section delimited by ``<!-- bench:key -->`` markers."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = (f"<!-- bench:{key} -->\n## {title}\n\n_Measured {stamp} on {machine()} by `bench/{key}.py`._\n\n"
             f"{body.strip()}\n<!-- /bench:{key} -->")
    text = doc.read_text(encoding="utf-8") if doc.exists() else HEADER
    pattern = re.compile(rf"<!-- bench:{re.escape(key)} -->.*?<!-- /bench:{re.escape(key)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def table(headers: list[str], rows: list[list[object]]) -> str:
    def fmt(v: object) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
