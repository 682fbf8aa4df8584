"""Named, recorded schema migrations.

Each migration is a file ``sql/NNNN_name.sql`` in this package; they run in
number order, each in its own transaction, and ``_migrations`` records which
ran (with a checksum, so an edited migration is caught instead of silently
diverging). New schema = a new file; a released file is never edited.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources

import duckdb

from callqa.errors import StoreError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    number: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files("callqa.store").joinpath("sql").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.number)
    numbers = [mig.number for mig in found]
    if len(set(numbers)) != len(numbers):
        raise StoreError(f"duplicate migration numbers in callqa/store/sql: {numbers}")
    return found


def applied(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    con.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (number INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
        "checksum VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    return {n: c for n, c in con.execute("SELECT number, checksum FROM _migrations").fetchall()}


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations; return the names applied."""
    done = applied(con)
    ran = []
    for mig in migrations():
        if mig.number in done:
            if done[mig.number] != mig.checksum:
                raise StoreError(
                    f"migration {mig.number:04d}_{mig.name} differs from the one applied to this database; "
                    "released migrations must not be edited"
                )
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(mig.sql)
            con.execute(
                "INSERT INTO _migrations VALUES (?, ?, ?, ?)",
                [mig.number, mig.name, mig.checksum, datetime.now(timezone.utc)],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        ran.append(f"{mig.number:04d}_{mig.name}")
    return ran


def pending(con: duckdb.DuckDBPyConnection) -> list[str]:
    try:
        done = {n for (n,) in con.execute("SELECT number FROM _migrations").fetchall()}
    except duckdb.CatalogException:
        done = set()
    return [f"{m.number:04d}_{m.name}" for m in migrations() if m.number not in done]
