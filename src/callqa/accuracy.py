"""How accurate the pipeline is on a labelled evaluation set (``callqa eval``).

A dataset is a folder of recordings, each with ``<name>.labels.json`` next to
it (format ``callqa-eval-labels/1``, documented in docs/eval.md): the
reference transcript with speaker roles and times, the intended outcome of
every rule, the sensitive values said (entity type and time), look-alikes
that must not be flagged, and expected conversation metrics.

:func:`run_eval` puts every recording through the real pipeline
(:class:`~callqa.pipeline.Pipeline` ``.process``: decode, recognise, speakers,
roles, sensitive-data detection and redaction) and the real scorer
(:class:`~callqa.scoring.Scorer`), in memory (nothing is stored), and
measures, per call and pooled:

* **WER** (jiwer) on normalised text (:func:`normalise_for_wer`), each stereo
  channel against its own party's turns;
* **DER** (pyannote.metrics ``DiarizationErrorRate``, overlap scored) of the
  mono diarizer's output against the reference turns, with a collar
  (default 0.5 s in pyannote's convention: 0.25 s either side of every
  reference boundary);
* **role accuracy**: the share of recognised words whose role (agent or
  customer, as the transcript says) is the role of the reference turn the
  word's midpoint falls in (words in no turn, or in both parties' turns at
  once, are not scored);
* **rule verdicts**: accuracy, a confusion table per rule (expected x
  predicted outcome) and Cohen's kappa (:func:`cohen_kappa`);
* **sensitive data**: precision and recall per entity type; a finding
  matches a labelled value of the same entity type whose time span, widened
  by a tolerance (0.5 s), overlaps it (one to one, :func:`match_spans`);
* **metric errors**: predicted - expected for each labelled metric.

The same rules and detectors also run on the *reference* transcript (the
labels' words spread over each labelled stretch), which separates what the
recogniser gets wrong from what the rules get wrong.

The metric functions are pure and take plain values, so they are tested on
hand-built data. Reports hold no raw sensitive value: findings appear as
their entity type, role, times and masked value; explanations are scrubbed
and every number of three or more digits in them is masked.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callqa.errors import CallQAError, ConfigError, InputError, ModelNotFoundError
from callqa.metrics import METRIC_FIELDS
from callqa.normalize import NormalizedWords
from callqa.privacy import safe_reason, scrub

log = logging.getLogger("callqa.accuracy")

LABELS_FORMAT = "callqa-eval-labels/1"
REPORT_FORMAT = "callqa-eval-report/1"
LABELS_SUFFIX = ".labels.json"
OUTCOMES = ("pass", "fail", "na")
#: pyannote's collar: the total width removed around each reference boundary (half before, half after).
DEFAULT_COLLAR_S = 0.5
#: A finding matches a labelled value when it overlaps the value's span widened by this much on each side.
DEFAULT_PII_TOLERANCE_S = 0.5
#: Reference stretches of one role closer than this are one turn in the reference transcript (align.MAX_PAUSE_S).
REFERENCE_TURN_GAP_S = 1.5
#: ``--model`` names that mean the packaged models (never a download).
PACKAGED_MODELS = ("tiny.en", "base")
#: What the report says the targets are (issue 7).
TARGETS = (
    ("rule-verdict accuracy", "verdicts.accuracy", 0.95),
    ("card number recall", "pii.per_entity.CARD_NUMBER.recall", 1.0),
    ("IBAN recall", "pii.per_entity.IBAN.recall", 1.0),
    ("sensitive-data precision", "pii.micro.precision", 0.95),
    ("stereo role accuracy", "roles.stereo.accuracy", 1.0),
)

Role = Literal["agent", "customer", "unknown"]


# --------------------------------------------------------------------------- labels


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Timed(_Strict):
    start: float = Field(ge=0)
    end: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> _Timed:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class LabelTurn(_Timed):
    """One stretch of reference speech."""

    speaker: str
    role: Role
    channel: int | None = Field(default=None, ge=0)
    text: str
    tag: str | None = None


class LabelSpan(_Timed):
    """A sensitive value said in the call (callqa's entity names)."""

    entity: str
    role: Role
    turn: int | None = None
    form: Literal["spoken", "written"] | None = None

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, value: str) -> str:
        from callqa.pii import ENTITIES

        if value not in ENTITIES:
            raise ValueError(f"unknown entity {value!r}; known: {', '.join(ENTITIES)}")
        return value


class LabelDecoy(_Timed):
    """Something that looks like sensitive data but is not (an order number, a price, a time)."""

    kind: str
    role: Role
    turn: int | None = None


class LabelSegment(_Timed):
    speaker: str


class CallLabels(_Strict):
    """The labels of one recording (``<name>.labels.json``); see docs/eval.md."""

    format: Literal["callqa-eval-labels/1"]
    call: str = Field(min_length=1)
    audio: str = Field(min_length=1)
    language: str = Field(pattern=r"^[a-z]{2}$")
    layout: Literal["stereo", "mono"]
    sample_rate: int | None = None
    channels: int | None = Field(default=None, ge=1, le=2)
    channel_roles: list[Role] | None = None
    duration: float | None = Field(default=None, gt=0)
    description: str = ""
    pack: str | None = None
    turns: list[LabelTurn] = Field(min_length=1)
    speaker_segments: list[LabelSegment] | None = None
    verdicts: dict[str, Literal["pass", "fail", "na"]] = Field(default_factory=dict)
    notes: dict[str, str] = Field(default_factory=dict)
    pii: list[LabelSpan] = Field(default_factory=list)
    decoys: list[LabelDecoy] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    scenario: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(METRIC_FIELDS))
        if unknown:
            raise ValueError(f"unknown metric {unknown[0]!r}; known: {', '.join(METRIC_FIELDS)}")
        return value

    @model_validator(mode="after")
    def _stereo_channels(self) -> CallLabels:
        if self.layout == "stereo":
            for i, turn in enumerate(self.turns):
                if turn.channel is None:
                    raise ValueError(f"turns.{i}.channel: a stereo call's turns need their channel (0 = left)")
        return self

    def reference_segments(self) -> list[tuple[str, float, float]]:
        """Who spoke when, for DER: ``speaker_segments`` when given, else the turns."""
        if self.speaker_segments is not None:
            return [(s.speaker, s.start, s.end) for s in self.speaker_segments]
        return [(t.speaker, t.start, t.end) for t in self.turns]


@dataclass(frozen=True)
class EvalItem:
    """One recording of a dataset and its labels."""

    name: str
    audio: Path
    labels: CallLabels
    source: str  # the labels file, or where a built-in item comes from
    builtin: bool = False


def _loc(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc) or "-"


def parse_labels(raw: Any, path: str | Path) -> CallLabels:
    """Validate a labels document; the error names the file and the field (``turns.3.start``)."""
    if not isinstance(raw, dict):
        raise InputError(path, f"labels must be a JSON object, got {type(raw).__name__}", stage="labels")
    try:
        return CallLabels.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _loc(err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (see docs/eval.md for the labels format)"
        elif err["type"] == "literal_error" and where == "format":
            msg = f"must be {LABELS_FORMAT!r}"
        if where == "-" and msg.startswith("turns."):  # a model-level check that names its own field
            where, msg = msg.split(": ", 1)
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise InputError(path, f"field {where!r}: {msg}{more}", stage="labels") from None


def load_labels(path: str | Path) -> CallLabels:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(path, "labels file is not UTF-8 text", stage="labels") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                         stage="labels") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}", stage="labels") from None
    return parse_labels(raw, path)


def load_dataset(directory: str | Path) -> list[EvalItem]:
    """Every ``*.labels.json`` under ``directory`` with its recording (named by the labels' ``audio``)."""
    from callqa.audio import is_audio_file

    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(directory, "not a directory (pass the folder of recordings and their *.labels.json)",
                         stage="labels")
    label_files = sorted(directory.rglob(f"*{LABELS_SUFFIX}"))
    if not label_files:
        raise InputError(directory, f"no *{LABELS_SUFFIX} files in this folder (see docs/eval.md)", stage="labels")
    items, seen = [], {}
    for path in label_files:
        labels = load_labels(path)
        audio = path.parent / labels.audio
        if not audio.is_file():
            raise InputError(path, f"field 'audio': {labels.audio} not found next to the labels file",
                             stage="labels")
        if not is_audio_file(audio):
            raise InputError(path, f"field 'audio': {labels.audio} is not an audio file callqa reads",
                             stage="labels")
        if labels.call in seen:
            raise InputError(path, f"field 'call': {labels.call!r} is also the call of {seen[labels.call].name}",
                             stage="labels")
        seen[labels.call] = path
        items.append(EvalItem(labels.call, audio, labels, str(path)))
    labelled = {i.audio.resolve() for i in items}
    for audio in sorted(p for p in directory.rglob("*") if p.is_file() and is_audio_file(p)):
        if audio.resolve() not in labelled:
            log.warning("%s has no labels file; not evaluated", audio)
    return items


def pyannote_sample() -> EvalItem | None:
    """The real two-speaker call pyannote.audio ships (``pyannote/audio/sample/``), with its RTTM and STM.

    Found in the installed package, never copied. Speakers are named, not
    agent and customer, so roles and rules are not scored on it. None when
    the package or its sample is missing.
    """
    spec = importlib.util.find_spec("pyannote.audio")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "sample"
    wav, rttm, stm = folder / "sample.wav", folder / "sample.rttm", folder / "sample.stm"
    if not (wav.is_file() and rttm.is_file()):
        return None
    segments = []
    for line in rttm.read_text(encoding="utf-8").splitlines():
        f = line.split()
        if len(f) >= 8 and f[0] == "SPEAKER":
            start, dur = float(f[3]), float(f[4])
            segments.append({"speaker": f[7], "start": start, "end": round(start + dur, 3)})
    turns = []
    if stm.is_file():
        for line in stm.read_text(encoding="utf-8").splitlines():
            f = line.split(maxsplit=5)
            if len(f) == 6:
                turns.append({"speaker": f[2], "role": "unknown", "start": float(f[3]), "end": float(f[4]),
                              "text": f[5]})
    if not turns:  # no transcript: the RTTM alone (no WER)
        turns = [{"speaker": s["speaker"], "role": "unknown", "start": s["start"], "end": s["end"], "text": ""}
                 for s in segments]
    labels = parse_labels({
        "format": LABELS_FORMAT, "call": "pyannote_sample", "audio": wav.name, "language": "en", "layout": "mono",
        "description": "pyannote.audio's own sample: a real 30 s two-party phone call, reference RTTM and STM "
                       "transcript shipped in the package", "turns": turns, "speaker_segments": segments,
    }, wav)
    return EvalItem("pyannote_sample", wav, labels, "pyannote.audio package: sample/sample.wav, .rttm, .stm",
                    builtin=True)


# --------------------------------------------------------------------------- WER


_EN_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
             "sixteen seventeen eighteen nineteen").split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_EN_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh",
                8: "eighth", 9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth", 13: "thirteenth",
                14: "fourteenth", 15: "fifteenth", 16: "sixteenth", 17: "seventeenth", 18: "eighteenth",
                19: "nineteenth", 20: "twentieth", 30: "thirtieth", 40: "fortieth", 50: "fiftieth"}
_EN_ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "dr": "doctor"}
_WRITTEN_ORDINAL = re.compile(r"^(\d{1,2})(st|nd|rd|th)$")
_SEPARATORS = re.compile(r"[-‐–—/]")
_DIGITS = re.compile(r"\d+")


def _en_ordinal(n: int) -> str:
    if n in _EN_ORDINALS:
        return _EN_ORDINALS[n]
    return f"{_EN_TENS[n // 10]} {_EN_ORDINALS[n % 10]}" if 20 < n < 100 else f"{n}th"


def normalise_for_wer(text: str, language: str | None = None) -> str:
    """Text as WER compares it, the same for the reference and the recogniser.

    1. dashes and slashes split words ("twenty-three", "12/25");
    2. English only: written ordinals become words ("23rd" -> "twenty third")
       and "Mr", "Mrs", "Dr" are spelled out;
    3. folded like every phrase match (:func:`callqa.normalize.fold`: case,
       punctuation, ``ё``), with every number, spoken or written, as digits
       (:class:`callqa.normalize.NormalizedWords`, en/ru/pl): "four five",
       "45" and "forty five" are all 45;
    4. every digit is a word of its own ("1982" -> "1 9 8 2"), so a number
       written in another grouping ("45 39" for "4539") costs nothing and a
       wrong digit costs one word.

    Amounts and clock times keep their digits ("$49.99" -> "4 9 9 9", as
    "forty nine ninety nine" does). Spelling variants ("North Wind" for
    "Northwind", "okay" for "OK") and Russian and Polish inflected ordinals
    are not normalised and count as errors.
    """
    tokens = _SEPARATORS.sub(" ", text).split()
    if (language or "en") == "en":
        out = []
        for tok in tokens:
            bare = tok.strip(".,;:!?\"'()").lower()
            m = _WRITTEN_ORDINAL.match(bare)
            if m:
                out.extend(_en_ordinal(int(m.group(1))).split())
            elif bare in _EN_ABBREVIATIONS:
                out.append(_EN_ABBREVIATIONS[bare])
            else:
                out.append(tok)
        tokens = out
    folded = NormalizedWords.of(tokens, language).text
    return " ".join(_DIGITS.sub(lambda m: " ".join(m.group(0)), folded).split())


@dataclass(frozen=True)
class WerCounts:
    """Word alignment counts; add them up to pool calls (WER = errors / reference words)."""

    hits: int = 0
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    @property
    def reference_words(self) -> int:
        return self.hits + self.substitutions + self.deletions

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float | None:
        return self.errors / self.reference_words if self.reference_words else None

    def __add__(self, other: WerCounts) -> WerCounts:
        return WerCounts(self.hits + other.hits, self.substitutions + other.substitutions,
                         self.deletions + other.deletions, self.insertions + other.insertions)


def wer_counts(reference: str, hypothesis: str) -> WerCounts:
    """Align two *normalised* texts (jiwer): hits, substitutions, deletions, insertions."""
    ref, hyp = reference.split(), hypothesis.split()
    if not ref:
        return WerCounts(insertions=len(hyp))
    import jiwer

    out = jiwer.process_words(" ".join(ref), " ".join(hyp))
    return WerCounts(out.hits, out.substitutions, out.deletions, out.insertions)


# --------------------------------------------------------------------------- DER


@dataclass(frozen=True)
class DerCounts:
    """Seconds of scored reference speech and of each error kind; add them up to pool calls."""

    total: float = 0.0
    missed: float = 0.0
    false_alarm: float = 0.0
    confusion: float = 0.0

    @property
    def der(self) -> float | None:
        return (self.missed + self.false_alarm + self.confusion) / self.total if self.total else None

    def __add__(self, other: DerCounts) -> DerCounts:
        return DerCounts(self.total + other.total, self.missed + other.missed,
                         self.false_alarm + other.false_alarm, self.confusion + other.confusion)


Segment3 = tuple[str, float, float]


def diarization_error(reference: Sequence[Segment3], hypothesis: Sequence[Segment3], *,
                      collar: float = DEFAULT_COLLAR_S, uem: tuple[float, float] | None = None) -> DerCounts:
    """DER components of ``(speaker, start, end)`` segments (pyannote.metrics, overlap scored).

    Speaker names need not agree: the best one-to-one mapping is used.
    ``collar`` is pyannote's (total width around each reference boundary);
    ``uem`` is the scored region (default: everything either side covers).
    """
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    def annotation(segments: Sequence[Segment3]) -> Annotation:
        ann = Annotation()
        for k, (speaker, start, end) in enumerate(segments):
            if end > start:
                ann[Segment(start, end), k] = speaker
        return ann

    ref, hyp = annotation(reference), annotation(hypothesis)
    if uem is None:
        ends = [e for _, _, e in [*reference, *hypothesis]]
        uem = (0.0, max(ends, default=0.0))
    if uem[1] <= uem[0]:
        return DerCounts()
    metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
    d = metric(ref, hyp, uem=Timeline([Segment(*uem)]), detailed=True)
    return DerCounts(float(d["total"]), float(d["missed detection"]), float(d["false alarm"]), float(d["confusion"]))


# --------------------------------------------------------------------------- roles


@dataclass(frozen=True)
class RoleCounts:
    correct: int = 0
    scored: int = 0
    unscored: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.scored if self.scored else None

    def __add__(self, other: RoleCounts) -> RoleCounts:
        return RoleCounts(self.correct + other.correct, self.scored + other.scored, self.unscored + other.unscored)


def channel_role_counts(reference: Sequence[tuple[str, int | None]], words: Sequence[tuple[str, int | None]]) -> RoleCounts:
    """Stereo calls: words ``(role, channel)`` against the party whose turns are on that channel.

    The reference turns ``(role, channel)`` give each channel's party (the
    one with most turns there); a word is right when the transcript gave it
    that role. Word times play no part: on stereo the role comes from the
    channel map, and that is what is measured.
    """
    votes: dict[int, dict[str, int]] = {}
    for role, channel in reference:
        if channel is not None and role in ("agent", "customer"):
            votes.setdefault(channel, {}).setdefault(role, 0)
            votes[channel][role] += 1
    party = {ch: max(v, key=lambda r: (v[r], r)) for ch, v in votes.items()}
    correct = scored = unscored = 0
    for role, channel in words:
        if channel not in party:
            unscored += 1
            continue
        scored += 1
        correct += int(party[channel] == role)
    return RoleCounts(correct, scored, unscored)


def role_counts(reference: Sequence[tuple[str, float, float]], words: Sequence[tuple[str, float, float]]) -> RoleCounts:
    """Words ``(role, start, end)`` whose role is that of the reference turn ``(role, start, end)`` at their midpoint.

    A word whose midpoint is in no agent or customer turn, or in turns of
    both at once (overlapping speech), is not scored.
    """
    correct = scored = unscored = 0
    turns = [(r, s, e) for r, s, e in reference if r in ("agent", "customer")]
    for role, start, end in words:
        mid = (start + end) / 2
        roles = {r for r, s, e in turns if s <= mid <= e}
        if len(roles) != 1:
            unscored += 1
            continue
        scored += 1
        correct += int(roles.pop() == role)
    return RoleCounts(correct, scored, unscored)


# --------------------------------------------------------------------------- verdicts


def confusion_table(pairs: Iterable[tuple[str, str]], categories: Sequence[str] = OUTCOMES) -> dict[str, dict[str, int]]:
    """``table[expected][predicted]`` counts; a value outside ``categories`` is an error."""
    table = {e: {p: 0 for p in categories} for e in categories}
    for expected, predicted in pairs:
        if expected not in table or predicted not in table:
            raise ValueError(f"outcome not in {list(categories)}: {expected!r} -> {predicted!r}")
        table[expected][predicted] += 1
    return table


def agreement(pairs: Sequence[tuple[str, str]]) -> float | None:
    return sum(e == p for e, p in pairs) / len(pairs) if pairs else None


def cohen_kappa(pairs: Sequence[tuple[str, str]], categories: Sequence[str] = OUTCOMES) -> float | None:
    """Cohen's kappa of two raters (labels x predictions): (po - pe) / (1 - pe).

    None when it is undefined: no pairs, or both raters always chose the
    same single category (pe = 1).
    """
    n = len(pairs)
    if not n:
        return None
    table = confusion_table(pairs, categories)
    po = sum(table[c][c] for c in categories) / n
    pe = sum(sum(table[c].values()) * sum(table[e][c] for e in categories) for c in categories) / (n * n)
    if math.isclose(pe, 1.0):
        return None
    return (po - pe) / (1 - pe)


# --------------------------------------------------------------------------- sensitive data


@dataclass(frozen=True)
class SpanMatch:
    pairs: tuple[tuple[int, int], ...]  # (labelled index, predicted index)
    missed: tuple[int, ...]  # labelled indices with no finding
    false: tuple[int, ...]  # predicted indices matching no label


def match_spans(labelled: Sequence[Segment3], predicted: Sequence[Segment3], *,
                tolerance_s: float = DEFAULT_PII_TOLERANCE_S) -> SpanMatch:
    """One-to-one matching of ``(entity, start, end)`` findings to labels of the same entity.

    A finding can match a label whose span, widened by ``tolerance_s`` each
    side, overlaps it; the pairs with the largest overlap are taken first.
    """
    candidates = []
    for i, (le, ls, lend) in enumerate(labelled):
        for j, (pe, ps, pend) in enumerate(predicted):
            if le != pe:
                continue
            widened = min(lend + tolerance_s, pend) - max(ls - tolerance_s, ps)
            if widened > 0 or (widened == 0 and pend == ps):
                candidates.append((-(min(lend, pend) - max(ls, ps)), i, j))
    candidates.sort()
    used_l: set[int] = set()
    used_p: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i not in used_l and j not in used_p:
            used_l.add(i)
            used_p.add(j)
            pairs.append((i, j))
    return SpanMatch(tuple(sorted(pairs)), tuple(i for i in range(len(labelled)) if i not in used_l),
                     tuple(j for j in range(len(predicted)) if j not in used_p))


@dataclass(frozen=True)
class PrCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def __add__(self, other: PrCounts) -> PrCounts:
        return PrCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


def per_entity_counts(labelled: Sequence[Segment3], predicted: Sequence[Segment3], match: SpanMatch) -> dict[str, PrCounts]:
    out: dict[str, PrCounts] = {}
    for i, _ in match.pairs:
        out[labelled[i][0]] = out.get(labelled[i][0], PrCounts()) + PrCounts(tp=1)
    for i in match.missed:
        out[labelled[i][0]] = out.get(labelled[i][0], PrCounts()) + PrCounts(fn=1)
    for j in match.false:
        out[predicted[j][0]] = out.get(predicted[j][0], PrCounts()) + PrCounts(fp=1)
    return out


# --------------------------------------------------------------------------- metrics


def metric_errors(expected: Mapping[str, float], predicted: Mapping[str, float | None]) -> dict[str, dict[str, float | None]]:
    """``{name: {expected, predicted, error}}`` with error = predicted - expected (None when not predicted)."""
    out = {}
    for name, want in expected.items():
        got = predicted.get(name)
        out[name] = {"expected": want, "predicted": got,
                     "error": None if got is None else round(got - want, 4)}
    return out


# --------------------------------------------------------------------------- privacy of the report

_MASK_CHARS = frozenset("•*")
#: 3+ digits, unless they are the (at most four) last digits of a masked value: "•••• 7186"
_LONG_DIGITS = re.compile(r"(?<=[•*] )(\d{1,4})\b|\d{3,}")


def safe_text(text: str, language: str | None = None) -> str:
    """Text fit for a report: scrubbed (:func:`callqa.privacy.scrub`) and every number of 3+ digits masked.

    Explanations quote the redacted transcript, which still holds a value
    the detectors missed; this keeps short ones (a CVV, part of a card) out
    as well, whether written as digits or as words.
    """
    words = scrub(text).split()
    if not words:
        return ""
    normalized = NormalizedWords.of(words, language)
    hidden: set[int] = set()
    for start, first, end in normalized.pieces:
        piece = normalized.text[start:].split(" ", 1)[0]
        if not (piece.isdigit() and len(piece) >= 3):
            continue
        before = words[first - 1].strip("(\"'") if first > 0 else ""
        if len(piece) <= 4 and before and _MASK_CHARS.issuperset(before):
            continue  # the last digits a masked value shows: "•••• 7186"
        hidden.update(range(first, end + 1))
    out: list[str] = []
    for k, word in enumerate(words):
        if k not in hidden:
            out.append(word)
        elif k - 1 not in hidden:
            out.append("[NUMBER]")
    return _LONG_DIGITS.sub(lambda m: m.group(0) if m.group(1) else "•" * len(m.group(0)), " ".join(out))


# --------------------------------------------------------------------------- running the pipeline


class _ObservedTranscriber:
    """A transcriber that keeps what it recognised (raw words, in memory only) for WER."""

    def __init__(self, inner: Any, log_: list) -> None:
        self.inner, self._log = inner, log_
        self.name = inner.name

    def transcribe(self, audio: Any, *, language: str | None) -> Any:
        result = self.inner.transcribe(audio, language=language)
        self._log.append(result)
        return result


class _ObservedDiarizer:
    """The configured mono diarizer (loaded at first use), keeping its last output for DER."""

    def __init__(self, setting: str | None) -> None:
        self.setting = setting
        self._inner: Any = None
        self.last: list[Segment3] | None = None

    def _load(self) -> Any:
        if self._inner is None:
            from callqa.diarization import diarizer_from_setting

            self._inner = diarizer_from_setting(self.setting)
        return self._inner

    @property
    def name(self) -> str:
        if self._inner is None:
            from callqa.diarization import diarizer_name_for_setting

            return diarizer_name_for_setting(self.setting)  # without loading the models
        return self._inner.name

    def __call__(self, waveform: Any, sample_rate: int, **kwargs: Any) -> Any:
        annotation = self._load()(waveform, sample_rate, **kwargs)
        self.last = [(str(label), float(seg.start), float(seg.end))
                     for seg, _, label in annotation.itertracks(yield_label=True)]
        return annotation


def _observed_pipeline(settings: Any, transcriber_factory: Callable[[str], Any] | None = None,
                       mono_diarizer: Any = None) -> tuple[Any, list, _ObservedDiarizer | None]:
    """The real Pipeline, with the recogniser and the mono diarizer observed (nothing else changes).

    ``transcriber_factory`` and ``mono_diarizer`` replace the configured ones (tests inject fakes)."""
    from callqa.diarization import diarization_disabled
    from callqa.pipeline import Pipeline

    asr_log: list = []
    off = diarization_disabled(settings.diarization)  # CALLQA_DIARIZATION_PIPELINE=none
    diarizer = None if off else _ObservedDiarizer(settings.diarization)
    if mono_diarizer is not None and diarizer is not None:
        diarizer._inner = mono_diarizer

    class ObservedPipeline(Pipeline):
        def transcriber(self, language: str) -> Any:
            return _ObservedTranscriber(super().transcriber(language), asr_log)

    pipeline = ObservedPipeline(settings, transcriber_factory=transcriber_factory,
                                mono_diarizer=diarizer if diarizer is not None else False)
    return pipeline, asr_log, diarizer


def packaged_model(name: str | None, cache_dir: Path) -> str | None:
    """``--model`` as ``callqa eval`` takes it: ``default``/None = the packaged defaults (tiny.en for English,
    base otherwise); ``tiny.en`` and ``base`` = the packaged copies (never a download); anything else as given."""
    from callqa.asr import packaged_base, packaged_tiny_en

    if name in (None, "", "default"):
        return None
    if name not in PACKAGED_MODELS:
        return name
    found = packaged_tiny_en() if name == "tiny.en" else packaged_base(cache_dir)
    if found is None:
        raise ModelNotFoundError(f"the packaged {name} model is not installed: run `make install`, or pass "
                                 "--model DIR (a CTranslate2 Whisper directory)")
    return str(found)


def reference_transcript(labels: CallLabels, call_id: str = "reference") -> Any:
    """The labels as a Transcript: each stretch's words spread evenly over it; close stretches of one role
    are one turn; roles as labelled (the pipeline's ideal output)."""
    from callqa.types import Role as R
    from callqa.types import RoleAssignment, TimeSpan, Transcript, Turn, Word

    groups: list[tuple[LabelTurn, list[Word]]] = []
    for t in sorted(labels.turns, key=lambda t: (t.start, t.end)):
        tokens = t.text.split()
        if not tokens:
            continue
        step = (t.end - t.start) / len(tokens)
        words = [Word(w, round(t.start + k * step, 3), round(t.start + (k + 0.85) * step, 3), 1.0)
                 for k, w in enumerate(tokens)]
        if groups and groups[-1][0].speaker == t.speaker and t.start - groups[-1][1][-1].end < REFERENCE_TURN_GAP_S:
            groups[-1][1].extend(words)
        else:
            groups.append((t, words))
    turns = tuple(
        Turn(index=i, speaker=g.speaker, role=R(g.role), span=TimeSpan(ws[0].start, max(w.end for w in ws)),
             words=tuple(ws), channel=g.channel)
        for i, (g, ws) in enumerate(groups))
    speakers = sorted({(t.speaker, t.role) for t in turns})
    duration = labels.duration or max(t.end for t in labels.turns) + 0.5
    return Transcript(call_id=call_id, language=labels.language, duration=duration, turns=turns,
                      asr_model="reference", diarizer="reference", channels=labels.channels or 1,
                      roles=RoleAssignment(tuple(speakers), 1.0, "reference", "roles as labelled"))


def _reference_texts(labels: CallLabels) -> list[tuple[int | None, str]]:
    """(channel, text) to compare with the recogniser: per channel for stereo calls, else one."""
    turns = sorted(labels.turns, key=lambda t: t.start)
    if labels.layout == "stereo":
        channels = sorted({t.channel for t in turns})
        return [(c, " ".join(t.text for t in turns if t.channel == c)) for c in channels]
    return [(None, " ".join(t.text for t in turns))]


def _finding(span: Any, language: str, *, decoy: str | None = None) -> dict[str, Any]:
    return {"entity": span.entity, "role": str(span.role), "start": round(span.span.start, 2),
            "end": round(span.span.end, 2), "masked": span.masked, "detector": span.detector,
            **({"decoy": decoy} if decoy else {})}


def _score_pii(labels: CallLabels, findings: Sequence[Any], tolerance_s: float) -> dict[str, Any]:
    from callqa.pii import UNTYPED_ENTITIES

    lab = [(p.entity, p.start, p.end) for p in labels.pii]
    pred = [(f.entity, f.span.start, f.span.end) for f in findings]
    match = match_spans(lab, pred, tolerance_s=tolerance_s)

    def on_a_label(j: int) -> bool:
        _, ps, pend = pred[j]
        return any(min(le + tolerance_s, pend) - max(ls - tolerance_s, ps) > 0 for _, ls, le in lab)

    # A safety-net finding ("sensitive, type unknown") on a labelled value claims no type: it is neither a
    # hit nor a false finding (the value still counts as missed for its own type, and as redacted).
    untyped = tuple(j for j in match.false if pred[j][0] in UNTYPED_ENTITIES and on_a_label(j))
    match = SpanMatch(match.pairs, match.missed, tuple(j for j in match.false if j not in untyped))
    counts = per_entity_counts(lab, pred, match)

    def decoy_of(f: Any) -> str | None:
        for d in labels.decoys:
            if min(d.end + tolerance_s, f.span.end) - max(d.start - tolerance_s, f.span.start) > 0:
                return d.kind
        return None

    flagged = sorted({k for k, d in enumerate(labels.decoys) for f in findings
                      if min(d.end + tolerance_s, f.span.end) - max(d.start - tolerance_s, f.span.start) > 0})
    covered: dict[str, list[int]] = {}  # labelled values some finding (of any type) overlaps: they are redacted
    for p in labels.pii:
        hit = any(min(p.end + tolerance_s, f.span.end) - max(p.start - tolerance_s, f.span.start) > 0 for f in findings)
        covered.setdefault(p.entity, [0, 0])
        covered[p.entity][0] += int(hit)
        covered[p.entity][1] += 1
    return {
        "counts": {e: vars(c) for e, c in sorted(counts.items())},
        "matched": [{**_finding(findings[j], labels.language), "label_start": labels.pii[i].start,
                     "label_end": labels.pii[i].end} for i, j in match.pairs],
        "missed": [{"entity": labels.pii[i].entity, "role": labels.pii[i].role, "start": labels.pii[i].start,
                    "end": labels.pii[i].end} for i in match.missed],
        "false": [_finding(findings[j], labels.language, decoy=decoy_of(findings[j])) for j in match.false],
        "untyped": [_finding(findings[j], labels.language) for j in untyped],
        "decoys": {"total": len(labels.decoys), "flagged": [labels.decoys[k].kind for k in flagged]},
        "covered": {e: {"covered": c, "values": n} for e, (c, n) in sorted(covered.items())},
    }


def _score_verdicts(labels: CallLabels, evaluation: Any) -> dict[str, Any]:
    predicted = {r.rule_id: r for r in evaluation.results}
    out = {}
    for rule, want in labels.verdicts.items():
        got = predicted.get(rule)
        entry = {"expected": want, "predicted": got.outcome.value if got else None}
        if got is not None and got.outcome.value != want:
            entry["explanation"] = safe_text(got.explanation, labels.language)
        out[rule] = entry
    missing = sorted(set(labels.verdicts) - set(predicted))
    if missing:
        log.warning("%s: rules %s are labelled but not in pack %s", labels.call, ", ".join(missing), evaluation.pack)
    return out


def _score_text_stage(labels: CallLabels, transcript: Any, findings: Sequence[Any], scorer: Any,
                      metadata: Any, tolerance_s: float) -> dict[str, Any]:
    """What a (redacted) transcript and its findings get: verdicts, sensitive data, metrics."""
    from callqa.metrics import metric_value

    metrics, evaluation = scorer.score(transcript, pii=list(findings), metadata=metadata)
    return {
        "verdicts": _score_verdicts(labels, evaluation),
        "pii": _score_pii(labels, findings, tolerance_s),
        "metrics": metric_errors(labels.metrics, {n: metric_value(metrics, n) for n in labels.metrics}),
        "score": evaluation.score, "passed": evaluation.passed, "auto_failed": evaluation.auto_failed,
        "pack": evaluation.pack,
    }


def evaluate_reference(item: EvalItem, scorer: Any, *, tolerance_s: float = DEFAULT_PII_TOLERANCE_S) -> dict[str, Any]:
    """The rules and detectors on the labels' own transcript (no audio, no model)."""
    from callqa.audio import read_sidecar, sidecar_path_for
    from callqa.pii import detect, redact_transcript
    from callqa.types import CallMetadata

    sidecar = sidecar_path_for(item.audio)
    metadata = read_sidecar(sidecar) if sidecar else CallMetadata()
    raw = reference_transcript(item.labels)
    redacted, findings = redact_transcript(raw, detect(raw))
    return {"call": item.name, "language": item.labels.language, "layout": item.labels.layout,
            **_score_text_stage(item.labels, redacted, findings, scorer, metadata, tolerance_s)}


def evaluate_call(item: EvalItem, pipeline: Any, asr_log: list, diarizer: _ObservedDiarizer | None, scorer: Any, *,
                  collar: float = DEFAULT_COLLAR_S, tolerance_s: float = DEFAULT_PII_TOLERANCE_S) -> dict[str, Any]:
    """One recording through the real pipeline and scorer, measured against its labels."""
    labels = item.labels
    asr_log.clear()
    if diarizer is not None:
        diarizer.last = None
    t0 = time.perf_counter()
    rec = pipeline.load(item.audio)
    processed = pipeline.process(rec)
    transcript = processed.transcript
    seconds = time.perf_counter() - t0

    # WER: raw recognised words (in memory only), each stereo channel against its party's turns
    counts = WerCounts()
    refs = _reference_texts(labels)
    for k, (channel, ref_text) in enumerate(refs):
        result = asr_log[channel if channel is not None else 0] if asr_log else None
        hyp_text = " ".join(w.text for w in result.words) if result is not None else ""
        counts = counts + wer_counts(normalise_for_wer(ref_text, labels.language),
                                     normalise_for_wer(hyp_text, labels.language))
    out: dict[str, Any] = {
        "call": item.name, "language": labels.language, "layout": labels.layout,
        "sample_rate": labels.sample_rate, "duration_s": round(rec.duration, 2), "seconds": round(seconds, 2),
        "asr_model": transcript.asr_model, "diarizer": transcript.diarizer,
        "detected_language": transcript.language, "wer": {"wer": counts.wer, **vars(counts)},
        "der": None,
    }
    if labels.layout == "mono" and diarizer is not None and diarizer.last is not None:
        d = diarization_error(labels.reference_segments(), diarizer.last, collar=collar, uem=(0.0, rec.duration))
        out["der"] = {"der": d.der, **vars(d)}
    if any(t.role != "unknown" for t in labels.turns):
        if labels.layout == "stereo":
            rc = channel_role_counts([(t.role, t.channel) for t in labels.turns],
                                     [(str(turn.role), turn.channel) for turn, _ in transcript.words])
        else:
            rc = role_counts([(t.role, t.start, t.end) for t in labels.turns],
                             [(str(turn.role), w.start, w.end) for turn, w in transcript.words])
        out["roles"] = {"accuracy": rc.accuracy, **vars(rc), "confidence": transcript.roles.confidence,
                        "method": transcript.roles.method}
    else:
        out["roles"] = None
    if labels.verdicts or labels.pii or labels.metrics or labels.decoys:
        out.update(_score_text_stage(labels, transcript, processed.pii, scorer, rec.metadata, tolerance_s))
    return out


@dataclass
class EvalRun:
    """One pass over a dataset with one model configuration."""

    model: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    builtin: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def run_eval(items: Sequence[EvalItem], settings: Any, scorer: Any, *, model_label: str = "default",
             collar: float = DEFAULT_COLLAR_S, tolerance_s: float = DEFAULT_PII_TOLERANCE_S,
             on_call: Callable[[EvalItem, dict[str, Any] | None], None] | None = None,
             transcriber_factory: Callable[[str], Any] | None = None, mono_diarizer: Any = None) -> EvalRun:
    """Every item through the pipeline with ``settings``; a call that cannot be processed (a model that
    cannot do its language, unreadable audio) is recorded as a failure and the rest go on.

    ``transcriber_factory`` / ``mono_diarizer``: stand-ins for the configured recogniser and diarizer
    (as :class:`~callqa.pipeline.Pipeline` takes them), for tests."""
    pipeline, asr_log, diarizer = _observed_pipeline(settings, transcriber_factory, mono_diarizer)
    run = EvalRun(model_label)
    t0 = time.perf_counter()
    for item in items:
        try:
            result = evaluate_call(item, pipeline, asr_log, diarizer, scorer, collar=collar, tolerance_s=tolerance_s)
        except ConfigError as exc:
            if not isinstance(exc, ModelNotFoundError):
                raise
            run.failures.append({"call": item.name, "reason": safe_reason(exc)})
            result = None
        except CallQAError as exc:
            run.failures.append({"call": item.name, "reason": safe_reason(exc)})
            result = None
        if result is not None:
            if model_label in PACKAGED_MODELS and settings.model:  # "faster-whisper:/cache/...:int8" -> "...:base:..."
                result["asr_model"] = result["asr_model"].replace(f":{settings.model}:", f":{model_label}:")
            (run.builtin if item.builtin else run.calls).append(result)
        if on_call:
            on_call(item, result)
    run.seconds = round(time.perf_counter() - t0, 1)
    return run


# --------------------------------------------------------------------------- summaries


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def summarise(calls: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pooled figures over per-call results (those of :func:`evaluate_call` or :func:`evaluate_reference`)."""
    out: dict[str, Any] = {"calls": len(calls)}
    langs = sorted({c["language"] for c in calls})
    if any("wer" in c for c in calls):
        def wer_of(cs):
            total = sum((WerCounts(**{k: c["wer"][k] for k in ("hits", "substitutions", "deletions", "insertions")})
                         for c in cs), WerCounts())
            return {"wer": _round(total.wer), "reference_words": total.reference_words, "errors": total.errors}
        out["wer"] = {"all": wer_of(calls), **{lang: wer_of([c for c in calls if c["language"] == lang]) for lang in langs}}
    ders = [c["der"] for c in calls if c.get("der")]
    if ders:
        total = sum((DerCounts(d["total"], d["missed"], d["false_alarm"], d["confusion"]) for d in ders), DerCounts())
        out["der"] = {"der": _round(total.der), "calls": len(ders), "total_s": round(total.total, 1),
                      "missed_s": round(total.missed, 1), "false_alarm_s": round(total.false_alarm, 1),
                      "confusion_s": round(total.confusion, 1)}
    if any(c.get("roles") for c in calls):
        roles = {}
        for layout in ("stereo", "mono"):
            rs = [c["roles"] for c in calls if c.get("roles") and c["layout"] == layout]
            total = sum((RoleCounts(r["correct"], r["scored"], r["unscored"]) for r in rs), RoleCounts())
            roles[layout] = {"accuracy": _round(total.accuracy), "words": total.scored, "calls": len(rs),
                             "calls_all_correct": sum(1 for r in rs if r["scored"] and r["correct"] == r["scored"])}
        out["roles"] = roles
    scored = [c for c in calls if "verdicts" in c]
    if scored:
        pairs = [(v["expected"], v["predicted"]) for c in scored for v in c["verdicts"].values()
                 if v["predicted"] is not None]
        rules = sorted({r for c in scored for r in c["verdicts"]}, key=lambda r: _rule_order(scored, r))
        per_rule = {}
        for rule in rules:
            rp = [(c["verdicts"][rule]["expected"], c["verdicts"][rule]["predicted"]) for c in scored
                  if rule in c["verdicts"] and c["verdicts"][rule]["predicted"] is not None]
            per_rule[rule] = {"accuracy": _round(agreement(rp)), "n": len(rp), "confusion": confusion_table(rp)}
        out["verdicts"] = {
            "accuracy": _round(agreement(pairs)), "n": len(pairs), "kappa": _round(cohen_kappa(pairs)),
            "confusion": confusion_table(pairs),
            "by_language": {lang: _round(agreement([(v["expected"], v["predicted"]) for c in scored
                                                     if c["language"] == lang for v in c["verdicts"].values()
                                                     if v["predicted"] is not None])) for lang in langs},
            "per_rule": per_rule,
        }
        entities: dict[str, PrCounts] = {}
        by_lang: dict[str, PrCounts] = {}
        for c in scored:
            for entity, k in c["pii"]["counts"].items():
                pc = PrCounts(**k)
                entities[entity] = entities.get(entity, PrCounts()) + pc
                by_lang[c["language"]] = by_lang.get(c["language"], PrCounts()) + pc
        covered: dict[str, list[int]] = {}
        for c in scored:
            for entity, k in c["pii"].get("covered", {}).items():
                covered.setdefault(entity, [0, 0])
                covered[entity][0] += k["covered"]
                covered[entity][1] += k["values"]
        micro = sum(entities.values(), PrCounts())
        pr = lambda k: {"precision": _round(k.precision), "recall": _round(k.recall), **vars(k)}
        out["pii"] = {
            "micro": pr(micro),
            "per_entity": {e: pr(k) for e, k in sorted(entities.items())},
            "by_language": {lang: pr(k) for lang, k in sorted(by_lang.items())},
            "redacted": {"share": _round(sum(c for c, _ in covered.values()) / sum(n for _, n in covered.values()))
                         if covered else None,
                         "per_entity": {e: {"share": _round(c / n), "covered": c, "values": n}
                                        for e, (c, n) in sorted(covered.items())}},
            "decoys": {"total": sum(c["pii"]["decoys"]["total"] for c in scored),
                       "flagged": sum(len(c["pii"]["decoys"]["flagged"]) for c in scored)},
        }
        errors: dict[str, list[float]] = {}
        for c in scored:
            for name, m in c["metrics"].items():
                if m["error"] is not None:
                    errors.setdefault(name, []).append(m["error"])
        out["metrics"] = {name: {"n": len(e), "mean_error": round(sum(e) / len(e), 3),
                                 "mean_abs_error": round(sum(abs(x) for x in e) / len(e), 3),
                                 "max_abs_error": round(max(abs(x) for x in e), 3)}
                          for name, e in sorted(errors.items(), key=lambda kv: list(METRIC_FIELDS).index(kv[0]))}
    return out


def _rule_order(calls: Sequence[dict[str, Any]], rule: str) -> int:
    for c in calls:
        if rule in c["verdicts"]:
            return list(c["verdicts"]).index(rule)
    return 0


def summary_value(summary: Mapping[str, Any], dotted: str) -> Any:
    value: Any = summary
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def targets(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each target of :data:`TARGETS` with the measured value and whether it is met (None: not measured)."""
    out = []
    for name, key, goal in TARGETS:
        value = summary_value(summary, key)
        out.append({"target": name, "goal": goal, "value": value, "met": None if value is None else value >= goal})
    return out


def _by_language(calls: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for lang in sorted({c["language"] for c in calls}):
        summary = summarise([c for c in calls if c["language"] == lang])
        out[lang] = {"summary": summary, "targets": targets(summary)}
    return out


def _shown_path(path: str | Path) -> str:
    """Relative to the working directory when inside it (reports do not carry the machine's folders)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def build_report(runs: Sequence[EvalRun], reference: Sequence[dict[str, Any]], *, dataset: str, pack: Any,
                 collar: float, tolerance_s: float, command: str = "") -> dict[str, Any]:
    """The JSON report: per run (model) the pooled summary, the targets and every call; plus the reference text."""
    from callqa import __version__

    ref_summary = summarise(reference)
    return {
        "format": REPORT_FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine_version": __version__,
        "command": command,
        "dataset": dataset,
        "pack": {"id": pack.id, "version": pack.version, "sha256": pack.sha256, "path": _shown_path(pack.path)},
        "settings": {"collar_s": collar, "pii_tolerance_s": tolerance_s},
        "runs": [{"model": r.model, "seconds": r.seconds, "summary": (s := summarise(r.calls)), "targets": targets(s),
                  "by_language": _by_language(r.calls), "builtin": r.builtin, "failures": r.failures,
                  "calls": r.calls} for r in runs],
        "reference_text": {"summary": ref_summary, "targets": [t for t in targets(ref_summary)
                                                              if not t["target"].startswith("stereo")],
                           "by_language": _by_language(reference), "calls": list(reference)},
    }


# --------------------------------------------------------------------------- Markdown


def markdown_report(report: Mapping[str, Any]) -> str:
    """A readable report (Markdown tables) of :func:`build_report`'s JSON (see :mod:`callqa.accuracy_report`)."""
    from callqa.accuracy_report import markdown_report as render

    return render(report)


__all__ = [
    "DEFAULT_COLLAR_S",
    "DEFAULT_PII_TOLERANCE_S",
    "LABELS_FORMAT",
    "OUTCOMES",
    "CallLabels",
    "DerCounts",
    "EvalItem",
    "EvalRun",
    "PrCounts",
    "RoleCounts",
    "SpanMatch",
    "WerCounts",
    "agreement",
    "build_report",
    "cohen_kappa",
    "confusion_table",
    "diarization_error",
    "evaluate_call",
    "evaluate_reference",
    "load_dataset",
    "load_labels",
    "markdown_report",
    "match_spans",
    "metric_errors",
    "normalise_for_wer",
    "packaged_model",
    "parse_labels",
    "per_entity_counts",
    "pyannote_sample",
    "reference_transcript",
    "role_counts",
    "run_eval",
    "safe_text",
    "summarise",
    "summary_value",
    "targets",
    "wer_counts",
]
