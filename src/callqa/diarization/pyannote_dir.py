"""A full pyannote.audio pipeline from a local directory, loaded offline with pyannote's own API.

The directory has the layout of pyannote's published pipelines
(``speaker-diarization-community-1`` and the like)::

    my-pipeline/
    ├── config.yaml              pipeline: {name: pyannote.audio.pipelines.SpeakerDiarization,
    │                            params: {segmentation: $model/segmentation, embedding: $model/embedding,
    │                            plda: $model/plda, clustering: VBxClustering, ...}}, params: {...}
    ├── segmentation/pytorch_model.bin
    ├── embedding/pytorch_model.bin
    └── plda/xvec_transform.npz, plda/plda.npz

``$model/<folder>`` entries resolve inside the directory
(``Pipeline.from_pretrained(directory)`` does that); absolute or relative
paths to local files work too. Anything that names a model hub repository
instead is refused up front, because these machines never download weights
(``HF_HUB_OFFLINE=1`` is set before pyannote is imported).

Use it with ``CALLQA_DIARIZATION_PIPELINE=/path`` or ``--diarization /path``.
A directory that cannot be used raises
:class:`~callqa.errors.DiarizationConfigError` naming the path and what is
missing or wrong.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from callqa.errors import DiarizationConfigError

log = logging.getLogger("callqa.diarization")

CONFIG = "config.yaml"
MODEL_FILE = "pytorch_model.bin"
PLDA_FILES = ("xvec_transform.npz", "plda.npz")
#: config keys whose value is a PLDA folder (the rest of the model references are checkpoints)
PLDA_KEYS = frozenset({"plda"})
MODEL_KEYS = frozenset({"segmentation", "embedding"})

_CACHE: dict[tuple[str, float], "PyannoteDirDiarizer"] = {}
_LOCK = threading.Lock()


def _fail(path: Path, reason: str) -> DiarizationConfigError:
    return DiarizationConfigError(f"{path}: {reason}")


def _check_reference(root: Path, key: str, value: Any) -> None:
    """One model/PLDA reference of the pipeline's params: a ``$model/...`` folder or a local path."""
    if isinstance(value, dict):  # {"checkpoint": ..., "subfolder": ...}
        checkpoint = value.get("checkpoint")
        if checkpoint is None:
            raise _fail(root / CONFIG, f"pipeline param {key!r} has no 'checkpoint'")
        base = Path(str(checkpoint))
        base = base if base.is_absolute() else root / base
        target = base / value["subfolder"] if value.get("subfolder") else base
    elif isinstance(value, str):
        if value.startswith("$model/"):
            target = root / value[len("$model/"):].split("@")[0]
        else:
            target = Path(value)
            target = target if target.is_absolute() else root / target
            if not target.exists():
                raise _fail(
                    root / CONFIG,
                    f"pipeline param {key!r} = {value!r} is neither a '$model/<folder>' entry nor a local path"
                    " (model hub names cannot be used offline)",
                )
    else:
        raise _fail(root / CONFIG, f"pipeline param {key!r} must be a '$model/<folder>' entry or a path")

    if key in PLDA_KEYS:
        folder = target if target.is_dir() else target.parent
        missing = [name for name in PLDA_FILES if not (folder / name).is_file()]
        if missing:
            raise _fail(folder, f"PLDA for {key!r} is missing {', '.join(missing)}")
    else:
        checkpoint = target / MODEL_FILE if target.is_dir() else target
        if not checkpoint.is_file():
            raise _fail(checkpoint, f"{key} checkpoint is missing")


def validate_pipeline_dir(path: Path) -> dict[str, Any]:
    """Check the layout before pyannote sees it; return the parsed config."""
    import yaml

    if not path.exists():
        raise _fail(path, "diarization pipeline directory does not exist")
    if not path.is_dir():
        raise _fail(path, "diarization pipeline must be a directory (with config.yaml and model folders)")
    config_path = path / CONFIG
    if not config_path.is_file():
        raise _fail(path, f"no {CONFIG} in the diarization pipeline directory")
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _fail(config_path, f"not valid YAML ({type(exc).__name__})") from None
    if not isinstance(config, dict) or not isinstance(config.get("pipeline"), dict):
        raise _fail(config_path, "no 'pipeline' section (expected pipeline: {name: ..., params: {...}})")
    name = config["pipeline"].get("name")
    if not isinstance(name, str) or not name:
        raise _fail(config_path, "'pipeline.name' is missing (e.g. pyannote.audio.pipelines.SpeakerDiarization)")
    params = config["pipeline"].get("params") or {}
    if not isinstance(params, dict):
        raise _fail(config_path, "'pipeline.params' must be a mapping")
    for key in sorted(MODEL_KEYS | PLDA_KEYS):
        if key in params:
            _check_reference(path, key, params[key])
        elif name.endswith("SpeakerDiarization"):
            raise _fail(config_path, f"'pipeline.params.{key}' is missing (pyannote's default is a model hub name)")
    return config


class PyannoteDirDiarizer:
    """A loaded pyannote pipeline behind the :class:`~callqa.diarization.MonoDiarizer` call shape."""

    def __init__(self, path: Path, pipeline: Any) -> None:
        self.path = path
        self.name = f"pyannote-dir:{path}"
        self._pipeline = pipeline
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PyannoteDirDiarizer({str(self.path)!r})"

    def __call__(
        self,
        waveform: np.ndarray,
        sample_rate: int,
        *,
        num_speakers: int | None = 2,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> Any:
        import torch
        from pyannote.core import Annotation, Segment

        from callqa.diarization.offline import SAMPLE_RATE, _rename_by_first_turn, _speaker_bounds, to_16k

        _speaker_bounds(num_speakers, min_speakers, max_speakers)  # validates
        audio = to_16k(waveform, sample_rate)
        if audio.size < SAMPLE_RATE // 10:
            return Annotation()
        kwargs: dict[str, int] = {}
        if num_speakers is not None:
            kwargs["num_speakers"] = int(num_speakers)
        else:
            if min_speakers is not None:
                kwargs["min_speakers"] = int(min_speakers)
            if max_speakers is not None:
                kwargs["max_speakers"] = int(max_speakers)
        with self._lock, torch.inference_mode():
            output = self._pipeline({"waveform": torch.from_numpy(audio)[None], "sample_rate": SAMPLE_RATE}, **kwargs)
        annotation = getattr(output, "speaker_diarization", output)
        if not isinstance(annotation, Annotation):
            raise DiarizationConfigError(
                f"{self.path}: pipeline returned {type(output).__name__}, not a speaker diarization"
            )
        # pyannote pads the last window: nothing may end after the audio does
        annotation = annotation.crop(Segment(0.0, audio.size / SAMPLE_RATE), mode="intersection")
        return _rename_by_first_turn(annotation)


def load_pipeline_dir(path: Path) -> PyannoteDirDiarizer:
    """Validate and load a pipeline directory (cached per process and config.yaml version)."""
    path = Path(path).expanduser()
    validate_pipeline_dir(path)
    key = (str(path.resolve()), (path / CONFIG).stat().st_mtime)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        from callqa.diarization import _pyannote_env

        _pyannote_env()
        from pyannote.audio import Pipeline

        try:
            pipeline = Pipeline.from_pretrained(str(path))
        except Exception as exc:  # pyannote raises many kinds; the user needs the path and the reason
            reason = " ".join(str(exc).split())[:300]
            raise _fail(path, f"pyannote could not load the pipeline: {type(exc).__name__}: {reason}") from exc
        if pipeline is None:
            raise _fail(path, "pyannote could not load the pipeline (from_pretrained returned nothing)")
        if hasattr(pipeline, "legacy"):
            pipeline.legacy = False
        log.info("loaded pyannote pipeline %s from %s", type(pipeline).__name__, path)
        diarizer = PyannoteDirDiarizer(path, pipeline)
        _CACHE[key] = diarizer
        return diarizer
