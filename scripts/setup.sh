#!/usr/bin/env bash
# Idempotent set-up used by both README commands: npm dependencies, the
# Temporal CLI (dev server), PostgreSQL server binaries, and the build.
# Nothing is started here and no system service is enabled.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[setup] $*"; }
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

# 3. PostgreSQL server binaries from Debian's packages; the cluster itself is project-local.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${PG_BIN:-}" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  log "installing PostgreSQL from Debian's packages (without starting a system service)"
  # Keep the package from creating and starting its own cluster.
  $SUDO mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  $SUDO rm -f /usr/sbin/policy-rc.d
fi

# 4. Build: TypeScript to dist/ and the prebuilt workflow bundle.
log "building"
if ! out=$(npm run --silent build 2>&1); then echo "$out" >&2; exit 1; fi
log "ready in $(( $(date +%s) - t0 ))s"
