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

kube::codegen::gen_client \
	--with-watch \
	--output-dir generated \
	--output-pkg "$module/generated" \
	--boilerplate "$boilerplate" \
	pkg/apis
