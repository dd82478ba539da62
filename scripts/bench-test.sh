#!/usr/bin/env bash
# Measures `wayfinder test` on a synthetic fleet (issue 6): cold, no-op, after one edit, after a
# new policy. Speed is reported, never asserted.
#
#   bash scripts/bench-test.sh [--clusters N] [--bin PATH] [--keep]
#
# 1. Builds the release binary (unless --bin), copies the example workspace into a temp dir and
#    multiplies its clusters into N (`clusters/<group>/<name>-<i>/`, as wayfinder-bench does).
#    With WAYFINDER_TEST_K8S_SCHEMAS set, `[tests] schemas` points at it.
# 2. cold: `wayfinder test` with an empty cache (renders and tests);
#    tests only: `wayfinder build` first, then `wayfinder test` with a fresh test cache entry;
#    no-op: median of 5 reruns; one edit: one cluster's overlay values change, and the JSON
#    summary says which test actions ran; new policy: a new workspace policy file.
set -euo pipefail

clusters=1000
bin=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --clusters) clusters="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "$bin" ]; then
  nice -n 10 cargo build --release -p wayfinder-cli --bin wayfinder --manifest-path "$repo/Cargo.toml" >&2
  bin="${CARGO_TARGET_DIR:-$repo/target}/release/wayfinder"
fi

work="$(mktemp -d /tmp/wayfinder-bench-test.XXXXXX)"
if [ "$keep" = 0 ]; then trap 'rm -rf "$work"' EXIT; fi
ws="$work/ws"
export WAYFINDER_CACHE_DIR="$work/cache"
mkdir -p "$ws/clusters"
cp "$repo/workspace.toml" "$ws/"
for d in charts voyages plans policies; do
  [ -d "$repo/$d" ] && cp -r "$repo/$d" "$ws/$d"
done
if [ -n "${WAYFINDER_TEST_K8S_SCHEMAS:-}" ]; then
  printf '\n[tests]\nschemas = "%s"\nunknown_kinds = "warn"\n' "$WAYFINDER_TEST_K8S_SCHEMAS" >> "$ws/workspace.toml"
fi

# The example clusters, and the shared directories of their groups.
examples=()
for g in "$repo"/clusters/*/; do
  g="$(basename "$g")"
  for c in "$repo/clusters/$g"/*/; do
    c="$(basename "$c")"
    if [ -f "$repo/clusters/$g/$c/cluster.toml" ]; then
      examples+=("$g/$c")
    else
      mkdir -p "$ws/clusters/$g" && cp -r "$repo/clusters/$g/$c" "$ws/clusters/$g/$c"
    fi
  done
done
edit=""
for ((i = 0; i < clusters; i++)); do
  ex="${examples[$((i % ${#examples[@]}))]}"
  g="${ex%%/*}"; c="${ex##*/}"
  name="$(printf '%s-%05d' "$c" "$i")"
  dest="$ws/clusters/$g/$name"
  cp -r "$repo/clusters/$ex" "$dest"
  sed -i "0,/name = \"$c\"/s//name = \"$name\"/" "$dest/cluster.toml"
  if [ -z "$edit" ] && [ -d "$dest/values" ]; then edit="$dest"; fi
done

now() { date +%s.%N; }
# run LABEL: `wayfinder test --json` in the fleet; prints wall time and what ran.
run() {
  local label="$1" t0 t1 code=0
  t0="$(now)"
  "$bin" -C "$ws" test --json >"$work/out.json" 2>"$work/err.txt" || code=$?
  t1="$(now)"
  python3 - "$label" "$t0" "$t1" "$code" "$work/out.json" <<'EOF'
import json, sys
label, t0, t1, code, path = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
d = json.load(open(path))
acts = d["actions"]
tests = [a for a in acts if a["kind"] == "test"]
built = [a["target"] for a in tests if a["status"] == "built"]
renders = sum(1 for a in acts if a["kind"] == "render" and a["status"] == "built")
t = d["tests"]
shown = built if len(built) <= 3 else built[:3] + ["…"]
print(f"{label:<28} {t1 - t0:7.3f}s  exit {code}  test actions: {len(tests)} ({len(built)} ran: {', '.join(shown)})  renders run: {renders}  "
      f"clusters passed/failed: {t['passed']}/{t['failed']}")
EOF
}

echo "fleet: $clusters clusters in $ws (binary $bin)"
run "cold (renders + tests)"
for i in 1 2 3 4 5; do run "no-op #$i"; done
printf '\ncommonLabels:\n  acme.example/bench-edit: "1"\n' >> "$(ls "$edit"/values/*.yaml | head -1)"
run "one cluster's values edited"
rm -rf "$WAYFINDER_CACHE_DIR"
"$bin" -C "$ws" build >/dev/null 2>&1 || true
run "tests only (renders cached)"
cat > "$ws/policies/bench-new.yaml" <<'EOF'
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: bench.replicas-set
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}
  validations:
    - expression: "has(object.spec.replicas)"
EOF
run "new workspace policy"
run "no-op after the policy"
if [ "$keep" = 1 ]; then echo "kept: $work"; fi
