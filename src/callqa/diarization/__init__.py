"""Speaker diarization of mono calls: who spoke when, as a :class:`pyannote.core.Annotation`.

Two diarizers share one call shape (:class:`MonoDiarizer`):

* :func:`default_diarizer` -- the offline one (:mod:`callqa.diarization.offline`):
  pyannote segmentation-3.0 + CAM++ speaker embeddings + constrained
  clustering, all weights from installed packages (no model hub);
* :func:`load_pipeline_dir` -- a full pyannote.audio pipeline directory the
  user has (``config.yaml`` + segmentation and embedding checkpoints + PLDA),
  loaded offline with pyannote's own ``Pipeline.from_pretrained``
  (:mod:`callqa.diarization.pyannote_dir`).

Input is always an in-memory float32 mono waveform in [-1, 1] (callqa decodes
audio itself); 8 kHz telephone audio is resampled to 16 kHz. Output labels are
``SPEAKER_00``, ``SPEAKER_01``, ... (in order of first speech for the offline
diarizer); overlapped speech keeps both speakers as overlapping tracks
(:func:`overlaps` lists those regions). ``num_speakers=2`` is the default for
calls; ``num_speakers=None`` chooses the count (conferences, transfers),
bounded by ``min_speakers``/``max_speakers``.

pyannote.audio is imported lazily (it takes seconds), with
``HF_HUB_OFFLINE=1`` and ``PYANNOTE_METRICS_ENABLED=0`` set first; models are
loaded once per process and shared.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from callqa.errors import DiarizationConfigError

if TYPE_CHECKING:  # pragma: no cover
    from pyannote.core import Annotation, Timeline

__all__ = [
    "MonoDiarizer",
    "default_diarizer",
    "load_pipeline_dir",
    "diarizer_from_setting",
    "diarizer_name_for_setting",
    "diarization_disabled",
    "overlaps",
]


@runtime_checkable
class MonoDiarizer(Protocol):
    """Anything that diarizes a mono waveform into a pyannote ``Annotation``."""

    name: str

    def __call__(
        self,
        waveform: np.ndarray,
        sample_rate: int,
        *,
        num_speakers: int | None = 2,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> "Annotation": ...


_ENV_DONE = False


def _pyannote_env() -> None:
    """Make pyannote offline and quiet; must run before ``pyannote.audio`` is first imported."""
    global _ENV_DONE
    if _ENV_DONE:
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
    _ENV_DONE = True


_DEFAULT: dict[tuple[Any, ...], MonoDiarizer] = {}
_LOCK = threading.Lock()


def default_diarizer(*, step: float | None = None) -> MonoDiarizer:
    """The offline diarizer (weights from installed packages only), one instance per process.

    ``step`` overrides the segmentation window step (fraction of the 10 s
    window); the default is the measured best trade-off.
    """
    from callqa.diarization.offline import OfflineConfig, OfflineDiarizer

    config = OfflineConfig() if step is None else OfflineConfig(step=step)
    key = ("offline", config)
    with _LOCK:
        if key not in _DEFAULT:
            _DEFAULT[key] = OfflineDiarizer(config)
        return _DEFAULT[key]


def load_pipeline_dir(path: str | os.PathLike[str]) -> MonoDiarizer:
    """A pyannote.audio pipeline from a local directory (see :mod:`callqa.diarization.pyannote_dir`)."""
    from callqa.diarization.pyannote_dir import load_pipeline_dir as _load

    return _load(Path(path))


def diarizer_from_setting(pipeline_dir: str | os.PathLike[str] | None) -> MonoDiarizer:
    """``CALLQA_DIARIZATION_PIPELINE`` / ``--diarization``: a directory, or None/"" for the offline default."""
    if diarization_disabled(pipeline_dir):
        raise DiarizationConfigError(f"diarization is switched off ({pipeline_dir!r})")
    if _is_offline(pipeline_dir):
        return default_diarizer()
    return load_pipeline_dir(pipeline_dir)


_OFFLINE_WORDS = ("", "default", "offline")
_DISABLED_WORDS = ("none", "off", "no")


def _is_offline(setting: str | os.PathLike[str] | None) -> bool:
    return setting is None or str(setting).strip().lower() in _OFFLINE_WORDS


def diarization_disabled(setting: str | os.PathLike[str] | None) -> bool:
    """``CALLQA_DIARIZATION_PIPELINE=none``: mono calls keep one speaker whose role is unknown."""
    return setting is not None and str(setting).strip().lower() in _DISABLED_WORDS


def diarizer_name_for_setting(setting: str | os.PathLike[str] | None) -> str:
    """The name the diarizer of ``setting`` will have, without loading any model (for settings keys)."""
    if diarization_disabled(setting):
        return "none"
    if _is_offline(setting):
        from callqa.diarization.offline import OFFLINE_NAME

        return OFFLINE_NAME
    return f"pyannote-dir:{Path(setting)}"


def overlaps(annotation: "Annotation") -> "Timeline":
    """Regions where two or more speakers talk at once."""
    return annotation.get_overlap()
