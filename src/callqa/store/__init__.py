"""DuckDB storage: migrations, the single writer, and reading transcripts back."""

from callqa.store.db import (
    Store,
    Writer,
    load_metadata,
    load_pii,
    load_transcript,
    resolve_call_id,
    rows_as_dicts,
    select_call_ids,
)

__all__ = [
    "Store", "Writer", "load_metadata", "load_pii", "load_transcript", "resolve_call_id", "rows_as_dicts",
    "select_call_ids",
]
