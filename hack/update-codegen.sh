#!/usr/bin/env bash
# Regenerates everything generated from pkg/apis: deepcopy, conversions and
# defaults beside the types; OpenAPI definitions, the read-only typed clientset,
# listers and informers under generated/. Never edit generated code by hand.
set -o errexit -o nounset -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# go list -m prints no directory for a module that is not in the module cache
# yet (a fresh machine), so download it first; it is a no-op when present.
go mod download k8s.io/code-generator
codegen_pkg=$(go list -m -f '{{.Dir}}' k8s.io/code-generator)
if [ -z "$codegen_pkg" ] || [ ! -f "$codegen_pkg/kube_codegen.sh" ]; then
	echo "k8s.io/code-generator is not in the module cache (go mod download k8s.io/code-generator)" >&2
	exit 1
fi
module=github.com/certstatus/certstatus
boilerplate=hack/boilerplate.go.txt

# shellcheck source=/dev/null
source "${codegen_pkg}/kube_codegen.sh"

# gen_protobuf writes generated.proto and generated.pb.go beside the v1alpha1
# types (and the protobuf struct tags into types.go): go-to-protobuf and
# protoc-gen-gogo at go.mod's version, with the pinned protoc (hack/protoc.sh).
# protoc finds .proto files by import path, so a scratch tree maps the import
# paths of this module, k8s.io/apimachinery and k8s.io/api to their
# directories; gogo.proto and google/protobuf/descriptor.proto come from the
# github.com/gogo/protobuf module.
gen_protobuf() {
	local scratch bin protoc_dir dep
	scratch=$(mktemp -d)
	# shellcheck disable=SC2064
	trap "rm -rf '$scratch'" RETURN
	bin=$scratch/bin
	protoc_dir=$(hack/protoc.sh)
	go mod download k8s.io/apimachinery k8s.io/api github.com/gogo/protobuf
	GOBIN=$bin go install \
		k8s.io/code-generator/cmd/go-to-protobuf \
		k8s.io/code-generator/cmd/go-to-protobuf/protoc-gen-gogo \
		golang.org/x/tools/cmd/goimports
	mkdir -p "$scratch/src/github.com/certstatus" "$scratch/src/github.com/gogo" "$scratch/src/k8s.io"
	ln -s "$root" "$scratch/src/$module"
	for dep in k8s.io/apimachinery k8s.io/api github.com/gogo/protobuf; do
		ln -s "$(go list -m -f '{{.Dir}}' "$dep")" "$scratch/src/$dep"
	done
	# The apimachinery packages are only read ("-"): their .proto files are
	# imported from the module cache, never regenerated.
	PATH="$bin:$protoc_dir:$PATH" go-to-protobuf \
		--go-header-file "$boilerplate" \
		--output-dir "$scratch/src" \
		--proto-import "$scratch/src/github.com/gogo/protobuf/protobuf" \
		--apimachinery-packages '-k8s.io/apimachinery/pkg/util/intstr,-k8s.io/apimachinery/pkg/api/resource,-k8s.io/apimachinery/pkg/runtime/schema,-k8s.io/apimachinery/pkg/runtime,-k8s.io/apimachinery/pkg/apis/meta/v1' \
		--packages "$module/pkg/apis/certstatus/v1alpha1"
}

kube::codegen::gen_helpers --boilerplate "$boilerplate" pkg/apis

# The report lists API rule violations we accept; gen_openapi fails on any other.
report=hack/api-rule-violations.list
kube::codegen::gen_openapi \
	--output-dir generated/openapi \
	--output-pkg "$module/generated/openapi" \
	--output-model-name-file zz_generated.model_name.go \
	--report-filename "$report" \
	${UPDATE_API_KNOWN_VIOLATIONS:+--update-report} \
	--boilerplate "$boilerplate" \
	pkg/apis

gen_protobuf

kube::codegen::gen_client \
	--with-watch \
	--prefers-protobuf \
	--output-dir generated \
	--output-pkg "$module/generated" \
	--boilerplate "$boilerplate" \
	pkg/apis
