# certstatus-apiserver image: `make image`, or
#   docker build --build-arg VERSION=$(git describe --tags --always) -t certstatus-apiserver:dev .

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
# is what deployment.yaml's runAsUser 65532 expects.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=builder /certstatus-apiserver /certstatus-apiserver
USER 65532:65532
ENTRYPOINT ["/certstatus-apiserver"]
