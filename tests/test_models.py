"""Which recogniser model is used, and what the user is told when there is none."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from callqa.asr import BASE_MODEL_BIN_SIZE, packaged_base, packaged_tiny_en, resolve_model
from callqa.errors import ModelNotFoundError
from callqa.settings import Settings


def test_english_default_is_packaged_tiny_en(tmp_path):
    spec = resolve_model(None, "en", tmp_path)
    assert spec.label == "tiny.en" and spec.english_only and spec.origin == "packaged"
    assert spec.source == str(packaged_tiny_en())


@pytest.mark.parametrize("language", ["ru", "pl", "auto"])
def test_other_languages_use_packaged_multilingual_base(tmp_path, language):
    spec = resolve_model(None, language, tmp_path)
    assert spec.label == "base" and not spec.english_only
    joined = tmp_path / "models" / "whisper-base" / "model.bin"
    assert joined.stat().st_size == BASE_MODEL_BIN_SIZE
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= set(os.listdir(joined.parent))


def test_joined_base_is_reused_and_repaired(tmp_path):
    first = packaged_base(tmp_path)
    model_bin = first / "model.bin"
    mtime = model_bin.stat().st_mtime_ns
    assert packaged_base(tmp_path) == first and model_bin.stat().st_mtime_ns == mtime  # reused, not rejoined
    with model_bin.open("r+b") as fh:  # a damaged cache (e.g. disk full during an earlier join)
        fh.truncate(1000)
    assert packaged_base(tmp_path) == first
    assert model_bin.stat().st_size == BASE_MODEL_BIN_SIZE
    assert json.loads((first / ".joined.json").read_text())["sha256"].startswith("d01c3014")


def test_explicit_directory_wins_over_env_and_default(tmp_path, monkeypatch):
    model_dir = tmp_path / "my-model"
    shutil.copytree(packaged_tiny_en(), model_dir)
    monkeypatch.setenv("CALLQA_ASR_MODEL", "/somewhere/else")
    settings = Settings.from_env(model=str(model_dir))
    spec = resolve_model(settings.model, "en", tmp_path)
    assert spec.source == str(model_dir) and spec.english_only


def test_env_variable_is_used_when_no_option(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLQA_ASR_MODEL", str(packaged_tiny_en()))
    assert Settings.from_env().model == str(packaged_tiny_en())


@pytest.mark.parametrize(
    "model, language, message",
    [
        ("not-a-model-name", "en", "pass --model /path/to/ctranslate2-model or one of: tiny.en"),
        ("{empty_dir}", "en", "is not a CTranslate2 Whisper model directory (missing model.bin, config.json)"),
        ("{tiny}", "ru", "English-only but language is 'ru'"),
        ("tiny.en", "pl", "English-only"),
    ],
)
def test_unusable_model_says_what_to_pass(tmp_path, model, language, message):
    empty = tmp_path / "empty"
    empty.mkdir()
    model = model.format(empty_dir=empty, tiny=packaged_tiny_en())
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(model, language, tmp_path)
    assert message in str(info.value)
    assert "--model" in str(info.value) or "--language" in str(info.value)
