"""National ID and tax numbers: US SSN, Polish PESEL and NIP, Russian INN and SNILS.

Checksums come from python-stdnum (``us.ssn``, ``pl.pesel``, ``pl.nip``,
``ru.inn``); SNILS is not in stdnum, so :func:`snils_valid` implements the
published rule. A short number passes a checksum by chance one time in ten
or so, so these detectors need a context word ("PESEL", "ИНН", "social
security") unless the number's own country and form make it unambiguous.
"""

from __future__ import annotations

import re
from typing import Iterable

from stdnum.pl import nip, pesel
from stdnum.ru import inn
from stdnum.us import ssn

from callqa.pii.base import Candidate, PiiDocument, refs_of, register, with_context

SSN_CONTEXT = ("social security", "social", "ssn", "ss number", "ss#")
PESEL_CONTEXT = ("pesel", "песел")
NIP_CONTEXT = ("nip", "identyfikacji podatkowej", "numer podatkowy", "numeru podatkowego")
INN_CONTEXT = ("инн", "inn", "налогоплательщ", "идентификационн")
SNILS_CONTEXT = ("снилс", "snils", "страхов", "пенсионн")

_SSN_WRITTEN = re.compile(r"^\d{3}([-. ])\d{2}\1\d{4}$")


def snils_valid(number: str) -> bool:
    """Russian SNILS (11 digits): the last two digits are the check number of the first nine.

    Weights 9..1 over the first nine digits; a sum below 100 is the check
    number itself, 100 and 101 give 00, a larger sum is taken mod 101 (and a
    result of 100 gives 00). Numbers up to 001-001-998 carry no check number
    and are not accepted.
    """
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) != 11 or digits != number.replace("-", "").replace(" ", ""):
        return False
    body, check = digits[:9], int(digits[9:])
    if int(body) <= 1001998:
        return False
    total = sum(int(d) * w for d, w in zip(body, range(9, 0, -1)))
    if total > 101:
        total %= 101
    expected = 0 if total in (100, 101) else total
    return expected == check


def _safe(fn, value: str) -> bool:
    try:
        return bool(fn(value))
    except Exception:
        return False


def _written_words(doc: PiiDocument, refs) -> str:
    """The recogniser's own text of the words of a run (to see its separators)."""
    return " ".join(doc.turns[t].words[w].text.strip() for t, w in refs)


@register("us_ssn.v1")
class UsSsnDetector:
    """US Social Security numbers: 9 digits, valid area/group/serial (``stdnum.us.ssn``), context or ddd-dd-dddd form."""

    entities = ("US_SSN",)
    name = "us_ssn.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for run in doc.runs:
            digits = run.digits
            if run.plus:
                continue
            refs = refs_of(run.nums)
            if len(digits) in (8, 10):
                # said right after "social security number" but a digit short or long: most likely misheard
                # by the recogniser; still somebody's SSN, so it is redacted (lower confidence, tagged)
                context = doc.find_context(refs, ("social security number", "ssn"), after=0, turns=0)
                if context:
                    yield Candidate("US_SSN", 0.55, refs, digits, f"{len(digits)} digits right after "
                                    "'social security number' (9 expected: misheard?)", None, context, ("unverified",))
                continue
            if len(digits) != 9 or not _safe(ssn.is_valid, digits):
                continue
            context = doc.find_context(refs, SSN_CONTEXT)
            written = _written_words(doc, refs)
            formatted = bool(_SSN_WRITTEN.match(written))
            if context:
                score, pattern = 0.9, "9 digits after a social security context word"
            elif formatted:
                score, pattern = 0.6, "written as ddd-dd-dddd"
            else:
                continue
            yield Candidate("US_SSN", score, refs, digits, pattern, "SSN area/group/serial", context)


@register("pl_pesel.v1")
class PeselDetector:
    """Polish PESEL: 11 digits, check digit and birth date valid (``stdnum.pl.pesel``)."""

    entities = ("PL_PESEL",)
    name = "pl_pesel.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for run in doc.runs:
            digits = run.digits
            if len(digits) != 11 or run.plus or not _safe(pesel.is_valid, digits):
                continue
            refs = refs_of(run.nums)
            context = doc.find_context(refs, PESEL_CONTEXT)
            if context:
                score = 0.9
            elif doc.language == "pl":
                score = 0.6
            else:
                continue
            yield Candidate("PL_PESEL", score, refs, digits, "11 digits with a valid birth date", "PESEL", context)


@register("pl_nip.v1")
class NipDetector:
    """Polish tax number NIP: 10 digits with the NIP check digit and a context word."""

    entities = ("PL_NIP",)
    name = "pl_nip.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for run in doc.runs:
            digits = run.digits
            if len(digits) != 10 or run.plus or not _safe(nip.is_valid, digits):
                continue
            refs = refs_of(run.nums)
            context = doc.find_context(refs, NIP_CONTEXT)
            if context:
                yield Candidate("PL_NIP", 0.85, refs, digits, "10 digits after a NIP context word", "NIP", context)


@register("ru_inn.v1")
class InnDetector:
    """Russian taxpayer number INN: 10 (company) or 12 (person) digits with their check digits."""

    entities = ("RU_INN",)
    name = "ru_inn.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for run in doc.runs:
            digits = run.digits
            if len(digits) not in (10, 12) or run.plus or not _safe(inn.is_valid, digits):
                continue
            refs = refs_of(run.nums)
            context = doc.find_context(refs, INN_CONTEXT)
            if context:
                score = 0.85
            elif doc.language == "ru" and len(digits) == 12:
                score = 0.55
            else:
                continue
            yield Candidate("RU_INN", score, refs, digits, f"{len(digits)} digits", "INN", context)


@register("ru_snils.v1")
class SnilsDetector:
    """Russian insurance number SNILS: 11 digits with its mod-101 check number."""

    entities = ("RU_SNILS",)
    name = "ru_snils.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for run in doc.runs:
            digits = run.digits
            if len(digits) != 11 or run.plus or not snils_valid(digits):
                continue
            refs = refs_of(run.nums)
            context = doc.find_context(refs, SNILS_CONTEXT)
            if context:
                score = 0.85
            elif doc.language == "ru":
                score = 0.5
            else:
                continue
            yield Candidate("RU_SNILS", with_context(score, ()), refs, digits, "11 digits", "SNILS mod-101", context)
