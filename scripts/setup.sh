#!/usr/bin/env bash
# Idempotent set-up used by both README commands: npm dependencies, the
# Temporal CLI (dev server), PostgreSQL server binaries, Alertmanager, the
# Redfish emulator, and the build.
# Nothing is started here and no system service is enabled.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[setup] $*"; }
# --tests: also what only the test suite needs (Alertmanager, the Redfish emulator).
for_tests=false; [ "${1:-}" = "--tests" ] && for_tests=true
t0=$(date +%s)

# 1. npm dependencies, reinstalled only when the lockfile changed.
stamp=node_modules/.shipshape-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# 2. Temporal CLI: the one on PATH if there is one, else built from the Go module proxy.
if [ -n "${TEMPORAL_BIN:-}" ] && [ -x "$TEMPORAL_BIN" ]; then
  :
elif [ -x .tools/bin/temporal ]; then
  :
elif command -v temporal >/dev/null 2>&1 && temporal server start-dev --help >/dev/null 2>&1; then
  log "using temporal from PATH: $(command -v temporal)"
else
  command -v go >/dev/null 2>&1 || { echo "[setup] Go (>= 1.25) is needed to build the Temporal CLI: install Debian's golang or Go from go.dev" >&2; exit 1; }
  log "building the Temporal CLI v1.5.1 into .tools/bin (a few minutes, once)"
  mkdir -p .tools/bin
  GOBIN="$PWD/.tools/bin" GOFLAGS=-mod=mod go install github.com/temporalio/cli/cmd/temporal@v1.5.1
fi

# Debian packages are installed without starting or enabling their services:
# a policy-rc.d that refuses (one already there, as in Docker's images, is kept).
apt_install() {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  local own_policy=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    own_policy=true
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  if $own_policy; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
}

# 3. PostgreSQL server binaries from Debian's packages; the cluster itself is project-local.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${PG_BIN:-}" ]; then
  log "installing PostgreSQL from Debian's packages (without starting a system service)"
  # Keep the package from creating and starting its own cluster.
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
  apt_install postgresql
fi

# 4. Tests only: Prometheus Alertmanager (the tests put a real one in front of the webhook), from Debian's packages.
if $for_tests && [ -z "${ALERTMANAGER_BIN:-}" ] && ! command -v prometheus-alertmanager >/dev/null 2>&1 && ! command -v alertmanager >/dev/null 2>&1; then
  log "installing Prometheus Alertmanager from Debian's packages (without starting its service)"
  apt_install prometheus-alertmanager
  # The package enables its unit for the next boot; the tests start their own Alertmanager.
  if command -v systemctl >/dev/null 2>&1; then ${SUDO:-} systemctl disable --quiet prometheus-alertmanager 2>/dev/null || true; fi
fi

# 5. Tests only: the Redfish emulator sushy-tools (the tests' BMCs), from PyPI into a project-local venv.
SUSHY_VERSION=2.2.0
if $for_tests && { [ ! -x .tools/venv/bin/sushy-emulator ] || [ "$(cat .tools/venv/.sushy-version 2>/dev/null)" != "$SUSHY_VERSION" ]; }; then
  command -v python3 >/dev/null 2>&1 || { echo "[setup] Python 3 is needed for the Redfish emulator (sushy-tools)" >&2; exit 1; }
  log "installing sushy-tools $SUSHY_VERSION into .tools/venv"
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet --disable-pip-version-check "sushy-tools==$SUSHY_VERSION"
  echo "$SUSHY_VERSION" > .tools/venv/.sushy-version
fi

# 6. Tests only: the project's test OpenStack cloud (keystone, placement, nova, glance, neutron,
#    ironic, rabbitmq) from Debian's packages; nothing is started or left enabled.
if $for_tests; then
  bash test/openstack/cloud.sh installed || bash test/openstack/cloud.sh install
fi

# 7. Build: TypeScript to dist/ and the prebuilt workflow bundle.
log "building"
if ! out=$(npm run --silent build 2>&1); then echo "$out" >&2; exit 1; fi
log "ready in $(( $(date +%s) - t0 ))s"
