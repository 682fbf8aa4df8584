"""`callqa.privacy.scrub` / `safe_reason`: the last line of defence for text callqa did not write itself."""

from __future__ import annotations

import pytest

from callqa.errors import InputError
from callqa.privacy import safe_reason, scrub


@pytest.mark.parametrize(("text", "expected"), [
    ("card 4532 1488 2231 0047 rejected", "card [NUMBER] rejected"),
    ("bad value '4532-1488-2231-0047'", "bad value '[NUMBER]'"),
    ("iban PL61109010140000071219812874 invalid", "iban [IBAN] invalid"),
    ("mail john.smith@example.com bounced", "mail [EMAIL] bounced"),
    ("heard four five three two one four eight eight two", "heard [NUMBER]"),
    ("слышно четыре пять три два один четыре восемь", "слышно [NUMBER]"),
    ("cztery pięć trzy dwa jeden cztery osiem, dalej", "[NUMBER], dalej"),
    # not sensitive: kept
    ("line 42 of file.py, 3 retries, took 12.5 s", "line 42 of file.py, 3 retries, took 12.5 s"),
    ("one two three", "one two three"),
    ("someone said one of the two", "someone said one of the two"),
])
def test_scrub(text, expected):
    assert scrub(text) == expected


def test_safe_reason_scrubs_foreign_errors_and_keeps_ours():
    assert safe_reason(ValueError("invalid literal: '4532148822310047'")) == "ValueError: invalid literal: '[NUMBER]'"
    assert safe_reason(InputError("call.wav", "is empty")) == "call.wav: is empty"
    assert len(safe_reason(RuntimeError("x" * 1000), limit=50)) == 50
