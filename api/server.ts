/**
 * Start and stop the API server with everything it needs (exported for the
 * demo and tests; api/main.ts is the process entry point).
 *
 * The API knows the fleet through the inventory in PostgreSQL, never through a
 * provider: the worker brings the inventory in line with the provider (and
 * seeds the simulated fleet when asked) at its start, and every sweep.
 */
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import { complianceDir, type Config } from '../config';
import { loadKeys } from '../config/keys';
import { createLogger, type Logger } from '../config/logger';
import { createPool, type Db } from '../db/pool';
import { watchGuardsFile } from '../policies/guards-schema';
import { PolicyStore } from './policy-store';
import { startConfiguredInboxNotifier } from '../workers/inbox-notifications';
import { connectClient, createClient } from '../workers/temporal';
import { createToken, DEV_TOKEN_SUBJECT } from './auth';
import { createApp } from './app';
import { startRedispatcher } from './redispatch';
import { startWaiverExpiryReview } from './compliance-expiry';
import { inboxSettings } from './inbox-settings';

export interface RunningApi {
  url: string;
  db: Db;
  /** The API's Temporal client (the demo creates the sweep schedule with it). */
  client: Client;
  logger: Logger;
  stop(): Promise<void>;
}

export async function startApi(config: Config, options: { port?: number; logger?: Logger } = {}): Promise<RunningApi> {
  const logger = options.logger ?? createLogger(config.LOG_LEVEL, 'shipshape-api');
  const keys = loadKeys(config.SHIPSHAPE_KEYS_FILE);
  const db = createPool(config.DATABASE_URL, 20, logger);
  const policyStore = new PolicyStore(db, config.SHIPSHAPE_POLICY_DIR, logger, { provider: config.SHIPSHAPE_PROVIDER });
  await policyStore.load();
  policyStore.watch();
  if (config.SHIPSHAPE_DEV_TOKEN) await issueDevToken(db, config.SHIPSHAPE_DEV_TOKEN, logger);
  const connection = await connectClient(config);
  const client = createClient(connection, config, keys);
  const { app, dispatcher, inbox } = createApp({
    db,
    client,
    connection,
    logger,
    demo: config.SHIPSHAPE_DEMO,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowIdPrefix: config.SHIPSHAPE_WORKFLOW_ID_PREFIX,
    policies: () => policyStore.list(),
    policyStore,
    hostLabel: config.SHIPSHAPE_ALERTMANAGER_HOST_LABEL,
    guards: watchGuardsFile(config, logger),
    keys,
    codecCorsOrigins: config.SHIPSHAPE_CODEC_CORS_ORIGIN,
    inbox: inboxSettings(config),
    complianceDir: complianceDir(config),
  });
  inbox.start();
  // A bad notifications file stops the start here, naming the file and the field.
  const notifier = startConfiguredInboxNotifier(config, { db, logger });
  const stopRedispatch = startRedispatcher(db, dispatcher, logger);
  // An expired or revoked compliance waiver stops covering its findings within a minute, not at the next scan.
  const stopWaiverReview = startWaiverExpiryReview({ db, logger, everyMs: 60_000 });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(options.port ?? config.SHIPSHAPE_API_PORT, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.SHIPSHAPE_API_PORT;
  logger.info({ port, policies: policyStore.list().map((p) => `${p.name}@${p.policy.version}`) }, 'API listening');
  return {
    url: `http://localhost:${port}`,
    db,
    client,
    logger,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      policyStore.stop();
      await stopRedispatch();
      await stopWaiverReview();
      await inbox.stop();
      await notifier.stop();
      await dispatcher.stop();
      await connection.close();
      await db.end();
    },
  };
}

/**
 * The demo's admin token (config allows it only with SHIPSHAPE_DEMO). Issued
 * once; when someone revoked it, it stays revoked and the API says so.
 */
async function issueDevToken(db: Db, token: string, logger: Logger): Promise<void> {
  try {
    await createToken(db, DEV_TOKEN_SUBJECT, 'admin', { token, by: { kind: 'system', name: 'shipshape-demo' } });
  } catch (err) {
    logger.warn({ reason: (err as Error).message }, 'SHIPSHAPE_DEV_TOKEN is not issued');
  }
}
