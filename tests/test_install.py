"""The install `make` produces: CPU torch, a CPU-only torchaudio, pyannote.audio importable."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata as md
import io
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import torchaudio_nocuda  # noqa: E402


def test_installed_torch_is_the_cpu_build():
    import torch

    assert torch.__version__.startswith("2.13.0")
    assert not torch.cuda.is_available()


def test_installed_torchaudio_has_no_native_libraries():
    assert md.version("torchaudio") == "2.11.0+nocuda"
    files = [str(f) for f in md.distribution("torchaudio").files]
    assert not [f for f in files if f.endswith(".so")]


def test_pyannote_imports_and_uses_torchaudio_features():
    code = (
        "import torch, torchaudio.compliance.kaldi as k, pyannote.audio;"
        "print(tuple(k.fbank(torch.randn(1, 16000), num_mel_bins=80).shape))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={"PYANNOTE_METRICS_ENABLED": "0", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "(98, 80)"


def test_repack_drops_native_libraries_and_rewrites_record(tmp_path):
    src = tmp_path / "torchaudio-2.11.0-cp311-cp311-manylinux_2_28_x86_64.whl"
    info = "torchaudio-2.11.0.dist-info/"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("torchaudio/__init__.py", "x = 1\n")
        z.writestr("torchaudio/lib/_torchaudio.abi3.so", b"\x7fELF cuda")
        z.writestr(info + "METADATA", "Metadata-Version: 2.1\nName: torchaudio\nVersion: 2.11.0\n")
        z.writestr(info + "WHEEL", "Wheel-Version: 1.0\n")
        z.writestr(info + "RECORD", "stale\n")
    out = torchaudio_nocuda.repack(src, tmp_path / "out")
    assert out.name == "torchaudio-2.11.0+nocuda-cp311-cp311-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        new_info = "torchaudio-2.11.0+nocuda.dist-info/"
        assert "torchaudio/lib/_torchaudio.abi3.so" not in names
        assert "Version: 2.11.0+nocuda" in z.read(new_info + "METADATA").decode()
        rows = list(csv.reader(io.StringIO(z.read(new_info + "RECORD").decode())))
        recorded = {r[0]: r[1] for r in rows}
        assert set(recorded) == names
        data = z.read("torchaudio/__init__.py")
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert recorded["torchaudio/__init__.py"] == f"sha256={digest}"
