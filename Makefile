# The Makefile is the documentation of how to do things here.
SHELL := /bin/bash
.DEFAULT_GOAL := build

BIN := $(CURDIR)/_output/bin
SERVER := $(BIN)/certstatus-apiserver
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO_LDFLAGS := -s -w -X github.com/certstatus/certstatus/pkg/version.Version=$(VERSION)
E2E_TIMEOUT ?= 45m

.PHONY: build cross tools monitoring-tools monitoring run test unit e2e verify fresh-clone-check codegen bench bench-pkg soak image image-multiarch pin-base-image clean

## build: the server binary, into _output/bin
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(GO_LDFLAGS)" -o $(SERVER) ./cmd/certstatus-apiserver

## cross: the server for every platform the image is published for (pure Go, no emulation)
PLATFORMS ?= linux/amd64 linux/arm64
cross:
	@set -e; for p in $(PLATFORMS); do \
	  echo "go build $$p"; \
	  CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} go build -trimpath -ldflags "$(GO_LDFLAGS)" \
	    -o $(BIN)/$${p%/*}_$${p#*/}/certstatus-apiserver ./cmd/certstatus-apiserver; \
	done

## tools: etcd, kube-apiserver, kube-controller-manager, kubectl v1.37.2 and helm, built once into a cache
tools:
	@hack/build-tools.sh

## monitoring-tools: prometheus, promtool and alertmanager, built once into a cache
monitoring-tools:
	@hack/build-monitoring-tools.sh

## monitoring: regenerate artifacts/monitoring (rules, PrometheusRule, Alertmanager example, dashboard)
monitoring:
	hack/update-monitoring.sh

## run: a local control plane with certstatus and the demo Secrets, until Ctrl-C;
## MONITORING=1 adds Prometheus and Alertmanager with the shipped rules and Slack routing
# Built, then run (not `go run`, which exits 1 after Ctrl-C however its program ends).
run: build
	@go build -o $(BIN)/run ./hack/run && \
	  export CERTSTATUS_TOOLS_DIR=$$(hack/build-tools.sh | tail -1) && \
	  exec $(BIN)/run --server $(SERVER) $(if $(MONITORING),--monitoring)

## test: everything: verify, unit tests, the cross-compile, the e2e suite against the real
## stack, and a fresh-clone check with an empty Go module cache
test: verify unit cross e2e fresh-clone-check

## fresh-clone-check: a clean copy with an empty Go module cache through verify, build and a make run smoke
fresh-clone-check:
	hack/fresh-clone-check.sh

unit:
	go test -count=1 ./pkg/... ./internal/... ./generated/... ./cmd/... ./hack/...

e2e: build
	@export CERTSTATUS_TOOLS_DIR=$$(hack/build-tools.sh | tail -1) && \
	  CERTSTATUS_SERVER=$(SERVER) go test -count=1 -timeout $(E2E_TIMEOUT) -v ./test/... 2>&1 | tee _output/e2e.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go' ; \
	  exit $${PIPESTATUS[0]}

## verify: formatting, vet, generated code, and the alert rules (up to date, promtool check and unit tests)
verify:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	go vet ./...
	cd examples/typed-client && go vet ./...
	hack/verify-codegen.sh
	hack/verify-monitoring.sh
	hack/verify-oidnames.sh

## codegen: regenerate clientset, listers, informers, openapi, deepcopy, conversions, protobuf
## (protoc 3.21.12 is fetched from Debian into a cache by hack/protoc.sh)
codegen:
	hack/update-codegen.sh

BENCH_SECRETS ?= 10000

## bench: the real stack with BENCH_SECRETS TLS Secrets, side by side with kube-apiserver
## → docs/benchmarks.md and .png (up to 55 minutes: the dashboard against Prometheus, two Secret mixes, then Ingresses and Pods for usedBy; not part of test)
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

## image: container image with whichever OCI builder is installed (docker, podman or buildah)
# The runtime base image, pinned by digest in hack/base-image (make pin-base-image).
BASE_IMAGE ?= $(shell cat hack/base-image)
IMAGE ?= certstatus-apiserver:$(VERSION)
CONTAINER_ENGINE ?= $(shell for e in docker podman buildah; do command -v $$e >/dev/null && { echo $$e; break; }; done)
image:
	@test -n "$(CONTAINER_ENGINE)" || { echo "no OCI builder found: install docker, podman or buildah, or set CONTAINER_ENGINE"; exit 1; }
	$(CONTAINER_ENGINE) build --build-arg VERSION=$(VERSION) --build-arg BASE_IMAGE=$(BASE_IMAGE) -t $(IMAGE) .

empty :=
comma := ,
PLATFORM_LIST := $(subst $(empty) $(empty),$(comma),$(strip $(PLATFORMS)))

## image-multiarch: linux/amd64 and linux/arm64 in one manifest list, pushed to IMAGE (docker buildx or podman)
image-multiarch:
	@case "$(CONTAINER_ENGINE)" in \
	  docker) docker buildx build --platform $(PLATFORM_LIST) --build-arg VERSION=$(VERSION) \
	      --build-arg BASE_IMAGE=$(BASE_IMAGE) -t $(IMAGE) --push . ;; \
	  podman|buildah) $(CONTAINER_ENGINE) build --platform $(PLATFORM_LIST) --build-arg VERSION=$(VERSION) \
	      --build-arg BASE_IMAGE=$(BASE_IMAGE) --manifest $(IMAGE) . && $(CONTAINER_ENGINE) manifest push --all $(IMAGE) ;; \
	  *) echo "image-multiarch needs docker (buildx), podman or buildah"; exit 1 ;; \
	esac

## pin-base-image: resolve the base image's tag to its current digest into hack/base-image (needs registry access)
pin-base-image:
	hack/pin-base-image.sh

clean:
	rm -rf _output
