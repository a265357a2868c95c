#!/usr/bin/env bash
# Regenerates pkg/certificate/zz_generated.oidnames.go, the names openssl
# prints for object identifiers, from obj_mac.h of the pinned Debian
# libssl-dev package (downloaded with apt-get download into a cache, never
# installed). See hack/oidnames-lib.sh for the pin.
set -o errexit -o nounset -o pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=hack/oidnames-lib.sh
source "$root/hack/oidnames-lib.sh"
generate_oidnames "$root" "$root/$OIDNAMES_OUTPUT"
