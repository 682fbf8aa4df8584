"""Spoken numbers to digits (en, ru, pl), with the words each number came from."""

from __future__ import annotations

import pytest

from callqa.normalize import FoldedWords, NormalizedWords, digits_text, fold, is_filler, number_language, spoken_numbers


@pytest.mark.parametrize(
    ("language", "spoken", "expected"),
    [
        # English: digit strings, pairs, cardinals, repeats, "oh"
        ("en", "four five three two", "4532"),
        ("en", "forty five thirty two", "4532"),
        ("en", "forty-five thirty-two", "4532"),
        ("en", "double seven", "77"),
        ("en", "triple oh seven", "0007"),
        ("en", "oh five twenty seven", "0527"),
        ("en", "zero nought nine", "009"),
        ("en", "one hundred and twenty three", "123"),
        ("en", "four hundred fifty three", "453"),
        ("en", "four thousand five hundred thirty two", "4532"),
        ("en", "two thousand and five", "2005"),
        ("en", "twenty five hundred", "2500"),
        ("en", "a hundred", "100"),
        ("en", "nineteen eighty four", "1984"),
        ("en", "twenty twenty five", "2025"),
        ("en", "eleven twelve thirteen", "111213"),
        ("en", "plus four eight six zero one", "+48601"),
        # Russian: inflected forms, hundreds as one word, "три семёрки"
        ("ru", "сорок два", "42"),
        ("ru", "сорока двух", "42"),
        ("ru", "четыре пять три два", "4532"),
        ("ru", "четыреста пятьдесят три", "453"),
        ("ru", "двухсот пятидесяти", "250"),
        ("ru", "две тысячи двадцать пять", "2025"),
        ("ru", "тысяча девятьсот восемьдесят четыре", "1984"),
        ("ru", "ноль пять", "05"),
        ("ru", "три семёрки", "777"),
        ("ru", "два нуля один", "001"),
        ("ru", "одна тысяча", "1000"),
        ("ru", "восемь девятьсот шестнадцать", "8916"),
        ("ru", "плюс семь", "+7"),
        # Polish: inflected forms
        ("pl", "czterdzieści dwa", "42"),
        ("pl", "czterdziestu dwóch", "42"),
        ("pl", "cztery pięć trzy dwa", "4532"),
        ("pl", "dwieście pięćdziesiąt", "250"),
        ("pl", "pięciuset", "500"),
        ("pl", "tysiąc dziewięćset osiemdziesiąt cztery", "1984"),
        ("pl", "dwa tysiące dwadzieścia pięć", "2025"),
        ("pl", "dwa zera", "00"),
        ("pl", "trzy siódemki", "777"),
        ("pl", "podwójne siedem", "77"),
        ("pl", "zero sześćset jeden", "0601"),
        ("pl", "piętnaście", "15"),
        ("pl", "dziewiętnastu", "19"),
        # digits the recogniser already wrote
        ("en", "4532", "4532"),
        ("en", "45-32", "4532"),
        ("en", "4,532", "4532"),
        ("en", "4532-1148-2231", "453211482231"),
        ("en", "12/25", "1225"),
        ("en", "+48 601 234 567", "+48601234567"),
    ],
)
def test_spoken_numbers_become_digits(language, spoken, expected):
    assert digits_text(spoken, language) == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "my card is four five three two thanks", "my card is 4532 thanks"),
        ("en", "oh I see", "oh i see"),  # "oh" alone is not zero
        ("en", "the blue one please", "the blue 1 please"),
        ("en", "it costs $1,250.00 or 49.99", "it costs 1 250 00 or 49 99"),  # amounts stay as written
        ("en", "at 4:30 on the 15th", "at 4 30 on the 15th"),
        ("en", "call me at double oh seven", "call me at 007"),
        ("ru", "номер карты сорок пять тридцать два", "номер карты 4532"),
        ("pl", "numer karty czterdzieści pięć trzydzieści dwa", "numer karty 4532"),
    ],
)
def test_numbers_in_text(language, text, expected):
    assert digits_text(text, language) == expected


@pytest.mark.parametrize(
    ("words", "language", "expected"),
    [
        # (digits, word indices, kind)
        (["four", "five", "hello", "4532"], "en", [("4", (0,), "spoken"), ("5", (1,), "spoken"), ("4532", (3,), "written")]),
        (["forty", "two"], "en", [("42", (0, 1), "spoken")]),
        (["one", "hundred", "and", "five"], "en", [("105", (0, 1, 2, 3), "spoken")]),
        (["double", "seven"], "en", [("77", (0, 1), "spoken")]),
        (["три", "семёрки"], "ru", [("777", (0, 1), "spoken")]),
        (["$49.99"], "en", [("4999", (0,), "amount")]),
        (["15%"], "en", [("15", (0,), "amount")]),
        (["4:30"], "en", [("430", (0,), "amount")]),
        (["1st"], "en", [("1", (0,), "ordinal")]),
        (["plus", "one"], "en", [("+", (0,), "plus"), ("1", (1,), "spoken")]),
        (["PL61"], "en", [("61", (0,), "written")]),
    ],
)
def test_number_tokens_know_their_words(words, language, expected):
    got = [(t.digits, t.words, t.kind) for t in spoken_numbers(words, language)]
    assert got == expected


def test_any_language_reads_all_tables():
    assert number_language("en-US") == "en"
    assert number_language("de") is None
    assert digits_text("four сорок dwa", None) == "442"  # "сорок dwa" is one number: 42


def test_normalized_words_map_back_to_words():
    words = ["My", "card", "is", "four", "five", "three", "two,", "thanks"]
    nw = NormalizedWords.of(words, "en")
    assert nw.text == "my card is 4532 thanks"
    start = nw.text.index("4532")
    assert nw.word_range(start, start + 4) == (3, 6)
    assert nw.word_range(nw.text.index("thanks"), len(nw.text)) == (7, 7)


@pytest.mark.parametrize(("word", "language", "expected"), [
    ("um", "en", True), ("Uh,", "en", True), ("card", "en", False), ("ну", "ru", True), ("yyy", "pl", True),
    ("ну", "en", False), ("ну", None, True),
])
def test_fillers(word, language, expected):
    assert is_filler(word, language) is expected


def test_fold_and_folded_words_unchanged():
    assert fold("  Hello, Wörld!  Ёлка ") == "hello wörld елка"
    fw = FoldedWords.of(["Hello,", "--", "World"])
    assert fw.text == "hello world"
    assert fw.word_range(6, 11) == (2, 2)
