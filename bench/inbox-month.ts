/**
 * Inbox month benchmark: a month of a 500-host fleet's alerts
 * (bench/inbox-month-generator.ts) replayed through the real API's
 * Alertmanager webhook, with time compressed, and what the inbox made of it
 * (bench/inbox-month-report.ts: the figures and their definitions).
 *
 * Starts its own PostgreSQL and Temporal dev server, the API in-process
 * (createApp), a worker with the real activities on the simulated fleet
 * seeded to the month's hosts, and a loopback webhook that counts the inbox
 * notifier's messages (one route: every needs-person item).
 *
 * Time: the inbox engine and the notifier run on a virtual clock and have no
 * timer; after every replayed notification or fleet change the benchmark
 * sets the clock to its time and ticks them. Remediations started by alerts
 * are real workflows taking real seconds: after each step the benchmark
 * waits until none is at work (none running that does not wait on a person),
 * bounded, letting the virtual clock run at real speed meanwhile, so a
 * remediation takes its real seconds of virtual time too.
 *
 * Deliberate differences from production, because a month replays in minutes:
 * - the guards are permissive: their windows (rate limit, breaker, cool-down)
 *   count real time, and the whole month would fall into one hour of them;
 * - the host-down policy is bench/inbox-policies/host-down.yaml: the shipped
 *   ladder waiting seconds instead of minutes (simulated hosts boot in one).
 *
 * Run: npm run bench:inbox  (results appended to bench/RESULTS.md)
 *      npm run bench:inbox -- --quick   (50 hosts, 3 days; printed only)
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { syncInventory } from '../activities/inventory';
import { createApp } from '../api/app';
import { createToken } from '../api/auth';
import { startRedispatcher } from '../api/redispatch';
import { loadKeys, writeNewKeysFile } from '../config/keys';
import { createLogger } from '../config/logger';
import { loadNotifications } from '../config/notifications';
import {
  deliveryCounts,
  inboxRecord,
  lastInboxHistoryLine,
  openRemediationPhase,
  remediationsAtWork,
  remediationsStarted,
  undecidedSignals,
} from '../db/inbox-benchmark';
import { createPool } from '../db/pool';
import type { GuardConfig } from '../domain/guards';
import { DEFAULT_INBOX_TIMINGS } from '../domain/inbox';
import { loadPolicies } from '../policies/loader';
import { BmcCredentials } from '../providers/redfish/credentials';
import { injectFault, repairByHand, seedSimulatedFleet } from '../providers/simulated/admin';
import { SimulatedFleet } from '../providers/simulated/provider';
import { createBmcConnector } from '../workers/composition';
import { shipshapeDataConverter } from '../workers/data-converter';
import { startInboxNotifier } from '../api/inbox-notifier';
import { createNotificationSender } from '../workers/inbox-notifications';
import { createRemediationWorker } from '../workers/worker';
import { migrate, startServices } from '../scripts/services';
import {
  FULL_MONTH,
  generateInboxMonth,
  hostsPerZone,
  QUICK_MONTH,
  type FleetAction,
  type InboxMonth,
  type MonthEvent,
  type MonthShape,
} from './inbox-month-generator';
import { monthFigures, renderReport, type MonthFigures, type RunFacts } from './inbox-month-report';

/** The guards out of the way (see the header): every limit at 100 %, no cool-down, no breaker. */
export const BENCH_GUARDS: GuardConfig = {
  maxConcurrentPerZone: { percent: 100 },
  maxConcurrentFleet: { percent: 100 },
  maxOutOfServicePerZone: { percent: 100 },
  minFreeVcpuPercentPerZone: 0,
  rateLimit: { starts: 100_000, windowMinutes: 1 },
  cooldownMinutes: 0,
  maxAttempts: { count: 100_000, windowMinutes: 1 },
  breaker: { percent: 100, windowMinutes: 0.001 },
  windows: [],
  waitTimeoutMinutes: 60,
  pollSeconds: 1,
};

/** This folder in the source tree, whether run from dist/bench (npm run bench:inbox) or from bench/ (jest). */
const BENCH_DIR = existsSync(join(__dirname, 'inbox-policies')) ? __dirname : join(__dirname, '..', '..', 'bench');
const POLICY_DIR = join(BENCH_DIR, 'inbox-policies');
/** How long one step waits for remediations to settle, and for the dispatcher to decide, in real ms. */
const SETTLE_BOUND_MS = 120_000;
const DECIDE_BOUND_MS = 15_000;
const MINUTE = 60_000;

export interface InboxMonthOptions {
  shape: MonthShape;
  databaseUrl: string;
  temporalAddress: string;
  /** A folder for the keys and the notifications file. */
  dir: string;
  workflowBundlePath?: string;
  log?: (line: string) => void;
}

export interface InboxMonthResult {
  month: InboxMonth;
  figures: MonthFigures;
  run: Omit<RunFacts, 'title' | 'machine'>;
}

/** One thing to do at a virtual time: change the fleet, send a notification, or only tick. */
type Step =
  | { at: number; order: 0; action: FleetAction }
  | { at: number; order: 1; event: MonthEvent }
  | { at: number; order: 2 };

/** Replay the month and measure what the inbox made of it. */
export async function runInboxMonth(options: InboxMonthOptions): Promise<InboxMonthResult> {
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const epoch = new Date(Math.ceil(Date.now() / MINUTE) * MINUTE);
  const month = generateInboxMonth(options.shape, epoch);
  const w = await startWorld(options, epoch);
  log(`[inbox-month] ${month.fleet.length} hosts, ${month.events.length} notifications, ${month.rawAlerts} alerts`);
  try {
    const steps = timeline(month);
    let settleTimeouts = 0;
    let settleMs = 0;
    let sendMs = 0;
    let tickMs = 0;
    let mayBeAtWork = false;
    let lastLog = performance.now();
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      w.setClock(step.at);
      const t0 = performance.now();
      if (step.order === 0) mayBeAtWork = (await w.applyFleetAction(step.action)) || mayBeAtWork;
      if (step.order === 1) mayBeAtWork = (await w.send(step.event)) || mayBeAtWork;
      const t1 = performance.now();
      await w.tick();
      sendMs += t1 - t0;
      tickMs += performance.now() - t1;
      if (mayBeAtWork) {
        const t = performance.now();
        const settled = await w.settle(steps[i + 1]?.at ?? month.durationMs);
        settleMs += performance.now() - t;
        if (!settled) settleTimeouts++;
        mayBeAtWork = !settled;
      }
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        log(
          `[inbox-month] day ${(step.at / (24 * 60 * MINUTE)).toFixed(1)} of ${options.shape.days}, step ${i} of ${steps.length}; ` +
            `real s sending ${(sendMs / 1000).toFixed(0)}, ticking ${(tickMs / 1000).toFixed(0)}, waiting for remediations ${(settleMs / 1000).toFixed(0)}`,
        );
      }
    }
    // The month is over: an hour later, everything that was to resolve by itself has.
    if (mayBeAtWork && !(await w.settle(month.durationMs + 60 * MINUTE))) settleTimeouts++;
    w.setClock(month.durationMs + 60 * MINUTE);
    await w.tick();
    const record = await inboxRecord(w.db);
    const figures = monthFigures(month, epoch, record);
    const sent = await w.notificationsSent();
    return {
      month,
      figures,
      run: {
        hosts: month.fleet.length,
        days: options.shape.days,
        realSeconds: (performance.now() - started) / 1000,
        notificationsSent: sent.count,
        notificationsHow: sent.how,
        remediationsStarted: await w.remediationsStarted(),
        settleTimeouts,
        settleSeconds: settleMs / 1000,
        steps: steps.length,
      },
    };
  } finally {
    await w.close();
  }
}

/**
 * Every step in time order: fleet changes, notifications, and a tick where
 * the inbox must look again with no notification to prompt it: when a new
 * alert's grace time ends (unless another step comes within a minute of it).
 */
function timeline(month: InboxMonth): Step[] {
  const steps: Step[] = [
    ...month.fleetActions.map((action) => ({ at: action.at, order: 0 as const, action })),
    ...month.events.map((event) => ({ at: event.at, order: 1 as const, event })),
  ];
  const ats = steps.map((s) => s.at).sort((a, b) => a - b);
  const stepWithin = (from: number, to: number) => {
    let lo = 0;
    let hi = ats.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ats[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < ats.length && ats[lo]! <= to;
  };
  const ticks = new Set<number>();
  const firingBefore = new Map<string, Set<string>>();
  const grace = DEFAULT_INBOX_TIMINGS.graceMinutes * MINUTE;
  for (const e of month.events) {
    const before = firingBefore.get(e.groupKey) ?? new Set<string>();
    const firing = new Set(e.alerts.filter((a) => a.status === 'firing').map((a) => a.fingerprint));
    const at = Math.ceil((e.at + grace) / 1000) * 1000 + 1000;
    if ([...firing].some((fp) => !before.has(fp)) && !stepWithin(at, at + MINUTE)) ticks.add(at);
    firingBefore.set(e.groupKey, firing);
  }
  for (const at of ticks) if (at < month.durationMs) steps.push({ at, order: 2 });
  return steps.sort((a, b) => a.at - b.at || a.order - b.order);
}

/** The API, the worker, the fleet and the notification receiver, on one database and Temporal. */
async function startWorld(options: InboxMonthOptions, epoch: Date) {
  const { shape } = options;
  let virtual = epoch.getTime();
  const now = () => new Date(virtual);
  const logger = createLogger('silent', 'inbox-month');
  const keysFile = join(options.dir, 'inbox-month-keys.json');
  writeNewKeysFile(keysFile);
  const keys = loadKeys(keysFile);
  const db = createPool(options.databaseUrl, 20, logger);
  const zones = Array.from({ length: shape.zones }, (_, z) => `zone-${String.fromCharCode(97 + z)}`);
  await seedSimulatedFleet(db, { zones, hostsPerZone: hostsPerZone(shape), serversPerHost: shape.serversPerHost });
  const provider = new SimulatedFleet(db, { migrationSeconds: 0.2, powerOnSeconds: 1, powerCallSeconds: 0 });
  await syncInventory(db, provider);

  const connection = await Connection.connect({ address: options.temporalAddress });
  const client = new Client({ connection, dataConverter: shipshapeDataConverter(keys) });
  const taskQueue = `inbox-month-${epoch.getTime()}`;
  const policies = loadPolicies(POLICY_DIR, { provider: provider.name });
  const { app, dispatcher, inbox } = createApp({
    db,
    client,
    connection,
    taskQueue,
    workflowIdPrefix: `inbox-month-${epoch.getTime()}/`,
    policies: () => policies,
    hostLabel: 'host',
    logger,
    guards: () => BENCH_GUARDS,
    keys,
    codecCorsOrigins: [],
    // Every tick derives every open item: a remediation's phase change is seen when it happens, not 5 s of virtual time later.
    inbox: { now, tickMs: 0, evaluateEveryMs: 0 },
  });
  const stopRedispatch = startRedispatcher(db, dispatcher, logger, 1000);
  const api = await listen(app);
  const alertmanager = await createToken(db, 'alertmanager', 'operator');
  const oncall = await createToken(db, 'oncall', 'admin');

  const workerConnection = await NativeConnection.connect({ address: options.temporalAddress });
  const worker = await createRemediationWorker({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    activities: createActivities({
      provider,
      db,
      bmc: createBmcConnector({ db, credentials: BmcCredentials.empty(), simulatedPower: provider }),
      notifier: { notify: async () => undefined },
      guards: () => BENCH_GUARDS,
    }),
    workflowBundlePath: options.workflowBundlePath,
    keys,
  });
  const workerDone = worker.run();

  // The notifications' receiver: a webhook on loopback that counts what it is sent.
  let received = 0;
  const hook = await listen((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') received++;
      res.writeHead(204).end();
    });
  });
  const notificationsFile = join(options.dir, 'inbox-month-notifications.yaml');
  writeFileSync(
    notificationsFile,
    [
      'receivers:',
      '  - name: oncall-hook',
      '    type: webhook',
      `    url: ${hook.url}/notify`,
      'routes:',
      '  - match: { state: [needs-person] }',
      '    receiver: oncall-hook',
      'delivery: { attempts: 2, backoffSeconds: 0 }',
      '',
    ].join('\n'),
  );
  const settings = loadNotifications(notificationsFile);
  const notifier = startInboxNotifier({
    db,
    logger,
    settings,
    send: createNotificationSender(settings),
    now,
    tickMs: 0,
  });

  const post = async (path: string, token: string, body: unknown) => {
    const res = await fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<unknown>;
  };
  const waitUntil = async (done: () => Promise<boolean>, boundMs: number, nextAt: number | null) => {
    const t0 = performance.now();
    let last = t0;
    for (;;) {
      if (await done()) {
        // What settled last is seen at the time it settled.
        if (nextAt !== null && last > t0) await tick();
        return true;
      }
      if (performance.now() - t0 > boundMs) return false;
      await sleep(100);
      const t = performance.now();
      // While it waits, virtual time runs at real speed, up to the next step.
      if (nextAt !== null) virtual = Math.min(virtual + (t - last), epoch.getTime() + nextAt - 1);
      last = t;
      if (nextAt !== null) await tick();
    }
  };
  // The notifier acts on items' state changes (no reminders are configured): it is ticked when the inbox wrote history.
  let historySeen = '0';
  const tick = async () => {
    await inbox.tick();
    const newest = await lastInboxHistoryLine(db);
    if (newest === historySeen) return;
    historySeen = newest;
    await notifier.tick();
  };

  return {
    db,
    setClock(at: number) {
      virtual = Math.max(virtual, epoch.getTime() + at);
    },
    tick,
    /** Send one notification as Alertmanager would; true when it may have started remediations. */
    async send(event: MonthEvent): Promise<boolean> {
      const firing = event.alerts.filter((a) => a.status === 'firing');
      const [, alertname, rack] = /alertname="([^"]*)", rack="([^"]*)"/.exec(event.groupKey) ?? [];
      await post('/v1/integrations/alertmanager', alertmanager, {
        version: '4',
        groupKey: event.groupKey,
        status: firing.length > 0 ? 'firing' : 'resolved',
        receiver: 'shipshape',
        groupLabels: { alertname: alertname ?? '', rack: rack ?? '' },
        commonLabels: {},
        commonAnnotations: {},
        externalURL: 'http://alertmanager.bench:9093',
        alerts: event.alerts,
      });
      const mayStart = firing.some((a) => policies.some((p) => p.match.signals.includes(a.labels.alertname ?? '')));
      // A group's deliveries to Temporal may go on after the answer: take the signals in once they are decided.
      if (mayStart) await waitUntil(async () => (await undecidedSignals(db)) === 0, DECIDE_BOUND_MS, null);
      return mayStart;
    },
    /** Change the simulated fleet; true when a remediation may be at work after it. */
    async applyFleetAction(action: FleetAction): Promise<boolean> {
      if (action.kind === 'fault') {
        await injectFault(db, action.host, { unhealthy: action.reason, repairIneffective: action.repairIneffective });
        return false;
      }
      // A person repairs the host by hand, then hands its remediation back (if it is waiting for them).
      await repairByHand(db, action.host);
      const open = await openRemediationPhase(db, action.host);
      if (open?.phase !== 'awaiting-operator') return false;
      await post(`/v1/remediations/${open.id}/hand-back`, oncall, { comment: 'replaced the part (inbox benchmark)' });
      // The workflow records its next phase a moment after the update returns: until then it looks as if it still waited.
      await waitUntil(
        async () => (await openRemediationPhase(db, action.host))?.phase !== 'awaiting-operator',
        DECIDE_BOUND_MS,
        null,
      );
      return true;
    },
    /** Wait (bounded) until no remediation is at work; false when the bound was hit. */
    settle(nextAt: number): Promise<boolean> {
      return waitUntil(async () => (await remediationsAtWork(db)) === 0, SETTLE_BOUND_MS, nextAt);
    },
    async notificationsSent(): Promise<{ count: number; how: string }> {
      const recorded = await deliveryCounts(db);
      return {
        count: received,
        how: `received by the loopback webhook; the notifier recorded ${recorded.sent} sent (${Object.entries(
          recorded.sentByKind,
        )
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}), ${recorded.failed} given up on`,
      };
    },
    remediationsStarted: () => remediationsStarted(db),
    async close() {
      await notifier.stop();
      await inbox.stop();
      worker.shutdown();
      await workerDone.catch(() => undefined);
      await workerConnection.close();
      await stopRedispatch();
      await dispatcher.stop();
      await api.close();
      await hook.close();
      await connection.close();
      await db.end();
    },
  };
}

function listen(handler: RequestListener) {
  return new Promise<{ url: string; close(): Promise<void> }>((ok) => {
    const server: Server = createServer(handler).listen(0, '127.0.0.1', () =>
      ok({
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    );
  });
}

/** `nproc`, memory and CPU model, as the report names the machine. */
export function machine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${availableParallelism()} cores (nproc), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${model}`;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const shape = quick ? QUICK_MONTH : FULL_MONTH;
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-inbox-month-'));
  chmodSync(dir, 0o755);
  const { pg, temporal } = await startServices(
    { dataDir: join(dir, 'pg'), fast: process.env.BENCH_NO_FSYNC === '1' },
    { headless: true, logFile: join(dir, 'temporal.log') },
  );
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  try {
    await pg.createDatabase('shipshape');
    migrate(pg.ownerUrl('shipshape'));
    const result = await runInboxMonth({
      shape,
      databaseUrl: pg.appUrl('shipshape'),
      temporalAddress: temporal.address,
      dir,
      log: (line) => console.log(line),
    });
    const date = new Date().toISOString().slice(0, 10);
    const report = renderReport(result.figures, {
      ...result.run,
      title: `Inbox month (${date}, ${quick ? 'quick: ' : ''}${result.run.hosts} hosts, ${result.run.days} days)`,
      machine: machine(),
    });
    console.log(`\n${report}\n`);
    if (!quick) appendFileSync(join(BENCH_DIR, 'RESULTS.md'), `\n${report}\n`);
  } finally {
    await temporal.stop();
    await pg.stop();
  }
}

if (require.main === module)
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
