#!/usr/bin/env bash
# Measures the remote cache (issue 5) on the example workspace and on a synthetic fleet:
#   - runner B (fresh local cache, another checkout path, warm remote) against a cold build;
#   - the bytes runner A uploads and runner B downloads;
#   - the overhead of a dead remote (nothing listens on its port) against no remote.
#
# Each figure is the median of K builds; the cold, dead-remote and runner-B builds take turns
# (one of each per round), so a drift in the machine's load hits them alike, and each build
# starts after a `sync`, so it does not pay for the previous build's dirty pages. Besides the
# wall time, the "exec" figure is the scheduler phase alone (planning to the last action, the
# `executed ms=` debug line minus `loaded the last build ms=`): the phase the remote works in.
# Writing out/ (thousands of files in the fleet) comes after it and is the same work for
# every runner.
#
# usage: scripts/bench-remote.sh [--clusters N] [--remote URL] [--runs K] [--bin PATH]
#   --clusters N  size of the synthetic fleet (default 1000; 0 skips it)
#   --remote URL  an empty HTTP cache to use (default: $WAYFINDER_TEST_HTTP_CACHE/bench-<pid>,
#                 i.e. the nginx of scripts/test.sh; `source /work/notes/SERVICES.env` here)
#   --runs K      builds per measurement, the median is reported (default 3)
#   --latency MS  put a proxy in front of the remote that holds every request MS milliseconds
#                 (a remote across a network instead of on this machine)
#   --bin PATH    the wayfinder binary (default target/release/wayfinder; build it with
#                 `cargo build --release -p wayfinder-cli --bin wayfinder --bin wayfinder-bench`)
# Speed is reported, never asserted.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
clusters=1000
runs=3
remote=""
latency=0
bin="$target/release/wayfinder"
while [ $# -gt 0 ]; do
    case "$1" in
        --clusters) clusters="$2"; shift 2 ;;
        --remote) remote="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        --latency) latency="$2"; shift 2 ;;
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
proxy_pid=""
trap '[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null; rm -rf "$work"' EXIT

if [ "$latency" != 0 ]; then
    # A TCP proxy that delays each chunk a client sends by $latency ms (so every request,
    # pooled connection or not, pays one round trip).
    upstream=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(p.hostname, p.port or 80)' "$remote")
    proxy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    python3 - "$proxy_port" $upstream "$latency" <<'PY' &
import asyncio, sys
port, host, up_port, delay = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) / 1000
async def pipe(r, w, wait):
    try:
        while data := await r.read(65536):
            if wait:
                await asyncio.sleep(wait)
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        w.close()
async def handle(cr, cw):
    ur, uw = await asyncio.open_connection(host, up_port)
    await asyncio.gather(pipe(cr, uw, delay), pipe(ur, cw, 0))
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
    proxy_pid=$!
    sleep 0.5
    remote=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(p._replace(netloc=f"127.0.0.1:{sys.argv[2]}").geturl())' "$remote" "$proxy_port")
fi

now() { date +%s.%N; }

# build WS CACHE [ARGS…]: one build from an empty cache and no out/; prints "SECONDS EXEC_MS",
# keeps stderr in $work/last.err
build() {
    local ws="$1" cache="$2"; shift 2
    rm -rf "$cache" "$ws/out"
    sync
    local t0 t1
    t0=$(now)
    if ! env -u WAYFINDER_CACHE_DIR -u RUST_LOG WAYFINDER_CACHE_DIR="$cache" RUST_LOG=warn,wayfinder_rules=debug \
        "$bin" -C "$ws" build --json "$@" >"$work/last.json" 2>"$work/last.err"; then
        echo "build failed in $ws:" >&2; tail -20 "$work/last.err" >&2; exit 1
    fi
    t1=$(now)
    local exec_ms
    exec_ms=$(python3 -c '
import re,sys
t=open(sys.argv[1]).read()
l=re.search(r"loaded the last build ms=(\d+)",t); e=re.search(r"executed ms=(\d+)",t)
print(int(e.group(1))-int(l.group(1)) if l and e else -1)' "$work/last.err")
    python3 -c "print(f'{$t1 - $t0:.3f} $exec_ms')"
}

minimum() { python3 -c 'import sys; print(f"{min(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }

median() { python3 -c 'import sys,statistics; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }

statuses() {
    python3 -c '
import json,sys,collections
c=collections.Counter(a["status"] for a in json.load(open(sys.argv[1]))["actions"])
print(", ".join(f"{k} {v}" for k,v in sorted(c.items())))' "$work/last.json"
}

remote_line() { grep -m1 "^remote cache" "$work/last.err" | sed 's/^remote cache `[^`]*`: //' || true; }

# col N "A B" "C D"…: the Nth field of each argument.
col() { local n="$1"; shift; for x in "$@"; do echo "$x" | cut -d' ' -f"$n"; done; }

# measure NAME WS: prints the figures for one workspace.
measure() {
    local name="$1" ws="$2" url="$remote/$1"
    local ws_b="$work/$name-checkout-b"
    rm -rf "$ws_b"; cp -r "$ws" "$ws_b"; rm -rf "$ws_b/out"
    local a; a=$(build "$ws" "$work/cache-a" --remote-cache "$url")
    local up; up=$(remote_line)
    local cold=() dead_t=() b=() dead_warn="" down="" b_status=""
    for _ in $(seq "$runs"); do
        cold+=("$(build "$ws" "$work/cache-cold")")
        dead_t+=("$(build "$ws" "$work/cache-dead" --remote-cache "$dead")")
        dead_warn=$(grep -c "^warning: remote cache" "$work/last.err" || true)
        b+=("$(build "$ws_b" "$work/cache-b" --remote-cache "$url" --remote-read-only)")
        down=$(remote_line)
        b_status=$(statuses)
    done
    if ! diff -r "$ws/out" "$ws_b/out" >/dev/null; then
        echo "$name: runner B's out/ differs from runner A's" >&2; exit 1
    fi
    local mc md mb ec ed eb
    mc=$(median $(col 1 "${cold[@]}")); md=$(median $(col 1 "${dead_t[@]}")); mb=$(median $(col 1 "${b[@]}"))
    ec=$(median $(col 2 "${cold[@]}")); ed=$(median $(col 2 "${dead_t[@]}")); eb=$(median $(col 2 "${b[@]}"))
    echo "== $name"
    echo "cold build (no remote):      ${mc}s  exec ${ec%.*} ms  (median of $runs: $(col 1 "${cold[@]}" | tr '\n' ' '))"
    echo "runner A (cold + uploads):   $(col 1 "$a")s  exec $(col 2 "$a") ms   remote: $up"
    echo "runner B (warm remote):      ${mb}s  exec ${eb%.*} ms  (median of $runs: $(col 1 "${b[@]}" | tr '\n' ' '))"
    local nc nb; nc=$(minimum $(col 1 "${cold[@]}")); nb=$(minimum $(col 1 "${b[@]}"))
    echo "  B / cold = $(python3 -c "print(f'{$mb/$mc:.2f}')") wall, $(python3 -c "print(f'{$eb/max($ec,1):.2f}')") exec (medians); $(python3 -c "print(f'{$nb/$nc:.2f}')") wall (best of $runs: ${nb}s / ${nc}s)"
    echo "  runner B statuses: $b_status; out/ identical to A's"
    echo "  runner B remote:   $down"
    echo "dead remote:                 ${md}s  exec ${ed%.*} ms  (median of $runs: $(col 1 "${dead_t[@]}" | tr '\n' ' '))"
    echo "  overhead vs no remote = $(python3 -c "print(f'{($md-$mc)*1000:+.0f} ms wall ({$md/$mc:.2f}x), {$ed-$ec:+.0f} ms exec')"); warnings per build: $dead_warn"
}

echo "wayfinder: $bin"
echo "remote:    $remote (latency added: ${latency} ms)"
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
