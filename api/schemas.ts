/**
 * Request and response schemas. The same zod schemas validate requests and
 * generate the OpenAPI document (api/openapi.ts).
 */
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ACTIVE_PHASES, FINAL_PHASES, REPAIR_ACTIONS } from '../domain/remediation';
import { HEALTH_STATES, POOL_STATES, SEVERITIES, SIGNAL_OUTCOMES, SIGNAL_STATUSES } from '../domain/types';

extendZodWithOpenApi(z);

const label = z.record(z.string(), z.string());

export const signalRequest = z
  .strictObject({
    source: z.string().min(1).max(200).openapi({ example: 'prometheus' }),
    name: z.string().min(1).max(200).openapi({ example: 'HostDown' }),
    resource: z.strictObject({
      kind: z.enum(['host']),
      id: z.string().min(1).max(255).openapi({ example: 'cmp-a-01' }),
    }),
    severity: z.enum(SEVERITIES),
    status: z.enum(SIGNAL_STATUSES),
    labels: label.default({}),
    annotations: label.default({}),
    startsAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }),
    fingerprint: z.string().min(1).max(200).optional(),
  })
  .openapi('Signal');
export type SignalRequest = z.infer<typeof signalRequest>;

export const signalResult = z
  .object({
    signalId: z.uuid(),
    outcome: z.enum(SIGNAL_OUTCOMES),
    remediationId: z.string().nullable(),
    reason: z.string(),
  })
  .openapi('SignalResult');
export type SignalResult = z.infer<typeof signalResult>;

/** Alertmanager's webhook payload, version 4. Not strict: newer Alertmanagers may add fields. */
export const alertmanagerWebhook = z
  .object({
    version: z.literal('4', { message: 'must be "4" (Alertmanager webhook payload version)' }),
    groupKey: z.string(),
    truncatedAlerts: z.number().int().min(0).optional(),
    status: z.enum(SIGNAL_STATUSES),
    receiver: z.string(),
    groupLabels: label,
    commonLabels: label,
    commonAnnotations: label,
    externalURL: z.string(),
    alerts: z.array(
      z.object({
        status: z.enum(SIGNAL_STATUSES),
        labels: label,
        annotations: label,
        startsAt: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time' }),
        endsAt: z.string().optional(),
        generatorURL: z.string().optional(),
        fingerprint: z.string().optional(),
      }),
    ),
  })
  .openapi('AlertmanagerWebhook');
export type AlertmanagerWebhook = z.infer<typeof alertmanagerWebhook>;

export const handBackRequest = z
  .strictObject({
    comment: z.string().max(2000).optional().openapi({ example: 'nova-compute was hung; restarted it' }),
    fixedBy: z.enum(REPAIR_ACTIONS).optional().describe('The catalog action that fixed the host (drafts a policy from it)'),
  })
  .openapi('HandBack');

export const operatorActionRequest = z
  .strictObject({ comment: z.string().max(2000).optional().openapi({ example: 'replaced the PSU; host is fine' }) })
  .openapi('OperatorAction');

const phase = z.enum([...ACTIVE_PHASES, ...FINAL_PHASES]);

export const remediationView = z
  .object({
    remediationId: z.string(),
    host: z.string(),
    zone: z.string(),
    policy: z.object({ name: z.string(), version: z.string() }),
    phase,
    poolState: z.enum(POOL_STATES),
    requestedBy: z.string(),
    steps: z.array(
      z.object({
        name: z.string(),
        status: z.enum(['running', 'succeeded', 'failed', 'skipped']),
        startedAt: z.string(),
        endedAt: z.string().nullable(),
        detail: z.string().nullable(),
      }),
    ),
    pendingApproval: z.object({ requestedAt: z.string(), deadline: z.string() }).nullable(),
    waitingFor: z.array(z.object({ guard: z.string(), reason: z.string() })).nullable(),
    handOff: z.object({ reason: z.string(), since: z.string() }).nullable(),
    resolution: z.object({ by: z.string(), note: z.string(), fixedBy: z.enum(REPAIR_ACTIONS).nullable() }).nullable().optional(),
    outcome: z.object({ phase: z.enum(FINAL_PHASES), reason: z.string(), at: z.string() }).nullable(),
    signals: z.object({ received: z.number(), lastName: z.string().nullable() }),
  })
  .openapi('Remediation');

export const remediationListQuery = z.strictObject({
  host: z.string().min(1).optional(),
  state: z.enum(['open', 'closed', ...ACTIVE_PHASES, ...FINAL_PHASES]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const hostView = z
  .object({
    id: z.string(),
    zone: z.string(),
    roles: z.array(z.string()),
    poolState: z.enum(POOL_STATES),
    health: z.enum(HEALTH_STATES),
    healthReasons: z.array(z.string()),
    healthCheckedAt: z.string().nullable(),
    openRemediationId: z.string().nullable(),
  })
  .openapi('Host');

export const hostListQuery = z.strictObject({
  zone: z.string().min(1).optional(),
  poolState: z.enum(POOL_STATES).optional(),
});

export const auditQuery = z.strictObject({
  host: z.string().min(1).optional(),
  remediationId: z.string().min(1).optional(),
  since: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const auditEntry = z
  .object({
    seq: z.number(),
    at: z.string(),
    actorKind: z.enum(['person', 'policy', 'system']),
    actor: z.string(),
    policyVersion: z.string().nullable(),
    host: z.string().nullable(),
    remediationId: z.string().nullable(),
    action: z.string(),
    reason: z.string(),
    before: z.unknown(),
    after: z.unknown(),
  })
  .openapi('AuditEntry');

export const errorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) }) })
  .openapi('Error');
