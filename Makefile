# callqa — two commands on a fresh machine with Python 3.11, pip and apt:
#   make demo   install everything, run the nightly flow on sample_audio/, print a summary
#   make test   install everything, run the whole test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.callqa-installed
# What to install: editable with test tools here; the Dockerfile passes INSTALL_SPEC=. (no tests, not editable).
INSTALL_SPEC ?= -e .[test]
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages: ffmpeg (torchcodec's decoders, audio redaction), espeak-ng and
# flite (regenerating sample and evaluation calls), chromium (HTML page tests).
APT_PACKAGES ?= ffmpeg espeak-ng flite chromium

# Offline and quiet: no telemetry, no hub look-ups at run time.
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PYANNOTE_METRICS_ENABLED := 0
export HF_HUB_OFFLINE := 1
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_LOGGING_LEVEL ?= WARNING

DEMO_DB ?= demo.duckdb

.PHONY: demo test install system-deps bench eval samples clean lint lock

demo: install system-deps
	$(BIN)/python -m flows.nightly --inbox sample_audio --db $(DEMO_DB)

test: install system-deps
	$(BIN)/python -m pytest -q

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The install is redone whenever what it depends on changes.
$(STAMP): $(BIN)/python pyproject.toml constraints.txt tools/torchaudio_nocuda.py
	$(BIN)/python tools/torchaudio_nocuda.py --version 2.11.0 --out .wheels
	$(BIN)/pip install --quiet -c constraints.txt torch==2.13.0 .wheels/torchaudio-2.11.0+nocuda-*.whl
	$(BIN)/pip install --quiet -c constraints.txt $(INSTALL_SPEC)
	$(BIN)/python -c "import torchaudio, pyannote.audio, faster_whisper, callqa"
	touch $(STAMP)

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

bench: install system-deps
	$(BIN)/python -m bench

eval: install system-deps
	$(BIN)/callqa eval eval/ --model default --model base --out docs/ACCURACY.md

samples: install system-deps
	$(BIN)/python tools/make_samples.py

# Refresh the lock after a deliberate upgrade of pyproject.toml pins.
lock: install
	{ echo "# Lock of the tested environment (pip freeze of a fresh 'make install'), used as constraints."; \
	  echo "# Regenerate with: make lock"; \
	  $(BIN)/pip freeze --exclude-editable | grep -v -e '@ file' -e '^callqa' | sed -e 's/^torch==\(.*\)+cpu/torch==\1/'; \
	  echo "torchaudio==2.11.0"; } > constraints.txt

lint:
	$(BIN)/python -m ruff check src tests flows bench tools

clean:
	rm -rf $(VENV) .wheels .prefect $(DEMO_DB) $(DEMO_DB).*
