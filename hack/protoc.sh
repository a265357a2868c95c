#!/usr/bin/env bash
# Prints the directory of a protoc of exactly PROTOC_VERSION, fetching it when
# missing: Debian's protobuf-compiler and its two libraries, downloaded with
# apt-get download and unpacked with dpkg-deb -x into a cache keyed by the
# version (no root install). Run it as $(hack/protoc.sh)/protoc; the wrapper
# there sets LD_LIBRARY_PATH for the unpacked libraries.
set -o errexit -o nounset -o pipefail

# The pin: changing it means regenerating with hack/update-codegen.sh and
# committing the result (protoc's version can change generated.pb.go).
PROTOC_VERSION=3.21.12
PROTOC_DEB_VERSION=${PROTOC_VERSION}-3
packages=(protobuf-compiler libprotoc32 libprotobuf32)

dir=${CERTSTATUS_PROTOC_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/certstatus/protoc-${PROTOC_VERSION}}

check() {
	local version
	version=$("$dir/protoc" --version 2>/dev/null) || return 1
	[[ $version == "libprotoc ${PROTOC_VERSION}" ]]
}

if check; then
	echo "$dir"
	exit 0
fi

# One fetcher at a time (the unpacking below starts with rm -rf): a second
# waits, then finds protoc there.
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if check; then
	echo "$dir"
	exit 0
fi

if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
	echo "protoc ${PROTOC_VERSION} is missing from $dir and apt-get/dpkg-deb are not available to fetch it" >&2
	exit 1
fi
arch=$(dpkg --print-architecture)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
download() {
	(cd "$scratch" && apt-get download -q "${packages[@]/%/=${PROTOC_DEB_VERSION}}" >/dev/null 2>&1)
}
if ! download; then
	# The package lists may be missing or stale on a fresh machine.
	if [[ $(id -u) == 0 ]]; then
		apt-get update -q >/dev/null 2>&1 || true
	fi
	if ! download; then
		echo "apt-get download ${packages[*]} (=${PROTOC_DEB_VERSION}) failed: the configured apt sources do not serve them" >&2
		echo "(apt-cache policy protobuf-compiler lists what is). Update PROTOC_VERSION in hack/protoc.sh," >&2
		echo "run hack/update-codegen.sh and commit the regenerated files." >&2
		exit 1
	fi
fi

rm -rf "$dir"
mkdir -p "$dir/root"
for deb in "$scratch"/*.deb; do
	dpkg-deb -x "$deb" "$dir/root"
done
libdir=$(dirname "$(find "$dir/root" -name 'libprotoc.so.*' | head -1)")
cat >"$dir/protoc" <<EOF
#!/bin/sh
LD_LIBRARY_PATH="$libdir\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$dir/root/usr/bin/protoc" "\$@"
EOF
chmod +x "$dir/protoc"
if ! check; then
	echo "the unpacked protoc in $dir does not print 'libprotoc ${PROTOC_VERSION}' (arch $arch): $("$dir/protoc" --version 2>&1)" >&2
	exit 1
fi
echo "$dir"
