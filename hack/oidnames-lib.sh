# Sourced by hack/update-oidnames.sh and hack/verify-oidnames.sh: the pinned
# source of openssl's object list, and how to get it on a fresh Debian machine.

# The pinned package: openssl's obj_mac.h as Debian ships it. Changing the pin
# means running hack/update-oidnames.sh and committing the regenerated table.
LIBSSL_DEV_PACKAGE=libssl-dev
LIBSSL_DEV_VERSION=3.0.19-1~deb12u2
OIDNAMES_SOURCE="Debian ${LIBSSL_DEV_PACKAGE} ${LIBSSL_DEV_VERSION}"
OIDNAMES_OUTPUT=pkg/certificate/zz_generated.oidnames.go
DEB_CACHE=${CERTSTATUS_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/certstatus/debs}

# obj_mac_header DIR: extracts the pinned package's obj_mac.h under DIR and
# prints its path, downloading the .deb into DEB_CACHE when it is not there.
obj_mac_header() {
	local dir=$1 deb arch
	arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
	# The .deb name encodes the epoch-less version; apt writes ~ as is and : as %3a.
	deb="$DEB_CACHE/${LIBSSL_DEV_PACKAGE}_${LIBSSL_DEV_VERSION//:/%3a}_${arch}.deb"
	if [[ ! -s $deb ]]; then
		if ! command -v apt-get >/dev/null; then
			echo "apt-get is needed to download ${LIBSSL_DEV_PACKAGE}=${LIBSSL_DEV_VERSION} (or put its .deb in $DEB_CACHE)" >&2
			return 1
		fi
		mkdir -p "$DEB_CACHE"
		if ! (cd "$DEB_CACHE" && apt-get download -q "${LIBSSL_DEV_PACKAGE}=${LIBSSL_DEV_VERSION}" >/dev/null 2>&1); then
			# The package lists may be missing or stale on a fresh machine.
			if [[ $(id -u) == 0 ]]; then
				apt-get update -q >/dev/null 2>&1 || true
			fi
			if ! (cd "$DEB_CACHE" && apt-get download -q "${LIBSSL_DEV_PACKAGE}=${LIBSSL_DEV_VERSION}" >&2); then
				echo "The pinned ${LIBSSL_DEV_PACKAGE}=${LIBSSL_DEV_VERSION} is not served by the configured apt sources" >&2
				echo "(apt-cache policy ${LIBSSL_DEV_PACKAGE} lists what is). Update LIBSSL_DEV_VERSION in hack/oidnames-lib.sh" >&2
				echo "to a served version, run hack/update-oidnames.sh and commit the regenerated ${OIDNAMES_OUTPUT}." >&2
				return 1
			fi
		fi
	fi
	dpkg-deb -x "$deb" "$dir"
	if [[ ! -s $dir/usr/include/openssl/obj_mac.h ]]; then
		echo "$deb holds no usr/include/openssl/obj_mac.h" >&2
		return 1
	fi
	echo "$dir/usr/include/openssl/obj_mac.h"
}

# generate_oidnames ROOT OUT: writes the table for the tree at ROOT into OUT.
generate_oidnames() {
	local root=$1 out=$2 scratch header
	scratch=$(mktemp -d)
	# shellcheck disable=SC2064
	trap "rm -rf '$scratch'" RETURN
	header=$(obj_mac_header "$scratch") || return 1
	(cd "$root" && go run ./hack/gen-oidnames -header "$header" -source "$OIDNAMES_SOURCE" -o "$out")
}
