"""The one exception tree of callqa.

::

    CallQAError                       anything callqa raises on purpose
    ├── ConfigError                   settings, model or pack the user must fix
    │   ├── ModelNotFoundError        no usable Whisper model; says what to pass
    │   ├── DiarizationConfigError    a diarization pipeline that cannot load
    │   └── RulePackError             a pack file that does not validate (file, rule, field)
    ├── InputError                    one recording cannot be processed (names the file)
    │   ├── AudioError                unreadable, corrupt, empty, silent or too long audio
    │   └── SidecarError              malformed ``<recording>.json`` (names the field)
    ├── ProcessingError               a stage failed on valid input (asr, diarize, score ...)
    │   └── TransientError            worth retrying (resource busy, lock held)
    └── StoreError                    the DuckDB store refused an operation
        ├── StoreLockedError          another writer holds the database (transient)
        └── CallNotFoundError         no stored call with that id

Messages name the file and the reason on one line and never contain raw
transcript text or sensitive values: they end up in logs, in the ``failures``
table and in Prefect's UI.
"""

from __future__ import annotations

from pathlib import Path


class CallQAError(Exception):
    """Base class of every error callqa raises on purpose."""

    #: Pipeline stage the error belongs to; stored in ``failures.stage``.
    stage: str = "unknown"
    #: True when running the same work again later may succeed.
    transient: bool = False


class ConfigError(CallQAError):
    stage = "config"


class ModelNotFoundError(ConfigError):
    stage = "model"


class DiarizationConfigError(ConfigError):
    stage = "diarize"


class RulePackError(ConfigError):
    """A rule pack that does not validate.

    ``problems`` holds one ``(rule_id or None, field path, message)`` per error.
    """

    stage = "rules"

    def __init__(self, path: str | Path, problems: list[tuple[str | None, str, str]]):
        self.path = str(path)
        self.problems = problems
        lines = [
            f"{self.path}: rule {rule or '-'}: {fld}: {msg}" if fld else f"{self.path}: rule {rule or '-'}: {msg}"
            for rule, fld, msg in problems
        ]
        super().__init__("\n".join(lines) if lines else f"{self.path}: invalid rule pack")


class InputError(CallQAError):
    """A recording (or its sidecar) that cannot be processed."""

    stage = "input"

    def __init__(self, path: str | Path, reason: str, *, stage: str | None = None):
        self.path = str(path)
        self.reason = reason
        if stage:
            self.stage = stage
        super().__init__(f"{self.path}: {reason}")


class AudioError(InputError):
    stage = "decode"


class SidecarError(InputError):
    stage = "sidecar"

    def __init__(self, path: str | Path, field: str, reason: str):
        self.field = field
        super().__init__(path, f"sidecar field {field!r}: {reason}" if field else f"sidecar: {reason}")


class ProcessingError(CallQAError):
    def __init__(self, message: str, *, stage: str = "process", path: str | Path | None = None):
        self.stage = stage
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)


class TransientError(ProcessingError):
    transient = True


class StoreError(CallQAError):
    stage = "store"


class StoreLockedError(StoreError):
    transient = True


class CallNotFoundError(StoreError):
    def __init__(self, call_id: str, db: str | Path):
        self.call_id = call_id
        super().__init__(f"{db}: no stored call matches {call_id!r} (use `callqa sql \"select call_id from calls\"`)")
