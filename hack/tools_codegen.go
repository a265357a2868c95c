//go:build tools

// Package hack pins k8s.io/code-generator in go.mod so hack/update-codegen.sh
// runs the generators at the same version as the rest of k8s.io. The protobuf
// generator's commands are imported by package, not only by module, so that
// go.sum covers everything `go build` of them needs on a fresh machine.
package hack

import (
	_ "k8s.io/code-generator"
	_ "k8s.io/code-generator/cmd/go-to-protobuf"
	_ "k8s.io/code-generator/cmd/go-to-protobuf/protoc-gen-gogo"

	// goimports is run by go-to-protobuf on the generated.pb.go it writes.
	_ "golang.org/x/tools/cmd/goimports"
)
