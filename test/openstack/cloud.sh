#!/usr/bin/env bash
# Shipshape's own small OpenStack cloud for integration tests and CI, from
# Debian 12's packages, every process started and stopped here (no system
# services). README.md beside this file says what runs and why.
#
#   cloud.sh install             apt packages, only the missing ones (root)
#   cloud.sh installed           exits 0 when every package is there
#   cloud.sh start [STATE_DIR]   start, migrate, seed; prints a summary and writes
#                                STATE_DIR/clouds.yaml, openrc and cloud.json
#   cloud.sh stop [STATE_DIR]    stop every recorded process and wait for it
#   cloud.sh status [STATE_DIR]  processes, memory and API answers
#   cloud.sh seed-reclaim [STATE_DIR]
#                                add waste and resources in use over several
#                                projects and users, for reclaim tests; writes
#                                STATE_DIR/reclaim-seed.json (opt-in: it adds
#                                servers to the computes; needs Cinder)
#   cloud.sh restart-compute HOST [STATE_DIR]
#                                stop and start one fake nova-compute, as a host's
#                                reboot does (Nova then completes its evacuations)
#
# STATE_DIR defaults to $SHIPSHAPE_CLOUD_STATE or /var/tmp/shipshape-openstack.
# `start` on a running cloud changes nothing and prints its summary again;
# `start` after `stop` (or a crash) begins a fresh cloud in the same folder.
# Settings (environment): SHIPSHAPE_CLOUD_PORT_BASE (23100: below the
# kernel's ephemeral range, so no outgoing connection can take a port first),
# SHIPSHAPE_CLOUD_COMPUTES (3), SHIPSHAPE_CLOUD_SERVERS_PER_COMPUTE (2),
# SHIPSHAPE_CLOUD_IRONIC_NODES (3), SHIPSHAPE_CLOUD_CACHE (snapshot folder),
# SHIPSHAPE_CLOUD_DEBUG (false), SHIPSHAPE_CLOUD_KEEP_ON_FAILURE (leave the
# processes of a failed start running, to look at them), SHIPSHAPE_CLOUD_CINDER
# (false; true adds Cinder, as root: lib/cinder.sh says how it stores volumes).
set -euo pipefail

LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib
# shellcheck source=lib/common.sh
source "$LIB/common.sh"
# shellcheck source=lib/install.sh
source "$LIB/install.sh"
# shellcheck source=lib/database.sh
source "$LIB/database.sh"
# shellcheck source=lib/rabbitmq.sh
source "$LIB/rabbitmq.sh"
# shellcheck source=lib/services.sh
source "$LIB/services.sh"
# shellcheck source=lib/cinder.sh
source "$LIB/cinder.sh"

INFRA=(rabbitmq epmd postgres) # stopped last, in this order

use_state() {
  STATE=$(realpath -m "${1:-${SHIPSHAPE_CLOUD_STATE:-/var/tmp/shipshape-openstack}}")
  # A started cloud keeps the settings it was started with (ports, computes).
  if [[ -f $STATE/cloud.env ]]; then
    # shellcheck source=/dev/null
    source "$STATE/cloud.env"
  fi
  set_ports
}

# A new cloud takes its settings from the environment again.
use_settings_from_environment() {
  PORT_BASE=$REQUESTED_PORT_BASE
  COMPUTE_COUNT=$REQUESTED_COMPUTES
  case $REQUESTED_CINDER in
    true | false) CINDER=$REQUESTED_CINDER ;;
    *) die "SHIPSHAPE_CLOUD_CINDER is true or false, not $REQUESTED_CINDER" ;;
  esac
  if [[ $CINDER == true && $(id -u) != 0 ]]; then die "Cinder needs root (its volume folder is a bind mount)"; fi
  set_ports
}

# One start or stop at a time per state folder: a second `start` waits, then
# finds the cloud running. The lock file sits beside the folder, which `start`
# empties; start_process keeps its descriptor (9) from the services.
lock_state() {
  mkdir -p "$(dirname "$STATE")"
  exec 9>"$(dirname "$STATE")/.$(basename "$STATE").lock"
  flock 9
}

recorded_processes() {
  local file
  for file in "$STATE"/pids/*.pid; do
    [[ -e $file ]] && basename "$file" .pid
  done
  return 0
}

cloud_running() {
  [[ -f $STATE/ready ]] || return 1
  local name
  for name in $(recorded_processes); do is_running "$name" || return 1; done
}

cmd_start() {
  use_state "${1:-}"
  lock_state
  if cloud_running; then
    if [[ $REQUESTED_CINDER == true && $CINDER != true ]]; then
      die "the cloud running in $STATE has no Cinder; stop it first, or use another state folder"
    fi
    log "already running in $STATE; nothing to do"
    print_summary
    return 0
  fi
  if [[ -n $(recorded_processes) ]]; then
    log "a cloud in $STATE is stopped or not whole; stopping what is left and starting afresh"
    stop_all
  fi
  use_settings_from_environment
  [[ -n $(missing_packages) ]] && die "packages missing: $(missing_packages | tr '\n' ' ')(run: $0 install)"
  local var
  for var in "${ALL_PORT_VARS[@]}"; do
    port_in_use "${!var}" && die "port ${!var} ($var) is in use; set SHIPSHAPE_CLOUD_PORT_BASE to another base"
  done
  unmount_volume_share
  fresh_state
  trap on_start_exit EXIT
  export_settings
  write_configs
  pick_pgdata
  echo "PGDATA=$PGDATA" >>"$STATE/cloud.env"

  prepare_database
  start_rabbitmq
  # Keystone first and alone: nova-conductor exits when its Placement
  # credentials do not work yet, and everything else competes for 2 cores.
  start_keystone
  wait_http keystone "$KEYSTONE_URL"
  seed identity
  log "keystone: ready, service users and catalog in place"
  start_control_plane
  wait_rabbitmq
  log "rabbitmq: ready"
  start_computes
  wait_apis
  log "APIs: all answer"
  DISCOVER_HOSTS_CMD="'$PY' '$HERE/lib/run.py' nova-manage nova.cmd.manage:main --config-file '$STATE/etc/nova/nova.conf' cell_v2 discover_hosts" \
    seed cloud
  touch "$STATE/ready"
  log "cloud ready"
  print_summary
}

# Everything of a previous run goes, except the folder itself; a folder that
# holds something else is refused rather than emptied.
fresh_state() {
  mkdir -p "$STATE"
  if [[ -n $(ls -A "$STATE") && ! -f $STATE/cloud.env ]]; then
    die "$STATE is not empty and holds no cloud; choose another state folder"
  fi
  find "$STATE" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  mkdir -p "$STATE/pids" "$STATE/logs" "$STATE/etc"
  [[ $(id -u) == 0 ]] && chmod 755 "$STATE"
  cat >"$STATE/cloud.env" <<EOF
PORT_BASE=$PORT_BASE
COMPUTE_COUNT=$COMPUTE_COUNT
CINDER=$CINDER
EOF
}

on_start_exit() {
  local rc=$?
  trap - EXIT
  if ((rc != 0)) && [[ ! -f $STATE/ready ]]; then
    if [[ ${SHIPSHAPE_CLOUD_KEEP_ON_FAILURE:-} == 1 ]]; then
      log "start failed; processes left running (SHIPSHAPE_CLOUD_KEEP_ON_FAILURE=1)"
    else
      log "start failed; stopping what was started (logs stay in $STATE/logs)"
      stop_all
    fi
  fi
  exit "$rc"
}

seed() { run_seed seed.py "$1"; }

# run_seed SCRIPT [ARGS...]: a seeding script of lib/, with the settings it reads.
run_seed() {
  local script=$1
  shift
  COMPUTE_HOSTS="$(compute_hosts | tr '\n' ' ')" SERVERS_PER_COMPUTE=$SERVERS_PER_COMPUTE \
    IRONIC_NODE_COUNT=$IRONIC_NODE_COUNT ADMIN_USER=$ADMIN_USER ADMIN_PASSWORD=$ADMIN_PASSWORD \
    ADMIN_PROJECT=$ADMIN_PROJECT CLOUD_NAME=$CLOUD_NAME CINDER=$CINDER \
    "$PY" "$HERE/lib/$script" "$@" 2>>"$STATE/logs/seed.out" || die "seeding ($script $*) failed; see $STATE/logs/seed.out"
}

print_summary() {
  "$PY" - "$STATE/cloud.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
a = c['auth']
print(f"cloud {c['cloudName']} in {c['stateDir']}")
print(f"  auth    {a['authUrl']}  {a['username']} / {a['password']}  project {a['projectName']}  region {c['regionName']}")
for kind, url in c['endpoints'].items():
    print(f"  {kind:<9} {url}")
print(f"  computes {' '.join(c['computeHosts'])}")
for s in c['servers']:
    print(f"  server  {s['name']:<16} {s['id']}  on {s['host']}")
for n in c['ironicNodes']:
    print(f"  node    {n['name']:<16} {n['uuid']}")
print(f"  clouds.yaml {c['cloudsYaml']}   openrc {c['openrc']}")
EOF
}

# Services first, side by side; then the broker, epmd and the database.
stop_all() {
  local name pids=()
  for name in $(recorded_processes); do
    [[ " ${INFRA[*]} " == *" $name "* ]] && continue
    stop_process "$name" &
    pids+=($!)
  done
  for name in "${pids[@]}"; do wait "$name" || true; done
  stop_process rabbitmq
  stop_process epmd
  stop_process postgres INT
  unmount_volume_share
  rm -f "$STATE/ready"
  # A cluster kept outside the state folder (see pick_pgdata) is not left
  # behind: the next start begins from the snapshot anyway.
  if [[ -n ${PGDATA:-} && $PGDATA == /var/tmp/shipshape-openstack-pg-*/pgdata ]]; then
    rm -rf "$(dirname "$PGDATA")"
  fi
}

cmd_stop() {
  use_state "${1:-}"
  if [[ ! -d $STATE/pids ]]; then
    log "no cloud in $STATE"
    return 0
  fi
  lock_state
  if [[ -z $(recorded_processes) ]]; then
    unmount_volume_share
    log "nothing running in $STATE"
    return 0
  fi
  stop_all
  log "stopped"
}

# Once per cloud: a second run finds the seed file and changes nothing; a
# failed run leaves part of the seed, and only a fresh start clears it.
cmd_seed_reclaim() {
  use_state "${1:-}"
  lock_state
  cloud_running || die "no running cloud in $STATE; start it first"
  [[ $CINDER == true ]] || die "the cloud in $STATE runs without Cinder (start it with SHIPSHAPE_CLOUD_CINDER=true); the seed needs volumes"
  if [[ -f $STATE/reclaim-seed.json ]]; then
    log "already seeded: $STATE/reclaim-seed.json"
    return 0
  fi
  export_settings
  run_seed reclaim_seed.py
  log "reclaim seed written to $STATE/reclaim-seed.json"
}

cmd_restart_compute() {
  local host=${1:?usage: cloud.sh restart-compute HOST [STATE_DIR]}
  use_state "${2:-}"
  lock_state
  [[ -f $STATE/pids/nova-compute-$host.pid ]] || die "no nova-compute for $host in $STATE"
  export_settings
  stop_process "nova-compute-$host"
  start_oslo "nova-compute-$host" nova.cmd.compute:main "$STATE/etc/nova/nova-compute-$host.conf"
  log "nova-compute on $host restarted (pid $(pid_of "nova-compute-$host"))"
}

cmd_status() {
  use_state "${1:-}"
  local name pid state rss total=0 down=0 count=0 port path
  printf '%-26s %8s %-8s %9s\n' PROCESS PID STATE RSS_MiB
  for name in $(recorded_processes); do
    pid=$(pid_of "$name")
    count=$((count + 1))
    if is_running "$name"; then
      state=running
      rss=$(ps -e -o pgid=,rss= | awk -v g="$pid" '$1 == g { s += $2 } END { print int(s / 1024) }')
      total=$((total + rss))
    else
      state=DEAD rss=0 down=$((down + 1))
    fi
    printf '%-26s %8s %-8s %9s\n' "$name" "$pid" "$state" "$rss"
  done
  printf '%-26s %8s %-8s %9s\n' total "" "" "$total"
  if ((count == 0)); then
    echo "not running ($STATE)"
    return 3
  fi
  local api apis=("keystone $KEYSTONE_PORT /v3" "placement $PLACEMENT_PORT /" "nova $NOVA_PORT /"
    "glance $GLANCE_PORT /" "neutron $NEUTRON_PORT /" "ironic $IRONIC_PORT /")
  [[ $CINDER == true ]] && apis+=("cinder $CINDER_PORT /")
  for api in "${apis[@]}"; do
    read -r name port path <<<"$api"
    printf '%-10s http://127.0.0.1:%s%s -> %s\n' "$name" "$port" "$path" \
      "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$port$path" || true)"
  done
  ((down == 0)) && [[ -f $STATE/ready ]] || return 1
}

case ${1:-} in
  install) cmd_install ;;
  installed) [[ -z $(missing_packages) ]] ;;
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  status) cmd_status "${2:-}" ;;
  seed-reclaim) cmd_seed_reclaim "${2:-}" ;;
  restart-compute) cmd_restart_compute "${2:-}" "${3:-}" ;;
  *)
    sed -n '2,/^set /p' "$0" | sed -n 's/^# \{0,1\}//p'
    exit 2
    ;;
esac
