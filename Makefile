# The Makefile is the documentation of how to do things here.
SHELL := /bin/bash
.DEFAULT_GOAL := build

BIN := $(CURDIR)/_output/bin
SERVER := $(BIN)/certstatus-apiserver
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO_LDFLAGS := -s -w -X github.com/certstatus/certstatus/pkg/version.Version=$(VERSION)
E2E_TIMEOUT ?= 45m

.PHONY: build tools run test unit e2e verify codegen bench bench-pkg soak image clean

## build: the server binary, into _output/bin
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(GO_LDFLAGS)" -o $(SERVER) ./cmd/certstatus-apiserver

## tools: etcd, kube-apiserver, kube-controller-manager and kubectl v1.37.2, built once into a cache
tools:
	@hack/build-tools.sh

## run: a local control plane with certstatus and example Secrets, until Ctrl-C
run: build
	@export CERTSTATUS_TOOLS_DIR=$$(hack/build-tools.sh | tail -1) && \
	  go run ./hack/run --server $(SERVER)

## test: everything: verify, unit tests and the e2e suite against the real stack
test: verify unit e2e

unit:
	go test -count=1 ./pkg/... ./generated/... ./cmd/...

e2e: build
	@export CERTSTATUS_TOOLS_DIR=$$(hack/build-tools.sh | tail -1) && \
	  CERTSTATUS_SERVER=$(SERVER) go test -count=1 -timeout $(E2E_TIMEOUT) -v ./test/... 2>&1 | tee _output/e2e.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go' ; \
	  exit $${PIPESTATUS[0]}

## verify: formatting, vet and generated code
verify:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	go vet ./...
	cd examples/typed-client && go vet ./...
	hack/verify-codegen.sh
	hack/verify-oidnames.sh

## codegen: regenerate clientset, listers, informers, openapi, deepcopy, conversions
codegen:
	hack/update-codegen.sh

BENCH_SECRETS ?= 10000

## bench: the real stack with BENCH_SECRETS TLS Secrets, side by side with kube-apiserver
## → docs/benchmarks.md and .png (up to 15 minutes; not part of test)
bench: build
	@export CERTSTATUS_TOOLS_DIR=$$(hack/build-tools.sh | tail -1) && \
	  go run ./hack/bench --server $(SERVER) --secrets $(BENCH_SECRETS) $(BENCH_ARGS)

## bench-pkg: the Go micro-benchmarks of the analysis and the cache
bench-pkg:
	go test -run '^$$' -bench . -benchmem ./pkg/...

SOAK_DURATION ?= 30m

## soak: SOAK_DURATION of Secret churn with 100 watchers and a list loop; memory must stay flat
soak: build
	@export CERTSTATUS_TOOLS_DIR=$$(hack/build-tools.sh | tail -1) && \
	  go run ./hack/soak --server $(SERVER) --duration $(SOAK_DURATION) $(SOAK_ARGS)

## image: container image (needs a container engine)
image:
	docker build --build-arg VERSION=$(VERSION) -t certstatus-apiserver:$(VERSION) .

clean:
	rm -rf _output
