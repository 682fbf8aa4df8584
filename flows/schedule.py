"""Run the nightly flow on a schedule: ``serve`` it from this process, or ``deploy`` it to a work pool.

::

    # one long-running process that runs the flow at 02:00 local time (Ctrl-C stops it)
    python -m flows.schedule serve --inbox /srv/calls/inbox --db /srv/calls/callqa.duckdb

    # a deployment on the process work pool of prefect.yaml, run by `prefect worker start --pool callqa`
    python -m flows.schedule deploy --inbox /srv/calls/inbox --db /srv/calls/callqa.duckdb

Both need a Prefect server that stays up (``prefect server start``, with
``PREFECT_API_URL=http://127.0.0.1:4200/api``): its scheduler creates the
runs and its UI shows them. The default time is 02:00 in this machine's
timezone (``--cron``, ``--timezone`` or ``CALLQA_TIMEZONE`` change it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CRON = "0 2 * * *"
DEPLOYMENT = "nightly"  # name in prefect.yaml; the full name is callqa-nightly/nightly


def _valid_tz(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def local_timezone() -> str:
    """This machine's IANA timezone name (``TZ``, ``/etc/localtime``, ``/etc/timezone``), else UTC."""
    if tz := _valid_tz(os.environ.get("TZ", "").lstrip(":")):
        return tz
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target and (tz := _valid_tz(target.split("zoneinfo/", 1)[1])):
            return tz
    try:
        if tz := _valid_tz(Path("/etc/timezone").read_text().strip()):
            return tz
    except OSError:
        pass
    return "UTC"


def schedule_timezone(explicit: str | None = None) -> str:
    """``--timezone``, else ``CALLQA_TIMEZONE``, else this machine's timezone; the error lists the form."""
    name = explicit or os.environ.get("CALLQA_TIMEZONE") or local_timezone()
    if _valid_tz(name) is None:
        raise SystemExit(f"error: timezone {name!r} is not an IANA name such as Europe/Warsaw or America/New_York")
    return name


def serve(inbox: str, db: str, cron: str, timezone: str) -> None:
    from prefect.schedules import Cron

    from flows.nightly import nightly

    nightly.serve(name=DEPLOYMENT, schedules=[Cron(cron, timezone=timezone)], parameters={"inbox": inbox, "db": db},
                  tags=["callqa"], global_limit=1,
                  description="Score the day's recordings into the callqa database (see docs/nightly.md).")


def deploy_env(inbox: str, db: str, timezone: str) -> dict[str, str]:
    """The variables prefect.yaml's placeholders read (``PWD``: where runs execute, this checkout)."""
    return {**os.environ, "CALLQA_INBOX": str(Path(inbox).resolve()), "CALLQA_DB": str(Path(db).resolve()),
            "CALLQA_TIMEZONE": timezone, "PWD": str(ROOT)}


def deploy(inbox: str, db: str, timezone: str) -> int:
    cmd = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--name", DEPLOYMENT, "--prefect-file",
           str(ROOT / "prefect.yaml")]
    return subprocess.call(cmd, cwd=ROOT, env=deploy_env(inbox, db, timezone))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.schedule", description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("serve", "deploy"), help="serve from this process, or deploy to the work pool")
    parser.add_argument("--inbox", default=os.environ.get("CALLQA_INBOX"), required="CALLQA_INBOX" not in os.environ,
                        help="directory (or fsspec URL) the recordings land in (default: $CALLQA_INBOX)")
    parser.add_argument("--db", default=os.environ.get("CALLQA_DB") or "callqa.duckdb",
                        help="DuckDB file (default: $CALLQA_DB or ./callqa.duckdb)")
    parser.add_argument("--cron", default=DEFAULT_CRON, help=f"when to run (default {DEFAULT_CRON!r}: 02:00 daily)")
    parser.add_argument("--timezone", help="IANA timezone of the cron (default: $CALLQA_TIMEZONE, else this machine's)")
    args = parser.parse_args(argv)
    tz = schedule_timezone(args.timezone)
    if args.mode == "deploy":
        if args.cron != DEFAULT_CRON:
            parser.error("deploy takes its cron from prefect.yaml; edit it there (serve takes --cron)")
        return deploy(args.inbox, args.db, tz)
    inbox = args.inbox if "://" in args.inbox else str(Path(args.inbox).resolve())
    serve(inbox, str(Path(args.db).resolve()), args.cron, tz)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
