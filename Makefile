# micro-gw: the commands people and CI share.
GO      ?= go
BIN     := bin
EXAMPLE := examples/petstore-project

.PHONY: all build demo test test-go test-short test-e2e bench bench-build lint tidy-check clean example generate

all: build

## build: the micro-gw CLI into bin/micro-gw
build:
	$(GO) build -o $(BIN)/micro-gw ./cmd/micro-gw

## demo: the seed's story end to end on an embedded etcd; exits by itself
demo: build
	$(GO) run ./internal/demo -cli $(BIN)/micro-gw -project $(EXAMPLE)

## example: build the example project's gateway
example: build
	$(BIN)/micro-gw build $(EXAMPLE)

## test: every test: unit, integration against real etcd, CLI scripts, end to end.
## Building the example first also compiles the gateway runtime once, so the
## tests that build gateways in parallel start from a warm build cache.
test: lint example test-go test-e2e

test-go:
	$(GO) test -race -timeout 12m ./...

## test-short: the quick tier, for every change: go test -short skips what
## compiles gateways (CLI scripts that build, end to end), etcd clusters of
## three members and the discovery tests that wait out real timeouts.
test-short:
	$(GO) test -short ./...

## test-e2e: shell scripts with Debian's etcd/etcdctl and the installed CLI
test-e2e: build
	bash tests/e2e/run.sh

## generate: README.md's settings table and the example's conf/gateway.conf,
## from pkg/gateway/settings (the tests of internal/gendocs fail while stale)
generate:
	$(GO) generate .

lint: tidy-check
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v /testdata/))" || { gofmt -l $$(git ls-files '*.go' | grep -v /testdata/); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

tidy-check:
	$(GO) mod tidy -diff

## bench: performance figures into bench/results/latest.md
bench: build
	bash bench/run.sh

## bench-build: only make bench's section 7 (build scaling: loading generated
## definitions of 1k to 30k operations), put into bench/results/latest.md
bench-build:
	bash bench/run.sh build-scaling

clean:
	rm -rf $(BIN) $(EXAMPLE)/target
