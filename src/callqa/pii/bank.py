"""Bank details: IBAN (mod-97, written or spoken with its country letters), account and routing numbers,
and the catch-all for long numbers no other detector recognised."""

from __future__ import annotations

import functools
import re
import string
from typing import Iterable, Iterator

from stdnum import iban as std_iban
from stdnum import numdb
from stdnum.us import rtn

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
from callqa.pii.cards import CARD_CONTEXT, NOT_CARD_CONTEXT

# Not bare "bank" / "банк": in a bank's call center that is the company's name ("Northwind Bank").
ACCOUNT_CONTEXT = (
    "account", "acct", "checking", "savings", "bank details", "bank account",
    "счет", "счета", "расчетн", "лицев", "реквизит", "банковск",
    "konto", "konta", "rachun", "numer rachunku", "numer konta", "bankow",
)
IBAN_CONTEXT = ("iban", "international bank", "swift", "bic", "transfer", "перевод", "przelew", "konto", "konta",
                "rachun", "счет", "account")
ROUTING_CONTEXT = ("routing", "aba", "transit number", "bank code", "sort code")

# letter names as a recogniser may write them when someone spells a country code
_LETTER_NAMES = {
    "bee": "b", "cee": "c", "see": "c", "dee": "d", "ee": "e", "ef": "f", "eff": "f", "gee": "g", "aitch": "h",
    "jay": "j", "kay": "k", "el": "l", "ell": "l", "em": "m", "en": "n", "pee": "p", "pe": "p", "ar": "r",
    "es": "s", "ess": "s", "tee": "t", "te": "t", "vee": "v", "zed": "z", "zee": "z", "de": "d", "be": "b",
}
_WRITTEN_IBAN = re.compile(r"(?i)(?<![a-z0-9])([a-z]{2}[ \-]?\d{2}(?:[ \-]?[a-z0-9]){11,32})")


def iban_valid(value: str) -> bool:
    try:
        return bool(std_iban.is_valid(value))
    except Exception:  # stdnum raises only its own errors, but never let a checksum crash detection
        return False


def _letters(word: str) -> str | None:
    w = word.strip(".,;:-").casefold()
    if len(w) == 1 and w.isalpha() and w.isascii():
        return w
    return _LETTER_NAMES.get(w)


def _country_before(doc: PiiDocument, run: DigitRun) -> tuple[str, tuple[tuple[int, int], ...]] | None:
    """Country letters said just before a run: "PL 61 ...", "P L 61 ...", "pee el six one", "PL61 ..."."""
    t_pos, w = min(refs_of(run.nums[:1]))
    words = doc.turns[t_pos].words
    first = words[w].text.strip().casefold()
    m = re.match(r"^([a-z]{2})[\-]?\d", first)
    if m:
        return m.group(1), ()
    if w >= 1:
        prev = words[w - 1].text.strip(" .,;:-").casefold()
        if len(prev) == 2 and prev.isalpha() and prev.isascii():
            return prev, ((t_pos, w - 1),)
        if w >= 2:
            a, b = _letters(words[w - 2].text), _letters(words[w - 1].text)
            if a and b:
                return a + b, ((t_pos, w - 2), (t_pos, w - 1))
    return None


@register("iban.v1")
class IbanDetector:
    """IBANs written ("PL61 1090 ...") or spoken with the country letters, and Polish NRB account numbers (26 digits)."""

    entities = ("IBAN",)
    name = "iban.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        yield from self._written(doc)
        for run in doc.runs:
            yield from self._spoken(doc, run)

    def _written(self, doc: PiiDocument) -> Iterator[Candidate]:
        for t_pos, tw in enumerate(doc.words):
            for m in _WRITTEN_IBAN.finditer(tw.text):
                raw = m.group(1)
                # trim trailing characters until the checksum holds (the pattern is greedy)
                for end in range(len(raw), 14, -1):
                    compact = re.sub(r"[ \-]", "", raw[:end]).upper()
                    if compact[-1:].isalnum() and iban_valid(compact):
                        refs = tuple((t_pos, i) for i in tw.words_in(m.start(1), m.start(1) + end))
                        context = doc.find_context(refs, IBAN_CONTEXT)
                        yield Candidate("IBAN", with_context(0.9, context, 0.05), refs, compact,
                                        f"written IBAN ({compact[:2]}, {len(compact)} characters)", "mod-97", context)
                        break

    def _spoken(self, doc: PiiDocument, run: DigitRun) -> Iterator[Candidate]:
        digits = run.digits
        if len(digits) < 12:
            return
        found = _country_before(doc, run)
        if found:
            country, letter_refs = found
            for a, b in aligned_windows(run, range(len(digits), 11, -1)):
                if a != 0:
                    break
                value = country.upper() + digits[:b]
                if iban_valid(value):
                    refs = tuple(sorted(set(refs_of(run.nums_between(0, b))) | set(letter_refs)))
                    context = doc.find_context(refs, IBAN_CONTEXT)
                    yield Candidate("IBAN", with_context(0.9, context, 0.05), refs, value,
                                    f"spoken IBAN ({value[:2]}, {len(value)} characters)", "mod-97", context,
                                    ("spoken",))
                    return
        # Polish NRB: the 26 digits of a PL IBAN said without "PL"
        for a, b in aligned_windows(run, (26,)):
            value = "PL" + digits[a:b]
            if iban_valid(value):
                refs = refs_of(run.nums_between(a, b))
                context = doc.find_context(refs, IBAN_CONTEXT + ACCOUNT_CONTEXT)
                base = 0.85 if (context or doc.language == "pl") else 0.7
                yield Candidate("IBAN", with_context(base, context, 0.1), refs, value,
                                "Polish account number (NRB, 26 digits)", "mod-97", context)


@functools.lru_cache(maxsize=1)
def iban_lengths() -> dict[str, int]:
    """Country code -> IBAN length (characters), from python-stdnum's IBAN registry."""
    db = numdb.get("iban")
    out: dict[str, int] = {}
    for a in string.ascii_uppercase:
        for b in string.ascii_uppercase:
            info = db.info(a + b)
            bban = info[0][1].get("bban") if info else None
            if bban:
                out[a + b] = 4 + sum(int(n) for n in re.findall(r"(\d+)!", bban))
    return out


@register("iban.v2")
class IbanDetectorV2(IbanDetector):
    """``iban.v1``, plus spoken IBANs whose country letters the recogniser misheard ("DL 91 37 ..." for
    "D E nine one three seven ..."): when the letters heard make no valid IBAN, every country one letter
    away whose IBAN has that length is tried, and the one that passes mod-97 is taken (confidence 0.8,
    tagged ``letters_corrected``; a wrong country passes by chance about once in 97 tries)."""

    name = "iban.v2"

    def _spoken(self, doc: PiiDocument, run: DigitRun) -> Iterator[Candidate]:
        found_any = False
        for cand in super()._spoken(doc, run):
            found_any = True
            yield cand
        if found_any or len(run.digits) < 12:
            return
        heard = _country_before(doc, run)
        if not heard:
            return
        letters, letter_refs = heard
        letters = letters.upper()
        lengths = iban_lengths()
        near = [cc for cc in lengths if cc != letters and sum(x != y for x, y in zip(cc, letters)) == 1]
        digits = run.digits
        for a, b in aligned_windows(run, range(len(digits), 11, -1)):
            if a != 0:
                break
            valid = [cc for cc in near if lengths[cc] == 2 + b and iban_valid(cc + digits[:b])]
            if len(valid) == 1:
                value = valid[0] + digits[:b]
                refs = tuple(sorted(set(refs_of(run.nums_between(0, b))) | set(letter_refs)))
                context = doc.find_context(refs, IBAN_CONTEXT)
                yield Candidate("IBAN", with_context(0.8, context, 0.05), refs, value,
                                f"spoken IBAN, country letters heard as {letters!r} ({value[:2]}, {len(value)} "
                                "characters)", "mod-97", context, ("spoken", "letters_corrected"))
                return


@register("bank_account.v1")
class BankAccountDetector:
    """8-34 digits said after "account number", "номер счёта", "numer konta" (no checksum is universal)."""

    entities = ("BANK_ACCOUNT",)
    name = "bank_account.v1"
    min_digits = 8
    context_words = ACCOUNT_CONTEXT

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for run in doc.runs:
            digits = run.digits
            if run.plus or not self.min_digits <= len(digits) <= 34:
                continue
            refs = refs_of(run.nums)
            context = doc.find_context(refs, self.context_words)
            if not context or _asked_as_card(doc, refs):
                continue
            if len(digits) >= 8:
                yield Candidate("BANK_ACCOUNT", 0.8, refs, digits, f"{len(digits)} digits after an account context word",
                                context=context)
            elif not doc.find_context(refs, NOT_CARD_CONTEXT, after=0, turns=0):
                yield Candidate("BANK_ACCOUNT", 0.6, refs, digits,
                                f"{len(digits)} digits right after an account context word (misheard?)",
                                context=context, tags=("unverified",))


@register("bank_account.v2")
class BankAccountDetectorV2(BankAccountDetector):
    """``bank_account.v1``, plus: 6 or 7 digits after an account word (an 8-digit account the recogniser
    heard a digit short: tagged ``unverified``, confidence 0.6), and "IBAN" as a context word (an IBAN
    whose country letters were misheard fails mod-97, but its digits are still account data)."""

    name = "bank_account.v2"
    min_digits = 6
    context_words = ACCOUNT_CONTEXT + ("iban",)


#: Digits in a row from which a number no detector recognised is redacted all the same.
LONG_NUMBER_MIN_DIGITS = 12
#: Said just before a long number, these make it a business reference, not personal data.
NOT_PERSONAL_CONTEXT = NOT_CARD_CONTEXT + ("delivery", "parcel", "shipment", "booking", "доставк", "посылк",
                                           "бронир", "dostaw", "paczk", "rezerwac")


@register("long_number.v1")
class LongNumberDetector:
    """The safety net: 12 or more digits one speaker said in a row that no other detector recognised.

    Such a number is nearly always sensitive data that the recogniser misheard so that no checksum holds
    ("DE 89 ..." heard as "DL 89 ...", a card with one digit wrong, an account number said without
    "account"). Confidence 0.51, so any typed finding on the same words wins. Not after "order",
    "reference", "tracking", "delivery" ... (said just before it, same turn), and not counting ("one two
    three four ..."). Entity ``LONG_NUMBER``, tagged ``unverified``.
    """

    entities = ("LONG_NUMBER",)
    name = "long_number.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for run in doc.runs:
            digits = run.digits
            if len(digits) < LONG_NUMBER_MIN_DIGITS:
                continue
            refs = refs_of(run.nums)
            if doc.find_context(refs, NOT_PERSONAL_CONTEXT, after=0, turns=0):
                continue
            if is_counting(run):
                continue
            yield Candidate("LONG_NUMBER", 0.51, refs, digits,
                            f"{len(digits)} digits in a row that no checksum or pattern explains (misheard?)",
                            tags=("unverified",))


def _asked_as_card(doc: PiiDocument, refs) -> bool:
    """True when a card context word is said nearer before the number than any account word
    ("... which account? ... Do you have another card? Yes, the card number is ..."): card.v1's to judge."""
    text = doc.context(refs, after=0)
    account = max(text.rfind(" " + k) for k in ACCOUNT_CONTEXT)
    card = max(text.rfind(" " + k) for k in CARD_CONTEXT)
    return card > account


@register("routing_number.v1")
class RoutingNumberDetector:
    """US ABA routing numbers: 9 digits with the ABA checksum (``stdnum.us.rtn``) and a context word."""

    entities = ("ROUTING_NUMBER",)
    name = "routing_number.v1"

    def find(self, doc: PiiDocument) -> Iterable[Candidate]:
        for run in doc.runs:
            digits = run.digits
            if len(digits) != 9 or not rtn.is_valid(digits):
                continue
            refs = refs_of(run.nums)
            context = doc.find_context(refs, ROUTING_CONTEXT)
            if context:
                yield Candidate("ROUTING_NUMBER", 0.9, refs, digits, "9 digits after a routing context word", "ABA",
                                context)
