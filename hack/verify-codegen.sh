#!/usr/bin/env bash
# Fails when generated code differs from what hack/update-codegen.sh produces:
# it regenerates into a scratch copy of the tree and compares.
set -o errexit -o nounset -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Copy the tracked and untracked-but-not-ignored files, then regenerate there.
(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$scratch" 2>/dev/null || true)
(cd "$scratch" && hack/update-codegen.sh >/dev/null)

status=0
for dir in generated pkg/apis hack/api-rule-violations.list; do
	if ! diff -Nru "$root/$dir" "$scratch/$dir" >"$scratch.diff" 2>&1; then
		echo "$dir is out of date; run hack/update-codegen.sh" >&2
		head -40 "$scratch.diff" >&2
		status=1
	fi
done
rm -f "$scratch.diff"
exit $status
