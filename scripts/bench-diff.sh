#!/usr/bin/env bash
# Times `wayfinder diff --against HEAD~1` on the synthetic fleet (issue 7):
#
#   1. `wayfinder-bench --clusters N --keep` generates the fleet (copies of the example
#      clusters); this script makes it a git repository with two commits: the fleet, then a
#      one-line change of a voyage values file (`voyages/core/values/ingress-nginx.yaml`).
#   2. cold:  an empty cache, no output tree, no kept checkout: both sides render from scratch
#            (the second side only renders what differs: the cache is shared);
#   3. warm:  the same command again (cache, output tree and kept checkout all warm);
#   4. fresh checkout: a warm cache but no kept checkout (a new clone or CI runner sharing
#            a cache): the revision's files are checked out and hashed again.
#
# Usage: scripts/bench-diff.sh [CLUSTERS]   (default 1000)
# Binaries: $BIN_DIR, else $CARGO_TARGET_DIR/release, else target/release
#   (build them with `cargo build --release -p wayfinder-cli`). KEEP=1 keeps the fleet.
# Speed is reported, never asserted.
set -euo pipefail

clusters="${1:-1000}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
bin_dir="${BIN_DIR:-${CARGO_TARGET_DIR:-$repo/target}/release}"
wayfinder="$bin_dir/wayfinder"
bench="$bin_dir/wayfinder-bench"
for b in "$wayfinder" "$bench"; do
    if [ ! -x "$b" ]; then
        echo "error: \`$b\` not found: run \`cargo build --release -p wayfinder-cli\` or set BIN_DIR" >&2
        exit 2
    fi
done

echo "generating $clusters clusters with $bench (it also times its own builds)"
report="$("$bench" --clusters "$clusters" --keep --source "$repo")"
echo "$report" | sed 's/^/  bench| /'
ws="$(echo "$report" | sed -n 's/^fleet: .* in \(.*\)$/\1/p')"
if [ -z "$ws" ] || [ ! -f "$ws/workspace.toml" ]; then
    echo "error: could not find the generated fleet in the bench output" >&2
    exit 1
fi
tmp="$(dirname "$ws")"
if [ "${KEEP:-0}" != 1 ]; then
    trap 'rm -rf "$tmp"' EXIT
fi

git_() {
    env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE git -C "$ws" \
        -c user.name=bench -c user.email=bench@localhost -c commit.gpgsign=false "$@"
}
rm -rf "$ws/out"
echo "out/" >"$ws/.gitignore"
git_ init -q
git_ add -A
git_ commit -q -m "synthetic fleet"
values="voyages/core/values/ingress-nginx.yaml"
sed -i 's/proxy-body-size: 16m/proxy-body-size: 32m/' "$ws/$values"
if git_ diff --quiet; then
    echo "error: the one-line edit of $values changed nothing" >&2
    exit 1
fi
git_ commit -q -a -m "one line of $values"

export WAYFINDER_CACHE_DIR="$tmp/diff-cache"
run() { # label
    local start end
    start=$(date +%s%N)
    (cd "$ws" && "$wayfinder" diff --against HEAD~1 >"$tmp/diff.out" 2>"$tmp/diff.err")
    end=$(date +%s%N)
    printf '%-16s %9.1f ms   %s; %s bytes of diff\n' "$1" "$(((end - start) / 1000))e-3" \
        "$(tail -n 1 "$tmp/diff.err")" "$(wc -c <"$tmp/diff.out")"
}

rm -rf "$WAYFINDER_CACHE_DIR" "$ws/out" "$ws/.git/wayfinder"
echo "wayfinder diff --against HEAD~1 on $clusters clusters ($(nproc) cores):"
run "cold"
run "warm"
run "warm (again)"
rm -rf "$ws/.git/wayfinder"
run "fresh checkout"
