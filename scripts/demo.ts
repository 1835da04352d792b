/**
 * The demo: a simulated fleet of 24 compute hosts in two zones, remediated by
 * Shipshape on a local Temporal dev server, visible in the Temporal Web UI
 * within a minute. Starts fresh each time; Ctrl-C stops everything.
 */
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import {
  injectFault,
  injectHardwareFault,
  DEMO_FLEET,
  simulatedHostName,
  type Fault,
} from '../providers/simulated/admin';
import { SimulatedDebianFleet, SimulatedSshExecutor } from '../providers/simulated/ssh';
import { createActivityDeps, prepareFleet } from '../workers/composition';
import { createToken } from '../api/auth';
import { startApi, type RunningApi } from '../api/server';
import { loadConfig } from '../config';
import { loadKeys, writeNewKeysFile } from '../config/keys';
import { hostsAndZones } from '../db/hosts';
import { itemStates } from '../db/inbox';
import { phasesOfRemediations } from '../db/remediations';
import { lastFinishedSweep } from '../db/telemetry';
import { ensureSweepSchedule } from '../workers/schedule';
import { connectWorker } from '../workers/temporal';
import { createRemediationWorker } from '../workers/worker';
import { runDemoScan, writeDemoSshInventory } from './demo-compliance';
import { demoReclaim, runDemoReclaimScan } from './demo-reclaim';
import { PROJECT_ROOT, freePort, migrate, portIsFree, reachableDataDir, startServices } from './services';

const DEV_TOKEN = process.env.SHIPSHAPE_DEV_TOKEN ?? 'shipshape-demo-admin-token';
/** OS_CLOUD names a cloud in clouds.yaml: the demo then works on it, and injects nothing. */
const REAL_CLOUD = Boolean(process.env.OS_CLOUD);

async function pickPort(preferred: number): Promise<number> {
  return (await portIsFree(preferred)) ? preferred : freePort();
}

interface Scenario {
  host: string;
  signal: string;
  fault: Fault | null;
  story: string;
}

const hosts = (zone: string, n: number) => simulatedHostName(zone, n);
/** Hardware trouble the telemetry sweep finds by itself: no alert is sent for these. */
const HOT = hosts('zone-a', 10);
const DEGRADED = hosts('zone-a', 12);
const SCENARIOS: Scenario[] = [
  {
    host: hosts('zone-a', 3),
    signal: 'HostDown',
    fault: { unhealthy: 'IPMI: CPU2 machine check exception' },
    story: 'drained, power-cycled, verified, returned',
  },
  {
    host: hosts('zone-b', 5),
    signal: 'NovaComputeDown',
    fault: { unhealthy: 'PSU 1 failed', repairIneffective: true },
    story: 'neither power cycle nor service restart helps: handed off to an operator',
  },
  {
    host: hosts('zone-a', 7),
    signal: 'HardwareFault',
    fault: { unhealthy: 'DIMM B2 uncorrectable errors' },
    story: 'waits for approval (approve it with the dev token)',
  },
  { host: hosts('zone-b', 9), signal: 'HostDown', fault: null, story: 'host is healthy: ends as a false alarm' },
];

/** The demo fleet over simulated SSH: a fix that runs on a host (a compliance drift's remediation) stays fixed. */
function simulatedSsh(): SimulatedSshExecutor {
  const fleet = new SimulatedDebianFleet();
  return new SimulatedSshExecutor({
    hostPicture: (host) => fleet.picture(host),
    onCommand: (host, command) => fleet.ran(host, command),
  });
}

/** What the demo started, stopped in reverse order if it fails part-way (a bad policy file, a port race). */
const started: Array<() => Promise<unknown>> = [];

async function main(): Promise<void> {
  const dataDir = join(PROJECT_ROOT, '.data', 'demo');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  console.log('[demo] starting PostgreSQL and the Temporal dev server ...');
  const [temporalPort, uiPort, apiPort] = [await pickPort(7233), await pickPort(8233), await pickPort(8080)];
  const pgDir = reachableDataDir(join(dataDir, 'pg'));
  rmSync(pgDir, { recursive: true, force: true }); // fresh each time, wherever the cluster's data lives
  const { pg, temporal } = await startServices(
    { dataDir: pgDir },
    {
      port: temporalPort,
      uiPort,
      // The UI asks the API to decrypt payloads for it (a viewer token is needed: see the README).
      uiCodecEndpoint: `http://localhost:${apiPort}/v1/codec`,
      dbFile: join(dataDir, 'temporal.db'),
      logFile: join(dataDir, 'temporal.log'),
    },
  );
  started.push(
    () => pg.stop(),
    () => temporal.stop(),
  );
  // The demo's own policy folder: tuned to simulated hosts, and free to change through the API.
  const policyDir = join(dataDir, 'policies');
  // On a real cloud, the shipped policies; the demo's copies are tuned to simulated hosts that boot in seconds.
  cpSync(REAL_CLOUD ? join(PROJECT_ROOT, 'policies') : join(PROJECT_ROOT, 'demo', 'policies'), policyDir, {
    recursive: true,
  });
  // Compliance drift is fixed as the shipped policies say (the simulated hosts take the fixes over simulated SSH).
  const driftPolicies = REAL_CLOUD
    ? []
    : readdirSync(join(PROJECT_ROOT, 'policies')).filter((n) => /^compliance-drift.*\.yaml$/.test(n));
  for (const f of driftPolicies) cpSync(join(PROJECT_ROOT, 'policies', f), join(policyDir, f));
  // Migrations as the owner role; the API and the worker as the application role (see README, Database roles).
  await pg.createDatabase('shipshape');
  migrate(pg.ownerUrl('shipshape'));
  const databaseUrl = pg.appUrl('shipshape');
  // The demo's keys (payload encryption, decision signing): made once per demo, in its data folder, owner-only.
  const keysFile = join(dataDir, 'keys.json');
  writeNewKeysFile(keysFile);

  // The simulated hosts' SSH endpoints and labels (the inventory file), read over simulated SSH by compliance scans.
  const ssh = REAL_CLOUD ? null : writeDemoSshInventory(join(dataDir, 'ssh'));
  const config = loadConfig({
    ...process.env,
    ...(ssh
      ? {
          SHIPSHAPE_INVENTORY_FILE: ssh.inventoryFile,
          SHIPSHAPE_SSH_CREDENTIALS_FILE: ssh.credentialsFile,
          SHIPSHAPE_COMPLIANCE_DIR: join(PROJECT_ROOT, 'policies', 'compliance'),
        }
      : {}),
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporal.address,
    SHIPSHAPE_API_PORT: String(apiPort),
    // With OS_CLOUD set, the demo drives that cloud (clouds.yaml); otherwise the embedded simulated fleet.
    SHIPSHAPE_PROVIDER: REAL_CLOUD ? 'openstack' : 'simulated',
    SHIPSHAPE_SEED_SIMULATED_FLEET: REAL_CLOUD ? 'false' : 'true',
    SHIPSHAPE_DEMO: 'true',
    SHIPSHAPE_DEV_TOKEN: DEV_TOKEN,
    SHIPSHAPE_POLICY_DIR: policyDir,
    SHIPSHAPE_KEYS_FILE: keysFile,
    SHIPSHAPE_CODEC_CORS_ORIGIN: `http://localhost:${uiPort},http://127.0.0.1:${uiPort}`,
    SHIPSHAPE_SWEEP_INTERVAL_SECONDS: process.env.SHIPSHAPE_SWEEP_INTERVAL_SECONDS ?? '15',
    // The inbox calls a person after 1 min (default 5) of an alert automation does not take, so the demo shows it soon.
    SHIPSHAPE_INBOX_GRACE_MINUTES: process.env.SHIPSHAPE_INBOX_GRACE_MINUTES ?? '1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const api = await startApi(config);
  started.push(() => api.stop());
  const monitoring = await createToken(api.db, 'monitoring', 'operator');
  const deps = createActivityDeps(config, api.db, api.logger);
  // The fleet in the inventory before the first alert: the API resolves alerts against it.
  await prepareFleet(config, api.db, deps.provider);
  const workerConnection = await connectWorker(config);
  const worker = await createRemediationWorker({
    connection: workerConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities: createActivities({
      ...deps,
      // The simulated hosts answer over simulated SSH: each drifts from the Debian baseline in its own ways.
      compliance: REAL_CLOUD ? deps.compliance : { ...deps.compliance!, sshExecutor: simulatedSsh() },
      // Reclaim on a simulated tenant cloud, with the shipped rules (all in dry run: flagged and reported, nothing done).
      ...(REAL_CLOUD ? {} : { reclaim: demoReclaim() }),
      // The demo's operator is the terminal: without a webhook, notifications are printed, not logged.
      notifier: config.SHIPSHAPE_NOTIFY_WEBHOOK_URL
        ? deps.notifier
        : {
            notify: async (n) =>
              void console.log(
                `[demo] OPERATOR NEEDED (${n.kind}) ${n.host}: ${n.reason} — remediation ${n.remediationId}`,
              ),
          },
    }),
    keys: loadKeys(keysFile),
  });
  const workerDone = worker.run();
  // The telemetry sweep: every simulated BMC read every 15 s; crossed thresholds become signals.
  await ensureSweepSchedule(api.client, {
    prefix: config.SHIPSHAPE_WORKFLOW_ID_PREFIX,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    everySeconds: config.SHIPSHAPE_SWEEP_INTERVAL_SECONDS,
    logger: api.logger,
  });

  const post = (path: string, body: unknown) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${monitoring}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => r.json());

  const stopEverything = async () => {
    worker.shutdown();
    await workerDone.catch(() => undefined);
    await workerConnection.close();
    await api.stop();
    await temporal.stop();
    await pg.stop();
  };
  if (REAL_CLOUD) return realCloud(api, temporal.uiUrl, config.SHIPSHAPE_SWEEP_INTERVAL_SECONDS, stopEverything);

  console.log(`
  Shipshape demo — ${DEMO_FLEET.zones.length * DEMO_FLEET.hostsPerZone} simulated compute hosts in ${DEMO_FLEET.zones.join(', ')}

  Temporal Web UI   ${temporal.uiUrl}/namespaces/default/workflows
  Shipshape API     ${api.url}   (OpenAPI: ${api.url}/openapi.json)
  Dev token (admin) ${DEV_TOKEN}

  Try:
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/remediations | jq
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/hosts | jq '.hosts[] | {id, poolState, health}'
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/fleet/summary | jq
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/hosts/${HOT} | jq '{health, healthReasons, temperatures, powerSupplies}'
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" "${api.url}/v1/hosts/${HOT}/telemetry?metric=inlet_c&since=10m" | jq
    curl -s -X POST -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/remediations/<id>/approve
    curl -s -X POST -H "Authorization: Bearer ${DEV_TOKEN}" -H 'content-type: application/json' \\
         -d '{"comment":"replaced the PSU"}' ${api.url}/v1/remediations/<id>/hand-back

  The alert inbox shows a person only what automation cannot close (rack r4's power loss, the handed-off host,
  the approval, the disk warning no policy covers); automation's items are counted, not shown:
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/inbox | jq
    SHIPSHAPE_URL=${api.url} SHIPSHAPE_TOKEN=${DEV_TOKEN} npm run -s shipshape -- inbox list

  Guards are on (demo/policies/guards.yaml, the defaults): one host per zone out at a time, so some remediations show
  "waiting-for-capacity"; a zone's breaker trips after 4 take-outs within an hour:
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/guards | jq
    curl -s -X POST -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/guards/breakers/zone-a/reset

  Compliance scans read every host over (simulated) SSH against the shipped profiles (policies/compliance): the
  demo scans the fleet after the first telemetry sweep and every 2 min; each host drifts in its own ways.${
    driftPolicies.length
      ? `
  A failing rule with a fix raises ComplianceDrift: ${driftPolicies.join(', ')} fix it through the guarded
  remediation, and only a rescan that passes closes it.`
      : ''
  }
    curl -s -X POST -H "Authorization: Bearer ${DEV_TOKEN}" -H 'content-type: application/json' -d '{}' ${api.url}/v1/compliance/scans
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/compliance/score | jq
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" "${api.url}/v1/compliance/findings?state=fail" | jq '.findings[] | {host, ruleId, observed}'
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/hosts/${hosts('zone-a', 1)} | jq '{labels, sshHostKey}'
    SHIPSHAPE_URL=${api.url} SHIPSHAPE_TOKEN=${DEV_TOKEN} npm run -s shipshape -- compliance score
    SHIPSHAPE_URL=${api.url} SHIPSHAPE_TOKEN=${DEV_TOKEN} npm run -s shipshape -- compliance findings --state fail
    SHIPSHAPE_URL=${api.url} SHIPSHAPE_TOKEN=${DEV_TOKEN} npm run -s shipshape -- compliance host ${hosts('zone-a', 1)}
${
  REAL_CLOUD
    ? ''
    : `
  Reclaim of unused capacity scans a simulated tenant cloud (200 servers, 150 volumes, 60 floating IPs) with the
  shipped rules (policies/reclaim), all in dry run: what they flag and what it holds, nothing done.
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/reclaim/report | jq .all
    SHIPSHAPE_URL=${api.url} SHIPSHAPE_TOKEN=${DEV_TOKEN} npm run -s shipshape -- reclaim findings
`
}
  The telemetry sweep reads every simulated BMC every ${config.SHIPSHAPE_SWEEP_INTERVAL_SECONDS} s (a Temporal Schedule: see Schedules in the UI).
  ${HOT}'s inlet reads 41 °C: the sweep raises InletTemperatureHigh, the host is drained and facilities are told;
  the room cools a minute later, so after the policy's wait the host is verified and returned. ${DEGRADED} loses a power supply: the sweep
  raises PowerSupplyRedundancyLost, which waits for approval.

  Ctrl-C stops everything.
`);

  // Report phase changes as they happen.
  const seen = new Map<string, string>();
  /** The alert each injected host fires, until its remediation returns it. */
  const firing = new Map<string, string>();
  const watch = setInterval(() => {
    phasesOfRemediations(api.db)
      .then((rows) => {
        for (const r of rows) {
          if (seen.get(r.id) === r.phase) continue;
          seen.set(r.id, r.phase);
          console.log(`[demo] ${r.host.padEnd(10)} ${r.phase.padEnd(18)} remediation ${r.id}`);
          // Monitoring sees the repaired host up again: its alert resolves, and the inbox item closes.
          const alert = firing.get(r.host);
          if (r.phase === 'returned' && alert) {
            firing.delete(r.host);
            void sendAlert(alert, r.host, 'resolved').catch(() => undefined);
          }
        }
      })
      .catch(() => undefined);
  }, 1000);

  // What the inbox shows, as it changes: a line per item state change.
  const inboxSeen = new Map<string, string>();
  const inboxWatch = setInterval(() => {
    itemStates(api.db)
      .then((items) => {
        for (const i of items.reverse()) {
          if (inboxSeen.get(i.id) === i.state) continue;
          inboxSeen.set(i.id, i.state);
          console.log(`[demo] inbox ${i.state.padEnd(13)} ${i.title} — ${i.reason}`);
        }
      })
      .catch(() => undefined);
  }, 1000);

  // A few failures at once, then one more every 40 s so the UI keeps moving.
  const sendAlert = (signal: string, host: string, status: 'firing' | 'resolved') =>
    post('/v1/integrations/alertmanager', {
      version: '4',
      groupKey: `{}:{alertname="${signal}"}`,
      truncatedAlerts: 0,
      status,
      receiver: 'shipshape',
      groupLabels: { alertname: signal },
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://alertmanager.demo',
      alerts: [
        {
          status,
          labels: { alertname: signal, instance: `${host}:9100`, severity: 'critical' },
          annotations: {},
          startsAt: new Date().toISOString(),
        },
      ],
    });
  const inject = async (s: Scenario) => {
    if (s.fault) await injectFault(api.db, s.host, s.fault);
    firing.set(s.host, s.signal);
    const result = await sendAlert(s.signal, s.host, 'firing');
    console.log(
      `[demo] injected ${s.signal} on ${s.host} (${s.story}) → ${(result as { results?: { outcome: string }[] }).results?.[0]?.outcome}`,
    );
  };
  for (const s of SCENARIOS) await inject(s);
  // A rack loses a PDU: three hosts' alerts in one notification become one inbox item for the rack. No
  // policy covers PduPowerLost, so after the grace time it needs a person; a disk warning likewise.
  const rack = [1, 2, 4].map((n) => hosts('zone-b', n));
  await post('/v1/integrations/alertmanager', {
    version: '4',
    groupKey: '{}:{alertname="PduPowerLost"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'shipshape',
    groupLabels: { alertname: 'PduPowerLost' },
    commonLabels: { rack: 'r4' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.demo',
    alerts: rack.map((host) => ({
      status: 'firing',
      labels: {
        alertname: 'PduPowerLost',
        instance: `${host}:9100`,
        severity: 'critical',
        rack: 'r4',
        pdu: 'r4-pdu-b',
      },
      annotations: {},
      startsAt: new Date().toISOString(),
    })),
  });
  await post('/v1/signals', {
    source: 'demo',
    name: 'DiskSmartWarning',
    resource: { kind: 'host', id: hosts('zone-a', 11) },
    severity: 'warning',
    status: 'firing',
    labels: { device: 'sdb' },
    annotations: {},
    startsAt: new Date().toISOString(),
  });
  console.log(`[demo] rack r4 (${rack.join(', ')}) lost a PDU; ${hosts('zone-a', 11)} warns about its disk sdb`);
  await injectHardwareFault(api.db, HOT, { inletCelsius: 41 });
  await injectHardwareFault(api.db, DEGRADED, { psusFailed: 1 });
  console.log(`[demo] ${HOT}: inlet at 41 °C; ${DEGRADED}: PSU 2 failed (the next sweep sees both)`);
  const cooled = setTimeout(() => {
    void injectHardwareFault(api.db, HOT, { inletCelsius: 24 }).then(() =>
      console.log(`[demo] ${HOT}: the room is cool again (inlet 24 °C)`),
    );
  }, 60_000);
  // A compliance scan of the fleet once the first sweep has read every BMC (the hardware rules need it), then every 2 min.
  const scan = () =>
    void runDemoScan({ url: api.url, token: DEV_TOKEN }).catch((err: unknown) =>
      console.log(`[demo] compliance scan failed: ${(err as Error).message}`),
    );
  let scans: NodeJS.Timeout | undefined;
  let lastSweep = '';
  const sweeps = setInterval(() => {
    lastFinishedSweep(api.db)
      .then((s) => {
        if (!s || s.id === lastSweep) return;
        lastSweep = s.id;
        console.log(
          `[demo] telemetry sweep: ${s.hosts} hosts read, ${s.readFailed} failed, ${s.signals} signals raised`,
        );
        if (!scans) {
          scan();
          scans = setInterval(scan, 120_000);
          if (!REAL_CLOUD)
            void runDemoReclaimScan({ url: api.url, token: DEV_TOKEN }).catch((err: unknown) =>
              console.log(`[demo] reclaim scan failed: ${(err as Error).message}`),
            );
        }
      })
      .catch(() => undefined);
  }, 1000);
  let next = 0;
  const extra = setInterval(() => {
    next++;
    const zone = DEMO_FLEET.zones[next % DEMO_FLEET.zones.length]!;
    const host = simulatedHostName(zone, 1 + ((next * 5) % DEMO_FLEET.hostsPerZone));
    void inject({
      host,
      signal: 'HostDown',
      fault: { unhealthy: 'BMC: host not responding' },
      story: 'another host down',
    }).catch(() => undefined);
  }, 40_000);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\n[demo] stopping: worker, API, Temporal, PostgreSQL ...');
    clearInterval(watch);
    clearInterval(inboxWatch);
    clearInterval(extra);
    clearInterval(sweeps);
    clearInterval(scans);
    clearTimeout(cooled);
    await stopEverything();
    console.log('[demo] stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const seconds = Number(process.env.SHIPSHAPE_DEMO_SECONDS ?? 0);
  if (seconds > 0) setTimeout(() => void stop(), seconds * 1000);
}

/**
 * The demo on a real cloud: the inventory, the sweep and the API, and
 * nothing injected. Alerts come from the operator (curl, Alertmanager).
 */
async function realCloud(
  api: RunningApi,
  uiUrl: string | null,
  sweepSeconds: number,
  stopAll: () => Promise<void>,
): Promise<void> {
  const rows = await hostsAndZones(api.db);
  console.log(`
  Shipshape demo on the cloud "${process.env.OS_CLOUD}" — ${rows.length} hosts: ${rows.map((r) => `${r.id} (${r.zone})`).join(', ')}

  Temporal Web UI   ${uiUrl}/namespaces/default/workflows
  Shipshape API     ${api.url}   (OpenAPI: ${api.url}/openapi.json)
  Dev token (admin) ${DEV_TOKEN}

  Nothing is injected: Shipshape acts only on the alerts you send. The telemetry sweep reads every host every ${sweepSeconds} s.
    curl -s -H "Authorization: Bearer ${DEV_TOKEN}" ${api.url}/v1/fleet/summary | jq
    curl -s -X POST -H "Authorization: Bearer ${DEV_TOKEN}" -H 'content-type: application/json' ${api.url}/v1/signals -d \
      '{"source":"curl","name":"HostDown","resource":{"kind":"host","id":"${rows[0]?.id ?? '<host>'}"},"severity":"critical","status":"firing","labels":{},"annotations":{},"startsAt":"${new Date().toISOString()}"}'

  Ctrl-C stops Shipshape (the cloud is left as it is).
`);
  const stop = () => void stopAll().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const seconds = Number(process.env.SHIPSHAPE_DEMO_SECONDS ?? 0);
  if (seconds > 0) setTimeout(stop, seconds * 1000);
}

main().catch(async (err: unknown) => {
  console.error('[demo] failed:', err instanceof Error ? err.message : err);
  for (const stop of started.reverse()) await stop().catch(() => undefined);
  process.exit(1);
});
