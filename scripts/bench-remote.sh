#!/usr/bin/env bash
# Measures the remote cache (issue 5) on the example workspace and on a synthetic fleet:
#   - runner B (fresh local cache, another checkout path, warm remote) against a cold build;
#   - the bytes runner A uploads and runner B downloads;
#   - the overhead of a dead remote (nothing listens on its port) against no remote.
#
# usage: scripts/bench-remote.sh [--clusters N] [--remote URL] [--runs K] [--bin PATH]
#   --clusters N  size of the synthetic fleet (default 1000; 0 skips it)
#   --remote URL  an empty HTTP cache to use (default: $WAYFINDER_TEST_HTTP_CACHE/bench-<pid>,
#                 i.e. the nginx of scripts/test.sh; `source /work/notes/SERVICES.env` here)
#   --runs K      builds per measurement, the median is reported (default 3)
#   --bin PATH    the wayfinder binary (default target/release/wayfinder; build it with
#                 `cargo build --release -p wayfinder-cli --bin wayfinder --bin wayfinder-bench`)
# Speed is reported, never asserted.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
clusters=1000
runs=3
remote=""
bin="$target/release/wayfinder"
while [ $# -gt 0 ]; do
    case "$1" in
        --clusters) clusters="$2"; shift 2 ;;
        --remote) remote="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "no wayfinder binary at $bin (see --bin)" >&2; exit 2; }
if [ -z "$remote" ]; then
    [ -n "${WAYFINDER_TEST_HTTP_CACHE:-}" ] || { echo "give --remote URL or set WAYFINDER_TEST_HTTP_CACHE" >&2; exit 2; }
    remote="${WAYFINDER_TEST_HTTP_CACHE%/}/bench-$$"
fi
# A port nobody listens on, for the dead remote.
dead_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dead="http://127.0.0.1:$dead_port/cache"

work="$(mktemp -d /tmp/wayfinder-bench-remote.XXXXXX)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }

# build WS CACHE [ARGS…]: one build from an empty cache and no out/; prints seconds, keeps stderr in $work/last.err
build() {
    local ws="$1" cache="$2"; shift 2
    rm -rf "$cache" "$ws/out"
    local t0 t1
    t0=$(now)
    if ! env -u WAYFINDER_CACHE_DIR WAYFINDER_CACHE_DIR="$cache" "$bin" -C "$ws" build --json "$@" >"$work/last.json" 2>"$work/last.err"; then
        echo "build failed in $ws:" >&2; tail -20 "$work/last.err" >&2; exit 1
    fi
    t1=$(now)
    python3 -c "print(f'{$t1 - $t0:.3f}')"
}

median() { python3 -c 'import sys,statistics; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }

statuses() {
    python3 -c '
import json,sys,collections
c=collections.Counter(a["status"] for a in json.load(open(sys.argv[1]))["actions"])
print(", ".join(f"{k} {v}" for k,v in sorted(c.items())))' "$work/last.json"
}

remote_line() { grep -m1 "^remote cache" "$work/last.err" | sed 's/^remote cache `[^`]*`: //' || true; }

# measure NAME WS: prints the figures for one workspace.
measure() {
    local name="$1" ws="$2" url="$remote/$1"
    local ws_b="$work/$name-checkout-b"
    rm -rf "$ws_b"; cp -r "$ws" "$ws_b"; rm -rf "$ws_b/out"
    local cold=() dead_t=() b=()
    for _ in $(seq "$runs"); do
        cold+=("$(build "$ws" "$work/cache-cold")")
        dead_t+=("$(build "$ws" "$work/cache-dead" --remote-cache "$dead")")
    done
    local dead_warn; dead_warn=$(grep -c "^warning: remote cache" "$work/last.err" || true)
    local a; a=$(build "$ws" "$work/cache-a" --remote-cache "$url")
    local up; up=$(remote_line)
    for _ in $(seq "$runs"); do
        b+=("$(build "$ws_b" "$work/cache-b" --remote-cache "$url" --remote-read-only)")
    done
    local down; down=$(remote_line)
    local b_status; b_status=$(statuses)
    if ! diff -r "$ws/out" "$ws_b/out" >/dev/null; then
        echo "$name: runner B's out/ differs from runner A's" >&2; exit 1
    fi
    local mc md mb
    mc=$(median "${cold[@]}"); md=$(median "${dead_t[@]}"); mb=$(median "${b[@]}")
    echo "== $name"
    echo "cold build (no remote):      ${mc}s  (median of $runs: ${cold[*]})"
    echo "runner A (cold + uploads):   ${a}s   remote: $up"
    echo "runner B (warm remote):      ${mb}s  (median of $runs: ${b[*]}); B / cold = $(python3 -c "print(f'{$mb/$mc:.2f}')")"
    echo "  runner B statuses: $b_status; out/ identical to A's"
    echo "  runner B remote:   $down"
    echo "dead remote:                 ${md}s  (median of $runs: ${dead_t[*]}); overhead vs no remote = $(python3 -c "print(f'{($md-$mc)*1000:+.0f} ms ({$md/$mc:.2f}x)')"); warnings per build: $dead_warn"
}

echo "wayfinder: $bin"
echo "remote:    $remote"
example="$work/example"
mkdir -p "$example"
for e in workspace.toml charts voyages clusters policies plans scripts; do
    [ -e "$repo/$e" ] && cp -r "$repo/$e" "$example/$e"
done
if [ -n "${WAYFINDER_TEST_REGISTRY:-}" ]; then
    sed -i "s#oci://127.0.0.1:5000/acme#oci://$WAYFINDER_TEST_REGISTRY/acme#" "$example/workspace.toml"
fi
measure example "$example"

if [ "$clusters" -gt 0 ]; then
    bench="$(dirname "$bin")/wayfinder-bench"
    [ -x "$bench" ] || { echo "no $bench: build it with --bin wayfinder-bench" >&2; exit 2; }
    "$bench" --clusters "$clusters" --source "$example" --keep >"$work/bench.out"
    fleet=$(sed -n 's/^fleet: .* in \(.*\)$/\1/p' "$work/bench.out")
    [ -d "$fleet" ] || { echo "wayfinder-bench did not say where the fleet is" >&2; cat "$work/bench.out" >&2; exit 1; }
    measure "fleet-$clusters" "$fleet"
    rm -rf "$(dirname "$fleet")"
fi
