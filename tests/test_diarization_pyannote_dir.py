"""A full pyannote pipeline from a local directory: a directory built here (random weights, pyannote's
layout) loads with pyannote's own API and runs end to end; bad directories are refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from callqa.diarization import MonoDiarizer, diarizer_from_setting, load_pipeline_dir
from callqa.errors import DiarizationConfigError

CONFIG_YAML = """\
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    segmentation: $model/segmentation
    embedding: $model/embedding
    plda: $model/plda
    clustering: VBxClustering
    segmentation_step: 0.5
    embedding_exclude_overlap: true
params:
  clustering:
    threshold: 0.6
    Fa: 0.07
    Fb: 0.8
  segmentation:
    min_duration_off: 0.0
"""


def build_pipeline_dir(root: Path, seed: int = 0) -> Path:
    """Randomly initialised PyanNet segmentation + WeSpeaker ResNet34 embedding + PLDA, in the layout of
    pyannote's published pipelines (config.yaml, segmentation/, embedding/, plda/)."""
    import lightning
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(seed)

    def save(model, folder: Path) -> None:
        folder.mkdir(parents=True)
        checkpoint = {
            "pytorch-lightning_version": lightning.__version__,
            "state_dict": model.state_dict(),
            "hparams_name": "kwargs",
            "hyper_parameters": dict(model.hparams),
        }
        model.on_save_checkpoint(checkpoint)  # adds pyannote's versions/architecture/specifications
        torch.save(checkpoint, folder / "pytorch_model.bin")

    segmentation = PyanNet(
        sincnet={"stride": 10},
        lstm={"hidden_size": 32, "num_layers": 1, "bidirectional": True, "monolithic": True},
        linear={"hidden_size": 32, "num_layers": 1},
    )
    segmentation.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=5.0,
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    segmentation.build()
    save(segmentation, root / "segmentation")

    embedding = WeSpeakerResNet34()
    embedding.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=5.0
    )
    save(embedding, root / "embedding")

    rng = np.random.default_rng(seed)
    dim, lda = 256, 128
    (root / "plda").mkdir()
    np.savez(
        root / "plda" / "xvec_transform.npz",
        mean1=rng.normal(size=dim) * 0.01,
        mean2=rng.normal(size=lda) * 0.01,
        lda=np.linalg.qr(rng.normal(size=(dim, dim)))[0][:, :lda],
    )
    np.savez(root / "plda" / "plda.npz", mu=np.zeros(lda), tr=np.eye(lda), psi=np.linspace(2.0, 0.5, lda))
    (root / "config.yaml").write_text(CONFIG_YAML, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory) -> Path:
    return build_pipeline_dir(tmp_path_factory.mktemp("pyannote-pipeline") / "random-pipeline")


def _noise(seconds: float, rate: int) -> np.ndarray:
    return (np.random.default_rng(1).normal(size=int(seconds * rate)) * 0.1).astype(np.float32)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rate", "kwargs"),
    [(16000, {}), (8000, {"num_speakers": None, "max_speakers": 3})],  # 4 s: one 5 s window
    ids=["16k-two-speakers", "8k-auto"],
)
def test_local_pipeline_runs_end_to_end(pipeline_dir, rate, kwargs):
    from pyannote.core import Annotation

    diarizer = load_pipeline_dir(pipeline_dir)
    assert isinstance(diarizer, MonoDiarizer)
    assert diarizer.name == f"pyannote-dir:{pipeline_dir}"

    annotation = diarizer(_noise(4.0, rate), rate, **kwargs)

    assert isinstance(annotation, Annotation)
    labels = annotation.labels()
    assert all(label.startswith("SPEAKER_") for label in labels)
    assert len(labels) <= 3
    assert annotation.get_timeline().extent().end <= 4.0


def test_loaded_pipeline_is_cached_and_selected_by_setting(pipeline_dir):
    first = load_pipeline_dir(pipeline_dir)
    assert load_pipeline_dir(str(pipeline_dir)) is first
    assert diarizer_from_setting(str(pipeline_dir)) is first


def _break(root: Path, how: str) -> Path:
    """Make one kind of unusable pipeline directory under ``root``; return the path to load."""
    import shutil

    if how == "missing":
        return root / "does-not-exist"
    if how == "file":
        f = root / "pipeline.bin"
        f.write_bytes(b"x")
        return f
    d = root / how
    d.mkdir()
    if how == "no-config":
        (d / "segmentation").mkdir()
        return d
    if how == "bad-yaml":
        (d / "config.yaml").write_text("pipeline: [unclosed", encoding="utf-8")
        return d
    if how == "no-pipeline-section":
        (d / "config.yaml").write_text("params: {}\n", encoding="utf-8")
        return d
    (d / "config.yaml").write_text(CONFIG_YAML, encoding="utf-8")
    for sub in ("segmentation", "embedding"):
        (d / sub).mkdir()
        (d / sub / "pytorch_model.bin").write_bytes(b"not really a checkpoint")
    (d / "plda").mkdir()
    (d / "plda" / "xvec_transform.npz").write_bytes(b"x")
    (d / "plda" / "plda.npz").write_bytes(b"x")
    if how == "no-segmentation":
        shutil.rmtree(d / "segmentation")
    elif how == "no-plda-file":
        (d / "plda" / "plda.npz").unlink()
    elif how == "hub-name":
        (d / "config.yaml").write_text(
            CONFIG_YAML.replace("$model/embedding", "pyannote/wespeaker-voxceleb-resnet34-LM"), encoding="utf-8"
        )
    elif how == "corrupt-checkpoint":
        pass
    return d


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("missing", "does not exist"),
        ("file", "must be a directory"),
        ("no-config", "no config.yaml"),
        ("bad-yaml", "not valid YAML"),
        ("no-pipeline-section", "no 'pipeline' section"),
        ("no-segmentation", "segmentation checkpoint is missing"),
        ("no-plda-file", "missing plda.npz"),
        ("hub-name", "model hub names cannot be used offline"),
        ("corrupt-checkpoint", "pyannote could not load the pipeline"),
    ],
)
def test_bad_pipeline_directory_is_refused_by_name(tmp_path, how, reason):
    path = _break(tmp_path, how)
    with pytest.raises(DiarizationConfigError) as info:
        load_pipeline_dir(path)
    message = str(info.value)
    assert str(path) in message
    assert reason in message
    assert info.value.stage == "diarize"
