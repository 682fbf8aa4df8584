"""Text normalisation shared by matching and detection.

``fold`` makes text comparable across recogniser quirks: Unicode NFKC,
case-folded, ``ё`` -> ``е``, punctuation removed (apostrophes kept inside
words), whitespace collapsed. Matching always runs on folded text and maps
positions back to the original words (see ``FoldedWords``).

Spoken numbers
--------------
``spoken_numbers(words, language)`` finds the numbers in a sequence of
recognised words and says which words carry each one, so that a finding can
be located in time and redacted word by word. It reads, for English, Russian
and Polish:

* digits the recogniser already wrote: ``4532``, ``45-32``, ``4,532``,
  ``12/25``; amounts (``$1,250.00``, ``49.99``, ``12,50``), percentages,
  clock times (``4:30``) and ordinals (``15th``) are kept apart (``kind``);
* cardinals with their inflections: "forty two", "one hundred and five",
  "twenty five hundred", "сорок два", "сорока двух", "двухсот",
  "czterdzieści dwa", "czterdziestu dwóch", "dwieście", "tysiąc";
* digit strings read one by one or in pairs: "four five three two",
  "forty five thirty two", "oh five", "zero", "nought", "ноль", "zero";
* repeats: "double seven", "triple oh", "podwójne siedem", and the Russian /
  Polish way of saying it, "три семёрки", "два нуля", "dwa zera",
  "trzy siódemki".

Consecutive cardinals are *not* added up: "forty five thirty two" is the
digits ``45`` then ``32``; "nineteen eighty four" is ``19`` ``84``. Callers
concatenate the digits of adjacent numbers themselves (see ``callqa.pii``).

Why our own parser: text2num (``alpha2digit``) covers English but not Russian
or Polish and number-parser covers Russian but not Polish; neither reads
"double seven" / "oh", and neither maps a number back to the words (and so
the times) it came from, which redaction needs. Russian inflected forms are
reduced to their lemma with pymorphy3 (a dependency already), Polish forms are
listed below.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

_PUNCT = re.compile(r"[^\w\s']+", re.UNICODE)
_EDGE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е").replace("’", "'").replace("`", "'")
    text = _PUNCT.sub(" ", text)
    text = _EDGE_APOSTROPHE.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class FoldedWords:
    """Folded text of a word sequence with a map from characters back to word indices.

    ``text`` is the folded words joined by single spaces (words that fold to
    nothing are skipped); ``starts[i]`` is the offset of the i-th kept word and
    ``indices[i]`` its position in the original sequence.
    """

    text: str
    starts: tuple[int, ...]
    indices: tuple[int, ...]

    @classmethod
    def of(cls, words: Sequence[str]) -> "FoldedWords":
        parts, starts, indices = [], [], []
        pos = 0
        for i, word in enumerate(words):
            f = fold(word)
            if not f:
                continue
            starts.append(pos)
            indices.append(i)
            parts.append(f)
            pos += len(f) + 1
        return cls(" ".join(parts), tuple(starts), tuple(indices))

    def word_at(self, char: int) -> int:
        """Original index of the word covering folded offset ``char`` (clamped)."""
        if not self.indices:
            raise IndexError("no words")
        k = bisect.bisect_right(self.starts, max(char, 0)) - 1
        return self.indices[max(0, min(k, len(self.indices) - 1))]

    def word_range(self, char_start: int, char_end: int) -> tuple[int, int]:
        """Original word indices [first, last] covered by folded text[char_start:char_end]."""
        return self.word_at(char_start), self.word_at(max(char_start, char_end - 1))


# =========================================================================== spoken numbers

#: Languages with their own number words; any other language reads all of them.
NUMBER_LANGUAGES = ("en", "ru", "pl")

# token classes
_UNIT, _TEEN, _TENS, _HUNDREDS, _HUNDRED, _SCALE, _MULT, _A, _AND, _PLUS, _DIGIT_NOUN, _OH = (
    "unit", "teen", "tens", "hundreds", "hundred", "scale", "mult", "a", "and", "plus", "digit_noun", "oh",
)

_EN: dict[str, tuple[str, int]] = {
    "zero": (_UNIT, 0), "nought": (_UNIT, 0), "naught": (_UNIT, 0), "oh": (_OH, 0), "o": (_OH, 0),
    "one": (_UNIT, 1), "two": (_UNIT, 2), "three": (_UNIT, 3), "four": (_UNIT, 4), "five": (_UNIT, 5),
    "six": (_UNIT, 6), "seven": (_UNIT, 7), "eight": (_UNIT, 8), "nine": (_UNIT, 9),
    "ten": (_TEEN, 10), "eleven": (_TEEN, 11), "twelve": (_TEEN, 12), "thirteen": (_TEEN, 13),
    "fourteen": (_TEEN, 14), "fifteen": (_TEEN, 15), "sixteen": (_TEEN, 16), "seventeen": (_TEEN, 17),
    "eighteen": (_TEEN, 18), "nineteen": (_TEEN, 19),
    "twenty": (_TENS, 20), "thirty": (_TENS, 30), "forty": (_TENS, 40), "fourty": (_TENS, 40), "fifty": (_TENS, 50),
    "sixty": (_TENS, 60), "seventy": (_TENS, 70), "eighty": (_TENS, 80), "ninety": (_TENS, 90),
    "hundred": (_HUNDRED, 100), "thousand": (_SCALE, 1000), "million": (_SCALE, 1_000_000),
    "double": (_MULT, 2), "triple": (_MULT, 3), "a": (_A, 1), "and": (_AND, 0), "plus": (_PLUS, 0),
}

_RU_LEMMAS: dict[str, tuple[str, int]] = {
    "ноль": (_UNIT, 0), "нуль": (_UNIT, 0), "один": (_UNIT, 1), "два": (_UNIT, 2), "три": (_UNIT, 3),
    "четыре": (_UNIT, 4), "пять": (_UNIT, 5), "шесть": (_UNIT, 6), "семь": (_UNIT, 7), "восемь": (_UNIT, 8),
    "девять": (_UNIT, 9), "десять": (_TEEN, 10), "одиннадцать": (_TEEN, 11), "двенадцать": (_TEEN, 12),
    "тринадцать": (_TEEN, 13), "четырнадцать": (_TEEN, 14), "пятнадцать": (_TEEN, 15), "шестнадцать": (_TEEN, 16),
    "семнадцать": (_TEEN, 17), "восемнадцать": (_TEEN, 18), "девятнадцать": (_TEEN, 19),
    "двадцать": (_TENS, 20), "тридцать": (_TENS, 30), "сорок": (_TENS, 40), "пятьдесят": (_TENS, 50),
    "шестьдесят": (_TENS, 60), "семьдесят": (_TENS, 70), "восемьдесят": (_TENS, 80), "девяносто": (_TENS, 90),
    "сто": (_HUNDREDS, 100), "двести": (_HUNDREDS, 200), "триста": (_HUNDREDS, 300), "четыреста": (_HUNDREDS, 400),
    "пятьсот": (_HUNDREDS, 500), "шестьсот": (_HUNDREDS, 600), "семьсот": (_HUNDREDS, 700),
    "восемьсот": (_HUNDREDS, 800), "девятьсот": (_HUNDREDS, 900),
    "тысяча": (_SCALE, 1000), "миллион": (_SCALE, 1_000_000),
    "единица": (_DIGIT_NOUN, 1), "двойка": (_DIGIT_NOUN, 2), "тройка": (_DIGIT_NOUN, 3), "четверка": (_DIGIT_NOUN, 4),
    "пятерка": (_DIGIT_NOUN, 5), "шестерка": (_DIGIT_NOUN, 6), "семерка": (_DIGIT_NOUN, 7),
    "восьмерка": (_DIGIT_NOUN, 8), "девятка": (_DIGIT_NOUN, 9),
    "плюс": (_PLUS, 0),
}
# forms that pymorphy3 would also find, listed so the common case needs no analyser
_RU_FORMS: dict[str, tuple[str, int]] = {
    **{k: v for k, v in _RU_LEMMAS.items() if k not in ("ноль", "нуль")},
    "ноль": (_UNIT, 0), "нуль": (_UNIT, 0), "нуля": (_DIGIT_NOUN, 0), "нулей": (_DIGIT_NOUN, 0),
    "ноля": (_DIGIT_NOUN, 0), "нолей": (_DIGIT_NOUN, 0), "одна": (_UNIT, 1), "одно": (_UNIT, 1), "две": (_UNIT, 2),
    "тысячи": (_SCALE, 1000), "тысяч": (_SCALE, 1000), "тысячу": (_SCALE, 1000),
}
_RU_STEMS = ("нол", "нул", "оди", "одн", "два", "дву", "две", "три", "тре", "тро", "чет", "пят", "шес", "сем",
             "вос", "дев", "дес", "сор", "сто", "ста", "сот", "тыс", "мил", "еди", "дво")


def _pl_table() -> dict[str, tuple[str, int]]:
    table: dict[str, tuple[str, int]] = {}

    def add(kind: str, value: int, *forms: str) -> None:
        for form in forms:
            table[form] = (kind, value)

    add(_UNIT, 0, "zero", "zeru", "zerem")
    add(_DIGIT_NOUN, 0, "zera", "zer")
    add(_UNIT, 1, "jeden", "jedna", "jedno", "jednego", "jednej", "jednemu", "jednym", "jedną", "jednej")
    add(_UNIT, 2, "dwa", "dwie", "dwóch", "dwu", "dwom", "dwoma", "dwiema")
    add(_UNIT, 3, "trzy", "trzech", "trzem", "trzema")
    add(_UNIT, 4, "cztery", "czterech", "czterem", "czterema")
    for value, (nom, stem) in enumerate(
        [("pięć", "pięci"), ("sześć", "sześci"), ("siedem", "siedmi"), ("osiem", "ośmi"), ("dziewięć", "dziewięci")], 5
    ):
        add(_UNIT, value, nom, stem + "u", stem + "oma")
    add(_TEEN, 10, "dziesięć", "dziesięciu", "dziesięcioma")
    for value, stem in enumerate(
        ["jedena", "dwuna", "trzyna", "czterna", "piętna", "szesna", "siedemna", "osiemna", "dziewiętna"], 11
    ):
        add(_TEEN, value, stem + "ście", stem + "stu", stem + "stoma")
    add(_TEEN, 12, "dwanaście")
    add(_TENS, 20, "dwadzieścia", "dwudziestu", "dwudziestoma")
    add(_TENS, 30, "trzydzieści", "trzydziestu", "trzydziestoma")
    add(_TENS, 40, "czterdzieści", "czterdziestu", "czterdziestoma")
    for value, stem in ((50, "pięć"), (60, "sześć"), (70, "siedem"), (80, "osiem"), (90, "dziewięć")):
        add(_TENS, value, stem + "dziesiąt", stem + "dziesięciu", stem + "dziesięcioma")
    add(_HUNDREDS, 100, "sto", "stu", "stoma")
    add(_HUNDREDS, 200, "dwieście", "dwustu", "dwustoma")
    add(_HUNDREDS, 300, "trzysta", "trzystu")
    add(_HUNDREDS, 400, "czterysta", "czterystu")
    for value, (nom, obl) in enumerate(
        [("pięćset", "pięciuset"), ("sześćset", "sześciuset"), ("siedemset", "siedmiuset"), ("osiemset", "ośmiuset"),
         ("dziewięćset", "dziewięciuset")], 5
    ):
        add(_HUNDREDS, value * 100, nom, obl)
    add(_SCALE, 1000, "tysiąc", "tysiąca", "tysiące", "tysięcy", "tysiącem", "tysiącach", "tysiącu")
    add(_SCALE, 1_000_000, "milion", "miliona", "miliony", "milionów")
    for value, stem in enumerate(["jedyn", "dwój", "trój", "czwór", "piąt", "szóst", "siódem", "ósem", "dziewiąt"], 1):
        add(_DIGIT_NOUN, value, stem + "ka", stem + "ki")
        if value != 5:  # "piątek" is Friday
            add(_DIGIT_NOUN, value, stem + "ek")
    add(_MULT, 2, "podwójne", "podwójna", "podwójny", "podwójnie")
    add(_MULT, 3, "potrójne", "potrójna", "potrójny", "potrójnie")
    add(_PLUS, 0, "plus")
    return table


_PL = _pl_table()

_FILLERS = {
    "en": frozenset({"um", "umm", "uh", "uhh", "er", "erm", "ah", "hmm", "mm", "and", "then", "so", "okay", "ok"}),
    "ru": frozenset({"э", "ээ", "эээ", "эм", "мм", "ну", "и", "вот", "так", "еще", "ещё"}),
    "pl": frozenset({"yyy", "yy", "eee", "ee", "eem", "hmm", "mmm", "no", "i", "a", "potem", "dalej"}),
}
_ALL_FILLERS = frozenset().union(*_FILLERS.values())


def number_language(language: str | None) -> str | None:
    """``"en-US"`` -> ``"en"``; ``None`` for languages without their own tables (they read all of them)."""
    if not language:
        return None
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return code if code in NUMBER_LANGUAGES else None


def is_filler(word: str, language: str | None = None) -> bool:
    """A hesitation or connective that may sit inside a number read aloud ("um", "и", "yyy")."""
    f = fold(word)
    lang = number_language(language)
    return f in (_FILLERS[lang] if lang else _ALL_FILLERS)


@functools.lru_cache(maxsize=1)
def _morph():
    try:
        import pymorphy3

        return pymorphy3.MorphAnalyzer()
    except Exception:  # pragma: no cover - pymorphy3 is a dependency; without it only listed forms are read
        return None


@functools.lru_cache(maxsize=8192)
def _ru_lookup(word: str) -> tuple[str, int] | None:
    hit = _RU_FORMS.get(word)
    if hit is not None or len(word) < 3 or not word.startswith(_RU_STEMS):
        return hit
    morph = _morph()
    if morph is None:
        return None
    for parse in morph.parse(word):
        lemma = parse.normal_form.replace("ё", "е")
        if lemma in _RU_LEMMAS and parse.tag.POS in ("NUMR", "NOUN", "ADJF"):
            kind, value = _RU_LEMMAS[lemma]
            if lemma in ("ноль", "нуль") and word not in ("ноль", "нуль"):
                return (_DIGIT_NOUN, 0)  # "два нуля" = two zeros
            return kind, value
    return None


def _lookup(word: str, lang: str | None) -> tuple[str, int] | None:
    if lang == "en":
        return _EN.get(word)
    if lang == "ru":
        return _ru_lookup(word)
    if lang == "pl":
        return _PL.get(word)
    return _EN.get(word) or _PL.get(word) or (_ru_lookup(word) if not word.isascii() else None)


@dataclass(frozen=True, slots=True)
class NumberToken:
    """A number in a word sequence.

    ``digits`` is how it is written ("42", "0", "777", "4532"; "+" for a spoken
    or written plus sign). ``words`` are the indices of every input word that
    carries part of it. ``kind``:

    * ``"spoken"`` -- said as words;
    * ``"written"`` -- digits the recogniser wrote (separators dropped);
    * ``"amount"`` -- a price, decimal, percentage or clock time (``$1,250.00``,
      ``49.99``, ``4:30``, ``15%``): never part of a longer number;
    * ``"ordinal"`` -- ``15th``, ``1st``;
    * ``"plus"`` -- a "+" before a phone number.
    """

    digits: str
    words: tuple[int, ...]
    kind: str

    @property
    def value(self) -> int | None:
        return int(self.digits) if self.digits.isdigit() else None


_WRITTEN = re.compile(r"\+?\d[\d\-/.,:()]*\d|\+?\d")
_AMOUNT_MARK = re.compile(r"[$€£¥₽₴%]|zł|pln|usd|eur|rub")
_DECIMAL_END = re.compile(r"\d[.,]\d{1,2}$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_CLOCK = re.compile(r"^\d{1,2}:\d{2}$")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th|-?го|-?е|-?й|-?я|\.)$")
_SUBTOKEN = re.compile(r"\+?\d[\d\-/.,:()]*\d%?|\+?\d%?|[^\W\d_]+(?:'[^\W\d_]+)?|\+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class _Sub:
    text: str  # folded
    word: int
    written: str | None = None  # digits for a written number
    kind: str = ""  # written | amount | ordinal


def _subtokens(words: Sequence[str]) -> list[_Sub]:
    out: list[_Sub] = []
    for i, raw in enumerate(words):
        text = unicodedata.normalize("NFKC", raw).strip().casefold().replace("ё", "е").replace("’", "'")
        if not text:
            continue
        if any(ch.isdigit() for ch in text):
            compact = text.strip(".,;:!?\"'()[]")
            m = _ORDINAL.match(compact)
            if m:
                out.append(_Sub(compact, i, m.group(1), "ordinal"))
                continue
            if _AMOUNT_MARK.search(compact) or _CLOCK.match(compact) or (
                _DECIMAL_END.search(compact) and not _THOUSANDS.match(compact)
            ):
                digits = "".join(ch for ch in compact if ch.isdigit())
                out.append(_Sub(compact, i, digits, "amount"))
                continue
        for m in _SUBTOKEN.finditer(text):
            piece = m.group(0)
            if piece[0].isdigit() or (piece[0] == "+" and len(piece) > 1):
                digits = "".join(ch for ch in piece if ch.isdigit())
                if piece.startswith("+"):
                    out.append(_Sub("+", i, "+", "plus"))
                out.append(_Sub(piece, i, digits, "amount" if piece.endswith("%") else "written"))
            elif piece == "+":
                out.append(_Sub("+", i, "+", "plus"))
            else:
                out.append(_Sub(piece, i))
    return out


class _Composite:
    """A cardinal being built: ``total`` from finished scales plus ``group`` (< 1000)."""

    __slots__ = ("total", "group", "last", "scale", "words")

    def __init__(self, kind: str, value: int, words: list[int]):
        self.total, self.group, self.scale = 0, 0, 10**12
        self.words = list(words)
        self.last = kind
        if kind == _SCALE:
            self.total, self.scale, self.group = value, value, 0
        else:
            self.group = value

    def accepts(self, kind: str, value: int) -> bool:
        last = self.last
        if kind == _UNIT:
            return value != 0 and ((last == _TENS and self.group % 10 == 0) or last in (_HUNDREDS, _HUNDRED, _SCALE, _AND))
        if kind in (_TEEN, _TENS):
            return last in (_HUNDREDS, _HUNDRED, _SCALE, _AND) and self.group % 100 == 0
        if kind == _HUNDREDS:
            return last == _SCALE and self.group == 0
        if kind == _HUNDRED:
            return last in (_UNIT, _TEEN, _TENS) and 0 < self.group < (100 if self.total == 0 else 10)
        if kind == _SCALE:
            return last != _SCALE and value < self.scale and 0 < self.group < 1000 and (self.total == 0 or self.total > value * 999)
        return False

    def add(self, kind: str, value: int, word: int) -> None:
        if kind == _HUNDRED:
            self.group *= 100
        elif kind == _SCALE:
            self.total += self.group * value
            self.group, self.scale = 0, value
        else:
            self.group += value
        self.last = kind
        self.words.append(word)

    @property
    def value(self) -> int:
        return self.total + self.group


def spoken_numbers(words: Sequence[str], language: str | None = None) -> tuple[NumberToken, ...]:
    """The numbers in ``words`` (one recogniser word each), in order, with the words that carry them."""
    lang = number_language(language)
    subs = _subtokens(words)
    # classify
    classes: list[tuple[str, int] | None] = []
    for s in subs:
        if s.written is not None:
            classes.append(("written" if s.kind == "plus" else s.kind, 0))
        else:
            classes.append(_lookup(s.text, lang))
    out: list[NumberToken] = []
    cur: _Composite | None = None

    def flush() -> None:
        nonlocal cur
        if cur is not None:
            out.append(NumberToken(str(cur.value), tuple(sorted(set(cur.words))), "spoken"))
            cur = None

    def is_num(k: int) -> bool:
        c = classes[k] if 0 <= k < len(classes) else None
        return c is not None and c[0] not in (_AND, _A, _MULT, _PLUS, _OH, "ordinal", "amount")

    n = len(subs)
    k = 0
    while k < n:
        s, c = subs[k], classes[k]
        if c is None:
            flush()
            k += 1
            continue
        kind, value = c
        if s.written is not None:
            flush()
            out.append(NumberToken(s.written, (s.word,), s.kind))
            k += 1
            continue
        if kind == _PLUS:
            nxt = classes[k + 1] if k + 1 < n else None
            if nxt is not None and nxt[0] in (_UNIT, _TEEN, _TENS, _OH, "written"):
                flush()
                out.append(NumberToken("+", (s.word,), "plus"))
            k += 1
            continue
        if kind == _OH:
            # "oh" / "o" is zero only next to another number
            prev_num = k > 0 and (is_num(k - 1) or (classes[k - 1] or ("",))[0] in (_OH, _MULT))
            next_num = k + 1 < n and (is_num(k + 1) or (classes[k + 1] or ("",))[0] == _OH)
            if not (prev_num or next_num):
                flush()
                k += 1
                continue
            kind, value = _UNIT, 0
        if kind == _MULT:
            nxt = classes[k + 1] if k + 1 < n else None
            if nxt is not None and (nxt[0] == _UNIT or nxt[0] == _OH) or (
                nxt is not None and nxt[0] == "written" and len(subs[k + 1].written or "") == 1
            ):
                flush()
                digit = str(nxt[1]) if nxt[0] != "written" else subs[k + 1].written
                out.append(NumberToken(digit * value, (s.word, subs[k + 1].word), "spoken"))
                k += 2
                continue
            flush()
            k += 1
            continue
        if kind == _A:
            nxt = classes[k + 1] if k + 1 < n else None
            if nxt is not None and nxt[0] in (_HUNDRED, _SCALE):
                flush()
                cur = _Composite(_UNIT, 1, [s.word])
            else:
                flush()
            k += 1
            continue
        if kind == _AND:
            nxt = classes[k + 1] if k + 1 < n else None
            if cur is not None and cur.last in (_HUNDRED, _HUNDREDS, _SCALE) and nxt is not None and nxt[0] in (_UNIT, _TEEN, _TENS):
                cur.last = _AND
                cur.words.append(s.word)
            else:
                flush()
            k += 1
            continue
        if kind == _DIGIT_NOUN:
            # "три семёрки" = 777; a count right before it repeats the digit
            if cur is not None and cur.total == 0 and cur.last == _UNIT and 2 <= cur.group <= 9 and len(cur.words) == 1:
                count, words_ = cur.group, cur.words
                cur = None
                out.append(NumberToken(str(value) * count, tuple(sorted(set(words_ + [s.word]))), "spoken"))
            else:
                flush()
                out.append(NumberToken(str(value), (s.word,), "spoken"))
            k += 1
            continue
        if cur is not None and cur.accepts(kind, value):
            cur.add(kind, value, s.word)
        else:
            flush()
            if kind == _HUNDRED:
                cur = _Composite(_UNIT, 100, [s.word])
                cur.last = _HUNDRED
            else:
                cur = _Composite(kind, value, [s.word])
        k += 1
    flush()
    return tuple(out)


@dataclass(frozen=True, slots=True)
class NormalizedWords:
    """Folded text of a word sequence with spoken numbers written as digits.

    "My card is four five three two" -> ``"my card is 4532"``: adjacent numbers
    of kind spoken/written are joined into one digit string (no spaces), so a
    rule or pattern sees what a reader would write. ``pieces[i]`` is
    ``(char_start, first_word, last_word)`` of the i-th piece of ``text``.
    """

    text: str
    pieces: tuple[tuple[int, int, int], ...]

    @classmethod
    def of(cls, words: Sequence[str], language: str | None = None) -> "NormalizedWords":
        numbers = spoken_numbers(words, language)
        by_first: dict[int, list[NumberToken]] = {}
        covered: set[int] = set()
        for tok in numbers:
            if tok.kind not in ("spoken", "written", "plus"):
                continue  # amounts and ordinals stay as written
            by_first.setdefault(tok.words[0], []).append(tok)
            covered.update(tok.words)
        parts: list[str] = []
        pieces: list[tuple[int, int, int]] = []
        pos = 0
        i = 0
        joinable = ("spoken", "written")
        prev_number_kind: str | None = None
        while i < len(words):
            if i in by_first:
                toks = by_first[i]
                text = "".join(t.digits for t in toks)
                last = max(max(t.words) for t in toks)
                kind = toks[-1].kind
                if parts and prev_number_kind in (*joinable, "plus") and toks[0].kind in joinable:
                    # glue to the previous number piece: "four five" -> "45"
                    start, first, _ = pieces[-1]
                    parts[-1] += text
                    pieces[-1] = (start, first, last)
                    pos += len(text)
                else:
                    pieces.append((pos, i, last))
                    parts.append(text)
                    pos += len(text) + 1
                prev_number_kind = kind
                i = max(i + 1, last + 1) if all(w in covered for w in range(i, last + 1)) else i + 1
                continue
            if i in covered:
                i += 1
                continue
            f = fold(words[i])
            if f:
                pieces.append((pos, i, i))
                parts.append(f)
                pos += len(f) + 1
                prev_number_kind = None
            i += 1
        return cls(" ".join(parts), tuple(pieces))

    def word_range(self, char_start: int, char_end: int) -> tuple[int, int]:
        """Original word indices [first, last] covered by text[char_start:char_end]."""
        if not self.pieces:
            raise IndexError("no words")
        starts = [p[0] for p in self.pieces]
        a = max(0, bisect.bisect_right(starts, max(char_start, 0)) - 1)
        b = max(0, bisect.bisect_right(starts, max(char_start, char_end - 1)) - 1)
        return self.pieces[a][1], self.pieces[b][2]


def digits_text(text: str, language: str | None = None) -> str:
    """``"card four five three two"`` -> ``"card 4532"`` (folded; for matching and tests)."""
    return NormalizedWords.of(text.split(), language).text


def iter_digit_words(tokens: Iterable[NumberToken]) -> Iterable[int]:
    """Every word index that carries a digit."""
    for tok in tokens:
        yield from tok.words
