"""callqa.accuracy's metric functions on hand-built data, with the values worked out by hand."""

from __future__ import annotations

import pytest

from callqa.accuracy import (
    DerCounts,
    PrCounts,
    WerCounts,
    agreement,
    cohen_kappa,
    confusion_table,
    diarization_error,
    match_spans,
    metric_errors,
    normalise_for_wer,
    per_entity_counts,
    role_counts,
    safe_text,
    targets,
    wer_counts,
)

# --------------------------------------------------------------------------- kappa and confusion


def pairs(table: dict[tuple[str, str], int]) -> list[tuple[str, str]]:
    return [pair for pair, n in table.items() for _ in range(n)]


@pytest.mark.parametrize(
    ("data", "categories", "kappa"),
    [
        # the textbook 2x2 example: po = 35/50 = 0.7, pe = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = 0.4
        (pairs({("pass", "pass"): 20, ("pass", "fail"): 5, ("fail", "pass"): 10, ("fail", "fail"): 15}),
         ("pass", "fail"), 0.4),
        # three outcomes: po = 4/5, pe = (2*1 + 2*3 + 1*1)/25 = 9/25, kappa = (0.8 - 0.36) / 0.64
        ([("pass", "pass"), ("pass", "fail"), ("fail", "fail"), ("fail", "fail"), ("na", "na")],
         ("pass", "fail", "na"), 0.6875),
        # perfect agreement over two categories
        ([("pass", "pass"), ("fail", "fail"), ("na", "na")], ("pass", "fail", "na"), 1.0),
        # always the other answer: po = 0, pe = 0.5, kappa = -1
        ([("pass", "fail"), ("fail", "pass")], ("pass", "fail"), -1.0),
        # agreement no better than chance: po = pe = 0.5
        ([("pass", "pass"), ("pass", "fail"), ("fail", "pass"), ("fail", "fail")], ("pass", "fail"), 0.0),
    ],
)
def test_cohen_kappa(data, categories, kappa):
    assert cohen_kappa(data, categories) == pytest.approx(kappa)


@pytest.mark.parametrize("data", [[], [("pass", "pass")] * 4, [("na", "na")]])
def test_cohen_kappa_is_undefined_without_variation(data):
    assert cohen_kappa(data) is None


def test_cohen_kappa_agrees_with_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    data = pairs({("pass", "pass"): 7, ("pass", "fail"): 2, ("fail", "fail"): 4, ("na", "na"): 3, ("na", "pass"): 1,
                  ("fail", "na"): 1})
    expected = sklearn_metrics.cohen_kappa_score([e for e, _ in data], [p for _, p in data])
    assert cohen_kappa(data) == pytest.approx(expected)


def test_confusion_table_counts_expected_by_predicted():
    table = confusion_table([("pass", "pass"), ("pass", "fail"), ("pass", "fail"), ("na", "pass")])
    assert table == {"pass": {"pass": 1, "fail": 2, "na": 0}, "fail": {"pass": 0, "fail": 0, "na": 0},
                     "na": {"pass": 1, "fail": 0, "na": 0}}
    assert agreement([("pass", "pass"), ("pass", "fail"), ("pass", "fail"), ("na", "pass")]) == 0.25
    assert agreement([]) is None


def test_confusion_table_rejects_unknown_outcomes():
    with pytest.raises(ValueError, match="'passed'"):
        confusion_table([("pass", "passed")])


# --------------------------------------------------------------------------- WER


@pytest.mark.parametrize(
    ("text", "language", "normalised"),
    [
        ("Thank you, Sarah!", "en", "thank you sarah"),
        ("four five three nine", "en", "4 5 3 9"),
        ("4539", "en", "4 5 3 9"),
        ("45 39", "en", "4 5 3 9"),
        ("forty five, thirty nine", "en", "4 5 3 9"),
        ("the 4th of July, 1982", "en", "the fourth of july 1 9 8 2"),
        ("the fourth of July, nineteen eighty two", "en", "the fourth of july 1 9 8 2"),
        ("twenty-third", "en", "2 0 third"),
        ("23rd", "en", "2 0 third"),
        ("Mr. Reed", "en", "mister reed"),
        ("$49.99", "en", "4 9 9 9"),
        ("forty nine ninety nine", "en", "4 9 9 9"),
        ("Thank  you\tfor calling Northwind Bank.", "en", "thank you for calling northwind bank"),
        ("Ёлка, пять два", "ru", "елка 5 2"),
        ("Numer: pięć dwa", "pl", "numer 5 2"),
    ],
)
def test_normalise_for_wer(text, language, normalised):
    assert normalise_for_wer(text, language) == normalised


@pytest.mark.parametrize(
    ("ref", "hyp", "counts", "wer"),
    [
        ("a b c d", "a b c d", WerCounts(4, 0, 0, 0), 0.0),
        ("a b c d", "a x c", WerCounts(2, 1, 1, 0), 0.5),
        ("a b", "a b c d", WerCounts(2, 0, 0, 2), 1.0),
        ("a b c", "", WerCounts(0, 0, 3, 0), 1.0),
        ("", "a", WerCounts(0, 0, 0, 1), None),
    ],
)
def test_wer_counts(ref, hyp, counts, wer):
    got = wer_counts(ref, hyp)
    assert got == counts
    assert got.wer == (pytest.approx(wer) if wer is not None else None)


def test_wer_pools_words_not_rates():
    # 2 errors in 4 words and 1 in 2 words: 3 / 6, not the mean of 0.5 and 0.5 ... nor of rates in general
    pooled = wer_counts("a b c d", "a x c") + wer_counts("e f", "e")
    assert (pooled.errors, pooled.reference_words, pooled.wer) == (3, 6, 0.5)
    assert (wer_counts("a", "b") + wer_counts("a b c d e f g h i", "a b c d e f g h i")).wer == pytest.approx(0.1)


def test_number_formatting_costs_nothing_but_a_wrong_digit_costs_one_word():
    ref = normalise_for_wer("the card is four five three nine one four seven six", "en")
    assert wer_counts(ref, normalise_for_wer("The card is 4539 1476.", "en")).errors == 0
    assert wer_counts(ref, normalise_for_wer("The card is 4539 1486.", "en")).errors == 1


# --------------------------------------------------------------------------- DER


@pytest.mark.parametrize(
    ("reference", "hypothesis", "collar", "uem", "counts"),
    [
        # speaker change heard 2 s late: 2 s of confusion in 20 s
        ([("A", 0, 10), ("B", 10, 20)], [("x", 0, 12), ("y", 12, 20)], 0.0, (0, 20), DerCounts(20, 0, 0, 2)),
        # a 1 s collar (0.5 s each side of 0, 10 and 20) leaves 18 s scored and 1.5 s of the confusion
        ([("A", 0, 10), ("B", 10, 20)], [("x", 0, 12), ("y", 12, 20)], 1.0, (0, 20), DerCounts(18, 0, 0, 1.5)),
        # half the speech missed, 2 s of speech where nobody spoke
        ([("A", 0, 10)], [("x", 0, 5), ("x", 12, 14)], 0.0, (0, 20), DerCounts(10, 5, 2, 0)),
        # names do not matter, the mapping does: perfect
        ([("agent", 0, 5), ("customer", 6, 9)], [("SPEAKER_01", 0, 5), ("SPEAKER_00", 6, 9)], 0.0, None,
         DerCounts(8, 0, 0, 0)),
    ],
)
def test_diarization_error(reference, hypothesis, collar, uem, counts):
    got = diarization_error(reference, hypothesis, collar=collar, uem=uem)
    assert (got.total, got.missed, got.false_alarm, got.confusion) == pytest.approx(
        (counts.total, counts.missed, counts.false_alarm, counts.confusion))


def test_der_pools_seconds():
    pooled = DerCounts(20, 0, 0, 2) + DerCounts(10, 5, 2, 0)
    assert pooled.der == pytest.approx(9 / 30)
    assert DerCounts().der is None


# --------------------------------------------------------------------------- roles


def test_role_counts_by_word_midpoint():
    reference = [("agent", 0, 5), ("customer", 5, 10), ("agent", 9, 12)]
    words = [
        ("agent", 1, 2),        # in the agent's turn: right
        ("customer", 6, 7),     # in the customer's: right
        ("agent", 7, 8),        # in the customer's: wrong
        ("agent", 9.2, 9.6),    # both speak at 9.4: not scored
        ("customer", 20, 21),   # nobody's turn: not scored
    ]
    got = role_counts(reference, words)
    assert (got.correct, got.scored, got.unscored) == (2, 3, 2)
    assert got.accuracy == pytest.approx(2 / 3)


def test_role_counts_skip_unknown_reference_roles():
    got = role_counts([("unknown", 0, 10)], [("agent", 1, 2)])
    assert (got.scored, got.accuracy) == (0, None)


# --------------------------------------------------------------------------- sensitive data


def test_match_spans_by_entity_and_time_with_tolerance():
    labelled = [("CARD_NUMBER", 10, 15), ("IBAN", 20, 30), ("CARD_NUMBER", 40, 45)]
    predicted = [
        ("CARD_NUMBER", 15.3, 16.0),   # starts 0.3 s after the label ends: within 0.5 s
        ("CARD_NUMBER", 41, 44),
        ("IBAN", 50, 55),              # no IBAN was said then
        ("BANK_ACCOUNT", 20, 30),      # right time, wrong type
    ]
    m = match_spans(labelled, predicted, tolerance_s=0.5)
    assert (m.pairs, m.missed, m.false) == (((0, 0), (2, 1)), (1,), (2, 3))
    counts = per_entity_counts(labelled, predicted, m)
    assert counts == {"CARD_NUMBER": PrCounts(2, 0, 0), "IBAN": PrCounts(0, 1, 1), "BANK_ACCOUNT": PrCounts(0, 1, 0)}
    assert (counts["IBAN"].precision, counts["IBAN"].recall) == (0.0, 0.0)
    assert match_spans(labelled, predicted, tolerance_s=0.1).pairs == ((2, 1),)


def test_one_finding_per_value():
    m = match_spans([("CARD_NUMBER", 10, 20)], [("CARD_NUMBER", 10, 12), ("CARD_NUMBER", 12, 20)])
    assert (m.pairs, m.false) == (((0, 1),), (0,))  # the larger overlap is the match, the other is false


@pytest.mark.parametrize(
    ("counts", "precision", "recall"),
    [(PrCounts(3, 1, 0), 0.75, 1.0), (PrCounts(0, 0, 2), None, 0.0), (PrCounts(0, 2, 0), 0.0, None),
     (PrCounts(), None, None)],
)
def test_precision_recall(counts, precision, recall):
    assert (counts.precision, counts.recall) == (precision, recall)


# --------------------------------------------------------------------------- metrics and targets


def test_metric_errors_are_predicted_minus_expected():
    got = metric_errors({"longest_silence_s": 12.0, "agent_talk_ratio": 0.5, "overlap_total_s": 0.6},
                        {"longest_silence_s": 11.5, "agent_talk_ratio": 0.55, "overlap_total_s": None})
    assert got["longest_silence_s"] == {"expected": 12.0, "predicted": 11.5, "error": -0.5}
    assert got["agent_talk_ratio"]["error"] == pytest.approx(0.05)
    assert got["overlap_total_s"]["error"] is None


def test_targets_say_met_missed_or_not_measured():
    summary = {"verdicts": {"accuracy": 0.96}, "pii": {"per_entity": {"CARD_NUMBER": {"recall": 0.5}},
                                                       "micro": {"precision": 0.95}},
               "roles": {"stereo": {"accuracy": 1.0}}}
    got = {t["target"]: t["met"] for t in targets(summary)}
    assert got == {"rule-verdict accuracy": True, "card number recall": False, "IBAN recall": None,
                   "sensitive-data precision": True, "stereo role accuracy": True}


# --------------------------------------------------------------------------- report text


@pytest.mark.parametrize(
    ("text", "must_not_contain"),
    [
        ('Agent said "so that\'s 5371 0496 2835 1709" at 00:24.8', ["5371", "0496", "1709"]),
        ('Agent said "three nine one, thank you" at 00:31.0', ["three nine one"]),
        ("customer: my IBAN is DE91370502195826374916", ["DE91", "3705"]),
        ("said 391 twice", ["391"]),
    ],
)
def test_safe_text_masks_numbers(text, must_not_contain):
    out = safe_text(text, "en")
    for value in must_not_contain:
        assert value not in out
    assert "[" in out or "•" in out


def test_safe_text_keeps_words_times_and_small_numbers():
    assert safe_text("Agent said \"one moment please\" at 00:24.8", "en") == "Agent said \"one moment please\" at 00:24.8"


def test_stereo_roles_are_scored_by_channel_not_by_time():
    from callqa.accuracy import channel_role_counts

    reference = [("agent", 0), ("customer", 1), ("agent", 0)]
    # a customer word whose time drifted into the agent's turn is still on the customer's channel: right
    got = channel_role_counts(reference, [("agent", 0), ("customer", 1), ("customer", 1), ("agent", 1), ("agent", None)])
    assert (got.correct, got.scored, got.unscored) == (3, 4, 1)
    # the channel map swapped: every word wrong
    assert channel_role_counts(reference, [("customer", 0), ("agent", 1)]).accuracy == 0.0


def test_safe_text_keeps_the_last_digits_a_masked_value_shows():
    out = safe_text("Agent said a card number (•••• •••• •••• 1709) at 00:21.1, then 5371 0496", "en")
    assert out == "Agent said a card number (•••• •••• •••• 1709) at 00:21.1, then [NUMBER]"


def test_a_safety_net_finding_on_a_value_is_neither_hit_nor_false():
    from types import SimpleNamespace as NS

    from callqa.accuracy import _score_pii
    from callqa.types import Role, TimeSpan

    labels = NS(language="en", decoys=[], pii=[NS(entity="IBAN", role="customer", start=20.0, end=28.0)])

    def finding(entity, start, end):
        return NS(entity=entity, role=Role.CUSTOMER, span=TimeSpan(start, end), masked="•••• 4916",
                  detector="long_number.v1")

    got = _score_pii(labels, [finding("LONG_NUMBER", 20.7, 28.9), finding("LONG_NUMBER", 40.0, 44.0)], 0.5)
    assert got["counts"] == {"IBAN": {"tp": 0, "fp": 0, "fn": 1}, "LONG_NUMBER": {"tp": 0, "fp": 1, "fn": 0}}
    assert [f["start"] for f in got["untyped"]] == [20.7]       # on the IBAN: redacted, type unknown
    assert [f["start"] for f in got["false"]] == [40.0]         # on nothing sensitive: a false finding
    assert got["covered"] == {"IBAN": {"covered": 1, "values": 1}}
