# Parley build / test / dev tasks. Every variable below can be overridden from
# the environment or the command line, e.g. `make dev PARLEY_ADDR=:9090`.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO ?= go
BIN ?= bin/parley

# Test suite: local Postgres + Redis started by scripts/services.sh.
export PARLEY_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
export PARLEY_TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

# `make dev` configuration (passed to bin/parley dev only).
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/parley_dev?sslmode=disable
REDIS_URL ?= redis://127.0.0.1:6379/1
PARLEY_ADDR ?= :8080
PARLEY_PUBLIC_URL ?= http://localhost:8080
PARLEY_SPOOL_DIR ?= ./var/spool

TEST_FLAGS ?= -count=1 -timeout 20m
BENCH_FLAGS ?= -run '^$$' -bench . -benchtime 1x -timeout 60m

.PHONY: all build test dev bench lint fmt clean services pacing-stress fuzz soak

all: build

build:
	$(GO) build -o $(BIN) ./cmd/parley

services:
	bash scripts/services.sh

test: services
	$(GO) test ./... $(TEST_FLAGS)

dev: services build
	bash scripts/ensure-db.sh '$(DATABASE_URL)'
	mkdir -p '$(PARLEY_SPOOL_DIR)'
	DATABASE_URL='$(DATABASE_URL)' \
	REDIS_URL='$(REDIS_URL)' \
	PARLEY_ADDR='$(PARLEY_ADDR)' \
	PARLEY_PUBLIC_URL='$(PARLEY_PUBLIC_URL)' \
	PARLEY_SPOOL_DIR='$(PARLEY_SPOOL_DIR)' \
	exec '$(BIN)' dev

# The pacing and exactly-once tests, 20 times with the CPU saturated.
pacing-stress: services
	bash scripts/pacing-stress.sh $(or $(COUNT),20)

# The long soak: 2 web + 2 worker processes on a private Postgres and Redis,
# the inbound mix to the knee and then at 80% of it for SOAK_DURATION (10m),
# a SOAK_RECIPIENTS (100000) campaign, every fault, the pass table
# (docs/soak.md). A short version (TestSoakShort) runs in `make test`.
soak:
	bash scripts/soak.sh

# Every fuzz target for FUZZTIME each (their seed corpora also run in
# `make test`, as ordinary tests). New inputs that fail land in the
# package's testdata/fuzz, to be committed with the fix.
FUZZTIME ?= 30s
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

bench: services
	$(GO) test ./... $(BENCH_FLAGS)

# golangci-lint is pinned in tools/go.mod (a module of its own, so its
# dependencies stay out of Parley's); .golangci.yml says what runs and why
# anything is excluded.
lint:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool -modfile=tools/go.mod golangci-lint run ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin/ tmp-bench/ tmp-soak/
	rm -f coverage.* *.coverprofile *.test *.out *.prof
