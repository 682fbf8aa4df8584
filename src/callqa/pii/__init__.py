"""Sensitive data: detect spoken and written PII/PCI in a transcript, redact text and audio.

Public API::

    spans = detect(transcript)                      # raw transcript, in memory only
    redacted, spans = redact_transcript(transcript, spans)   # store these two
    redact_audio("call.wav", spans, redacted, "call.redacted.flac", mode="beep")

See docs/privacy.md for what is detected, how, and what is stored.
"""

from callqa.pii import bank, cards, contact, ids  # noqa: F401  (register the detectors)
from callqa.pii.base import (
    DEFAULT_DETECTORS,
    DETECTORS,
    ENTITIES,
    MIN_SCORE,
    UNTYPED_ENTITIES,
    Candidate,
    Detector,
    PiiDocument,
    detect,
    get_detector,
    mask_digits,
    mask_value,
    register,
)
from callqa.pii.ids import snils_valid
from callqa.pii.cards import card_brand
from callqa.pii.redact import (
    AudioRedaction,
    Redacted,
    gap_extensions,
    redact_audio,
    redact_channels,
    redact_transcript,
    redaction_intervals,
)

__all__ = [
    "AudioRedaction", "Candidate", "DEFAULT_DETECTORS", "DETECTORS", "Detector", "ENTITIES", "MIN_SCORE", "PiiDocument",
    "Redacted", "UNTYPED_ENTITIES", "card_brand", "detect", "gap_extensions", "get_detector", "mask_digits", "mask_value", "redact_audio", "redact_channels",
    "redact_transcript", "redaction_intervals", "register", "snils_valid",
]
