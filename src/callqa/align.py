"""Words x speakers -> Turns. Pure functions, no I/O.

A turn is one speaker's stretch of speech: it ends when the speaker pauses
longer than ``max_pause`` or when the other party starts speaking in the gap
between two of the speaker's words. Turns of different speakers may overlap
in time (people talk over each other); they are ordered by start time.
"""

from __future__ import annotations

import bisect
from typing import Mapping, Sequence

from callqa.types import Role, TimeSpan, Turn, Word

MAX_PAUSE_S = 1.5


def assign_words(words: Sequence[Word], regions: Sequence[tuple[TimeSpan, str]], *, fallback: str,
                 max_distance_s: float = 1.0) -> dict[str, list[Word]]:
    """Give each word to the speaker whose speech regions overlap it most.

    A word outside every region goes to the nearest region within
    ``max_distance_s``, else to the previous word's speaker (else ``fallback``).
    """
    regions = sorted(regions, key=lambda r: r[0].start)
    starts = [r[0].start for r in regions]
    out: dict[str, list[Word]] = {}
    previous = fallback
    for word in words:
        span = word.span
        hi = bisect.bisect_right(starts, span.end)
        best, best_overlap = None, 0.0
        for region, speaker in regions[max(0, hi - 64):hi]:
            ov = region.overlap(span)
            if ov > best_overlap:
                best, best_overlap = speaker, ov
        if best is None:
            nearest, distance = None, max_distance_s
            for region, speaker in regions[max(0, hi - 8):hi + 8]:
                d = region.gap(span)
                if d <= distance:
                    nearest, distance = speaker, d
            best = nearest or previous
        out.setdefault(best, []).append(word)
        previous = best
    return out


def build_turns(
    streams: Mapping[str, Sequence[Word]],
    roles: Mapping[str, Role],
    *,
    channels: Mapping[str, int | None] | None = None,
    max_pause_s: float = MAX_PAUSE_S,
) -> tuple[Turn, ...]:
    """Group each speaker's words into turns and order all turns by time."""
    channels = channels or {}
    starts_by_speaker = {s: sorted(w.start for w in ws) for s, ws in streams.items()}
    pending: list[tuple[float, float, str, list[Word]]] = []
    for speaker, words in streams.items():
        words = sorted(words, key=lambda w: (w.start, w.end))
        others = sorted(t for s, st in starts_by_speaker.items() if s != speaker for t in st)
        current: list[Word] = []
        for word in words:
            if current:
                prev = current[-1]
                gap_start, gap_end = prev.end, word.start
                interrupted = _any_between(others, gap_start, gap_end)
                if gap_end - gap_start > max_pause_s or interrupted:
                    pending.append((current[0].start, max(w.end for w in current), speaker, current))
                    current = []
            current.append(word)
        if current:
            pending.append((current[0].start, max(w.end for w in current), speaker, current))
    pending.sort(key=lambda t: (t[0], t[1], t[2]))
    return tuple(
        Turn(index=i, speaker=speaker, role=roles.get(speaker, Role.UNKNOWN), span=TimeSpan(start, end),
             words=tuple(words), channel=channels.get(speaker))
        for i, (start, end, speaker, words) in enumerate(pending)
    )


def _any_between(sorted_times: list[float], lo: float, hi: float) -> bool:
    """Is there a time t with lo < t < hi?"""
    if hi <= lo:
        return False
    k = bisect.bisect_right(sorted_times, lo)
    return k < len(sorted_times) and sorted_times[k] < hi
