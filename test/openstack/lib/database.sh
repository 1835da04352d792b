# shellcheck shell=bash
# The cloud's own PostgreSQL 15 cluster, its schemas, and the snapshot that
# makes warm starts fast (sourced by cloud.sh).
#
# The cluster has its own data folder, port and socket folder (inside the data
# folder), so it is independent of any other cluster on the machine. As root
# it runs as `postgres`, which refuses to run as root.

PG_BIN=/usr/lib/postgresql/15/bin
DATABASES=(keystone placement nova_api nova_cell0 nova glance neutron ironic cinder)

if [[ $(id -u) == 0 ]]; then
  DB_OWNER=(setpriv --reuid=postgres --regid=postgres --init-groups --)
else
  DB_OWNER=()
fi

# The data folder has to be reachable by `postgres`: a state folder under a
# private parent (mktemp -d) is not, so its cluster then lives under /var/tmp.
pick_pgdata() {
  if [[ $(id -u) != 0 ]] || runuser -u postgres -- test -x "$STATE"; then
    PGDATA="$STATE/pgdata"
  else
    PGDATA="/var/tmp/shipshape-openstack-pg-$(echo -n "$STATE" | sha256sum | cut -c1-12)/pgdata"
  fi
}

psql_cloud() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA" -p "$PG_PORT" -U "$DB_USER" "$@"; }

start_postgres() {
  # No durability: the cluster is thrown away with the state folder. Small WAL
  # segments keep the snapshot small (its copy is part of every warm start).
  start_process postgres "${DB_OWNER[@]}" "$PG_BIN/postgres" -D "$PGDATA" -p "$PG_PORT" -k "$PGDATA" \
    -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=64MB \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c wal_level=minimal -c max_wal_senders=0 -c min_wal_size=4MB -c max_wal_size=16MB \
    -c logging_collector=off -c log_min_messages=warning
  wait_until 60 postgres "$PG_BIN/pg_isready" -q -h "$PGDATA" -p "$PG_PORT" ||
    die "postgres did not start; see $STATE/logs/postgres.out"
}

stop_postgres() { stop_process postgres INT; } # INT = fast shutdown

# The snapshot is a stopped cluster after every schema migration, keyed by the
# package versions and the files that shape it; ports are not in it (nova's
# cell mappings are URL templates), so any port base can use it.
snapshot_key() {
  {
    dpkg-query -W -f='${Package} ${Version}\n' python3-keystone python3-placement python3-nova \
      python3-glance python3-neutron python3-ironic python3-cinder postgresql-15
    cat "$HERE/lib/database.sh" "$HERE/etc/keystone.conf"
  } | sha256sum | cut -c1-16
}

prepare_database() {
  local snapshot
  snapshot="$CACHE_DIR/pgdata-$(snapshot_key)"
  mkdir -p "$(dirname "$PGDATA")"
  rm -rf "$PGDATA"
  if [[ -f $snapshot/PG_VERSION ]]; then
    log "database: restoring snapshot $(basename "$snapshot")"
    cp -a "$snapshot" "$PGDATA"
    touch "$snapshot" # in use: not pruned
    start_postgres
    return
  fi
  log "database: no snapshot; creating the cluster and migrating every schema"
  mkdir -m 700 "$PGDATA"
  [[ $(id -u) == 0 ]] && chown postgres:postgres "$PGDATA"
  "${DB_OWNER[@]}" "$PG_BIN/initdb" -D "$PGDATA" -U "$DB_USER" --auth=trust -E UTF8 --no-instructions --wal-segsize=1 >"$STATE/logs/initdb.out" 2>&1 ||
    die "initdb failed; see $STATE/logs/initdb.out"
  start_postgres
  local db
  for db in "${DATABASES[@]}"; do psql_cloud -d postgres -c "CREATE DATABASE $db"; done
  migrate_schemas
  stop_postgres
  # Another cloud may be saving the same snapshot at this moment: each copies
  # to a folder of its own, and only the first rename wins.
  mkdir -p "$CACHE_DIR"
  local partial="$snapshot.partial.$$"
  cp -a "$PGDATA" "$partial"
  rm -f "$partial/postmaster.pid"
  if mv -T "$partial" "$snapshot" 2>/dev/null; then
    touch "$snapshot"
    log "database: snapshot saved as $snapshot"
    # Snapshots of other package or script versions, unused for a week, go.
    find "$CACHE_DIR" -mindepth 1 -maxdepth 1 -name 'pgdata-*' -mtime +7 -exec rm -rf {} +
  else
    rm -rf "$partial"
  fi
  start_postgres
}

# Each service's own migration tool, two at a time (the machine has 2 cores).
migrate_schemas() {
  local etc="$STATE/etc"
  in_background run_migration keystone-db py_main keystone-manage keystone.cmd.manage:main --config-file "$etc/keystone/keystone.conf" db_sync
  in_background run_migration placement-db py_main placement-manage placement.cmd.manage:main --config-file "$etc/placement/placement.conf" db sync
  wait_background
  in_background run_migration nova-db migrate_nova
  in_background run_migration glance-db py_main glance-manage glance.cmd.manage:main --config-file "$etc/glance/glance-api.conf" db_sync
  wait_background
  in_background run_migration neutron-db py_main neutron-db-manage neutron.db.migration.cli:main --config-file "$etc/neutron/neutron.conf" upgrade heads
  in_background run_migration ironic-db py_main ironic-dbsync ironic.cmd.dbsync:main --config-file "$etc/ironic/ironic.conf" create_schema
  wait_background
  in_background run_migration cinder-db py_main cinder-manage cinder.cmd.manage:main --config-file "$etc/cinder/cinder.conf" db sync
  run_migration keystone-bootstrap py_main keystone-manage keystone.cmd.manage:main --config-file "$etc/keystone/keystone.conf" \
    bootstrap --bootstrap-password "$ADMIN_PASSWORD" --bootstrap-username "$ADMIN_USER" \
    --bootstrap-project-name "$ADMIN_PROJECT" --bootstrap-role-name admin --bootstrap-region-id "$REGION"
  wait_background
}

# Cell mappings are stored as templates that Nova fills from its own
# [database] connection and transport_url, so the snapshot does not hold ports.
migrate_nova() {
  local conf=(--config-file "$STATE/etc/nova/nova.conf")
  local manage=(py_main nova-manage nova.cmd.manage:main "${conf[@]}")
  "${manage[@]}" api_db sync &&
    "${manage[@]}" cell_v2 map_cell0 --database_connection '{scheme}://{username}@{hostname}:{port}/nova_cell0' &&
    "${manage[@]}" cell_v2 create_cell --name cell1 --verbose \
      --database_connection '{scheme}://{username}@{hostname}:{port}/nova' \
      --transport-url '{scheme}://{username}:{password}@{hostname}:{port}/' &&
    "${manage[@]}" db sync
}

run_migration() {
  local name=$1
  shift
  local t=${EPOCHREALTIME/./}
  "$@" >>"$STATE/logs/$name.out" 2>&1 || die "$name failed; see $STATE/logs/$name.out"
  log "database: $name done in $(((${EPOCHREALTIME/./} - t) / 1000000)) s"
}

