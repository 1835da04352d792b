# shellcheck shell=bash
# Shared helpers for cloud.sh: settings, logging, and the processes the cloud
# owns. Every process is started in a session of its own (setsid), so its PID
# is also its process group; stop signals the group, waits for it to empty and
# only then moves on. Nothing is found by name.

PY=/usr/bin/python3 # Debian's, which sees the OpenStack packages (not a pyenv shim)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Fixed test credentials: this cloud only ever listens on 127.0.0.1.
ADMIN_USER=admin
ADMIN_PASSWORD=shipshape-admin-secret
ADMIN_PROJECT=admin
SERVICE_PASSWORD=shipshape-service-secret
RABBIT_USER=shipshape
RABBIT_PASSWORD=shipshape-rabbit-secret
REGION=RegionOne
CLOUD_NAME=shipshape-test
DB_USER=cloud

# As asked for in the environment; a running cloud keeps its own (cloud.env).
REQUESTED_PORT_BASE=${SHIPSHAPE_CLOUD_PORT_BASE:-23100}
REQUESTED_COMPUTES=${SHIPSHAPE_CLOUD_COMPUTES:-3}
# Cinder is opt-in: Shipshape's OpenStack provider lists a cinder-volume
# host as a storage host, which the provider and compliance tests do not
# expect; and it needs root (its share is a bind mount) and ~450 MiB.
REQUESTED_CINDER=${SHIPSHAPE_CLOUD_CINDER:-false}
PORT_BASE=$REQUESTED_PORT_BASE
COMPUTE_COUNT=$REQUESTED_COMPUTES
CINDER=false
SERVERS_PER_COMPUTE=${SHIPSHAPE_CLOUD_SERVERS_PER_COMPUTE:-2}
IRONIC_NODE_COUNT=${SHIPSHAPE_CLOUD_IRONIC_NODES:-3}
CACHE_DIR=${SHIPSHAPE_CLOUD_CACHE:-/var/tmp/shipshape-openstack-cache}
DEBUG=${SHIPSHAPE_CLOUD_DEBUG:-false}

# Fixed, unusual ports from one base; SHIPSHAPE_CLOUD_PORT_BASE moves them all.
set_ports() {
  local base=$PORT_BASE
  PG_PORT=$((base + 0))
  RABBIT_PORT=$((base + 1))
  EPMD_PORT=$((base + 2))
  RABBIT_DIST_PORT=$((base + 3))
  KEYSTONE_PORT=$((base + 10))
  PLACEMENT_PORT=$((base + 11))
  NOVA_PORT=$((base + 12))
  GLANCE_PORT=$((base + 13))
  NEUTRON_PORT=$((base + 14))
  IRONIC_PORT=$((base + 15))
  IRONIC_RPC_PORT=$((base + 16))
  CINDER_PORT=$((base + 17))
}
ALL_PORT_VARS=(PG_PORT RABBIT_PORT EPMD_PORT RABBIT_DIST_PORT KEYSTONE_PORT PLACEMENT_PORT NOVA_PORT GLANCE_PORT NEUTRON_PORT IRONIC_PORT IRONIC_RPC_PORT CINDER_PORT)

compute_hosts() {
  local i
  for ((i = 1; i <= COMPUTE_COUNT; i++)); do echo "compute-$i"; done
}

T0_US=${EPOCHREALTIME/./}
elapsed() { local ms=$(((${EPOCHREALTIME/./} - T0_US) / 1000)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
log() { printf '[cloud %6ss] %s\n' "$(elapsed)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_process NAME CMD...: runs CMD in a new session with its output in
# logs/NAME.out, and records its PID in pids/NAME.pid.
start_process() {
  local name=$1
  shift
  setsid "$@" </dev/null >>"$STATE/logs/$name.out" 2>&1 9>&- &
  echo $! >"$STATE/pids/$name.pid"
  disown # the shell neither waits for it nor reports its end
}

pid_of() { cat "$STATE/pids/$1.pid" 2>/dev/null; }
# A process group is alive while a member is not a zombie: zombies answer
# kill -0, and whoever adopts the orphans may reap them only now and then.
group_alive() { ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'; }

is_running() {
  local pid stat
  pid=$(pid_of "$1") && [[ -n $pid ]] && stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# stop_process NAME [SIGNAL]: signals the process group, waits up to 20 s for
# every member to exit, then kills what is left.
stop_process() {
  local name=$1 signal=${2:-TERM} pid i t=${EPOCHREALTIME/./}
  pid=$(pid_of "$name") || return 0
  [[ -n $pid ]] || return 0
  if group_alive "$pid"; then
    kill -"$signal" -- "-$pid" 2>/dev/null || kill -"$signal" "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
      group_alive "$pid" || break
      sleep 0.1
    done
    if group_alive "$pid"; then
      log "$name ($pid) did not stop in 20 s; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        group_alive "$pid" || break
        sleep 0.1
      done
    fi
    [[ $DEBUG == true ]] && log "$name stopped in $(((${EPOCHREALTIME/./} - t) / 1000)) ms"
  fi
  rm -f "$STATE/pids/$name.pid"
}

# wait_until SECONDS WHAT CMD...: polls CMD every 0.25 s.
wait_until() {
  local seconds=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + seconds))
  until "$@"; do
    (($(date +%s) < deadline)) || return 1
    sleep 0.25
  done
}

http_answers() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" | grep -qE '^[2-4][0-9][0-9]$'; }

# wait_http NAME URL: waits for an HTTP answer, failing fast if NAME died.
wait_http() {
  local name=$1 url=$2 deadline
  deadline=$(($(date +%s) + ${3:-180}))
  until http_answers "$url"; do
    is_running "$name" || die "$name exited; see $STATE/logs/$name.out and $STATE/logs/$name.log"
    (($(date +%s) < deadline)) || die "$name did not answer on $url; see $STATE/logs/$name.log"
    sleep 0.25
  done
}

# render OUT TEMPLATE...: joins templates from test/openstack/etc and fills
# their ${VAR}s with exported variables; only those, so that oslo.config's own
# $references stay as they are.
render() {
  local out=$1 vars var
  shift
  local templates=("${@/#/$HERE/etc/}")
  vars=$(cat "${templates[@]}" | { grep -o '\${[A-Z_0-9]*}' || true; } | sort -u | tr '\n' ' ')
  for var in $vars; do
    var=${var#\$\{}
    var=${var%\}}
    [[ -v $var ]] || die "templates $* need \$$var"
  done
  mkdir -p "$(dirname "$out")"
  if [[ -n $vars ]]; then cat "${templates[@]}" | envsubst "$vars" >"$out"; else cat "${templates[@]}" >"$out"; fi
}

# py_main NAME MODULE:FUNC ARGS...: a console entry point that the python3-*
# packages do not install as a command.
py_main() { "$PY" "$HERE/lib/run.py" "$@"; }

# in_background CMD...; wait_background: runs steps side by side (the machine
# has 2 cores) and fails if any of them failed.
BACKGROUND=()
in_background() {
  "$@" &
  BACKGROUND+=($!)
}
wait_background() {
  local pid failed=0
  for pid in "${BACKGROUND[@]}"; do wait "$pid" || failed=1; done
  BACKGROUND=()
  ((failed == 0)) || die "a step failed (see the messages above)"
}
