"""Speaker -> role (agent | customer), with a confidence and a reason.

Stereo calls: the channel map (sidecar ``channels``, else ``CALLQA_CHANNEL_ROLES``,
default left = agent) decides. It is checked against the opening: the agent
normally opens with a greeting ("thank you for calling ..., my name is ...,
how can I help?"). If the channel mapped to the customer says it instead, the
mapping is kept -- never silently swapped -- but stored with a low confidence
and an explanation a reviewer can act on.

Mono calls without diarization have one speaker whose role is ``unknown``.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from rapidfuzz import fuzz

from callqa.normalize import fold
from callqa.types import Role, RoleAssignment, Word, join_words

OPENING_WINDOW_S = 30.0
MATCH_THRESHOLD = 85.0

#: What agents say when they open a call, per language (folded text).
GREETINGS: dict[str, tuple[str, ...]] = {
    "en": (
        "thank you for calling", "thanks for calling", "welcome to", "my name is", "how can i help",
        "how may i help", "how can i assist", "you're through to", "you are speaking with", "speaking how can",
    ),
    "ru": (
        "спасибо за звонок", "спасибо что позвонили", "меня зовут", "чем могу помочь", "чем я могу вам помочь",
        "вас приветствует", "добро пожаловать в",
    ),
    "pl": (
        "dziękuję za telefon", "dziękujemy za telefon", "nazywam się", "w czym mogę pomóc", "w czym mogę panu pomóc",
        "w czym mogę pani pomóc", "witamy w", "z tej strony",
    ),
}


def greeting_score(words: Sequence[Word], language: str, *, window_s: float = OPENING_WINDOW_S,
                   phrases: Sequence[str] | None = None) -> tuple[float, str | None]:
    """Best fuzzy match (0-100) of an opening phrase in the first ``window_s`` seconds of ``words``."""
    if not words:
        return 0.0, None
    first = words[0].start
    text = fold(join_words(w for w in words if w.start <= first + window_s))
    if not text:
        return 0.0, None
    candidates = phrases if phrases is not None else GREETINGS.get(language, ()) + GREETINGS["en"] * (language != "en")
    best, best_phrase = 0.0, None
    for phrase in candidates:
        score = fuzz.partial_ratio(phrase, text) if len(text) >= len(phrase) else fuzz.ratio(phrase, text)
        if score > best:
            best, best_phrase = score, phrase
    return best, best_phrase


def stereo_roles(streams: Mapping[str, Sequence[Word]], channel_roles: Sequence[Role], speakers: Sequence[str],
                 language: str, *, source: str) -> RoleAssignment:
    """Roles for a two-channel call from the channel map, checked against who greets first."""
    roles = {spk: (channel_roles[i] if i < len(channel_roles) else Role.UNKNOWN) for i, spk in enumerate(speakers)}
    scores = {spk: greeting_score(streams.get(spk, ()), language) for spk in speakers}
    agent = [s for s in speakers if roles[s] == Role.AGENT]
    others = [s for s in speakers if roles[s] != Role.AGENT]
    mapping = ", ".join(f"channel {i} = {roles[s].value}" for i, s in enumerate(speakers))
    if not agent:
        return RoleAssignment(tuple(roles.items()), 0.3, "channel-map",
                              f"{mapping} ({source}); no channel is mapped to the agent")
    a = agent[0]
    a_score, a_phrase = scores[a]
    o_best = max(others, key=lambda s: scores[s][0], default=None)
    o_score, o_phrase = scores[o_best] if o_best else (0.0, None)
    a_ch, o_ch = speakers.index(a), speakers.index(o_best) if o_best else None
    if a_score >= MATCH_THRESHOLD and a_score >= o_score:
        confidence = 0.95 if o_score < MATCH_THRESHOLD else 0.8
        why = f"{mapping} ({source}); the agent channel opens with a greeting ({a_phrase!r})"
    elif o_score >= MATCH_THRESHOLD:
        confidence = 0.2
        why = (f"{mapping} ({source}); but channel {o_ch} ({roles[o_best].value}) says the opening greeting "
               f"({o_phrase!r}) and channel {a_ch} does not: check the channel map (sidecar 'channels' or CALLQA_CHANNEL_ROLES)")
    else:
        confidence = 0.7
        why = f"{mapping} ({source}); no opening greeting found to confirm it"
    return RoleAssignment(tuple(roles.items()), confidence, "channel-map", why)


def unknown_roles(speakers: Sequence[str], reason: str) -> RoleAssignment:
    return RoleAssignment(tuple((s, Role.UNKNOWN) for s in speakers), 0.0, "none", reason)
