#!/usr/bin/env bash
# Installs what the tests need, starts the test servers on loopback, then
# builds the workspace and runs every test. `.ci/run` calls this script.
#
#   bash scripts/test.sh [ARGS FOR cargo test…]
#
# 1. Installs (as root, with apt-get) Debian's `docker-registry` (the OCI
#    registry), `nginx` (its WebDAV module serves the Bazel HTTP cache
#    protocol), `apache2-utils` (htpasswd), `git`, `curl`, and the Helm oracle
#    (`pip install helm-python-sdk==0.2.2`). Skipped for whatever is already
#    there; WAYFINDER_SKIP_INSTALL=1 skips the step.
# 2. Starts, with configs from scripts/testenv/ filled into a temp dir:
#      - the registry without auth            WAYFINDER_TEST_REGISTRY=127.0.0.1:5000
#      - the registry with htpasswd auth      WAYFINDER_TEST_REGISTRY_AUTH=127.0.0.1:5001
#        (WAYFINDER_TEST_REGISTRY_USER / WAYFINDER_TEST_REGISTRY_PASSWORD)
#      - nginx WebDAV                         WAYFINDER_TEST_HTTP_CACHE=http://127.0.0.1:9090/cache
#        and behind basic auth                WAYFINDER_TEST_HTTP_CACHE_AUTH=http://127.0.0.1:9090/auth-cache
#        (same user and password), files under WAYFINDER_TEST_HTTP_CACHE_DIR
#    A port already in use is replaced by a free one; the variables always say
#    the real address. Everything is stopped and removed on exit.
# 3. `cargo build --workspace --all-targets` (the integration tests run the
#    real target/debug/wayfinder binary), then `cargo test --workspace
#    --no-fail-fast` (every failure is reported, not only the first crate's).
#
# WAYFINDER_TEST_SERVICES_ONLY=1 starts the servers, prints the variables and
# waits until interrupted (for running single tests by hand).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CI="${CI:-}"
export DEBIAN_FRONTEND=noninteractive
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- install --
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
    else die "need root to run: $* (or install it yourself and set WAYFINDER_SKIP_INSTALL=1)"
    fi
}

install_packages() {
    local missing=()
    command -v docker-registry >/dev/null || missing+=(docker-registry)
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
    command -v htpasswd >/dev/null || missing+=(apache2-utils)
    command -v git >/dev/null || missing+=(git)
    command -v curl >/dev/null || missing+=(curl)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v python3 >/dev/null || missing+=(python3 python3-pip)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        as_root apt-get update -q </dev/null
        as_root apt-get install -y -q --no-install-recommends ca-certificates "${missing[@]}" </dev/null
    fi
    # The packages may have started their own services (port 80, port 5000);
    # the tests run their own instances.
    if [ ${#missing[@]} -gt 0 ]; then
        for svc in docker-registry nginx; do
            as_root service "$svc" stop >/dev/null 2>&1 </dev/null || true
        done
    fi
    if ! python3 -c 'import helm_python' 2>/dev/null; then
        log "installing the Helm oracle (helm-python-sdk==0.2.2)"
        python3 -m pip --version >/dev/null 2>&1 || as_root apt-get install -y -q --no-install-recommends python3-pip </dev/null
        python3 -m pip install -q helm-python-sdk==0.2.2 </dev/null \
            || python3 -m pip install -q --break-system-packages helm-python-sdk==0.2.2 </dev/null
    fi
    if ! python3 -c 'import kubernetes_validate' 2>/dev/null; then
        log "installing Kubernetes JSON schemas (kubernetes-validate==1.31.0)"
        python3 -m pip install -q kubernetes-validate==1.31.0 </dev/null \
            || python3 -m pip install -q --break-system-packages kubernetes-validate==1.31.0 </dev/null
    fi
    command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) first"
}

# --------------------------------------------------------------- services --
RUN=""
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
    done
    [ -n "$RUN" ] && rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() {
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

pick_port() { # preferred port, or a free one
    if port_free "$1"; then echo "$1"; return; fi
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # url, expected-status-regex, pid, name
    local i code
    for i in $(seq 1 100); do
        code="$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)"
        if [[ "$code" =~ $2 ]]; then return 0; fi
        kill -0 "$3" 2>/dev/null || break
        sleep 0.2
    done
    for f in "$RUN"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
    die "$4 did not come up at $1 (last status: ${code:-none})"
}

fill() { # template, output, sed expressions…
    local tpl="$1" out="$2"; shift 2
    sed "$@" "$tpl" >"$out"
}

start_registry() { # name, port, auth(0|1)
    local name="$1" port="$2" auth="$3" authblock=""
    mkdir -p "$RUN/$name-storage"
    if [ "$auth" = 1 ]; then
        authblock="auth:\n  htpasswd:\n    realm: wayfinder-test\n    path: $RUN/registry.htpasswd"
    fi
    fill scripts/testenv/registry.yml.in "$RUN/$name.yml" \
        -e "s|@STORAGE@|$RUN/$name-storage|" -e "s|@ADDR@|127.0.0.1:$port|" -e "s|@AUTH@|$authblock|"
    REGISTRY_HTTP_SECRET=wayfinder-tests docker-registry serve "$RUN/$name.yml" \
        >"$RUN/$name.log" 2>&1 </dev/null &
    PIDS+=($!)
    # /v2/ answers 200 without auth and 401 with it.
    wait_http "http://127.0.0.1:$port/v2/" '^(200|401)$' "$!" "$name"
}

start_services() {
    RUN="$(mktemp -d "${TMPDIR:-/tmp}/wayfinder-testenv.XXXXXX")"
    chmod 755 "$RUN"
    local user=wayfinder password
    password="test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
    htpasswd -Bbn "$user" "$password" >"$RUN/registry.htpasswd" 2>/dev/null
    htpasswd -mbn "$user" "$password" >"$RUN/nginx.htpasswd" 2>/dev/null

    local reg_port reg_auth_port http_port
    reg_port="$(pick_port "${WAYFINDER_TEST_REGISTRY_PORT:-5000}")"
    start_registry registry "$reg_port" 0
    reg_auth_port="$(pick_port "${WAYFINDER_TEST_REGISTRY_AUTH_PORT:-5001}")"
    start_registry registry-auth "$reg_auth_port" 1

    http_port="$(pick_port "${WAYFINDER_TEST_HTTP_CACHE_PORT:-9090}")"
    mkdir -p "$RUN/www/cache" "$RUN/www/auth-cache"
    # nginx workers run as an unprivileged user when started as root.
    chmod -R a+rwx "$RUN/www"
    fill scripts/testenv/nginx.conf.in "$RUN/nginx.conf" -e "s|@RUN@|$RUN|g" -e "s|@PORT@|$http_port|g"
    local nginx_bin
    nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
    "$nginx_bin" -c "$RUN/nginx.conf" -p "$RUN" >"$RUN/nginx.log" 2>&1 </dev/null &
    PIDS+=($!)
    wait_http "http://127.0.0.1:$http_port/cache/" '^(200|403|404)$' "$!" nginx

    export WAYFINDER_TEST_REGISTRY="127.0.0.1:$reg_port"
    export WAYFINDER_TEST_REGISTRY_AUTH="127.0.0.1:$reg_auth_port"
    export WAYFINDER_TEST_REGISTRY_USER="$user"
    export WAYFINDER_TEST_REGISTRY_PASSWORD="$password"
    export WAYFINDER_TEST_HTTP_CACHE="http://127.0.0.1:$http_port/cache"
    export WAYFINDER_TEST_HTTP_CACHE_AUTH="http://127.0.0.1:$http_port/auth-cache"
    export WAYFINDER_TEST_HTTP_CACHE_DIR="$RUN/www/cache"
    export WAYFINDER_TEST_SERVICES_DIR="$RUN"
    WAYFINDER_TEST_K8S_SCHEMAS="$(python3 -c 'import kubernetes_validate, os; print(os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema"))' 2>/dev/null || true)"
    export WAYFINDER_TEST_K8S_SCHEMAS

    # Smoke test: a PUT then a GET through WebDAV, and the registry's API root.
    curl -sf -X PUT --data-binary 'ping' "$WAYFINDER_TEST_HTTP_CACHE/smoke/ping" >/dev/null \
        || die "PUT to the WebDAV cache failed"
    [ "$(curl -sf "$WAYFINDER_TEST_HTTP_CACHE/smoke/ping")" = ping ] || die "GET from the WebDAV cache failed"
    curl -sf -X DELETE "$WAYFINDER_TEST_HTTP_CACHE/smoke/ping" >/dev/null || true
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary x "$WAYFINDER_TEST_HTTP_CACHE_AUTH/smoke")" = 401 ] \
        || die "the auth cache does not ask for credentials"
    curl -sf -u "$user:$password" -X PUT --data-binary x "$WAYFINDER_TEST_HTTP_CACHE_AUTH/smoke/x" >/dev/null \
        || die "the auth cache rejects the test credentials"
    curl -sf "http://$WAYFINDER_TEST_REGISTRY/v2/" >/dev/null || die "registry /v2/ failed"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$WAYFINDER_TEST_REGISTRY_AUTH/v2/")" = 401 ] \
        || die "the auth registry does not ask for credentials"
    curl -sf -u "$user:$password" "http://$WAYFINDER_TEST_REGISTRY_AUTH/v2/" >/dev/null \
        || die "the auth registry rejects the test credentials"
    log "services up: registry $WAYFINDER_TEST_REGISTRY, auth registry $WAYFINDER_TEST_REGISTRY_AUTH, cache $WAYFINDER_TEST_HTTP_CACHE"
}

# ------------------------------------------------------------------- main --
if [ "${WAYFINDER_SKIP_INSTALL:-0}" != 1 ]; then
    install_packages
fi
start_services

if [ "${WAYFINDER_TEST_SERVICES_ONLY:-0}" = 1 ]; then
    env | grep '^WAYFINDER_TEST_' | grep -v '^WAYFINDER_TEST_SERVICES_ONLY=' | sed 's/^/export /'
    log "serving until interrupted"
    while :; do sleep 1; done
fi

# Disk is what a clean build runs out of first on a small CI machine; say how
# much there is, so a failure there is easy to read.
log "free disk: $(df -h . | awk 'NR==2 {print $4}') (a clean build needs about 2 GB)"
log "cargo build --workspace --all-targets"
cargo build --workspace --all-targets
log "cargo test --workspace --no-fail-fast $*"
cargo test --workspace --no-fail-fast "$@"
