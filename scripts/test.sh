#!/usr/bin/env bash
# Runs Argus's whole test suite on a fresh machine. Installs the real peers the
# integration tests talk to (Prometheus, promtool, amtool, node_exporter,
# VictoriaMetrics, etcd,
# an SMTP server, headless Chromium, the UI's npm packages) when they are
# missing, then runs formatting, lints and every test. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

# Debian packages the tests need, keyed by the command each provides.
declare -A APT=(
  [prometheus]=prometheus
  [promtool]=prometheus
  [amtool]=prometheus-alertmanager
  [prometheus-alertmanager]=prometheus-alertmanager
  [prometheus-node-exporter]=prometheus-node-exporter
  [victoria-metrics]=victoria-metrics
  [etcd]=etcd-server
  [chromium]=chromium
  [kubectl]=kubernetes-client
  [victoria-metrics]=victoria-metrics
)
missing=()
for cmd in "${!APT[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1; then missing+=("${APT[$cmd]}"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  log "installing test peers: $pkgs"
  $SUDO apt-get update -qq
  # Debian's packages would start the daemons under systemd; tests start their
  # own instances on free ports, so keep the packaged services from starting.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends $pkgs
fi
export PATH="$PATH:/usr/sbin:/usr/bin"

# A real SMTP server for the email notification tests.
if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  log "installing aiosmtpd"
  python3 -m pip install -q aiosmtpd
fi

# The official Kubernetes Python client, for the adapter's HPA request-shape tests.
if ! python3 -c 'import kubernetes' >/dev/null 2>&1; then
  log "installing the kubernetes Python client"
  python3 -m pip install -q kubernetes
fi

# The OpenAPI response validator of the HTTP API tests (crates/query/testdata/http-api).
if ! python3 -c 'import jsonschema, yaml' >/dev/null 2>&1; then
  log "installing jsonschema, pyyaml"
  python3 -m pip install -q jsonschema pyyaml
fi

# The web UI's front-end toolchain (only when the UI sources exist).
if [ -f web/ui/package.json ] && [ ! -d web/ui/node_modules ]; then
  log "installing UI packages"
  (cd web/ui && npm ci --no-audit --no-fund)
fi

# CI builds a clean clone once: incremental caches would only double the target dir.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

log "cargo test"
# The integration tests start the argus binary they were built with (dependencies are
# optimised in the dev profile); the UI tests start the same one.
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --failure-output final
  cargo test --workspace --doc
else
  cargo test --workspace --no-fail-fast
fi

if [ -f web/ui/package.json ]; then
  log "UI tests"
  cargo build -p argus-server
  export ARGUS_BIN="$PWD/target/debug/argus"
  (cd web/ui && npm test --silent)
fi

log "all tests passed"
