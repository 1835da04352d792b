# shellcheck shell=bash
# Installing the cloud's Debian packages (sourced by cloud.sh).
#
# Only the Python libraries of each service are installed, never the service
# packages (nova-api, keystone, ...): those create system users, databases and
# systemd units we do not want. Debian's nova-compute also hard-depends on a
# hypervisor; the fake driver needs none, so cloud.sh runs nova.cmd.compute
# itself.

CLOUD_PACKAGES=(
  python3-keystone python3-placement python3-nova python3-glance
  python3-neutron python3-ironic python3-cinder python3-psycopg2
  nfs-common qemu-utils
  uwsgi-core uwsgi-plugin-python3
  rabbitmq-server
  postgresql-15 curl gettext-base
)

missing_packages() {
  local pkg
  for pkg in "${CLOUD_PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Status}\n' "$pkg" 2>/dev/null | grep -qx installed || echo "$pkg"
  done
}

# Package scripts must not start services. Debian asks /usr/sbin/policy-rc.d
# before starting any; we write one that says no (101) unless one exists, and
# remove only our own afterwards.
cmd_install() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    log "all packages present"
    return 0
  fi
  [[ $(id -u) == 0 ]] || die "install needs root (apt-get)"
  log "installing: ${missing[*]}"
  local own_policy="" units_before scripts_before
  units_before=$(enabled_units)
  scripts_before=$(init_scripts)
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# written by shipshape test/openstack/cloud.sh install\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; }
  } || rc=$?
  [[ -n $own_policy ]] && rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || die "apt-get install failed ($rc)"
  disable_new_services "$units_before" "$scripts_before"
}

# Package scripts enable what they install (policy-rc.d only stops them from
# starting it): rabbitmq-server, epmd, open-iscsi, logrotate.timer and init
# script links. Whatever an install added is switched off again, so nothing of
# it starts at boot; cloud.sh starts each process itself.
enabled_units() {
  find /etc/systemd/system -mindepth 2 -maxdepth 2 -path '*.wants/*' -printf '%f\n' 2>/dev/null | sort -u
}

init_scripts() { ls /etc/init.d 2>/dev/null | sort; }

disable_new_services() {
  local units_before=$1 scripts_before=$2 unit script
  for unit in $(comm -13 <(echo "$units_before") <(enabled_units)); do
    systemctl disable "$unit" >/dev/null 2>&1 || log "could not disable $unit"
  done
  for script in $(comm -13 <(echo "$scripts_before") <(init_scripts)); do
    update-rc.d "$script" disable >/dev/null 2>&1 || true
  done
}
