"""Speaker -> role (agent | customer), with a confidence and a reason.

Stereo calls: the channel map (sidecar ``channels``, else ``CALLQA_CHANNEL_ROLES``,
default left = agent) decides. It is checked against the opening: the agent
normally opens with a greeting ("thank you for calling ..., my name is ...,
how can I help?"). If the channel mapped to the customer says it instead, the
mapping is kept -- never silently swapped -- but stored with a low confidence
and an explanation a reviewer can act on.

Mono calls: the diarizer says who spoke when, not who is who. The agent is
the speaker whose words sound like the script -- the opening greeting in the
first seconds of their speech (company, "my name is", "how can I help"), and
the agent's stock phrases over the whole call ("one moment please", "is
there anything else", "have a nice day") -- with speaking first as a small
tie-breaker (:func:`mono_roles`). The evidence margin between the best and
the second-best speaker sets the confidence; with no evidence at all the
first speaker is taken as the agent at a low confidence, and said so.

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


#: What agents say later in a call (folded text): each one heard is evidence for the agent.
AGENT_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "one moment please", "let me check", "thank you for holding", "thanks for holding", "bear with me",
        "is there anything else", "anything else i can help", "have a nice day", "have a great day",
        "thank you for calling", "verify your identity", "for security", "can you confirm", "can you please confirm",
        "i'll transfer you", "i will transfer you", "let me transfer", "put you through", "this call is recorded",
        "this call may be recorded", "for quality and training",
    ),
    "ru": (
        "одну минуту", "минуточку", "подождите пожалуйста", "оставайтесь на линии", "спасибо за ожидание",
        "могу ли я еще чем", "чем-то еще", "что-нибудь еще", "хорошего дня", "всего доброго", "спасибо за звонок",
        "подтвердите", "для проверки", "переключаю", "соединяю вас", "разговор записывается", "звонок записывается",
    ),
    "pl": (
        "chwileczkę", "proszę chwilę poczekać", "proszę poczekać", "dziękuję za cierpliwość", "dziękuję za oczekiwanie",
        "czy mogę w czymś jeszcze", "coś jeszcze", "miłego dnia", "dziękuję za telefon", "proszę potwierdzić",
        "weryfikac", "przełączam", "łączę z", "rozmowa jest nagrywana", "rozmowa jest rejestrowana",
    ),
}
#: What customers typically say (evidence against being the agent).
CUSTOMER_PHRASES: dict[str, tuple[str, ...]] = {
    "en": ("i would like to", "i'd like to", "i want to", "my card", "my account", "i was charged", "can you help me",
           "i'm calling about", "i am calling about", "i have a question"),
    "ru": ("я хотел", "я хотела", "хочу", "моя карта", "мою карту", "мой счет", "у меня вопрос", "я звоню"),
    "pl": ("chciałbym", "chciałabym", "chcę", "moja karta", "moją kartę", "moje konto", "mam pytanie", "dzwonię"),
}
#: Weights of the evidence (greeting in the speaker's opening; each agent / customer phrase; speaking first).
W_GREETING, W_AGENT_PHRASE, W_CUSTOMER_PHRASE, W_FIRST = 3.0, 1.0, 1.0, 0.5


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


def _phrases_heard(text: str, phrases: Sequence[str]) -> list[str]:
    found = []
    for phrase in phrases:
        if len(text) >= len(phrase) and fuzz.partial_ratio(phrase, text) >= MATCH_THRESHOLD + 5:
            found.append(phrase)
    return found


def agent_evidence(words: Sequence[Word], language: str, *, first: bool) -> tuple[float, list[str]]:
    """How much one speaker's words sound like the agent's script: (score, what was heard)."""
    lang = language if language in GREETINGS else "en"
    score, heard = 0.0, []
    g_score, g_phrase = greeting_score(words, lang)
    if g_score >= MATCH_THRESHOLD:
        score += W_GREETING
        heard.append(f"opens with {g_phrase!r}")
    text = fold(join_words(words))
    agent = _phrases_heard(text, AGENT_PHRASES.get(lang, ()))
    customer = _phrases_heard(text, CUSTOMER_PHRASES.get(lang, ()))
    score += W_AGENT_PHRASE * len(agent) - W_CUSTOMER_PHRASE * len(customer)
    heard += [f"says {p!r}" for p in agent[:3]] + [f"customer-like {p!r}" for p in customer[:2]]
    if first:
        score += W_FIRST
        heard.append("speaks first")
    return score, heard


def mono_roles(streams: Mapping[str, Sequence[Word]], language: str, *, diarizer: str) -> RoleAssignment:
    """Roles of a diarized mono call from what each speaker says (see the module docstring).

    The best-scoring speaker is the agent. With three or more speakers (a
    transfer, a supervisor), another speaker who opens with a greeting as well
    is an agent too; everybody else is a customer.
    """
    speakers = [s for s in streams if streams[s]]
    if not speakers:
        return unknown_roles(list(streams) or ["SPEAKER_00"], f"mono call ({diarizer}): nobody spoke")
    order = sorted(speakers, key=lambda s: streams[s][0].start)
    evidence = {s: agent_evidence(streams[s], language, first=(s == order[0])) for s in speakers}
    ranked = sorted(speakers, key=lambda s: (-evidence[s][0], order.index(s)))
    agent = ranked[0]
    roles = {s: Role.CUSTOMER for s in streams}
    roles[agent] = Role.AGENT
    if len(ranked) >= 3:
        for s in ranked[1:-1]:
            if any(h.startswith("opens with") for h in evidence[s][1]) and evidence[s][0] >= W_GREETING:
                roles[s] = Role.AGENT
    top = evidence[agent][0]
    runner_up = max((evidence[s][0] for s in ranked[1:] if roles[s] == Role.CUSTOMER), default=0.0)
    margin = top - runner_up
    if len(speakers) == 1:
        confidence = 0.5 if top >= W_GREETING else 0.3
    elif top < W_AGENT_PHRASE:
        confidence = 0.3  # nothing script-like: the first speaker is a guess
    elif margin >= W_GREETING:
        confidence = 0.95
    elif margin >= 2 * W_AGENT_PHRASE:
        confidence = 0.85
    elif margin >= W_AGENT_PHRASE:
        confidence = 0.7
    else:
        confidence = 0.45
    why = "; ".join(f"{s} = {roles[s].value} ({', '.join(evidence[s][1]) or 'no script phrase'}; score {evidence[s][0]:g})"
                    for s in order)
    if len(speakers) == 1:
        why = f"only one speaker was found by {diarizer}: {why}"
    elif top < W_AGENT_PHRASE:
        why = f"no agent script phrase heard; the first speaker is taken as the agent: {why}"
    return RoleAssignment(tuple((s, roles[s]) for s in streams), confidence, "conversation", f"mono call ({diarizer}): {why}")


def unknown_roles(speakers: Sequence[str], reason: str) -> RoleAssignment:
    return RoleAssignment(tuple((s, Role.UNKNOWN) for s in speakers), 0.0, "none", reason)
