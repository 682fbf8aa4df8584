"""Rule packs: the YAML a QA analyst writes, validated and compiled once.

A pack file::

    id: default                      # letters, digits, - _ .
    version: "1.0"
    languages: [en]                  # the first one decides tokenisation and lemmas
    description: ...
    pass_mark: 80                    # 0-100; a call passes with score >= pass_mark and no failed critical rule
    vars: {company: Northwind Bank}  # {company} in any phrase
    phrases:                         # named phrase lists, used in rules as "@greeting"
      greeting: ["thank you for calling {company}", ...]
    defaults: {threshold: 85, speaker: agent}
    metrics: {min_silence_s: 2.0, min_overlap_s: 0.2}
    language_packs: {ru: ru.yaml}    # calls in these languages are scored with that pack instead
    sections:
      - {id: opening, title: Opening, weight: 20}
    rules:
      - id: greeting
        title: Greets with the company name in the first 15 s
        section: opening
        kind: phrase.v1              # see callqa.rules.RULE_KINDS / docs/rules.md
        points: 10
        critical: false
        ...                          # the kind's parameters

Every problem is reported at once as :class:`~callqa.errors.RulePackError`
with the file, the rule id and the field path (``window.first_s``), and the
message says what is allowed. Unknown keys are errors everywhere (YAML keys
given twice too), so a typo never silently disables a check.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator

from callqa.errors import ConfigError, RulePackError
from callqa.rules.base import CALL_VARS, RULE_KINDS, PackEnv, PackProblem, Rule, RuleHeader, Strict
from callqa.rules.phrases import Speaker, fill_vars, threshold_in_range

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
Problem = tuple[str | None, str, str]


# ---------------------------------------------------------------------------- schema


class SectionSpec(Strict):
    id: str
    title: str = ""
    weight: float | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"{v!r} is not a valid id; use letters, digits, '-', '_' and '.'")
        return v

    @field_validator("weight")
    @classmethod
    def _weight(cls, v: float | None) -> float | None:
        if v is not None and not (0 < v <= 1000):
            raise ValueError(f"{v:g} is out of range; allowed more than 0 and at most 1000")
        return v


class Defaults(Strict):
    threshold: float | None = None
    speaker: Speaker | None = None

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, v: float | None) -> float | None:
        return threshold_in_range(v)


class MetricsOptions(Strict):
    min_silence_s: float = 2.0
    min_overlap_s: float = 0.2

    @field_validator("min_silence_s", "min_overlap_s")
    @classmethod
    def _positive(cls, v: float) -> float:
        if not (0 < v <= 600):
            raise ValueError(f"{v:g} is out of range; allowed more than 0 and at most 600 seconds")
        return v


class PackSpec(Strict):
    id: str
    version: str
    languages: list[str] = Field(min_length=1)
    description: str = ""
    pass_mark: float = 80.0
    vars: dict[str, str] = Field(default_factory=dict)
    phrases: dict[str, list[str]] = Field(default_factory=dict)
    defaults: Defaults = Field(default_factory=Defaults)
    metrics: MetricsOptions = Field(default_factory=MetricsOptions)
    language_packs: dict[str, str] = Field(default_factory=dict)
    sections: list[SectionSpec] = Field(min_length=1)
    rules: list[dict[str, Any]] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"{v!r} is not a valid pack id; use letters, digits, '-', '_' and '.'")
        return v

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @field_validator("languages")
    @classmethod
    def _languages(cls, v: list[str]) -> list[str]:
        for lang in v:
            if not re.match(r"^[a-z]{2,3}$", lang):
                raise ValueError(f"{lang!r} is not a language code; use ISO 639-1 like en, ru, pl")
        return v

    @field_validator("pass_mark")
    @classmethod
    def _pass_mark(cls, v: float) -> float:
        if not (0 <= v <= 100):
            raise ValueError(f"{v:g} is out of range; allowed 0-100 (percent score)")
        return v

    @field_validator("vars", "phrases")
    @classmethod
    def _names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if not _NAME.match(str(name)):
                raise ValueError(f"{name!r} is not a valid name; use lower case letters, digits and '_'")
            if name in CALL_VARS:
                raise ValueError(f"{name!r} is filled from each call's metadata; choose another name")
        return v


class RuleCommon(Strict):
    id: str
    title: str
    section: str
    kind: str
    points: float = 1.0
    critical: bool = False
    description: str = ""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"{v!r} is not a valid rule id; use letters, digits, '-', '_' and '.'")
        return v

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a rule needs a title a coach can read")
        return v

    @field_validator("points")
    @classmethod
    def _points(cls, v: float) -> float:
        if not (0 <= v <= 1000):
            raise ValueError(f"{v:g} is out of range; allowed 0-1000")
        return v


COMMON_FIELDS = tuple(RuleCommon.model_fields)


# ---------------------------------------------------------------------------- loaded pack


@dataclass
class RulePack:
    """A validated, compiled pack: what the scorer runs."""

    path: Path
    spec: PackSpec
    file_sha256: str
    rules: list[Rule]
    env: PackEnv
    alternates: dict[str, "RulePack"] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def languages(self) -> list[str]:
        return self.spec.languages

    @property
    def pass_mark(self) -> float:
        return self.spec.pass_mark

    @property
    def sections(self) -> list[SectionSpec]:
        return self.spec.sections

    @property
    def notes(self) -> list[str]:
        return self.env.notes

    @property
    def sha256(self) -> str:
        """sha256 of the pack file; with ``language_packs``, of the file and every pack it delegates to."""
        if not self.alternates:
            return self.file_sha256
        h = hashlib.sha256(self.file_sha256.encode())
        for lang in sorted(self.alternates):
            h.update(f"\n{lang}:{self.alternates[lang].file_sha256}".encode())
        return h.hexdigest()

    def for_language(self, language: str | None) -> "RulePack":
        """The pack that scores a call in ``language``: a delegate from ``language_packs``, else this one."""
        if language and language not in self.languages and language in self.alternates:
            return self.alternates[language]
        return self

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def phrase_list(self, name: str) -> list[str]:
        """A named phrase list with the pack's ``{vars}`` filled (call variables left out)."""
        out = []
        for item in self.spec.phrases.get(name, []):
            text, needs = fill_vars(item, self.env, f"phrases.{name}")
            if not needs:
                out.append(text)
        return out


# ---------------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice (a silent override hides a typo)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice in the same mapping", mark)
        seen[key] = True
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, path: str | Path) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = exc.problem or exc.context or "invalid YAML"
        raise RulePackError(path, [(None, "", f"YAML syntax error at {where}: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise RulePackError(path, [(None, "", f"YAML error: {str(exc).splitlines()[0]}")]) from None


def load_pack(path: str | Path, *, _delegate: bool = False) -> RulePack:
    """Read, validate and compile a pack file; every problem at once in a :class:`RulePackError`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RulePackError(path, [(None, "", f"cannot read the pack ({exc.strerror or exc})")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulePackError(path, [(None, "", f"not UTF-8 text (byte {exc.start})")]) from None
    pack = pack_from_text(text, path, sha256=hashlib.sha256(raw).hexdigest(), _delegate=_delegate)
    return pack


def pack_from_text(text: str, path: str | Path = "<pack>", *, sha256: str | None = None, _delegate: bool = False) -> RulePack:
    data = parse_yaml(text, path)
    if not isinstance(data, dict):
        raise RulePackError(path, [(None, "", "a pack is a mapping with id, version, languages, sections and rules")])
    problems: list[Problem] = []
    try:
        spec = PackSpec.model_validate(data)
    except ValidationError as exc:
        problems.extend((_rule_of(data, e["loc"]), *_field_and_message(e)) for e in exc.errors())
        raise RulePackError(path, problems) from None
    if _delegate and spec.language_packs:
        problems.append((None, "language_packs", "only the main pack may delegate to language packs"))

    env = PackEnv(language=spec.languages[0], vars=dict(spec.vars),
                  phrase_lists={k: list(v) for k, v in spec.phrases.items()},
                  threshold=spec.defaults.threshold or 85.0, speaker=spec.defaults.speaker or "agent")
    for name, items in spec.phrases.items():
        if not items:
            problems.append((None, f"phrases.{name}", "an empty phrase list; give at least one phrase"))
        for k, item in enumerate(items):
            try:
                fill_vars(item, env, f"phrases.{name}[{k}]")
            except PackProblem as p:
                problems.append((None, p.field, p.message))

    section_ids = [s.id for s in spec.sections]
    for i, s in enumerate(spec.sections):
        if section_ids.count(s.id) > 1 and section_ids.index(s.id) != i:
            problems.append((None, f"sections[{i}].id", f"section {s.id!r} is defined twice"))

    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw_rule in enumerate(spec.rules):
        label = str(raw_rule.get("id")) if isinstance(raw_rule.get("id"), str) else f"#{i + 1}"
        rule, rule_problems = _build_rule(raw_rule, env, section_ids)
        problems.extend((label, f, m) for f, m in rule_problems)
        if not label.startswith("#"):
            if label in seen:
                problems.append((label, "id", f"rule id {label!r} is used twice; ids must be unique"))
            seen.add(label)
        if rule is not None:
            rules.append(rule)

    alternates: dict[str, RulePack] = {}
    base_dir = Path(path).parent
    for lang, rel in spec.language_packs.items():
        if lang in spec.languages:
            problems.append((None, f"language_packs.{lang}", f"{lang!r} is already one of this pack's languages"))
            continue
        target = (base_dir / rel) if not Path(rel).is_absolute() else Path(rel)
        if not target.is_file():
            problems.append((None, f"language_packs.{lang}", f"no such pack file: {target}"))
            continue
        try:
            alt = load_pack(target, _delegate=True)
        except RulePackError as exc:
            problems.extend((r, f, f"in {exc.path}: {m}") for r, f, m in exc.problems)
            continue
        if lang not in alt.languages:
            problems.append((None, f"language_packs.{lang}", f"{target} is for {', '.join(alt.languages)}, not {lang!r}"))
        alternates[lang] = alt

    if problems:
        raise RulePackError(path, problems)
    digest = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    return RulePack(path=Path(path), spec=spec, file_sha256=digest, rules=rules, env=env, alternates=alternates)


def _build_rule(raw: dict[str, Any], env: PackEnv, section_ids: list[str]) -> tuple[Rule | None, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    if not isinstance(raw, dict):
        return None, [("", "a rule is a mapping with id, title, section, kind and the kind's parameters")]
    common = {k: v for k, v in raw.items() if k in COMMON_FIELDS}
    params = {k: v for k, v in raw.items() if k not in COMMON_FIELDS}
    header: RuleCommon | None = None
    try:
        header = RuleCommon.model_validate(common)
    except ValidationError as exc:
        problems.extend(_field_and_message(e) for e in exc.errors())
    kind_cls = None
    kind = raw.get("kind")
    if isinstance(kind, str):
        try:
            kind_cls = RULE_KINDS.get(kind)
        except ConfigError as exc:
            problems.append(("kind", str(exc)))
    if header is not None and header.section not in section_ids:
        close = difflib.get_close_matches(header.section, section_ids, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(("section", f"unknown section {header.section!r}{hint}; sections: {', '.join(section_ids)}"))
    if kind_cls is None:
        return None, problems
    allowed = [f.alias or n for n, f in kind_cls.Params.model_fields.items()]
    for key in params:
        close = difflib.get_close_matches(str(key), allowed + list(COMMON_FIELDS), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if key not in allowed:
            problems.append((str(key), f"unknown field{hint}; allowed for {kind}: "
                                       f"{', '.join(list(COMMON_FIELDS) + allowed)}"))
    if any(k not in allowed for k in params):
        return None, problems
    try:
        p = kind_cls.Params.model_validate(params)
    except ValidationError as exc:
        problems.extend(_field_and_message(e) for e in exc.errors())
        return None, problems
    if header is None or problems:
        return None, problems
    try:
        rule = kind_cls(RuleHeader(header.id, header.title, header.section, kind, header.points, header.critical,
                                   header.description), p, env)
    except PackProblem as exc:
        return None, [(exc.field, exc.message)]
    return rule, []


def _rule_of(data: dict[str, Any], loc: tuple[Any, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules") or []
        if loc[1] < len(rules) and isinstance(rules[loc[1]], dict) and isinstance(rules[loc[1]].get("id"), str):
            return rules[loc[1]]["id"]
        return f"#{loc[1] + 1}"
    return None


def _field_and_message(err: dict[str, Any]) -> tuple[str, str]:
    loc = [x for x in err["loc"] if not (isinstance(x, str) and (x.startswith("cond:") or x.startswith("function-")))]
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        loc = loc[2:]
    msg = err["msg"]
    etype = err["type"]
    ctx = err.get("ctx") or {}
    if etype == "unknown_field":
        loc = [*loc, ctx.get("field", "?")]
        msg = f"unknown field{ctx.get('hint', '')}; allowed: {ctx.get('allowed', '')}"
    elif etype == "missing":
        msg = "required field is missing"
    elif etype == "extra_forbidden":
        msg = "unknown field"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    elif etype in ("float_parsing", "int_parsing", "bool_parsing", "string_type", "list_type", "dict_type",
                   "float_type", "int_type", "bool_type", "model_type"):
        msg = f"{msg} (got {_short(err.get('input'))})"
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path, msg


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def greeting_phrases(pack: RulePack | str | Path, language: str | None = None) -> list[str]:
    """The pack's opening-script phrases (``phrases.greeting``), ``{vars}`` filled, for role detection.

    ``language`` picks a delegate pack from ``language_packs`` when the main
    pack is not for that language. Phrases that need per-call metadata
    (``{agent_first_name}``) are left out.
    """
    if not isinstance(pack, RulePack):
        pack = load_pack(pack)
    return pack.for_language(language).phrase_list("greeting")


__all__ = ["PackSpec", "RulePack", "RuleCommon", "SectionSpec", "greeting_phrases", "load_pack", "pack_from_text",
           "parse_yaml"]
