#!/usr/bin/env bash
# Shipshape's own test hosts over SSH: three Debian 12 root filesystems, each
# with its own dpkg database and its own sshd, each started in its own mount,
# PID and UTS namespace and listening on a loopback port. Every process
# started here is stopped here; nothing is installed as a system service.
#
#   hosts.sh build          the base root filesystem (debootstrap, once, cached)
#                           and the three hosts made from it (when missing)
#   hosts.sh reset          the three hosts made again from the cached base
#   hosts.sh start          build when needed, then start every host's sshd
#   hosts.sh stop           stop every recorded sshd and wait for it
#   hosts.sh status         processes, ports and memory (RSS and PSS)
#   hosts.sh env            endpoints, the client key and host keys as JSON
#   hosts.sh rekey HOST     new host keys for HOST (restarted when running):
#                           what a reinstalled or impersonated host looks like
#
# The hosts differ on purpose, so that compliance findings differ:
#   ssh-1  shipshape-test-agent 1.2, PermitRootLogin prohibit-password, PasswordAuthentication no
#   ssh-2  shipshape-test-agent 1.0, PermitRootLogin yes, PasswordAuthentication yes
#   ssh-3  shipshape-test-agent 1.1, /etc/shadow mode 0644, a world-writable
#          /etc/shipshape-test/world-writable.conf
#
# Settings (environment): SHIPSHAPE_SSHHOSTS_DIR (.data/sshhosts in the
# repository), SHIPSHAPE_SSHHOSTS_PORT_BASE (22221: below the kernel's
# ephemeral range), SHIPSHAPE_SSHHOSTS_MIRROR (Debian's mirror; default: the
# first bookworm URI of the apt sources). Needs root (debootstrap, chroot,
# namespaces).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA=$(realpath -m "${SHIPSHAPE_SSHHOSTS_DIR:-$REPO/.data/sshhosts}")
PORT_BASE=${SHIPSHAPE_SSHHOSTS_PORT_BASE:-22221}
BASE=$DATA/base
HOSTS=(ssh-1 ssh-2 ssh-3)
# Bump when what build_host does changes: existing hosts are then made again.
HOST_RECIPE=1
T0=${EPOCHREALTIME/./}

log() {
  local ds=$(((${EPOCHREALTIME/./} - T0) / 100000))
  printf '[sshhosts %3d.%ds] %s\n' $((ds / 10)) $((ds % 10)) "$*" >&2
}
die() {
  log "ERROR: $*"
  exit 1
}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_of() { echo $((PORT_BASE + ${1#ssh-} - 1)); }
root_of() { echo "$DATA/hosts/$1"; }
pid_of() { cat "$DATA/run/$1.pid" 2>/dev/null; }
is_running() {
  local pid
  pid=$(pid_of "$1") && [[ -n $pid && -d /proc/$pid ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]
}
known_host() { [[ " ${HOSTS[*]} " == *" $1 "* ]] || die "no test host named '$1' (hosts: ${HOSTS[*]})"; }

# One build, start or stop at a time.
lock() {
  mkdir -p "$DATA"
  exec 9>"$DATA/.lock"
  flock 9
}

need_root() { [[ $(id -u) == 0 ]] || die "the test hosts need root (debootstrap, chroot, namespaces)"; }

# Debian's mirror from the apt sources (deb822 first, then sources.list).
mirror() {
  if [[ -n ${SHIPSHAPE_SSHHOSTS_MIRROR:-} ]]; then
    echo "$SHIPSHAPE_SSHHOSTS_MIRROR"
    return
  fi
  local uri
  uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ && u { print u; exit }' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [[ -z $uri ]] && uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# debootstrap from Debian's packages, without starting any service (as scripts/setup.sh does).
install_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return 0
  log "installing debootstrap from Debian's packages"
  local own_policy=false
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=true
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  $own_policy && rm -f /usr/sbin/policy-rc.d
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap could not be installed"
}

build_base() {
  [[ -f $BASE/.shipshape-base ]] && return 0
  install_debootstrap
  local m t
  m=$(mirror)
  t=${EPOCHREALTIME/./}
  log "debootstrap bookworm (minbase, openssh-server) from $m into $BASE (once; about a minute)"
  rm -rf "$BASE.tmp" "$BASE"
  mkdir -p "$DATA"
  if ! debootstrap --variant=minbase --include=openssh-server,ca-certificates bookworm "$BASE.tmp" "$m" \
    >"$DATA/debootstrap.log" 2>&1; then
    die "debootstrap failed; see $DATA/debootstrap.log"
  fi
  # The package's own host keys would be shared by every host made from the base.
  rm -f "$BASE.tmp"/etc/ssh/ssh_host_*
  rm -rf "$BASE.tmp"/var/cache/apt/archives/*.deb
  mv "$BASE.tmp" "$BASE"
  printf 'built %s in %ss from %s\n' "$(date -u +%FT%TZ)" "$(((${EPOCHREALTIME/./} - t) / 1000000))" "$m" >"$BASE/.shipshape-base"
  log "base ready: $(du -sh "$BASE" | cut -f1), $(cat "$BASE/.shipshape-base")"
}

client_key() {
  mkdir -p "$DATA/keys"
  chmod 700 "$DATA/keys"
  [[ -f $DATA/keys/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C shipshape-test-hosts -f "$DATA/keys/id_ed25519"
}

# A tiny local package in three versions, so each host's dpkg database differs.
agent_deb() {
  local version=$1
  local dir=$DATA/debs/agent-$version deb=$DATA/debs/shipshape-test-agent_${version}_all.deb
  if [[ -f $deb ]]; then
    echo "$deb"
    return
  fi
  rm -rf "$dir" && mkdir -p "$dir/DEBIAN" "$dir/usr/share/shipshape-test-agent"
  cat >"$dir/DEBIAN/control" <<EOF
Package: shipshape-test-agent
Version: $version
Architecture: all
Maintainer: Shipshape tests <tests@shipshape.invalid>
Description: Shipshape test package
 Installed in the test hosts in different versions, for package rules.
EOF
  echo "$version" >"$dir/usr/share/shipshape-test-agent/VERSION"
  dpkg-deb --root-owner-group -b "$dir" "$deb" >/dev/null
  echo "$deb"
}

agent_version() {
  case $1 in
    ssh-1) echo 1.2 ;;
    ssh-2) echo 1.0 ;;
    ssh-3) echo 1.1 ;;
  esac
}

build_host() {
  local name=$1 root deb
  root=$(root_of "$name")
  [[ $(cat "$root/.shipshape-host" 2>/dev/null) == "$HOST_RECIPE" ]] && return 0
  is_running "$name" && die "$name is running; stop the hosts before making them again"
  log "$name: copying the base root filesystem"
  rm -rf "$root" && mkdir -p "$DATA/hosts"
  cp -a --reflink=auto "$BASE" "$root"
  rm -f "$root/.shipshape-base"
  echo "$name" >"$root/etc/hostname"
  chroot "$root" /usr/bin/ssh-keygen -A >/dev/null
  mkdir -p "$root/root/.ssh" "$root/run/sshd"
  chmod 700 "$root/root/.ssh"
  cp "$DATA/keys/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
  chmod 600 "$root/root/.ssh/authorized_keys"
  deb=$(agent_deb "$(agent_version "$name")")
  cp "$deb" "$root/tmp/agent.deb"
  chroot "$root" /usr/bin/dpkg -i /tmp/agent.deb >/dev/null
  rm -f "$root/tmp/agent.deb"
  case $name in
    ssh-2) printf '\n# shipshape test host: deliberately non-compliant\nPermitRootLogin yes\nPasswordAuthentication yes\n' >>"$root/etc/ssh/sshd_config" ;;
    *) printf '\n# shipshape test host\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n' >>"$root/etc/ssh/sshd_config" ;;
  esac
  if [[ $name == ssh-3 ]]; then
    chmod 0644 "$root/etc/shadow"
    mkdir -p "$root/etc/shipshape-test"
    echo 'anyone may change this' >"$root/etc/shipshape-test/world-writable.conf"
    chmod 0666 "$root/etc/shipshape-test/world-writable.conf"
  fi
  chroot "$root" /usr/sbin/sshd -t || die "$name: sshd_config does not pass sshd -t"
  echo "$HOST_RECIPE" >"$root/.shipshape-host"
}

cmd_build() {
  need_root
  lock
  build_base
  client_key
  local name
  for name in "${HOSTS[@]}"; do build_host "$name"; done
  log "hosts built in $DATA/hosts"
}

cmd_reset() {
  need_root
  lock
  local name
  for name in "${HOSTS[@]}"; do
    is_running "$name" && die "the hosts are running; stop them first"
  done
  for name in "${HOSTS[@]}"; do rm -f "$(root_of "$name")/.shipshape-host"; done
  build_base
  client_key
  for name in "${HOSTS[@]}"; do build_host "$name"; done
}

# The host's sshd as PID 1 of its own PID namespace, in its own mount and UTS
# namespace (mounts made there, /proc and /dev's nodes, vanish with it),
# chrooted into the host's root filesystem. unshare runs in its own session
# and takes the namespace down with it (--kill-child).
start_host() {
  local name=$1 root port
  root=$(root_of "$name")
  port=$(port_of "$name")
  if is_running "$name"; then
    return 0
  fi
  port_in_use "$port" && die "port $port ($name) is in use; set SHIPSHAPE_SSHHOSTS_PORT_BASE to another base"
  mkdir -p "$DATA/run" "$DATA/logs"
  : >"$DATA/logs/$name.log"
  setsid unshare --mount --pid --uts --fork --kill-child=TERM --propagation private \
    /bin/sh -c '
      set -e
      hostname "$1"
      mount -t proc proc "$2/proc"
      for dev in null zero random urandom full tty; do
        [ -e "$2/dev/$dev" ] || touch "$2/dev/$dev"
        mount --bind "/dev/$dev" "$2/dev/$dev"
      done
      mkdir -p "$2/run/sshd"
      exec chroot "$2" /usr/sbin/sshd -D -e -p "$3" -o ListenAddress=127.0.0.1
    ' sh "$name" "$root" "$port" </dev/null >>"$DATA/logs/$name.log" 2>&1 9>&- &
  echo $! >"$DATA/run/$name.pid"
}

wait_host() {
  local name=$1 port deadline=$((SECONDS + 20))
  port=$(port_of "$name")
  until port_in_use "$port"; do
    is_running "$name" || die "$name's sshd exited; see $DATA/logs/$name.log"
    ((SECONDS < deadline)) || die "$name's sshd does not listen on 127.0.0.1:$port; see $DATA/logs/$name.log"
    sleep 0.05
  done
}

stop_host() {
  local name=$1 pid i
  pid=$(pid_of "$name") || return 0
  if is_running "$name"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
      is_running "$name" || break
      sleep 0.05
    done
    if is_running "$name"; then
      log "$name: still running after 10 s; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$DATA/run/$name.pid"
}

cmd_start() {
  need_root
  local name t
  for name in "${HOSTS[@]}"; do
    [[ $(cat "$(root_of "$name")/.shipshape-host" 2>/dev/null) == "$HOST_RECIPE" ]] || {
      cmd_build
      break
    }
  done
  lock
  t=${EPOCHREALTIME/./}
  for name in "${HOSTS[@]}"; do start_host "$name"; done
  for name in "${HOSTS[@]}"; do wait_host "$name"; done
  log "started ${HOSTS[*]} in $(((${EPOCHREALTIME/./} - t) / 1000)) ms on 127.0.0.1:$(port_of ssh-1)-$(port_of "${HOSTS[-1]}")"
}

cmd_stop() {
  [[ -d $DATA/run ]] || return 0
  lock
  local name
  for name in "${HOSTS[@]}"; do stop_host "$name"; done
  log "stopped"
}

# The processes of a host's PID namespace, seen from here: unshare's child and its descendants.
namespace_pids() {
  local pid child ns p
  pid=$(pid_of "$1") || return 0
  child=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null | awk '{print $1}')
  [[ -n $child ]] || return 0
  ns=$(readlink "/proc/$child/ns/pid") || return 0
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/ns/pid" 2>/dev/null) == "$ns" ]] && echo "${p#/proc/}"
  done
  return 0
}

cmd_status() {
  local name pid p rss pss n total_rss=0 total_pss=0 down=0
  printf '%-6s %8s %-8s %6s %6s %8s %8s\n' HOST PID STATE PORT PROCS RSS_KiB PSS_KiB
  for name in "${HOSTS[@]}"; do
    pid=$(pid_of "$name" || true)
    rss=0 pss=0 n=0
    if is_running "$name"; then
      for p in $(namespace_pids "$name"); do
        n=$((n + 1))
        rss=$((rss + $(awk '/^Rss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
        pss=$((pss + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
      done
      printf '%-6s %8s %-8s %6s %6s %8s %8s\n' "$name" "$pid" running "$(port_of "$name")" "$n" "$rss" "$pss"
    else
      down=$((down + 1))
      printf '%-6s %8s %-8s %6s %6s %8s %8s\n' "$name" "${pid:--}" stopped "$(port_of "$name")" 0 0 0
    fi
    total_rss=$((total_rss + rss)) total_pss=$((total_pss + pss))
  done
  printf '%-6s %8s %-8s %6s %6s %8s %8s\n' total "" "" "" "" "$total_rss" "$total_pss"
  [[ -f $BASE/.shipshape-base ]] && echo "base: $(cat "$BASE/.shipshape-base")"
  ((down == 0))
}

fingerprint() { ssh-keygen -lf "$1" | awk '{print $2}'; }

cmd_env() {
  local name root first=true f type
  [[ -f $DATA/keys/id_ed25519 ]] || die "no test hosts built in $DATA (run: $0 build)"
  printf '{\n  "user": "root",\n  "privateKeyPath": "%s",\n  "hosts": [' "$DATA/keys/id_ed25519"
  for name in "${HOSTS[@]}"; do
    root=$(root_of "$name")
    $first || printf ','
    first=false
    printf '\n    {\n      "name": "%s",\n      "address": "127.0.0.1",\n      "port": %s,\n' "$name" "$(port_of "$name")"
    printf '      "running": %s,\n      "root": "%s",\n      "log": "%s",\n' \
      "$(is_running "$name" && echo true || echo false)" "$root" "$DATA/logs/$name.log"
    printf '      "agentVersion": "%s",\n' "$(agent_version "$name")"
    printf '      "hostKeyFingerprint": "%s",\n      "hostKeys": {' "$(fingerprint "$root/etc/ssh/ssh_host_ed25519_key.pub")"
    local firstkey=true
    for f in "$root"/etc/ssh/ssh_host_*_key.pub; do
      type=$(awk '{print $1}' "$f")
      $firstkey || printf ','
      firstkey=false
      printf '\n        "%s": "%s"' "$type" "$(fingerprint "$f")"
    done
    printf '\n      }\n    }'
  done
  printf '\n  ]\n}\n'
}

cmd_rekey() {
  local name=${1:?usage: hosts.sh rekey HOST} root was_running=false
  known_host "$name"
  need_root
  root=$(root_of "$name")
  [[ -d $root ]] || die "$name is not built (run: $0 build)"
  lock
  is_running "$name" && was_running=true
  stop_host "$name"
  rm -f "$root"/etc/ssh/ssh_host_*
  chroot "$root" /usr/bin/ssh-keygen -A >/dev/null
  log "$name: new host keys, ed25519 $(fingerprint "$root/etc/ssh/ssh_host_ed25519_key.pub")"
  if $was_running; then
    start_host "$name"
    wait_host "$name"
  fi
}

case ${1:-} in
  build) cmd_build ;;
  reset) cmd_reset ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  rekey) cmd_rekey "${2:-}" ;;
  *)
    sed -n '2,/^set /p' "$0" | sed -n 's/^# \{0,1\}//p' | sed '$d'
    exit 2
    ;;
esac
