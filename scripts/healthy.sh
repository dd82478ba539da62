#!/usr/bin/env bash
# Promotion gate of the example track (workspace.toml, [station.*] gate):
# `scripts/healthy.sh CLUSTER` exits 0 when the cluster is healthy.
#
# The example fleet is not real, so this gate reads the cluster's health from
# an optional file, `$WAYFINDER_HEALTH_DIR/CLUSTER` (contents `ok` or anything
# else); without it every cluster is healthy. Replace it with a real check
# (for example: flux get kustomizations --context "$1" --status-selector ready=false).
set -euo pipefail
cluster="${1:?usage: healthy.sh CLUSTER}"
dir="${WAYFINDER_HEALTH_DIR:-}"
if [ -n "$dir" ] && [ -f "$dir/$cluster" ]; then
    [ "$(cat "$dir/$cluster")" = ok ] || { echo "$cluster is not healthy" >&2; exit 1; }
fi
echo "$cluster is healthy"
