"""Run-time settings: one documented dataclass, read from ``CALLQA_*`` variables.

Precedence everywhere: an explicit argument (CLI option) > environment variable >
the default written here.

=============================  ==============================================  =====================
variable                       meaning                                         default
=============================  ==============================================  =====================
``CALLQA_DB``                  DuckDB file QA leads query                      ``callqa.duckdb``
``CALLQA_ASR_MODEL``           CTranslate2 Whisper directory or size name      packaged models
``CALLQA_LANGUAGE``            ``auto``, ``en``, ``ru``, ``pl``, ...           sidecar, else ``en``
``CALLQA_CACHE_DIR``           where the joined ``base`` model is kept         ``~/.cache/callqa``
``CALLQA_THREADS``             CPU threads for the recogniser                  all cores
``CALLQA_COMPUTE_TYPE``        CTranslate2 compute type                        ``int8``
``CALLQA_BEAM_SIZE``           beam size (1 = greedy)                          ``1``
``CALLQA_MAX_DURATION``        longest accepted recording, seconds             ``14400`` (4 h)
``CALLQA_CHANNEL_ROLES``       roles of stereo channels, left first            ``agent,customer``
``CALLQA_DIARIZATION_PIPELINE`` mono calls: ``offline``, ``none`` or a local    ``offline``
                               pyannote pipeline directory
``CALLQA_SPEAKERS``            speakers in a mono call: a number or ``auto``   ``2``
``CALLQA_REDACT_AUDIO_DIR``    write a beeped copy of each recording here     off
``CALLQA_RULES``               rule pack used for scoring                      ``qa_rules/default.yaml``
=============================  ==============================================  =====================
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from callqa.errors import ConfigError
from callqa.types import Role

LANGUAGES = ("auto", "en", "ru", "pl")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True, slots=True)
class Settings:
    db: Path = Path("callqa.duckdb")
    model: str | None = None
    language: str | None = None  # None: the sidecar's language, else "en"
    cache_dir: Path = Path.home() / ".cache" / "callqa"
    threads: int = 0  # 0 = all cores
    compute_type: str = "int8"
    beam_size: int = 1
    max_duration_s: float = 4 * 3600.0
    channel_roles: tuple[Role, ...] = (Role.AGENT, Role.CUSTOMER)
    diarization: str | None = None
    num_speakers: int | None = 2
    rules: Path | None = None
    redact_audio_dir: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.language is not None and self.language not in LANGUAGES and not (len(self.language) == 2 and self.language.isalpha()):
            raise ConfigError(f"language {self.language!r} is not supported; use one of {', '.join(LANGUAGES)}")
        if self.beam_size < 1:
            raise ConfigError(f"beam size must be >= 1, got {self.beam_size}")
        if self.max_duration_s <= 0:
            raise ConfigError(f"maximum duration must be positive, got {self.max_duration_s}")

    @classmethod
    def from_env(cls, **overrides: Any) -> "Settings":
        """Settings from ``CALLQA_*`` variables; keyword arguments that are not None win."""
        values: dict[str, Any] = {}
        if (v := _env("CALLQA_DB")) is not None:
            values["db"] = Path(v)
        if (v := _env("CALLQA_ASR_MODEL")) is not None:
            values["model"] = v
        if (v := _env("CALLQA_LANGUAGE")) is not None:
            values["language"] = v
        if (v := _env("CALLQA_CACHE_DIR")) is not None:
            values["cache_dir"] = Path(v)
        elif (v := _env("XDG_CACHE_HOME")) is not None:
            values["cache_dir"] = Path(v) / "callqa"
        for name, key, conv in (
            ("CALLQA_THREADS", "threads", int),
            ("CALLQA_BEAM_SIZE", "beam_size", int),
            ("CALLQA_MAX_DURATION", "max_duration_s", float),
        ):
            if (v := _env(name)) is not None:
                try:
                    values[key] = conv(v)
                except ValueError:
                    raise ConfigError(f"{name}={v!r} is not a number") from None
        if (v := _env("CALLQA_COMPUTE_TYPE")) is not None:
            values["compute_type"] = v
        if (v := _env("CALLQA_CHANNEL_ROLES")) is not None:
            values["channel_roles"] = parse_channel_roles(v, source="CALLQA_CHANNEL_ROLES")
        if (v := _env("CALLQA_DIARIZATION_PIPELINE")) is not None:
            values["diarization"] = v
        if (v := _env("CALLQA_SPEAKERS")) is not None:
            values["num_speakers"] = parse_speakers(v, source="CALLQA_SPEAKERS")
        if (v := _env("CALLQA_REDACT_AUDIO_DIR")) is not None:
            values["redact_audio_dir"] = Path(v)
        if (v := _env("CALLQA_RULES")) is not None:
            values["rules"] = Path(v)
        known = {f.name for f in fields(cls)}
        for key, value in overrides.items():
            if key not in known:
                raise ConfigError(f"unknown setting {key!r}; known: {', '.join(sorted(known))}")
            if value is not None:
                values[key] = value
        return cls(**values)

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def cpu_threads(self) -> int:
        return self.threads or (os.cpu_count() or 1)


def parse_speakers(value: str | int | None, *, source: str) -> int | None:
    """``"2"`` -> 2, ``"auto"`` -> None (the diarizer chooses); errors name the source."""
    if value is None or str(value).strip().lower() == "auto":
        return None
    try:
        n = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{source}: {value!r} is not a speaker count; use a number such as 2, or auto") from None
    if not 1 <= n <= 20:
        raise ConfigError(f"{source}: {n} speakers is out of range; use 1-20, or auto")
    return n


def parse_channel_roles(value: str | list[str] | tuple[str, ...], *, source: str) -> tuple[Role, ...]:
    """``"agent,customer"`` -> (Role.AGENT, Role.CUSTOMER); errors name the source and valid roles."""
    items = value.split(",") if isinstance(value, str) else list(value)
    roles = []
    for item in items:
        try:
            roles.append(Role(str(item).strip().lower()))
        except ValueError:
            valid = ", ".join(r.value for r in Role)
            raise ConfigError(f"{source}: {item!r} is not a role; use {valid}") from None
    if not roles:
        raise ConfigError(f"{source}: no channel roles given")
    return tuple(roles)
