# shellcheck shell=bash
# The OpenStack services: their configuration and their processes (sourced by
# cloud.sh). Each runs from Debian's python3-* packages as a plain process of
# ours; nothing is a system service.

export_settings() {
  export STATE DEBUG REGION SERVICE_PASSWORD RABBIT_USER RABBIT_PASSWORD "${ALL_PORT_VARS[@]}"
  export DB_BASE="postgresql+psycopg2://$DB_USER@127.0.0.1:$PG_PORT"
  export TRANSPORT_URL="rabbit://$RABBIT_USER:$RABBIT_PASSWORD@127.0.0.1:$RABBIT_PORT/"
  export KEYSTONE_URL="http://127.0.0.1:$KEYSTONE_PORT/v3"
}

write_configs() {
  local etc="$STATE/etc" host
  render "$etc/keystone/keystone.conf" keystone.conf
  SERVICE_USER=placement render "$etc/placement/placement.conf" placement.conf authtoken.inc
  SERVICE_USER=nova render "$etc/nova/nova.conf" nova-common.conf nova-control.conf authtoken.inc
  render "$etc/nova/api-paste.ini" nova-api-paste.ini
  for host in $(compute_hosts); do
    COMPUTE_HOST=$host render "$etc/nova/nova-compute-$host.conf" nova-common.conf nova-compute.conf
  done
  SERVICE_USER=glance render "$etc/glance/glance-api.conf" glance-api.conf authtoken.inc
  render "$etc/glance/glance-api-paste.ini" glance-api-paste.ini
  SERVICE_USER=neutron render "$etc/neutron/neutron.conf" neutron.conf authtoken.inc
  render "$etc/neutron/api-paste.ini" neutron-api-paste.ini
  SERVICE_USER=ironic render "$etc/ironic/ironic.conf" ironic.conf authtoken.inc
  SERVICE_USER=cinder render "$etc/cinder/cinder.conf" cinder.conf authtoken.inc
  render "$etc/cinder/api-paste.ini" cinder-api-paste.ini
  write_fernet_keys "$STATE/keystone/fernet-keys"
  write_fernet_keys "$STATE/keystone/credential-keys"
}

# What `keystone-manage fernet_setup` writes (a staged key 0 and a primary
# key 1), without the three seconds it takes to import Keystone.
write_fernet_keys() {
  mkdir -p "$1"
  chmod 700 "$1"
  local key
  for key in 0 1; do
    "$PY" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode(), end="")' >"$1/$key"
    chmod 600 "$1/$key"
  done
}

# Keystone and Placement are WSGI applications without a server of their own;
# uwsgi serves them. Their answers carry `Connection: close`: uwsgi's HTTP
# socket resets a connection that a client keeps alive for its next request.
start_uwsgi() {
  local name=$1 port=$2 script=$3
  shift 3
  start_process "$name" env "$@" uwsgi --plugin python3 --http-socket "127.0.0.1:$port" \
    --wsgi-file "$script" --master --processes 1 --threads 4 --die-on-term --need-app \
    --add-header 'Connection: close' --buffer-size 65535 --disable-logging \
    --procname-prefix "shipshape-cloud-"
}

start_keystone() {
  start_uwsgi keystone "$KEYSTONE_PORT" /usr/bin/keystone-wsgi-public \
    OS_KEYSTONE_CONFIG_FILES="$STATE/etc/keystone/keystone.conf"
}

start_placement() {
  start_uwsgi placement "$PLACEMENT_PORT" /usr/bin/placement-api \
    OS_PLACEMENT_CONFIG_DIR="$STATE/etc/placement"
}

# start_oslo NAME MODULE:FUNC CONFIG: an eventlet service logging to logs/NAME.log.
start_oslo() {
  start_process "$1" "$PY" "$HERE/lib/run.py" "$1" "$2" --config-file "$3" --log-file "$STATE/logs/$1.log"
}

start_control_plane() {
  local etc="$STATE/etc"
  mkdir -p "$STATE/glance/images" "$STATE/glance/staging" "$STATE/glance/tasks" "$STATE/neutron" \
    "$STATE/nova/control" "$STATE/ironic"
  start_placement
  start_oslo glance-api glance.cmd.api:main "$etc/glance/glance-api.conf"
  start_oslo neutron-server neutron.cmd.eventlet.server:main "$etc/neutron/neutron.conf"
  start_oslo nova-api nova.cmd.api:main "$etc/nova/nova.conf"
  start_oslo nova-conductor nova.cmd.conductor:main "$etc/nova/nova.conf"
  start_oslo nova-scheduler nova.cmd.scheduler:main "$etc/nova/nova.conf"
  start_oslo ironic-api ironic.cmd.api:main "$etc/ironic/ironic.conf"
  start_oslo ironic-conductor ironic.cmd.conductor:main "$etc/ironic/ironic.conf"
  if [[ $CINDER == true ]]; then start_cinder; fi
}

# One nova-compute per fake host, each with its own host name, state, instances
# and locks; Debian's nova-compute package would pull in libvirt and QEMU.
start_computes() {
  local host
  for host in $(compute_hosts); do
    mkdir -p "$STATE/nova/$host/instances" "$STATE/nova/$host/locks"
    start_oslo "nova-compute-$host" nova.cmd.compute:main "$STATE/etc/nova/nova-compute-$host.conf"
  done
}

wait_apis() {
  wait_http placement "http://127.0.0.1:$PLACEMENT_PORT/"
  wait_http glance-api "http://127.0.0.1:$GLANCE_PORT/"
  wait_http neutron-server "http://127.0.0.1:$NEUTRON_PORT/"
  wait_http nova-api "http://127.0.0.1:$NOVA_PORT/"
  wait_http ironic-api "http://127.0.0.1:$IRONIC_PORT/"
  if [[ $CINDER == true ]]; then wait_http cinder-api "http://127.0.0.1:$CINDER_PORT/"; fi
  wait_until 120 ironic-conductor port_in_use "$IRONIC_RPC_PORT" ||
    die "ironic-conductor did not listen on $IRONIC_RPC_PORT; see $STATE/logs/ironic-conductor.log"
}
