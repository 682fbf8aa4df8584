"""Text normalisation shared by matching and detection.

``fold`` makes text comparable across recogniser quirks: Unicode NFKC,
case-folded, ``ё`` -> ``е``, punctuation removed (apostrophes kept inside
words), whitespace collapsed. Matching always runs on folded text and maps
positions back to the original words (see ``FoldedWords``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

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
        import bisect

        if not self.indices:
            raise IndexError("no words")
        k = bisect.bisect_right(self.starts, max(char, 0)) - 1
        return self.indices[max(0, min(k, len(self.indices) - 1))]

    def word_range(self, char_start: int, char_end: int) -> tuple[int, int]:
        """Original word indices [first, last] covered by folded text[char_start:char_end]."""
        return self.word_at(char_start), self.word_at(max(char_start, char_end - 1))
