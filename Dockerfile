# certstatus-apiserver image: `make image` (docker, podman or buildah), or
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg BASE_IMAGE=$(cat hack/base-image) -t certstatus-apiserver:dev .
# Both architectures in one manifest list: `make image-multiarch IMAGE=registry/name:tag`.

# The runtime base, pinned by digest in hack/base-image (`make pin-base-image`).
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot

# Build on the builder's own platform and cross-compile (pure Go, no cgo), so
# multi-platform builds (--platform linux/amd64,linux/arm64) need no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src

# Dependencies first: this layer is reused until go.mod or go.sum changes.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath \
      -ldflags "-s -w -X github.com/certstatus/certstatus/pkg/version.Version=${VERSION}" \
      -o /certstatus-apiserver ./cmd/certstatus-apiserver

# No shell, no package manager; runs as the unprivileged "nonroot" user, which
# is what the Deployment's runAsUser 65532 expects. The binary is the only
# file it adds, so the root filesystem can be mounted read-only.
FROM ${BASE_IMAGE}
COPY --from=builder /certstatus-apiserver /certstatus-apiserver
USER 65532:65532
ENTRYPOINT ["/certstatus-apiserver"]
