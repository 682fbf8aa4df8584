"""``callqa`` command line. Each module below adds its commands to the one app."""

from callqa.cli._app import app
from callqa.cli import core  # noqa: F401  (run, show, sql)
from callqa.cli import pii  # noqa: F401  (redact-audio)
from callqa.cli import rules  # noqa: F401  (rules check, rules list, rescore)
from callqa.cli import report  # noqa: F401  (report, export)
from callqa.cli import eval as _eval  # noqa: F401  (eval)


def main() -> None:
    app()


__all__ = ["app", "main"]
