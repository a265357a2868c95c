#!/usr/bin/env bash
# Fails when pkg/certificate/zz_generated.oidnames.go differs from what
# hack/update-oidnames.sh generates from the pinned openssl object list.
set -o errexit -o nounset -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=hack/oidnames-lib.sh
source "$root/hack/oidnames-lib.sh"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

generate_oidnames "$root" "$scratch/oidnames.go"
if ! diff -u "$root/$OIDNAMES_OUTPUT" "$scratch/oidnames.go" >"$scratch/diff"; then
	echo "$OIDNAMES_OUTPUT is out of date; run hack/update-oidnames.sh" >&2
	head -40 "$scratch/diff" >&2
	exit 1
fi
