"""Rule packs: validation errors name file, rule and field; `callqa rules check/list`; the shipped packs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from callqa.cli import app
from callqa.errors import RulePackError
from callqa.rules import RULE_KINDS, greeting_phrases, load_pack

from rules_helpers import pack_text

REPO = Path(__file__).resolve().parents[1]
PACKS = sorted((REPO / "qa_rules").glob("*.yaml"))
runner = CliRunner()


def write(tmp_path: Path, rules: list[dict], name: str = "pack.yaml", **top) -> Path:
    path = tmp_path / name
    path.write_text(pack_text(rules, **top), encoding="utf-8")
    return path


BAD_RULES = [
    # (rule, field in the message, words the message must contain)
    ({"id": "greet", "kind": "phrase.v1", "phrases": ["hello"], "treshold": 90},
     "treshold", ["unknown field (did you mean 'threshold'?)", "allowed for phrase.v1"]),
    ({"id": "greet", "kind": "phrase.v1", "phrases": ["hello"], "threshold": 150},
     "threshold", ["150 is out of range; allowed 1-100"]),
    ({"id": "greet", "kind": "phrase", "phrases": ["hello"]},
     "kind", ["unknown rule kind 'phrase' (did you mean 'phrase.v1'?)", "known: all.v1, any.v1"]),
    ({"id": "greet", "kind": "phrase.v2", "phrases": ["hello"]},
     "kind", ["unknown rule kind 'phrase.v2'", "privacy.v1"]),
    ({"id": "greet", "kind": "phrase.v1", "phrases": ["hello"], "window": {"first_s": 15, "last_s": 3}},
     "window", ["give exactly one of first_s, last_s"]),
    ({"id": "greet", "kind": "phrase.v1", "phrases": ["hello"], "window": {"first_pct": 120}},
     "window", ["first_pct 120 is out of range; allowed 0-100"]),
    ({"id": "greet", "kind": "phrase.v1", "phrases": ["hello"], "speaker": "agnet"},
     "speaker", ["'agent', 'customer' or 'any'"]),
    ({"id": "greet", "kind": "phrase.v1"}, "", ["give at least one of 'phrases' or 'patterns'"]),
    ({"id": "greet", "kind": "phrase.v1", "phrases": ["@gretings"]}, "phrases[0]", ["unknown phrase list '@gretings'"]),
    ({"id": "greet", "kind": "phrase.v1", "phrases": ["welcome to {compnay}"]},
     "phrases[0]", ["unknown variable {compnay}", "{agent_first_name}"]),
    ({"id": "greet", "kind": "phrase.v1", "patterns": [[{"LOWR": "hi"}]]},
     "patterns[0]", ["invalid spaCy Matcher pattern: token 0: LOWR: unknown token attribute"]),
    ({"id": "greet", "kind": "all.v1", "of": [{"phrases": ["hi"]}, {"any": [{"phrases": ["x"], "threshold": 0}]}]},
     "of[1].any[0].threshold", ["0 is out of range; allowed 1-100"]),
    ({"id": "greet", "kind": "near.v1", "a": "pay", "b": "bill", "within_words": 500},
     "within_words", ["500 is out of range; allowed 0-200 words"]),
    ({"id": "talk", "kind": "metric.v1", "metric": "agent_talk_ratio", "max": 80},
     "", ["max 80 is out of range for agent_talk_ratio; allowed 0-1"]),
    ({"id": "talk", "kind": "metric.v1", "metric": "talk_ratio", "max": 0.8},
     "metric", ["unknown metric 'talk_ratio'", "agent_talk_ratio"]),
    ({"id": "hold", "kind": "conditional.v1", "trigger": {"hold": {"min_s": 5}, "phrase": "x"}, "expect": "y"},
     "trigger", ["give exactly one trigger"]),
    ({"id": "hold", "kind": "conditional.v1", "trigger": {"hold": {}}, "expect": {"phrases": ["y"], "window": {"first_s": 5}}},
     "expect.window", ["not used by conditional rules"]),
    ({"id": "card", "kind": "privacy.v1", "entities": ["card_number"]}, "entities", ["not an entity name"]),
    ({"id": "greet", "kind": "phrase.v1", "phrases": ["hi"], "section": "opneing"},
     "section", ["unknown section 'opneing'", "sections: main"]),
    ({"id": "greet", "kind": "phrase.v1", "phrases": ["hi"], "critcal": True},
     "critcal", ["did you mean 'critical'?"]),
]


@pytest.mark.parametrize("rule, field, words", BAD_RULES, ids=[f"{r['id']}-{f or 'rule'}-{i}" for i, (r, f, _) in enumerate(BAD_RULES)])
def test_rules_check_names_file_rule_and_field(tmp_path, rule, field, words):
    path = write(tmp_path, [{"kind": "phrase.v1", "phrases": ["fine"]}, rule])
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2, result.output
    prefix = f"{path}: rule {rule['id']}: " + (f"{field}: " if field else "")
    lines = [line for line in result.output.splitlines() if prefix in line]
    assert lines, result.output
    for w in words:
        assert any(w in line for line in lines), (w, result.output)


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, [{"id": "a", "kind": "phrase.v1", "phrases": ["x"], "threshold": 150},
                            {"id": "b", "kind": "nope.v1"}, {"id": "a", "kind": "phrase.v1", "phrases": ["y"]}])
    with pytest.raises(RulePackError) as err:
        load_pack(path)
    problems = err.value.problems
    assert ("a", "threshold") in {(r, f) for r, f, _ in problems}
    assert ("b", "kind") in {(r, f) for r, f, _ in problems}
    assert any(f == "id" and "used twice" in m for _, f, m in problems)


@pytest.mark.parametrize("text, where", [
    ("id: x\nrules: [a\n  b: c\n", "line 3, column 4"),
    ("id: x\nversion: 1\nid: y\n", "line 3, column 1"),   # a key given twice
    ("id: x\n  version: 1\n", "line 2, column 10"),
])
def test_yaml_errors_give_line_and_column(tmp_path, text, where):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: rule -: YAML syntax error at {where}" in result.output.replace("\n", " ") or \
        f"{path}: rule -: YAML syntax error at {where}" in result.output, result.output


@pytest.mark.parametrize("top, field, words", [
    ({"pass_mark": 120}, "pass_mark", "120 is out of range; allowed 0-100"),
    ({"languages": ["english"]}, "languages", "not a language code"),
    ({"sections": [{"id": "main", "title": "Main", "weight": -1}]}, "sections[0].weight", "out of range"),
    ({"defaults": {"threshold": 101}}, "defaults.threshold", "allowed 1-100"),
    ({"vars": {"agent_name": "x"}}, "vars", "filled from each call's metadata"),
    ({"language_packs": {"ru": "missing.yaml"}}, "language_packs.ru", "no such pack file"),
    ({"scoring": {}}, "scoring", "unknown field"),
])
def test_pack_level_errors(tmp_path, top, field, words):
    path = write(tmp_path, [{"kind": "phrase.v1", "phrases": ["x"]}], **top)
    with pytest.raises(RulePackError) as err:
        load_pack(path)
    assert any(f == field and words in m for _, f, m in err.value.problems), err.value.problems
    assert str(path) in str(err.value)


def test_rules_check_ok_and_list(tmp_path):
    path = write(tmp_path, [{"id": "greet", "title": "Greets the caller", "kind": "phrase.v1", "phrases": ["hello"], "points": 5},
                            {"id": "card", "title": "No card read-back", "kind": "privacy.v1", "critical": True,
                             "entities": ["CARD_NUMBER"]}])
    result = runner.invoke(app, ["rules", "check", str(path)])
    assert result.exit_code == 0 and "ok: " in result.output and "2 rules in 1 sections" in result.output
    result = runner.invoke(app, ["rules", "list", str(path)])
    assert result.exit_code == 0, result.output
    assert "greet  main  phrase.v1  5 pts" in result.output and "Greets the caller" in result.output
    assert "card  main  privacy.v1  1 pts  CRITICAL" in result.output


@pytest.mark.parametrize("pack", PACKS, ids=[p.name for p in PACKS])
def test_shipped_packs_validate(pack):
    result = runner.invoke(app, ["rules", "check", str(pack)])
    assert result.exit_code == 0, result.output
    loaded = load_pack(pack)
    assert {r.header.kind for r in loaded.rules} <= set(RULE_KINDS)
    # every rule has a comment above it in the YAML, for the analyst who edits it
    lines = pack.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("- id: ") and line.startswith("  - id:"):
            assert lines[i - 1].strip().startswith("#"), f"{pack.name}: rule at line {i + 1} has no comment"


def test_shipped_packs_have_the_same_rules_in_every_language():
    default = load_pack(REPO / "qa_rules" / "default.yaml")
    ids = [r.id for r in default.rules]
    assert set(default.alternates) == {"ru", "pl"}
    for lang, pack in default.alternates.items():
        assert [r.id for r in pack.rules] == ids, lang
        assert [(r.header.kind, r.header.critical) for r in pack.rules] == [(r.header.kind, r.header.critical) for r in default.rules]
    assert default.for_language("ru").id == "default-ru" and default.for_language("en") is default
    assert default.for_language("de") is default


def test_greeting_phrases_for_role_detection():
    phrases = greeting_phrases(REPO / "qa_rules" / "default.yaml")
    assert "thank you for calling Northwind Bank" in phrases and "my name is" in phrases
    assert not any("{" in p for p in phrases)
    ru = greeting_phrases(REPO / "qa_rules" / "default.yaml", language="ru")
    assert "меня зовут" in ru


def test_pack_sha_changes_with_the_file_and_its_language_packs(tmp_path):
    (tmp_path / "ru.yaml").write_text(pack_text([{"kind": "phrase.v1", "phrases": ["привет"]}], language="ru", id="t-ru"))
    main = write(tmp_path, [{"kind": "phrase.v1", "phrases": ["hello"]}], language_packs={"ru": "ru.yaml"})
    first = load_pack(main).sha256
    (tmp_path / "ru.yaml").write_text(pack_text([{"kind": "phrase.v1", "phrases": ["здравствуйте"]}], language="ru", id="t-ru"))
    assert load_pack(main).sha256 != first
    data = yaml.safe_load(main.read_text())
    assert load_pack(main).file_sha256 == __import__("hashlib").sha256(main.read_bytes()).hexdigest()
    assert data["id"] == "test"
