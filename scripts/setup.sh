#!/usr/bin/env bash
# Idempotent set-up used by both README commands: npm dependencies, the
# Temporal CLI (dev server), PostgreSQL server binaries, Alertmanager, the
# Redfish emulator, the test SMTP server, and the build.
# Nothing is started here and no system service is enabled.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[setup] $*"; }
# --tests: also what only the test suite needs (Alertmanager, the Redfish emulator, the SMTP server).
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

# 5b. Tests only: aiosmtpd (the tests' real SMTP server, with STARTTLS and AUTH), from PyPI into the same venv.
AIOSMTPD_VERSION=1.4.6
if $for_tests && { [ ! -x .tools/venv/bin/python ] || [ "$(cat .tools/venv/.aiosmtpd-version 2>/dev/null)" != "$AIOSMTPD_VERSION" ]; }; then
  command -v python3 >/dev/null 2>&1 || { echo "[setup] Python 3 is needed for the test SMTP server (aiosmtpd)" >&2; exit 1; }
  log "installing aiosmtpd $AIOSMTPD_VERSION into .tools/venv"
  [ -x .tools/venv/bin/python ] || python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
  echo "$AIOSMTPD_VERSION" > .tools/venv/.aiosmtpd-version
fi

# 6. Tests only: the project's test OpenStack cloud (keystone, placement, nova, glance, neutron,
#    ironic, rabbitmq) from Debian's packages; nothing is started or left enabled.
if $for_tests; then
  bash test/openstack/cloud.sh installed || bash test/openstack/cloud.sh install
fi

# 6b. Tests only: debootstrap, which builds the SSH test hosts' root filesystems (test/sshhosts/hosts.sh).
if $for_tests && ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap from Debian's packages"
  apt_install debootstrap
fi

# 7. Tests only: Temporal's time-skipping test server for the fast workflow tests (test/fast/).
#    It is the Java one, io.temporal:temporal-test-server from Maven Central (the SDK would
#    otherwise download a binary from a web site), run by a wrapper the SDK starts with a port.
TEST_SERVER_VERSION=1.38.0
test_server=.tools/temporal-test-server
test_server_stamp="io.temporal:temporal-test-server:$TEST_SERVER_VERSION org.slf4j:slf4j-nop:1.7.36"
if $for_tests && [ "$(cat "$test_server/.installed" 2>/dev/null)" != "$test_server_stamp" ]; then
  if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    log "installing Java and Maven from Debian's packages"
    apt_install default-jre-headless maven
  fi
  log "installing the Temporal test server $TEST_SERVER_VERSION from Maven Central into $test_server"
  rm -rf "$test_server" && mkdir -p "$test_server/bin"
  # slf4j-nop: the server logs through SLF4J, and without a binding it warns on every start.
  cat > "$test_server/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.shipshape</groupId><artifactId>temporal-test-server</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>$TEST_SERVER_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
EOF
  if ! out=$(mvn -B -q -f "$test_server/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$PWD/$test_server/lib" 2>&1); then
    echo "$out" >&2; exit 1
  fi
  # exec: the SDK stops the server by killing the process it started, so that must be the JVM itself.
  cat > "$test_server/bin/temporal-test-server" <<'EOF'
#!/bin/sh
# Temporal's time-skipping test server; the SDK runs it as `temporal-test-server <port>`.
lib="$(cd "$(dirname "$0")/../lib" && pwd)"
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -cp "$lib/*" io.temporal.testserver.TestServer "$@"
EOF
  chmod +x "$test_server/bin/temporal-test-server"
  echo "$test_server_stamp" > "$test_server/.installed"
fi

# 8. Build: TypeScript to dist/ and the prebuilt workflow bundle.
log "building"
if ! out=$(npm run --silent build 2>&1); then echo "$out" >&2; exit 1; fi
log "ready in $(( $(date +%s) - t0 ))s"
