# ActAdd in Go. Two entry points, both self-installing on a fresh Debian machine:
#   make notebooks   execute every notebook headless through the GoNB kernel -> figures/
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

.PHONY: all test vet unit notebooks notebooks-ci bench tools jupyter clean

all: test

tools:
	$(GO) install tool

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

unit:
	$(GO) test -timeout $(TEST_TIMEOUT) ./...

test: vet unit

clean:
	rm -rf .tools .cache
