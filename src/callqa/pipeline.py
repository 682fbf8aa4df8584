"""One recording in, one :class:`~callqa.types.ProcessedCall` out.

``Pipeline.process`` does decode -> recognise -> speakers -> turns -> roles ->
Transcript -> sensitive data (redaction) -> metrics and the rule pack's evaluation. It never
touches the database: a batch runner (the CLI, a Prefect task, a Dask worker)
gets the value back and a single writer stores it.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from callqa.align import assign_words, build_turns
from callqa.asr import AsrResult, Transcriber, WhisperTranscriber, resolve_model
from callqa.audio import Identity, Recording, identify, load_recording
from callqa.roles import mono_roles, stereo_roles, unknown_roles
from callqa.settings import Settings
from callqa.types import CallMetadata, CallRecord, ProcessedCall, Role, TimeSpan, Transcript

log = logging.getLogger("callqa.pipeline")

#: Bump when the transcript a given recording and settings produce changes.
TRANSCRIPT_VERSION = "1"
NO_DIARIZER = "none"


@dataclass
class StageTimes:
    """Wall-clock seconds per stage of the last processed call (for benchmarks and logs)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, started: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started


class Pipeline:
    """Processes recordings with one set of settings; reusable across a batch (models stay loaded)."""

    def __init__(self, settings: Settings, *, transcriber_factory: Callable[[str], Transcriber] | None = None,
                 mono_diarizer=None):
        """``mono_diarizer``: a :class:`~callqa.diarization.MonoDiarizer`, or ``False`` for none; by
        default the one ``settings.diarization`` names, loaded at the first mono call."""
        self.settings = settings
        self._transcribers: dict[str, Transcriber] = {}
        self._transcriber_factory = transcriber_factory or self._whisper_for
        self._mono_diarizer = mono_diarizer
        self._scorer = None
        self._diarize_pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.times = StageTimes()

    # ------------------------------------------------------------------ configuration

    def language_for(self, recording_language: str | None) -> str:
        return self.settings.language or recording_language or "en"

    def _whisper_for(self, language: str) -> Transcriber:
        spec = resolve_model(self.settings.model, language, self.settings.cache_dir)
        return WhisperTranscriber(spec, compute_type=self.settings.compute_type, threads=self.settings.threads,
                                  beam_size=self.settings.beam_size)

    def transcriber(self, language: str) -> Transcriber:
        if language not in self._transcribers:
            self._transcribers[language] = self._transcriber_factory(language)
        return self._transcribers[language]

    @property
    def mono_diarizer_name(self) -> str:
        if self._mono_diarizer is None:
            from callqa.diarization import diarizer_name_for_setting

            return diarizer_name_for_setting(self.settings.diarization)
        return getattr(self._mono_diarizer, "name", NO_DIARIZER) if self._mono_diarizer else NO_DIARIZER

    def mono_diarizer(self):
        """The diarizer for mono calls (loaded once), or None when diarization is switched off."""
        if self._mono_diarizer is None:
            from callqa.diarization import diarization_disabled, diarizer_from_setting

            if diarization_disabled(self.settings.diarization):
                self._mono_diarizer = False
            else:
                self._mono_diarizer = diarizer_from_setting(self.settings.diarization)
        return self._mono_diarizer or None

    def settings_key(self, metadata: CallMetadata) -> str:
        """What the stored transcript depends on; a call stored with the same key is skipped.

        Computed from settings and the sidecar only (no decoding), so a batch can
        skip stored calls after hashing the file.
        """
        from callqa.pii import DEFAULT_DETECTORS

        language = self.language_for(metadata.language)
        key = {
            "transcript_version": TRANSCRIPT_VERSION,
            # the stored text is redacted by these (raw text is never kept): a new detector version means
            # the call is recognised and redacted again, so values an older version missed do not stay
            "pii_detectors": list(DEFAULT_DETECTORS),
            "asr": self.transcriber(language).name,
            "language": language,
            "channel_roles": [r.value for r in (metadata.channel_roles or self.settings.channel_roles)],
            "mono_diarizer": self.mono_diarizer_name,
            "num_speakers": self.settings.num_speakers,
        }
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def channel_roles(self, recording: Recording) -> tuple[Role, ...]:
        return recording.metadata.channel_roles or self.settings.channel_roles

    # ------------------------------------------------------------------ processing

    def identify(self, path: str | Path) -> Identity:
        return identify(path)

    def load(self, path: str | Path | Identity) -> Recording:
        t0 = time.perf_counter()
        rec = load_recording(path, max_duration_s=self.settings.max_duration_s)
        self.times.add("decode", t0)
        return rec

    def process(self, path_or_recording: str | Path | Recording) -> ProcessedCall:
        self.times = StageTimes()
        rec = path_or_recording if isinstance(path_or_recording, Recording) else self.load(path_or_recording)
        transcript, language_probability = self.transcribe(rec)
        record = CallRecord(
            call_id=rec.call_id, source_path=str(rec.path.resolve()), size_bytes=rec.size_bytes, container=rec.container,
            codec=rec.codec, source_sample_rate=rec.source_sample_rate, channels=len(rec.channels),
            duration_s=rec.duration, language_probability=language_probability,
            settings_key=self.settings_key(rec.metadata), metadata=rec.metadata,
        )
        # sensitive data: found on the raw transcript (in memory only); only the redacted one leaves here
        from callqa.pii import detect, redact_transcript

        t0 = time.perf_counter()
        transcript, pii = redact_transcript(transcript, detect(transcript))
        self.times.add("pii", t0)
        if self.settings.redact_audio_dir is not None:
            record = replace(record, redacted_audio_path=str(self._redact_audio(rec, transcript, pii)))
        # scoring reads only the redacted transcript and the masked findings, as re-scoring does later
        t0 = time.perf_counter()
        metrics, evaluation = self.scorer.score(transcript, pii=pii, metadata=rec.metadata)
        self.times.add("score", t0)
        return ProcessedCall(record=record, transcript=transcript, pii=pii, metrics=metrics, evaluation=evaluation)

    @property
    def scorer(self):
        """The rule pack calls are scored with (``settings.rules``, else qa_rules/default.yaml), loaded once."""
        if self._scorer is None:
            from callqa.scoring import Scorer

            self._scorer = Scorer(self.settings.rules)
        return self._scorer

    def _redact_audio(self, rec: Recording, transcript: Transcript, pii) -> Path:
        """``--redact-audio DIR``: a copy of the recording with every finding beeped, named by call id."""
        from callqa.pii.redact import redact_audio

        t0 = time.perf_counter()
        out_dir = Path(self.settings.redact_audio_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        out = (out_dir / f"{rec.call_id[:16]}.redacted.flac").resolve()
        redact_audio(rec, pii, transcript, out, mode="beep")
        self.times.add("redact_audio", t0)
        return out

    def _diarize_in_background(self, mono, audio) -> concurrent.futures.Future:
        """Start diarizing a mono call while the recogniser runs: the diarizer keeps torch on one
        thread, so the two share the cores instead of waiting for each other (about 1.6x faster on
        2 cores, docs/BENCHMARKS.md)."""
        if self._diarize_pool is None:
            self._diarize_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="callqa-diarize")

        def run():
            t0 = time.perf_counter()
            annotation = mono(audio, 16_000, num_speakers=self.settings.num_speakers)
            return annotation, time.perf_counter() - t0

        return self._diarize_pool.submit(run)

    def transcribe(self, rec: Recording) -> tuple[Transcript, float]:
        language = self.language_for(rec.metadata.language)
        asr = self.transcriber(language)
        mono = None if rec.is_stereo else self.mono_diarizer()
        diarized = self._diarize_in_background(mono, rec.channels[0]) if mono is not None else None
        t0 = time.perf_counter()
        results: list[AsrResult] = []
        try:
            for channel in rec.channels:
                lang = language if language != "auto" or not results else results[0].language
                results.append(asr.transcribe(channel, language=lang))
        except BaseException:
            if diarized is not None:
                concurrent.futures.wait([diarized])  # never leave a diarization running behind a failed call
            raise
        self.times.add("asr", t0)
        detected = results[0].language
        probability = results[0].language_probability

        t0 = time.perf_counter()
        if rec.is_stereo:
            speakers = [f"ch{i}" for i in range(len(rec.channels))]
            streams = {spk: list(res.words) for spk, res in zip(speakers, results)}
            source = "sidecar" if rec.metadata.channel_roles else "settings"
            roles = stereo_roles(streams, self.channel_roles(rec), speakers, detected, source=source)
            channels = {spk: i for i, spk in enumerate(speakers)}
            diarizer = "channels"
        elif mono is not None:
            annotation, seconds = diarized.result()
            self.times.seconds["diarize"] = seconds  # ran alongside the recogniser
            t0 = time.perf_counter()
            regions = [(TimeSpan(seg.start, seg.end), str(label)) for seg, _, label in annotation.itertracks(yield_label=True)]
            streams = assign_words(results[0].words, regions, fallback="SPEAKER_00")
            speakers = sorted(streams) or ["SPEAKER_00"]
            roles = mono_roles({s: streams.get(s, []) for s in speakers}, detected, diarizer=mono.name)
            channels = {}
            diarizer = mono.name
        else:
            speakers = ["S1"]
            streams = {"S1": list(results[0].words)}
            roles = unknown_roles(speakers, "mono call and diarization is switched off "
                                            "(CALLQA_DIARIZATION_PIPELINE=none): one speaker, role unknown")
            channels = {"S1": 0}
            diarizer = NO_DIARIZER
        turns = build_turns(streams, dict(roles.roles), channels=channels)
        self.times.add("speakers", t0)
        transcript = Transcript(
            call_id=rec.call_id, language=detected, duration=round(rec.duration, 3), turns=turns,
            asr_model=asr.name, diarizer=diarizer, channels=len(rec.channels), roles=roles,
        )
        return transcript, probability
