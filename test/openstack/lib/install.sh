# Installing the cloud's Debian packages (sourced by cloud.sh).
#
# Only the Python libraries of each service are installed, never the service
# packages (nova-api, keystone, ...): those create system users, databases and
# systemd units we do not want. Debian's nova-compute also hard-depends on a
# hypervisor; the fake driver needs none, so cloud.sh runs nova.cmd.compute
# itself.

CLOUD_PACKAGES=(
  python3-keystone python3-placement python3-nova python3-glance
  python3-neutron python3-ironic python3-psycopg2
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
  local own_policy=""
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
  disable_package_services
}

# The packages' systemd units and init scripts are switched off so that nothing
# starts them at boot; cloud.sh starts each process itself.
disable_package_services() {
  local unit
  for unit in rabbitmq-server.service epmd.socket epmd.service uwsgi.service; do
    if [[ -e /lib/systemd/system/$unit || -e /etc/systemd/system/$unit ]]; then
      systemctl disable "$unit" >/dev/null 2>&1 || true
    fi
  done
  [[ -e /etc/init.d/rabbitmq-server ]] && update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true
  [[ -e /etc/init.d/uwsgi ]] && update-rc.d uwsgi disable >/dev/null 2>&1 || true
}
