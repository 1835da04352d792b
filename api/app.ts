/** The Express app, assembled from routers that take their dependencies (so tests drive it with real ones). */
import type { Client, Connection } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Pool } from 'pg';
import type { ShipshapeKeys } from '../config/keys';
import type { Logger } from '../config/logger';
import type { LoadedPolicy } from '../policies/loader';
import { authenticate } from './auth';
import { SignalDispatcher } from './dispatch';
import { InboxEngine, type InboxSettings } from './inbox-engine';
import { errorHandler, notFoundRoute } from './errors';
import { buildOpenApiDocument } from './openapi';
import type { GuardConfig } from '../domain/guards';
import { createAuditRouter } from './routes/audit';
import { createComplianceRouter } from './routes/compliance';
import { createCodecRouter } from './routes/codec';
import { createGuardsRouter } from './routes/guards';
import { createReclaimOwnerRouter, createReclaimRouter } from './routes/reclaim';
import { createPoliciesRouter } from './routes/policies';
import type { PolicyStore } from './policy-store';
import { createHealthRouter } from './routes/health';
import { createHostsRouter } from './routes/hosts';
import { createInboxRouter } from './routes/inbox';
import { createRemediationsRouter } from './routes/remediations';
import { ALERTMANAGER_WEBHOOK_PATH, createSignalsRouter } from './routes/signals';
import { refuseUnstorablePath } from './validate';

export interface AppDeps {
  db: Pool;
  client: Client;
  connection: Connection;
  taskQueue: string;
  workflowIdPrefix: string;
  policies: () => readonly LoadedPolicy[];
  hostLabel: string;
  logger: Logger;
  guards: () => GuardConfig;
  /** This process runs the demo: the demo's token (subject `dev`) is accepted only then. */
  demo?: boolean;
  /** The policy files and their lifecycle API; without one, `policies` is fixed (tests). */
  policyStore?: PolicyStore;
  /** The keys file: the API signs people's decisions with it, and its codec endpoint decrypts payloads with it. */
  keys: ShipshapeKeys;
  /** The Temporal Web UI's origins, allowed to call the codec endpoint. */
  codecCorsOrigins: readonly string[];
  /** The inbox's settings (grouping, timings, flap detection, its clock); defaults otherwise. */
  inbox?: Partial<InboxSettings>;
  /** The compliance profiles' folder (the worker's, by the same settings); none: profiles are not served or checked. */
  complianceDir?: string;
}

/**
 * The app, its signal dispatcher and its inbox engine. The caller starts the
 * engine's timer (`inbox.start()`) and stops both.
 */
export function createApp(deps: AppDeps): { app: Express; dispatcher: SignalDispatcher; inbox: InboxEngine } {
  const inbox = new InboxEngine({ db: deps.db, logger: deps.logger, guards: deps.guards, settings: deps.inbox });
  const dispatcher = new SignalDispatcher({
    db: deps.db,
    client: deps.client,
    taskQueue: deps.taskQueue,
    workflowIdPrefix: deps.workflowIdPrefix,
    policies: deps.policies,
    logger: deps.logger,
    decisionKeys: deps.keys.decisionKeys,
  });
  const openapi = buildOpenApiDocument();
  const app = express();
  app.disable('x-powered-by');
  // Alertmanager's webhook reads its own, larger body once the caller is authenticated.
  const json = express.json({ limit: '1mb' });
  app.use((req, res, next) => (req.path === ALERTMANAGER_WEBHOOK_PATH ? next() : json(req, res, next)));
  app.use(refuseUnstorablePath);
  app.use(createHealthRouter({ db: deps.db, temporal: deps.connection, logger: deps.logger }));
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  // Before the /v1 authentication: the UI's CORS preflight carries no token (the codec's POSTs authenticate themselves).
  app.use(createCodecRouter({ db: deps.db, keys: deps.keys, corsOrigins: deps.codecCorsOrigins }));
  const reclaimDeps = {
    db: deps.db,
    client: deps.client,
    taskQueue: deps.taskQueue,
    workflowIdPrefix: deps.workflowIdPrefix,
  };
  // Before the /v1 authentication: an owner opens the link in a reclaim notice without an API token (its token is the credential).
  app.use(createReclaimOwnerRouter(reclaimDeps));
  app.use('/v1', authenticate(deps.db, { demo: deps.demo }));
  app.use(createSignalsRouter({ db: deps.db, dispatcher, hostLabel: deps.hostLabel, logger: deps.logger }));
  app.use(createRemediationsRouter({ db: deps.db, client: deps.client, decisionKeys: deps.keys.decisionKeys }));
  app.use(
    createHostsRouter({
      db: deps.db,
      client: deps.client,
      taskQueue: deps.taskQueue,
      workflowIdPrefix: deps.workflowIdPrefix,
    }),
  );
  app.use(createAuditRouter({ db: deps.db }));
  app.use(createGuardsRouter({ db: deps.db, guards: deps.guards }));
  app.use(createInboxRouter({ db: deps.db, inbox, now: () => inbox.settings.now() }));
  app.use(
    createComplianceRouter({
      db: deps.db,
      client: deps.client,
      taskQueue: deps.taskQueue,
      workflowIdPrefix: deps.workflowIdPrefix,
      profilesDir: deps.complianceDir,
      logger: deps.logger,
    }),
  );
  app.use(createReclaimRouter(reclaimDeps));
  if (deps.policyStore) app.use(createPoliciesRouter({ db: deps.db, store: deps.policyStore, guards: deps.guards }));
  app.use(notFoundRoute);
  app.use(errorHandler(deps.logger));
  return { app, dispatcher, inbox };
}
