/**
 * The hosts table: Shipshape's inventory, each host's pool state and last
 * known health, joined with its latest snapshot for reading.
 *
 * Written only by the worker: the inventory sync, remediation progress (pool
 * state), the audit step of a remediation and the telemetry sweep (health).
 * The API reads it.
 */
import type { BmcReading, Conditions, HostUtilisation } from '../domain/telemetry';
import type { BmcEndpoint, Health, HostRole, HostState, InventoryHost, PoolState } from '../domain/types';
import { Filters } from './filters';
import type { Queryable } from './pool';

/** Where a host stands in the fleet: what policies and guards match on. */
export interface HostPlace {
  id: string;
  zone: string;
  roles: HostRole[];
}

/**
 * Bring the inventory in line with the provider's list in one statement: new
 * hosts are added; zone, roles and BMC endpoint follow the provider; existing
 * rows keep their pool state and health.
 */
export async function upsertInventory(
  db: Queryable,
  hosts: readonly InventoryHost[],
  providerName: string,
): Promise<void> {
  await db.query(
    `INSERT INTO hosts (id, zone, roles, provider, bmc_address, bmc_credentials_ref, bmc_system_id)
     SELECT h.id, h.zone, ARRAY(SELECT jsonb_array_elements_text(h.roles)), $2, h.bmc_address, h.bmc_credentials_ref, h.bmc_system_id
       FROM jsonb_to_recordset($1::jsonb) AS h(id text, zone text, roles jsonb, bmc_address text, bmc_credentials_ref text, bmc_system_id text)
     ON CONFLICT (id) DO UPDATE SET zone = EXCLUDED.zone, roles = EXCLUDED.roles, provider = EXCLUDED.provider,
       bmc_address = EXCLUDED.bmc_address, bmc_credentials_ref = EXCLUDED.bmc_credentials_ref, bmc_system_id = EXCLUDED.bmc_system_id,
       updated_at = CASE WHEN (hosts.zone, hosts.roles, hosts.bmc_address, hosts.bmc_credentials_ref, hosts.bmc_system_id)
                              IS DISTINCT FROM (EXCLUDED.zone, EXCLUDED.roles, EXCLUDED.bmc_address, EXCLUDED.bmc_credentials_ref, EXCLUDED.bmc_system_id)
                         THEN now() ELSE hosts.updated_at END`,
    [
      JSON.stringify(
        hosts.map((h) => ({
          id: h.id,
          zone: h.zone,
          roles: h.roles,
          bmc_address: h.bmc?.address ?? null,
          bmc_credentials_ref: h.bmc?.credentialsRef ?? null,
          bmc_system_id: h.bmc?.systemId ?? null,
        })),
      ),
      providerName,
    ],
  );
}

/**
 * Set every host's labels from the inventory file, in one statement: a host
 * the file lists gets its map, every other host none (the file is the whole
 * truth for labels). Hosts the inventory does not know yet are skipped; the
 * worker applies the file after the provider's sync. Returns the hosts changed.
 */
export async function setHostLabels(
  db: Queryable,
  labels: ReadonlyArray<{ host: string; labels: Record<string, string> }>,
): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE hosts h SET labels = coalesce(f.labels, '{}'::jsonb), updated_at = now()
       FROM hosts h2 LEFT JOIN jsonb_to_recordset($1::jsonb) AS f(host text, labels jsonb) ON f.host = h2.id
      WHERE h.id = h2.id AND h.labels IS DISTINCT FROM coalesce(f.labels, '{}'::jsonb)`,
    [JSON.stringify(labels)],
  );
  return rowCount ?? 0;
}

/** Take the host out of the pool or put it back: the remediation's pool state, in the transaction of its progress. */
export async function setPoolState(db: Queryable, host: string, poolState: PoolState): Promise<void> {
  await db.query('UPDATE hosts SET pool_state = $2, updated_at = now() WHERE id = $1', [host, poolState]);
}

/**
 * Record the host's health as last assessed. `seen`: something answered for the
 * host (its BMC or the provider), so it was last seen now.
 */
export async function recordHostHealth(
  db: Queryable,
  host: string,
  health: { health: Health; reasons: string[] },
  seen = false,
): Promise<void> {
  await db.query(
    `UPDATE hosts SET health = $2, health_reasons = $3, health_checked_at = now(), updated_at = now(),
            last_seen_at = CASE WHEN $4 THEN now() ELSE last_seen_at END WHERE id = $1`,
    [host, health.health, health.reasons, seen],
  );
}

export async function hostExists(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM hosts WHERE id = $1', [id]);
  return Boolean(rowCount);
}

/** Every host's ID, in order. */
export async function allHostIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM hosts ORDER BY id');
  return rows.map((r) => r.id);
}

/** Every host with its zone, in order (the demo's opening line). */
export async function hostsAndZones(db: Queryable): Promise<{ id: string; zone: string }[]> {
  const { rows } = await db.query<{ id: string; zone: string }>('SELECT id, zone FROM hosts ORDER BY id');
  return rows;
}

/** Where one host stands, or null when the inventory does not know it. */
export async function placeOfHost(db: Queryable, id: string): Promise<HostPlace | null> {
  const { rows } = await db.query<HostPlace>('SELECT id, zone, roles FROM hosts WHERE id = $1', [id]);
  return rows[0] ?? null;
}

/** Where each of these hosts stands, in one query; unknown hosts are left out. */
export async function placesOfHosts(db: Queryable, ids: readonly string[]): Promise<HostPlace[]> {
  const { rows } = await db.query<HostPlace>('SELECT id, zone, roles FROM hosts WHERE id = ANY($1::text[])', [ids]);
  return rows;
}

/** The BMC endpoint of each of these hosts that the inventory knows (null: it has none). */
export async function bmcEndpointsOf(db: Queryable, ids: readonly string[]): Promise<Map<string, BmcEndpoint | null>> {
  const { rows } = await db.query<{
    id: string;
    bmc_address: string | null;
    bmc_credentials_ref: string | null;
    bmc_system_id: string | null;
  }>('SELECT id, bmc_address, bmc_credentials_ref, bmc_system_id FROM hosts WHERE id = ANY($1)', [ids]);
  return new Map(
    rows.map((r) => [
      r.id,
      r.bmc_address
        ? { address: r.bmc_address, credentialsRef: r.bmc_credentials_ref, systemId: r.bmc_system_id }
        : null,
    ]),
  );
}

/** A host as the inventory knows it, with its latest snapshot (all null before the first reading). */
export interface HostRecord {
  id: string;
  zone: string;
  roles: HostRole[];
  /** From the inventory file; what compliance scopes match on. */
  labels: Record<string, string>;
  poolState: PoolState;
  health: Health;
  healthReasons: string[];
  healthCheckedAt: Date | null;
  lastSeenAt: Date | null;
  bmcAddress: string | null;
  bmcCredentialsRef: string | null;
  snapshot: {
    readAt: Date | null;
    bmcReachable: boolean | null;
    bmcError: string | null;
    providerError: string | null;
    bmc: BmcReading | null;
    state: HostState | null;
    utilisation: HostUtilisation | null;
    conditions: Conditions | null;
  };
  openRemediationId: string | null;
}

const SELECT_HOSTS = `
  SELECT h.id, h.zone, h.roles, h.labels, h.pool_state, h.health, h.health_reasons, h.health_checked_at, h.last_seen_at,
         h.bmc_address, h.bmc_credentials_ref,
         s.read_at, s.bmc_reachable, s.bmc_error, s.provider_error, s.bmc, s.state, s.utilisation, s.conditions,
         (SELECT r.id FROM remediations r WHERE r.host = h.id AND r.closed_at IS NULL) AS open_remediation_id
    FROM hosts h LEFT JOIN host_snapshots s ON s.host = h.id`;

interface HostRow {
  id: string;
  zone: string;
  roles: HostRole[];
  labels: Record<string, string>;
  pool_state: PoolState;
  health: Health;
  health_reasons: string[];
  health_checked_at: Date | null;
  last_seen_at: Date | null;
  bmc_address: string | null;
  bmc_credentials_ref: string | null;
  read_at: Date | null;
  bmc_reachable: boolean | null;
  bmc_error: string | null;
  provider_error: string | null;
  bmc: BmcReading | null;
  state: HostState | null;
  utilisation: HostUtilisation | null;
  conditions: Conditions | null;
  open_remediation_id: string | null;
}

function asHostRecord(r: HostRow): HostRecord {
  return {
    id: r.id,
    zone: r.zone,
    roles: r.roles,
    labels: r.labels,
    poolState: r.pool_state,
    health: r.health,
    healthReasons: r.health_reasons,
    healthCheckedAt: r.health_checked_at,
    lastSeenAt: r.last_seen_at,
    bmcAddress: r.bmc_address,
    bmcCredentialsRef: r.bmc_credentials_ref,
    snapshot: {
      readAt: r.read_at,
      bmcReachable: r.bmc_reachable,
      bmcError: r.bmc_error,
      providerError: r.provider_error,
      bmc: r.bmc,
      state: r.state,
      utilisation: r.utilisation,
      conditions: r.conditions,
    },
    openRemediationId: r.open_remediation_id,
  };
}

export interface HostFilter {
  zone?: string;
  role?: HostRole;
  health?: Health;
  poolState?: PoolState;
  /** Only hosts whose ID sorts after this one (the previous page's last). */
  after?: string;
  /** At most this many. */
  limit?: number;
}

/** The hosts that match every filter given, by ID, with their latest snapshots. */
export async function listHosts(db: Queryable, f: HostFilter): Promise<HostRecord[]> {
  const where = new Filters()
    .add('h.zone = ?', f.zone)
    .add('? = ANY(h.roles)', f.role)
    .add('h.health = ?', f.health)
    .add('h.pool_state = ?', f.poolState)
    .add('h.id > ?', f.after);
  const limit = f.limit === undefined ? '' : ` LIMIT ${where.param(f.limit)}`;
  const { rows } = await db.query<HostRow>(`${SELECT_HOSTS} ${where} ORDER BY h.id${limit}`, where.args);
  return rows.map(asHostRecord);
}

/** One host with its latest snapshot, or null when the inventory does not know it. */
export async function findHost(db: Queryable, id: string): Promise<HostRecord | null> {
  const { rows } = await db.query<HostRow>(`${SELECT_HOSTS} WHERE h.id = $1`, [id]);
  return rows[0] ? asHostRecord(rows[0]) : null;
}

/** What the fleet summary counts, per host. */
export interface HostTally {
  zone: string;
  roles: HostRole[];
  health: Health;
  poolState: PoolState;
  utilisation: HostUtilisation | null;
  bmcReachable: boolean | null;
}

export async function tallyOfEveryHost(db: Queryable): Promise<HostTally[]> {
  const { rows } = await db.query<HostTally>(
    `SELECT h.zone, h.roles, h.health, h.pool_state AS "poolState", s.utilisation, s.bmc_reachable AS "bmcReachable"
       FROM hosts h LEFT JOIN host_snapshots s ON s.host = h.id`,
  );
  return rows;
}

/** Each host's place, whether it is out of service and whether it has an open remediation: what simulate decides on. */
export async function hostsAsSimulateSees(
  db: Queryable,
): Promise<(HostPlace & { outOfService: boolean; hasOpenRemediation: boolean })[]> {
  const { rows } = await db.query(
    `SELECT h.id, h.zone, h.roles, h.pool_state <> 'in-service' AS "outOfService",
            EXISTS (SELECT 1 FROM remediations r WHERE r.host = h.id AND r.closed_at IS NULL) AS "hasOpenRemediation" FROM hosts h`,
  );
  return rows;
}
