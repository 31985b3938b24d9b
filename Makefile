# ActAdd in Go. Two entry points, both self-installing on a fresh Debian machine:
#   make notebooks   execute every notebook headless through the GoNB kernel -> figures/
#                    (figures/stand-in/, git-ignored, with ACTADD_MODEL=tiny)
#   make test        go vet + all tests (+ the notebooks with the tiny model, small sizes)
# See README.md and environment.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(abspath .)

GO := $(shell $(ROOT)/scripts/ensure-go.sh)
export PATH := $(dir $(GO)):$(ROOT)/.tools/bin:$(PATH)
export GOBIN := $(ROOT)/.tools/bin
# The go backend's fast matmul needs GOEXPERIMENT=simd; asyncpreemptoff=1 avoids a ~100x
# slowdown of Go's math functions in simd binaries (environment.md, "Performance").
export GOEXPERIMENT := simd
export GODEBUG := asyncpreemptoff=1
# Never let GoMLX try to download a PJRT plugin behind our back; backend.New decides.
export GOMLX_NO_AUTO_INSTALL := 1

ACTADD_MODEL ?= gpt2
TEST_TIMEOUT ?= 30m

.PHONY: all test vet unit notebooks notebooks-ci notebooks-clear bench device-prep tools jupyter clean

all: test

tools:
	$(GO) install tool

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

# The browser test (notebooks/browsertest) runs notebooks/05-explorer.ipynb in Debian's classic
# Jupyter Notebook and headless chromium; scripts/browser-setup.sh installs them when missing.
# Test artifacts (its screenshot) go to TEST_ARTIFACTS.
TEST_ARTIFACTS ?= $(ROOT)/.cache/test-artifacts
unit:
	@scripts/browser-setup.sh
	@mkdir -p $(TEST_ARTIFACTS)
	$(GO) test -timeout $(TEST_TIMEOUT) -artifacts -outputdir $(TEST_ARTIFACTS) ./...

test: vet unit notebooks-ci

clean:
	rm -rf .tools .cache

# ---- Benchmarks: `make bench` (benchmarks/README.md) ----
# Go benchmarks and the PyTorch/OpenBLAS baseline (benchmarks/torch_reference.py) in one run, their
# repetitions interleaved; installs Debian's python3-torch and both OpenBLAS builds (pthreads and
# OpenMP, the reference takes the faster) when missing. Writes benchmarks/results/<timestamp>.json
# and latest.json, prints tables and a key=value summary line.
# A full run takes tens of minutes on 2 cores (benchmarks/README.md); `make bench BENCH_QUICK=1`
# uses small sizes for a quick check.
# BENCH_FLAGS passes flags to actadd-bench, e.g. BENCH_FLAGS='-models gpt2:3'.
BENCH_PYTHON ?= /usr/bin/python3
BENCH_FLAGS ?=
BENCH_DEBS := python3-torch libopenblas0-pthread libopenblas0-openmp
bench:
	@if ! dpkg -s $(BENCH_DEBS) >/dev/null 2>&1; then \
	  echo "bench: installing $(BENCH_DEBS) (Debian)"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends \
	    $(BENCH_DEBS) >/dev/null; \
	fi
	@$(BENCH_PYTHON) -c 'import torch' || { echo "bench: $(BENCH_PYTHON) cannot import torch"; exit 1; }
	$(GO) run ./benchmarks/cmd/actadd-bench -python='$(BENCH_PYTHON)' $(BENCH_FLAGS)

# ---- Notebooks: notebooks/*.ipynb run headless through the GoNB kernel (notebooks/README.md) ----
# `make jupyter` installs Debian's Jupyter (nbconvert, nbclient) when missing and the GoNB kernel
# spec into JUPYTER_DATA_DIR; the notebook targets do it first. Debian's jupyter, not a pyenv one.
JUPYTER := /usr/bin/jupyter
JUPYTER_DATA_DIR := $(ROOT)/.tools/jupyter
ACTADD_SCALE ?= paper
# ACTADD_FIGURES unset: figures/, or figures/stand-in/ for the tiny stand-in (nbutil.FiguresDir).
# ACTADD_RUNS unset: the run store is .cache/runs (nbutil.RunsDir); the experiments record their
# units of work there, so that notebooks run again compute only what changed (ACTADD_RUNS=off:
# no store, every unit computed). notebooks-ci uses a store of its own, emptied every run, and
# runs notebook 02 a second time to check that an unchanged rerun computes nothing.
# Per-cell limits in seconds (-1: none; paper-scale runs on a CPU take hours).
NB_TIMEOUT ?= -1
NB_CI_TIMEOUT ?= 900
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
NB_OUT := $(ROOT)/notebooks/.executed
NB_CI_OUT := $(NB_OUT)/ci
NBCHECK := $(ROOT)/.tools/bin/nbcheck
# Figures notebooks-ci expects (each as .png, .svg and a .json sidecar naming the model).
NB_CI_FIGURES := e1-perplexity-ratio-vs-relevance e2-wedding-count-vs-layer e2-success-vs-layer \
  e3-conceptnet-p-at-k e4-overhead-vs-model-size
# The kernel runs in notebooks/: make a local checkpoint folder and the paths given absolute.
NB_MODEL = $(if $(wildcard $(ACTADD_MODEL)/config.json),$(abspath $(ACTADD_MODEL)),$(ACTADD_MODEL))
NB_PATHS = $(foreach v,ACTADD_FIGURES ACTADD_OWT ACTADD_LAMA,$(if $($(v)),$(v)=$(abspath $($(v))))) \
  $(if $(filter-out off,$(ACTADD_RUNS)),ACTADD_RUNS=$(abspath $(ACTADD_RUNS)),$(if $(ACTADD_RUNS),ACTADD_RUNS=off))
NB_ENV = JUPYTER=$(JUPYTER) JUPYTER_DATA_DIR=$(JUPYTER_DATA_DIR) NBCHECK=$(NBCHECK)

$(ROOT)/.tools/bin/gonb: go.mod go.sum
	@$(GO) install tool
	@touch $@

jupyter: $(ROOT)/.tools/bin/gonb
	@GO=$(GO) GOBIN=$(GOBIN) JUPYTER_DATA_DIR=$(JUPYTER_DATA_DIR) scripts/notebooks-setup.sh
	@$(GO) build -o $(NBCHECK) ./notebooks/nbcheck

# nbcheck model checks the figures folder and the model, and says which scale runs (the tiny
# stand-in always runs quick) before any notebook starts.
notebooks: jupyter
	@$(NB_PATHS) $(NBCHECK) model -scale '$(ACTADD_SCALE)' $(NB_MODEL)
	@$(NB_ENV) NB_TIMEOUT=$(NB_TIMEOUT) ACTADD_MODEL=$(NB_MODEL) ACTADD_SCALE=$(ACTADD_SCALE) \
	  $(NB_PATHS) scripts/run-notebooks.sh $(NB_OUT) $(NOTEBOOKS)

# Notebooks are committed without outputs, with the kernel's metadata (nbcheck clean checks what
# git would commit, so outputs Jupyter autosaves into the working copy fail nothing until staged).
# notebooks-clear rewrites the working copy's notebooks so (outputs and execution counts cleared).
notebooks-clear:
	@$(GO) build -o $(NBCHECK) ./notebooks/nbcheck
	$(NBCHECK) clear $(NOTEBOOKS)

NB_CI_ENV = $(NB_ENV) NB_TIMEOUT=$(NB_CI_TIMEOUT) ACTADD_MODEL=tiny ACTADD_SCALE=quick \
  ACTADD_FIGURES=$(NB_CI_OUT)/figures ACTADD_RUNS=$(NB_CI_OUT)/runs
NB_RERUN := notebooks/02-wedding-layer-sweep.ipynb
notebooks-ci: jupyter
	@$(NBCHECK) clean $(NOTEBOOKS)
	@rm -rf $(NB_CI_OUT)
	@$(NB_CI_ENV) scripts/run-notebooks.sh $(NB_CI_OUT) $(NOTEBOOKS)
	@$(NBCHECK) figures -model tiny $(NB_CI_OUT)/figures $(NB_CI_FIGURES)
	@$(NB_CI_ENV) scripts/run-notebooks.sh $(NB_CI_OUT)/rerun $(NB_RERUN)
	@grep -q 'units reused, 0 computed' $(NB_CI_OUT)/rerun/$(notdir $(NB_RERUN)) || \
	  { echo "notebooks-ci: rerunning $(NB_RERUN) unchanged computed units again (see $(NB_CI_OUT)/rerun)"; exit 1; }

# ---- The GPU check: `make device-prep` here, then benchmarks/device/check.sh on a CUDA machine ----
# Builds what the check runs on a machine without a Go toolchain (XLA compiled in) into
# .tools/device, stripped and gzipped: copy the repository with that folder to
# the GPU machine and run `bash benchmarks/device/check.sh` there. See benchmarks/device/README.md.
DEVICE_BIN := $(ROOT)/.tools/device
device-prep:
	rm -rf $(DEVICE_BIN) && mkdir -p $(DEVICE_BIN)
	$(GO) build -ldflags='-s -w' -o $(DEVICE_BIN)/actadd-bench ./benchmarks/cmd/actadd-bench
	$(GO) test -c -ldflags='-s -w' -o $(DEVICE_BIN)/gpt2.test ./gpt2
	$(GO) test -c -ldflags='-s -w' -o $(DEVICE_BIN)/actadd.test ./actadd
	gzip -9 $(DEVICE_BIN)/actadd-bench $(DEVICE_BIN)/gpt2.test $(DEVICE_BIN)/actadd.test
	@du -ch $(DEVICE_BIN)/* | tail -1
