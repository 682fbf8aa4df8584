"""The typer application and what every command shares (database option, errors, logging)."""

from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path
from typing import Callable, TypeVar

import typer
from rich.console import Console

from callqa.errors import CallQAError, ConfigError

# Offline and quiet by default, also for libraries imported later.
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

app = typer.Typer(
    name="callqa",
    help="Offline speech and transcript QA for contact centers: transcribe, diarize, score and query calls.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()
err_console = Console(stderr=True)

DB_HELP = "DuckDB file (default: $CALLQA_DB or ./callqa.duckdb)"

F = TypeVar("F", bound=Callable)


def db_path(db: Path | None) -> Path:
    return db or Path(os.environ.get("CALLQA_DB") or "callqa.duckdb")


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("callqa").setLevel(level)
    for noisy in ("faster_whisper", "httpx", "numba", "matplotlib"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def handle_errors(fn: F) -> F:
    """Print callqa errors as one clear line (exit 2 for configuration, 1 otherwise)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CallQAError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None

    return wrapper  # type: ignore[return-value]
