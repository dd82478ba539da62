#!/usr/bin/env bash
# Renders every (cluster, component) of the example workspace with the Helm
# oracle and, when a `wayfinder` binary exists, compares `wayfinder template`
# with it byte for byte. See scripts/check_example_charts.py.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/check_example_charts.py "$@"
