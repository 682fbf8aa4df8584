"""Last line of defence for text that leaves the pipeline outside the redacted transcript.

Error messages, failure reasons and log lines are written by callqa itself and
never quote transcript text, but an exception raised deep inside a library may
echo its input. :func:`scrub` masks anything that looks like a sensitive number
(also one spelled as digit words) or an e-mail address before such text is
stored or shown. Detection proper is :mod:`callqa.pii` (see docs/privacy.md).
"""

from __future__ import annotations

import re

# 7+ digits, possibly split by spaces, dots, slashes or dashes: card, account,
# ID and phone numbers all qualify; sizes, durations and line numbers do not.
_LONG_NUMBER = re.compile(r"(?<![\w])\+?\d(?:[ \-./]?\d){6,}(?![\w])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 7+ digits said as words ("four five three two ..."), in English, Russian or Polish
_DIGIT_WORD = (
    r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple"
    r"|ноль|нуль|один|одна|два|две|три|четыре|пять|шесть|семь|восемь|девять"
    r"|jeden|dwa|trzy|cztery|pięć|sześć|siedem|osiem|dziewięć)"
)
_SPELLED_NUMBER = re.compile(rf"(?<!\w){_DIGIT_WORD}(?:[\s,.;:-]+{_DIGIT_WORD}){{6,}}(?!\w)", re.IGNORECASE)


def scrub(text: str) -> str:
    """Mask e-mail addresses, IBAN-like strings and long numbers (digits or digit words)."""
    text = _EMAIL.sub("[EMAIL]", text)
    text = _SPELLED_NUMBER.sub("[NUMBER]", text)
    text = _IBAN.sub("[IBAN]", text)
    return _LONG_NUMBER.sub("[NUMBER]", text)


def safe_reason(error: BaseException, *, limit: int = 300) -> str:
    """One line, scrubbed, that says what went wrong."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    from callqa.errors import CallQAError

    if not isinstance(error, CallQAError):
        message = f"{type(error).__name__}: {message}"
    message = scrub(message)
    return message if len(message) <= limit else message[: limit - 1] + "…"
