"""Payment cards: the number (Luhn + brand prefix and length), the CVV/CVC and the expiry date.

Brand ranges are the issuers' published IIN ranges (ISO/IEC 7812 prefixes):
Visa, Mastercard (51-55 and the 2-series 2221-2720), American Express,
Discover, JCB, Diners Club, UnionPay, Maestro, Mir, RuPay, UATP, Dankort,
Troy and Verve, with the lengths each issues (13 to 19 digits).

Precision: a value is cut only where a spoken or written number starts or
ends, needs 13-19 digits, a valid Luhn check digit (``stdnum.luhn``), and
either a known brand range or a context word; so the last four digits alone,
an order number failing Luhn, prices ("forty nine ninety nine", "$1,250.00"),
times of day, years and counts are not cards.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

from stdnum import luhn

from callqa.pii.base import (
    Candidate,
    DigitRun,
    PiiDocument,
    aligned_windows,
    is_counting,
    refs_of,
    register,
    with_context,
)

# (brand, prefix ranges as (low, high) over the first len(low) digits, lengths)
_BRANDS: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[int, ...]], ...] = (
    ("Verve", (("506099", "506198"), ("650002", "650027")), (16, 18, 19)),
    ("Dankort", (("5019", "5019"),), (16,)),
    ("American Express", (("34", "34"), ("37", "37")), (15,)),
    ("Mir", (("2200", "2204"),), (16, 17, 18, 19)),
    ("Mastercard", (("51", "55"), ("2221", "2720")), (16,)),
    ("Visa", (("4", "4"),), (13, 16, 19)),
    ("Discover", (("6011", "6011"), ("644", "649"), ("65", "65"), ("622126", "622925")), (16, 17, 18, 19)),
    ("JCB", (("3528", "3589"),), (16, 17, 18, 19)),
    ("Diners Club", (("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")), (14, 15, 16, 17, 18, 19)),
    ("UnionPay", (("62", "62"), ("81", "81")), (16, 17, 18, 19)),
    ("Maestro", (("50", "50"), ("56", "69")), (12, 13, 14, 15, 16, 17, 18, 19)),
    ("RuPay", (("60", "60"), ("65", "65"), ("81", "82"), ("508", "508")), (16,)),
    ("Troy", (("9792", "9792"),), (16,)),
    ("UATP", (("1", "1"),), (15,)),
)

CARD_CONTEXT = (
    "card", "credit", "debit", "visa", "mastercard", "amex", "american express", "long number", "number on the front",
    "карт", "кредитк", "дебетов", "номер карт", "виза", "мастеркард", "мир ",
    "kart", "karty", "kartę", "kredytow", "debetow", "numer karty",
)
#: Narrower than CARD_CONTEXT: asked or said for the number itself (used without a checksum).
CARD_NUMBER_CONTEXT = ("card number", "number on the card", "long number", "номер карты", "номер вашей карты",
                       "numer karty")
#: Said just before a number, these make it something else than a card.
NOT_CARD_CONTEXT = ("order", "reference", "confirmation", "tracking", "invoice", "ticket", "case", "policy",
                    "заказ", "накладн", "счет-фактур", "обращени", "zamówieni", "faktur", "zgłoszeni", "przesyłk")
CVV_CONTEXT = (
    "cvv", "cvc", "cv2", "cid", "security code", "security number", "three digit", "3 digit", "3-digit", "four digit code",
    "on the back", "verification code", "card code",
    "свв", "сививи", "код безопасности", "защитный код", "три цифры", "3 цифры", "на обороте", "на обратной",
    "код с обратной", "проверочный код", "cvv код", "cvc код",
    "kod bezpieczeństwa", "kod cvv", "kod cvc", "trzy cyfry", "3 cyfry", "z tyłu", "na odwrocie", "kod weryfikacyjny",
)
EXPIRY_CONTEXT = (
    "expir", "exp date", "valid thru", "valid through", "valid until", "valid till", "good thru", "good through",
    "срок действия", "действительна до", "действует до", "истекает", "годна до",
    "data ważności", "ważności", "ważna do", "wygasa", "termin ważności",
)


def card_brand(number: str) -> str | None:
    """The brand whose prefix range and length match ``number`` (digits only), else None."""
    for brand, ranges, lengths in _BRANDS:
        if len(number) not in lengths:
            continue
        for low, high in ranges:
            head = number[: len(low)]
            if low <= head <= high:
                return brand
    return None


def luhn_ok(number: str) -> bool:
    return number.isdigit() and luhn.is_valid(number)


def _best_card(doc: PiiDocument, run: DigitRun, start: int) -> tuple[int, int, Candidate] | None:
    """The most likely card number in the run at or after digit offset ``start``."""
    digits = run.digits
    best: tuple[tuple, int, int, Candidate] | None = None
    for a, b in aligned_windows(run, range(13, 20)):
        if a < start:
            continue
        number = digits[a:b]
        if not luhn_ok(number) or set(number) == {"0"}:
            continue
        nums = run.nums_between(a, b)
        refs = refs_of(nums)
        brand = card_brand(number)
        context = doc.find_context(refs, CARD_CONTEXT)
        if brand:
            score = with_context(0.8, context)
            pattern = f"{brand} range, {len(number)} digits"
        else:
            if not context or (a, b) != (start, len(digits)):
                continue  # no brand: only a whole run said after a card context word
            score = 0.7
            pattern = f"{len(number)} digits, no known brand range"
        tags = ["full_number"]
        kinds = {n.kind for n in nums}
        tags.append("spoken" if "spoken" in kinds else "written")
        cand = Candidate("CARD_NUMBER", score, refs, number, pattern, "Luhn", context, tuple(tags))
        rank = (score, -a, b == len(digits), len(number) == 16, len(number))
        if best is None or rank > best[0]:
            best = (rank, a, b, cand)
    return best[1:] if best is not None else None


_MMYY = re.compile(r"^(0[1-9]|1[0-2])(\d{2}|20\d{2})$")


@register("card.v1")
class CardDetector:
    """13-19 digit card numbers, spoken or written, split across turns or not; Luhn required."""

    entities = ("CARD_NUMBER", "CVV", "CARD_EXPIRY")
    name = "card.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for run in doc.runs:
            start, any_card = 0, False
            while len(run.digits) - start >= 13:
                found = _best_card(doc, run, start)
                if found is None:
                    break
                a, b, cand = found
                any_card = True
                yield cand
                if b == len(run.digits) or len(run.digits) - b < 13:
                    yield from self._after_card(doc, run, b)
                start = b
            if not any_card:
                yield from self._misheard(doc, run)

    def _misheard(self, doc: PiiDocument, run: DigitRun) -> Iterator[Candidate]:
        """A card-length run that fails Luhn, said in answer to "card number": most likely a card the
        recogniser misheard by a digit. Redacted all the same, as ``unverified`` (never ``full_number``)."""
        digits = run.digits
        if not 12 <= len(digits) <= 20 or run.plus:
            return
        refs = refs_of(run.nums)
        if doc.find_context(refs, NOT_CARD_CONTEXT, after=0, turns=0):
            return  # "my order number is ..."
        if is_counting(run):
            return  # counting: "one two three four ..."
        context = doc.find_context(refs, CARD_NUMBER_CONTEXT, after=0, turns=1)
        if context:
            yield Candidate("CARD_NUMBER", 0.55, refs, digits, f"{len(digits)} digits right after a card number "
                            "context word, Luhn fails (misheard?)", None, context, ("unverified",))

    def _after_card(self, doc: PiiDocument, run: DigitRun, b: int) -> Iterator[Candidate]:
        """Customers often go straight on: "... 0045, 05 27, 123": expiry and CVV right after the number."""
        rest = run.digits[b:]
        if not rest or b not in run.boundaries:
            return
        if len(rest) in (3, 4) and not _MMYY.match(rest):
            nums = run.nums_between(b, len(run.digits))
            yield Candidate("CVV", 0.6, refs_of(nums), rest, "3-4 digits right after a card number", tags=("after_card",))
        elif len(rest) == 7 and _MMYY.match(rest[:4]) and b + 4 in run.boundaries:
            yield Candidate("CARD_EXPIRY", 0.6, refs_of(run.nums_between(b, b + 4)), rest[:4],
                            "MMYY right after a card number", tags=("after_card",))
            yield Candidate("CVV", 0.6, refs_of(run.nums_between(b + 4, len(run.digits))), rest[4:],
                            "3 digits after a card number and expiry", tags=("after_card",))
        elif len(rest) == 4 and _MMYY.match(rest):
            yield Candidate("CARD_EXPIRY", 0.55, refs_of(run.nums_between(b, len(run.digits))), rest,
                            "MMYY right after a card number", tags=("after_card",))


@register("card_cvv.v1")
class CvvDetector:
    """3-4 digits said after "CVV", "security code", "код безопасности", "kod CVV" (or asked for just before)."""

    entities = ("CVV",)
    name = "card_cvv.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for run in doc.runs:
            digits = run.digits
            if len(digits) not in (3, 4) or run.plus:
                continue
            refs = refs_of(run.nums)
            context = doc.find_context(refs, CVV_CONTEXT, after=0)
            if context:
                yield Candidate("CVV", 0.85, refs, digits, "3-4 digits after a CVV context word", context=context)


MONTHS = {
    # en, ru (nominative and genitive), pl (nominative and genitive): month number
    **{m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                    "september", "october", "november", "december"], 1)},
    **{m: i for i, m in enumerate(["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
                                    "сентябрь", "октябрь", "ноябрь", "декабрь"], 1)},
    **{m: i for i, m in enumerate(["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
                                    "сентября", "октября", "ноября", "декабря"], 1)},
    **{m: i for i, m in enumerate(["styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień",
                                    "wrzesień", "październik", "listopad", "grudzień"], 1)},
    **{m: i for i, m in enumerate(["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia",
                                    "września", "października", "listopada", "grudnia"], 1)},
}


@register("card_expiry.v1")
class ExpiryDetector:
    """MM/YY (or a month name and year) said after "expiry", "срок действия", "data ważności"."""

    entities = ("CARD_EXPIRY",)
    name = "card_expiry.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for run in doc.runs:
            digits = run.digits
            if run.plus:
                continue
            refs = refs_of(run.nums)
            t_pos, w = min(refs)
            before = doc.words[t_pos].folded[w - 1] if w > 0 else ""
            if before in MONTHS and len(digits) in (2, 4):
                # "expires may twenty twenty seven"
                refs = tuple(sorted(set(refs) | {(t_pos, w - 1)}))
                value, pattern = f"{MONTHS[before]:02d}{digits[-2:]}", "month name and year after an expiry context word"
            elif len(digits) in (4, 6) and _MMYY.match(digits):
                value, pattern = digits, "MM/YY after an expiry context word"
            else:
                continue
            context = doc.find_context(refs, EXPIRY_CONTEXT, after=0)
            if context:
                yield Candidate("CARD_EXPIRY", 0.85, refs, value, pattern, context=context)
