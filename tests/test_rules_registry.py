"""The versioned plug-in registry shared by rule kinds and sensitive-data detectors."""

from __future__ import annotations

import pytest

from callqa.errors import ConfigError
from callqa.registry import Registry


def test_register_and_get():
    reg: Registry[str] = Registry("thing")
    reg.register("phrase.v1")("one")
    reg.add("phrase.v2", "two")
    assert reg.get("phrase.v1") == "one"
    assert reg.names() == ["phrase.v1", "phrase.v2"]
    assert reg.latest("phrase") == "phrase.v2"
    assert "phrase.v1" in reg and len(reg) == 2


def test_duplicates_are_rejected_and_the_old_version_keeps_its_meaning():
    reg: Registry[str] = Registry("thing")
    reg.add("phrase.v1", "one")
    with pytest.raises(ValueError, match="already registered.*'phrase.v2'"):
        reg.add("phrase.v1", "changed")
    assert reg.get("phrase.v1") == "one"


@pytest.mark.parametrize("name", ["phrase", "Phrase.v1", "phrase.v0", "phrase-v1", "", "phrase.v1.x"])
def test_names_must_be_versioned(name):
    with pytest.raises(ValueError, match="family.v1"):
        Registry("thing").register(name)


@pytest.mark.parametrize("asked, hint", [("phrase", "did you mean 'phrase.v1'"), ("phrse.v1", "did you mean 'phrase.v1'"),
                                         ("zzz.v9", "known: metric.v1, phrase.v1")])
def test_unknown_name_lists_known_ones(asked, hint):
    reg: Registry[str] = Registry("rule kind")
    reg.add("phrase.v1", "p")
    reg.add("metric.v1", "m")
    with pytest.raises(ConfigError, match=f"unknown rule kind '{asked}'") as err:
        reg.get(asked)
    assert hint in str(err.value)
    assert "known: metric.v1, phrase.v1" in str(err.value)
