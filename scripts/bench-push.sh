#!/usr/bin/env bash
# Measures push and pull (issue 4) on the example workspace against a real registry:
#   - the first push of both example voyages, and the uploads it makes;
#   - a second, unchanged push (it must upload nothing);
#   - a cold build of a fresh checkout whose clusters pin core@1.5.0 while voyages/core is at
#     1.6.0, so core@1.5.0 is pulled from the registry, against the same cold build of the
#     checkout before the bump (nothing to pull).
#
# usage: scripts/bench-push.sh [--registry HOST:PORT] [--runs K] [--bin PATH]
#   --registry  a plain-HTTP registry (default $WAYFINDER_TEST_REGISTRY, the docker-registry
#               of scripts/test.sh: `WAYFINDER_TEST_SERVICES_ONLY=1 bash scripts/test.sh`)
#   --runs K    repetitions; the median is reported (default 3)
#   --bin PATH  the wayfinder binary (default target/release/wayfinder)
# Speed is reported, never asserted.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
registry="${WAYFINDER_TEST_REGISTRY:-}"
runs=3
bin="$target/release/wayfinder"
while [ $# -gt 0 ]; do
    case "$1" in
        --registry) registry="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "no wayfinder binary at $bin (see --bin)" >&2; exit 2; }
[ -n "$registry" ] || { echo "no registry: pass --registry HOST:PORT" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Wall time of a command in ms; its stderr goes to $tmp/err.
ms() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
uploads() { sed -n 's/.* pushes, \([0-9]*\) uploads.*/\1/p' "$tmp/err" | tail -1; }

first=() unchanged=() pull=() nopull=() up_first="" up_unchanged=""
for run in $(seq 1 "$runs"); do
    ws="$tmp/ws-$run"
    mkdir -p "$ws"
    for d in workspace.toml charts voyages clusters policies; do
        cp -r "$repo/$d" "$ws/"
    done
    url="oci://$registry/bench-push-$$-$run"
    sed -i "s#^url = .*#url = \"$url\"#" "$ws/workspace.toml"
    export WAYFINDER_CACHE_DIR="$tmp/cache-$run"
    "$bin" -C "$ws" build >/dev/null 2>&1
    first+=("$(ms "$bin" -C "$ws" push --plain-http)")
    up_first="$(uploads)"
    unchanged+=("$(ms "$bin" -C "$ws" push --plain-http)")
    up_unchanged="$(uploads)"

    # A cold build of the checkout as pushed (nothing to pull) …
    export WAYFINDER_CACHE_DIR="$tmp/cold-$run"
    rm -rf "$ws/out" "$ws/.wayfinder"
    nopull+=("$(ms "$bin" -C "$ws" build)")
    # … and after voyages/core moved on: the clusters' core@1.5.0 comes from the registry.
    sed -i 's/^version = "1.5.0"/version = "1.6.0"/' "$ws/voyages/core/voyage.toml"
    export WAYFINDER_CACHE_DIR="$tmp/pull-$run"
    rm -rf "$ws/out" "$ws/.wayfinder"
    pull+=("$(ms "$bin" -C "$ws" build)")
done

echo "push, first (both example voyages): $(echo "${first[*]}" | median) ms, $up_first uploads"
echo "push, unchanged:                    $(echo "${unchanged[*]}" | median) ms, $up_unchanged uploads"
echo "cold build, nothing to pull:        $(echo "${nopull[*]}" | median) ms"
echo "cold build, pulling core@1.5.0:     $(echo "${pull[*]}" | median) ms"
