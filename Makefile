# jen-composer: two front doors (`make demo`, `make test`); everything else is listed by `make help`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SOUNDFONT := /usr/share/sounds/sf2/TimGM6mb.sf2
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export WANDB_MODE ?= offline
export PYTHONUNBUFFERED := 1
LINT_PATHS := $(wildcard src tests benchmarks)  # only the folders this checkout has

.PHONY: help install system-deps demo bundle test test-all test-gpu lint format bench clean

help:  ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: system-deps $(STAMP)  ## create .venv and install the package (a no-op when up to date)

system-deps:  ## FluidSynth, a General MIDI soundfont and Chromium (for the studio test) via apt when missing
	@if command -v fluidsynth >/dev/null && [ -f $(SOUNDFONT) ] && command -v chromium >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo ">> installing Debian packages: fluidsynth timgm6mb-soundfont chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    fluidsynth timgm6mb-soundfont chromium >/dev/null; \
	else echo "!! fluidsynth / soundfont / chromium missing and apt-get unavailable: install them yourself"; fi

$(STAMP): pyproject.toml
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: install  ## render the benchmark, train tiny models, generate stems (the main job, CPU, offline)
	$(VENV)/bin/jen-composer demo

bundle: install  ## rebuild the bundled weights + manifest from scratch (recipe experiments/{autoencoder,composer}/bundle.yaml: renders 300 songs, trains both; the autoencoder needs a GPU)
	$(VENV)/bin/jen-composer bundle --retrain --recipe bundle

test: install  ## fast test suite (not slow, not gpu)
	$(PY) -m pytest -q -p no:cacheprovider

test-all: install  ## every test including `slow` ones (DDP, resume, end-to-end)
	$(PY) -m pytest -q -p no:cacheprovider -m 'not gpu'

test-gpu: install  ## GPU tests (needs CUDA)
	$(PY) -m pytest -q -p no:cacheprovider -m gpu

lint: install  ## ruff
	$(VENV)/bin/ruff check $(LINT_PATHS)

format: install  ## ruff format + fixes
	$(VENV)/bin/ruff check --fix $(LINT_PATHS); $(VENV)/bin/ruff format $(LINT_PATHS)

bench: install  ## speed benchmarks, printed as tables
	$(VENV)/bin/jen-composer bench

clean:  ## remove runs and caches (keeps .venv)
	rm -rf runs outputs .pytest_cache .ruff_cache
