//go:build tools

// Package hack pins k8s.io/code-generator in go.mod so hack/update-codegen.sh
// runs the generators at the same version as the rest of k8s.io.
package hack

import _ "k8s.io/code-generator"
