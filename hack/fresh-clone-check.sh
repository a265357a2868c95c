#!/usr/bin/env bash
# What a newcomer's machine goes through, so that CI (which runs where caches
# are warm) turns red when a script silently relies on a warm cache:
#
#   a clean copy of this checkout (committed and uncommitted files, nothing
#   git ignores: no _output, no binaries), an EMPTY Go module cache, then
#   `make verify`, `make build` and a short `make run` smoke: up, one
#   `kubectl get cst -A`, Ctrl-C, everything stopped and cleaned up.
#
# The Go build cache and the control-plane tools cache stay: rebuilding
# kube-apiserver from nothing takes 12 minutes and hack/build-tools.sh is
# the same script either way. Takes 2-4 minutes, mostly module downloads.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/certstatus-fresh.XXXXXX")
run_pid=""

cleanup() {
	if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
		kill -INT -- "-$run_pid" 2>/dev/null || true
		sleep 15
		kill -KILL -- "-$run_pid" 2>/dev/null || true
	fi
	# The module cache is read-only by design.
	chmod -R u+w "$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

step() { echo "fresh-clone-check: [${SECONDS}s] $*"; }

step "copying the checkout into $work/src"
mkdir -p "$work/src"
(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
	(cd "$root" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
	(cd "$root" && xargs -0 cp --parents -t "$work/src")
cd "$work/src"
git init -q && git add -A && git -c user.name=fresh -c user.email=fresh@localhost commit -qm snapshot

export GOMODCACHE="$work/gomodcache"
# Without -trimpath every compiled package's cache key includes its directory,
# which is new on every run (here and in the module cache): the build cache
# would never hit. Downloads still happen: go hashes the module sources.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath"
step "GOMODCACHE=$GOMODCACHE (empty)"

step "make verify"
make verify
step "make build"
make build

step "make run (smoke)"
log="$work/run.log"
# Its own process group, so the interrupt reaches make, go run and the
# program as Ctrl-C in a terminal would.
setsid make run >"$log" 2>&1 &
run_pid=$!
deadline=$((SECONDS + 300))
until grep -q 'Ctrl-C stops everything' "$log"; do
	if ! kill -0 "$run_pid" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
		cat "$log" >&2
		step "make run did not come up" >&2
		exit 1
	fi
	sleep 1
done
kubeconfig="$work/src/_output/local/kubeconfig"
out=$("$work/src/_output/local/kubectl" --kubeconfig "$kubeconfig" get cst -A)
echo "$out"
for state in Valid ExpiringSoon Expired Invalid; do
	if ! grep -qw "$state" <<<"$out"; then
		step "kubectl get cst -A shows no $state demo Secret" >&2
		exit 1
	fi
done
stack_dir=$(sed -n 's/^ *logs *//p' "$log" | head -1)
server_pid=$(sed -n 's/.*registered (pid \([0-9]*\)).*/\1/p' "$log" | head -1)

kill -INT -- "-$run_pid"
for _ in $(seq 60); do kill -0 "$run_pid" 2>/dev/null || break; sleep 1; done
if kill -0 "$run_pid" 2>/dev/null; then
	cat "$log" >&2
	step "make run did not stop within 60 s of Ctrl-C" >&2
	exit 1
fi
run_status=0
wait "$run_pid" || run_status=$?
run_pid=""
tail -3 "$log"
if [ "$run_status" -ne 0 ]; then
	cat "$log" >&2
	step "make run exited with status $run_status after Ctrl-C; want 0" >&2
	exit 1
fi
if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
	step "certstatus (pid $server_pid) still runs after Ctrl-C" >&2
	exit 1
fi
if [ -z "$stack_dir" ] || [ -e "$stack_dir" ]; then
	step "the stack directory '$stack_dir' was not removed" >&2
	exit 1
fi
if [ -e "$kubeconfig" ]; then
	step "$kubeconfig was left behind" >&2
	exit 1
fi
step "passed"
