#!/usr/bin/env bash
# Pins the image's runtime base by digest: resolves the tag in hack/base-image
# to the digest its registry serves now (a multi-arch index) and writes
# "<name>:<tag>@sha256:..." back, so every build, on every architecture,
# starts from the same bytes until the next deliberate `make pin-base-image`.
# Needs registry access and one of crane, skopeo or docker (buildx).
set -euo pipefail

file=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/base-image
ref=$(head -1 "$file")
ref=${ref%@*} # re-resolve the tag, whatever digest it had

if command -v crane >/dev/null; then
	digest=$(crane digest "$ref")
elif command -v skopeo >/dev/null; then
	digest=$(skopeo inspect --raw "docker://$ref" | sha256sum | awk '{print "sha256:" $1}')
elif command -v docker >/dev/null; then
	digest=$(docker buildx imagetools inspect "$ref" --format '{{json .Manifest.Digest}}' | tr -d '"')
else
	echo "pin-base-image: install crane, skopeo or docker (buildx)" >&2
	exit 1
fi
case "$digest" in
sha256:*) ;;
*)
	echo "pin-base-image: could not resolve $ref (got '$digest')" >&2
	exit 1
	;;
esac
echo "$ref@$digest" >"$file"
echo "pinned $ref@$digest in hack/base-image"
