/**
 * Request and response schemas. The same zod schemas validate requests and
 * generate the OpenAPI document (api/openapi.ts).
 */
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  FINDING_STATES,
  MAX_WAIVER_DAYS,
  RESULT_STATES,
  RULE_SEVERITIES,
  WAIVER_STATES,
} from '../domain/compliance-findings';
import { RULE_KINDS, DISRUPTIONS } from '../domain/compliance';
import { SCAN_STATUSES } from '../domain/compliance-scans';
import { INBOX_STATES } from '../domain/inbox';
import { ACTIVE_PHASES, FINAL_PHASES, REPAIR_ACTIONS } from '../domain/remediation';
import { METRICS } from '../domain/telemetry';
import { storableText, unstorableText } from '../domain/text';
import { HEALTH_STATES, POOL_STATES, ROLES, SEVERITIES, SIGNAL_OUTCOMES, SIGNAL_STATUSES } from '../domain/types';

extendZodWithOpenApi(z);

/**
 * What one signal may carry. Alertmanager and Prometheus set no limit of their
 * own, so these bound what a caller can make Shipshape store, index and match
 * (label matchers run over every value): a label is a short identifier, an
 * annotation a sentence or a paragraph.
 */
export const SIGNAL_LIMITS = {
  labelNameChars: 256,
  labelValueChars: 4096,
  labelsPerSignal: 128,
  annotationValueChars: 16_384,
  annotationsPerSignal: 64,
  /**
   * Alerts in one Alertmanager notification. A rack or a PDU is a few hundred hosts,
   * so ten thousand is a whole data centre; set the webhook's `max_alerts` at or below it.
   */
  alertsPerWebhook: 10_000,
} as const;

/** A map of short names to text, with at most `entries` entries and values of at most `valueChars`. */
function textMap(kind: 'label' | 'annotation', entries: number, valueChars: number) {
  return z
    .record(
      storableText().max(
        SIGNAL_LIMITS.labelNameChars,
        `${kind} names are at most ${SIGNAL_LIMITS.labelNameChars} characters`,
      ),
      storableText().max(valueChars, `${kind} values are at most ${valueChars} characters`),
    )
    .superRefine((map, ctx) => {
      const n = Object.keys(map).length;
      if (n > entries) ctx.addIssue({ code: 'custom', message: `${n} ${kind}s; at most ${entries} are accepted` });
    });
}
const label = textMap('label', SIGNAL_LIMITS.labelsPerSignal, SIGNAL_LIMITS.labelValueChars);
const annotation = textMap('annotation', SIGNAL_LIMITS.annotationsPerSignal, SIGNAL_LIMITS.annotationValueChars);
/** Summaries of the alerts (group labels, common labels): never kept, so never refused for their text. */
const groupSummary = z.record(z.string(), z.string());

export const signalRequest = z
  .strictObject({
    source: storableText().min(1).max(200).openapi({ example: 'prometheus' }),
    name: storableText().min(1).max(200).openapi({ example: 'HostDown' }),
    resource: z.strictObject({
      kind: z.enum(['host']),
      id: storableText().min(1).max(255).openapi({ example: 'cmp-a-01' }),
    }),
    severity: z.enum(SEVERITIES),
    status: z.enum(SIGNAL_STATUSES),
    labels: label.default({}),
    annotations: annotation.default({}),
    startsAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }),
    fingerprint: storableText().min(1).max(200).optional(),
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
    receiver: storableText(),
    groupLabels: groupSummary,
    commonLabels: groupSummary,
    commonAnnotations: groupSummary,
    externalURL: z.string(),
    alerts: z
      .array(
        z.object({
          status: z.enum(SIGNAL_STATUSES),
          labels: label,
          annotations: annotation,
          startsAt: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time' }),
          endsAt: z.string().optional(),
          generatorURL: z.string().optional(),
          fingerprint: storableText().max(200).optional(),
        }),
      )
      .max(
        SIGNAL_LIMITS.alertsPerWebhook,
        `at most ${SIGNAL_LIMITS.alertsPerWebhook} alerts per notification; set the webhook's max_alerts at or below it`,
      ),
  })
  .openapi('AlertmanagerWebhook');
export type AlertmanagerWebhook = z.infer<typeof alertmanagerWebhook>;

export const handBackRequest = z
  .strictObject({
    comment: storableText().max(2000).optional().openapi({ example: 'nova-compute was hung; restarted it' }),
    fixedBy: z
      .enum(REPAIR_ACTIONS)
      .optional()
      .describe('The catalog action that fixed the host (drafts a policy from it)'),
  })
  .openapi('HandBack');

export const operatorActionRequest = z
  .strictObject({ comment: storableText().max(2000).optional().openapi({ example: 'replaced the PSU; host is fine' }) })
  .openapi('OperatorAction');

/** A person gives back a capacity lease in place of its workflow: why is required, for the audit log. */
export const leaseReleaseRequest = z
  .strictObject({
    reason: storableText()
      .trim()
      .min(1, 'is required: say why the lease is given back')
      .max(2000)
      .openapi({ example: 'run terminated by hand during the outage; zone blocked' }),
  })
  .openapi('LeaseRelease');

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
    resolution: z
      .object({ by: z.string(), note: z.string(), fixedBy: z.enum(REPAIR_ACTIONS).nullable() })
      .nullable()
      .optional(),
    outcome: z.object({ phase: z.enum(FINAL_PHASES), reason: z.string(), at: z.string() }).nullable(),
    signals: z.object({ received: z.number(), lastName: z.string().nullable() }),
  })
  .openapi('Remediation');

export const remediationListQuery = z.strictObject({
  host: storableText().min(1).optional(),
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
    power: z.enum(['on', 'off', 'unknown']),
    bmcReachable: z.boolean().nullable().describe('null when the host has no BMC configured'),
    lastSeenAt: z.string().nullable().describe('When the BMC or the provider last answered for this host'),
    openRemediationId: z.string().nullable(),
  })
  .openapi('Host');

const used = z.object({ used: z.number(), total: z.number() });
export const utilisationView = z
  .object({
    vcpus: used,
    ramMiB: used,
    diskGiB: used,
    agents: z.array(z.object({ binary: z.string(), role: z.enum(ROLES), up: z.boolean(), enabled: z.boolean() })),
  })
  .openapi('HostUtilisation');

export const sshHostKeyView = z
  .object({
    fingerprint: z.string(),
    keyType: z.string(),
    source: z.enum(['first-contact', 'inventory', 'person']),
    firstSeen: z.string(),
  })
  .openapi('SshHostKey');

const healthOrNull = z.enum(HEALTH_STATES).nullable();
export const hostDetail = hostView
  .extend({
    bmc: z.object({
      address: z.string().nullable().describe('Without any user information'),
      credentialsRef: z.string().nullable().describe('The name of the credentials entry; never the secret'),
      firmware: z.string().nullable(),
      readAt: z.string().nullable(),
      error: z.string().nullable(),
      gaps: z.array(z.string()).describe('What this BMC does not report'),
    }),
    system: z
      .object({
        health: healthOrNull,
        biosVersion: z.string().nullable(),
        processors: z.object({ count: z.number().nullable(), model: z.string().nullable(), health: healthOrNull }),
        memory: z.object({
          totalGiB: z.number().nullable(),
          health: healthOrNull,
          correctableErrors: z.number().nullable(),
        }),
      })
      .nullable(),
    temperatures: z.array(
      z.object({
        name: z.string(),
        celsius: z.number().nullable(),
        context: z.string().nullable(),
        upperWarning: z.number().nullable(),
        upperCritical: z.number().nullable(),
        health: healthOrNull,
      }),
    ),
    fans: z.array(
      z.object({
        name: z.string(),
        reading: z.number().nullable(),
        units: z.enum(['RPM', 'Percent']).nullable(),
        health: healthOrNull,
      }),
    ),
    powerSupplies: z.array(
      z.object({
        name: z.string(),
        health: healthOrNull,
        state: z.string().nullable(),
        capacityWatts: z.number().nullable(),
        outputWatts: z.number().nullable(),
      }),
    ),
    powerConsumedWatts: z.number().nullable(),
    psuRedundancy: z.enum(['ok', 'lost', 'unknown']),
    events: z.array(
      z.object({ id: z.string(), created: z.string().nullable(), severity: healthOrNull, message: z.string() }),
    ),
    compute: z.object({ enabled: z.boolean(), up: z.boolean(), disabledReason: z.string().nullable() }).nullable(),
    serverCount: z.number().nullable(),
    utilisation: utilisationView.nullable(),
    conditions: z
      .record(z.string(), z.object({ severity: z.enum(SEVERITIES), reason: z.string() }))
      .describe('Thresholds crossed at the last reading; each raised a signal'),
    providerError: z.string().nullable(),
    openRemediations: z.array(
      z.object({ id: z.string(), phase: z.string(), policy: z.string(), startedAt: z.string() }),
    ),
    labels: z
      .record(z.string(), z.string())
      .describe("From the inventory file's labels: map; compliance scopes match on them"),
    sshHostKey: sshHostKeyView
      .nullable()
      .describe('The SSH host key the host must show; null: none pinned (the next scan pins what it shows)'),
  })
  .openapi('HostDetail');

/** A fingerprint as `ssh-keygen -lf` prints it (providers/ssh/host-key.ts FINGERPRINT). */
const SSH_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
] as const;

/**
 * A person replaces a host's pinned SSH key (the host was rebuilt), or forgets it so the next contact pins
 * again; why is required, for the audit log.
 */
export const sshHostKeyRequest = z
  .strictObject({
    fingerprint: z
      .string()
      .regex(SSH_FINGERPRINT, 'must be a SHA256 fingerprint as `ssh-keygen -lf` prints it (SHA256:<43 characters>)')
      .optional()
      .openapi({ example: 'SHA256:eE07kupsqRvVydvn8JPCAYO/0QXVfV6rpxjHlJS3BMU' }),
    keyType: z.enum(SSH_KEY_TYPES).optional(),
    forget: z.literal(true).optional().describe('true: drop the pin; the next scan pins the key the host shows'),
    reason: z
      .string({ error: (i) => (i.input === undefined ? 'is required: say why the key changes' : 'must be text') })
      .trim()
      .min(1, 'is required: say why the key changes')
      .max(2000)
      .superRefine((v, ctx) => {
        const problem = unstorableText(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .openapi({ example: 'cmp-a-07 reinstalled (CHG-1234); new key read on its console' }),
  })
  .superRefine((b, ctx) => {
    if (b.forget) {
      for (const field of ['fingerprint', 'keyType'] as const)
        if (b[field] !== undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: 'give either forget or a key, not both' });
      return;
    }
    if (b.fingerprint === undefined)
      ctx.addIssue({ code: 'custom', path: ['fingerprint'], message: 'is required (or forget: true)' });
    if (b.keyType === undefined)
      ctx.addIssue({ code: 'custom', path: ['keyType'], message: 'is required with fingerprint' });
  })
  .openapi('SshHostKeyChange');

export const sshHostKeyChanged = z
  .object({
    host: z.string(),
    before: sshHostKeyView.nullable(),
    after: sshHostKeyView.nullable().describe('null: forgotten; the next scan pins what the host shows'),
    warning: z
      .string()
      .nullable()
      .describe(
        'Set when the inventory file stated the old key: it pins it again at the next worker start unless edited',
      ),
  })
  .openapi('SshHostKeyChanged');

export const hostListQuery = z.strictObject({
  zone: storableText().min(1).optional(),
  role: z.enum(ROLES).optional(),
  health: z.enum(HEALTH_STATES).optional(),
  poolState: z.enum(POOL_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500).describe('Hosts per page, by host ID'),
  after: storableText().min(1).optional().describe('The `next` of the previous page: hosts after this ID'),
});

export const hostList = z
  .object({
    hosts: z.array(hostView),
    next: z.string().nullable().describe('Pass as `after` for the next page; null on the last page'),
  })
  .openapi('HostList');

/** `since`/`until`: an ISO 8601 time, or a duration back from now such as 15m, 6h, 7d. */
const MAX_AGO_DAYS = 3650;
export const timeOrAgo = z.string().transform((v, ctx) => {
  const ago = /^(\d+)(s|m|h|d)$/.exec(v);
  if (ago) {
    const seconds = Number(ago[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[ago[2] as 's' | 'm' | 'h' | 'd'];
    if (!(seconds <= MAX_AGO_DAYS * 86400)) {
      ctx.addIssue({ code: 'custom', message: `a duration of at most ${MAX_AGO_DAYS}d (ten years)` });
      return z.NEVER;
    }
    return new Date(Date.now() - seconds * 1000);
  }
  const t = new Date(v);
  if (Number.isNaN(t.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time or a duration such as 15m, 6h, 7d' });
    return z.NEVER;
  }
  return t;
});

export const telemetryQuery = z.strictObject({
  metric: z.enum(METRICS).optional(),
  since: timeOrAgo.optional(),
  until: timeOrAgo.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

export const telemetryView = z
  .object({
    host: z.string(),
    since: z.string(),
    until: z.string(),
    series: z.record(z.enum(METRICS), z.array(z.object({ at: z.string(), value: z.number() }))),
    truncated: z.boolean().describe('More samples than `limit`: the newest were kept'),
  })
  .openapi('Telemetry');

const healthCounts = z.record(z.enum(HEALTH_STATES), z.number());
const utilisationTotals = z.object({ vcpus: used, ramMiB: used, diskGiB: used, agentsDown: z.number() });
export const fleetSummary = z
  .object({
    hosts: z.number(),
    byHealth: healthCounts,
    byPoolState: z.record(z.enum(POOL_STATES), z.number()),
    byRole: z.record(z.enum(ROLES), z.number()),
    byZone: z.record(
      z.string(),
      z.object({ hosts: z.number(), byHealth: healthCounts, outOfService: z.number(), utilisation: utilisationTotals }),
    ),
    utilisation: utilisationTotals,
    bmcUnreachable: z.number(),
    lastSweep: z
      .object({
        id: z.string(),
        startedAt: z.string(),
        finishedAt: z.string().nullable(),
        hosts: z.number(),
        readOk: z.number(),
        readFailed: z.number(),
        signals: z.number(),
      })
      .nullable(),
  })
  .openapi('FleetSummary');

export const auditQuery = z.strictObject({
  host: storableText().min(1).optional(),
  remediationId: storableText().min(1).optional(),
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

/** Text a person must give (a resolution's note, a silence's comment): says what is missing when it is left out. */
function requiredText(what: string, max = 2000) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? `is required: ${what}` : 'must be text') })
    .trim()
    .min(1, `is required: ${what}`)
    .max(max, `is at most ${max} characters`)
    .superRefine((value, ctx) => {
      const problem = unstorableText(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/** One value, several repeated (`?state=a&state=b`) or comma-separated (`?state=a,b`), as a list. */
function listOf<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (v) =>
      v === undefined
        ? undefined
        : (Array.isArray(v) ? v : [v])
            .flatMap((s) => String(s).split(','))
            .map((s) => s.trim())
            .filter(Boolean),
    z.array(item).min(1),
  );
}

const comment = storableText()
  .max(2000)
  .optional()
  .openapi({ example: 'looking at it; the PDU is on the rack diagram' });

export const inboxListQuery = z.strictObject({
  state: listOf(z.enum([...INBOX_STATES, 'all']))
    .optional()
    .describe('One or several states (repeated or comma-separated), or `all`; default `needs-person`'),
  severity: listOf(z.enum(SEVERITIES)).optional(),
  host: storableText().min(1).optional(),
  zone: storableText().min(1).optional(),
  source: storableText().min(1).optional(),
  name: storableText().min(1).optional().describe('Alert name of the item’s first alert'),
  assignee: storableText().min(1).optional(),
  q: storableText().min(1).max(200).optional().describe('A substring of the title, any case'),
  since: timeOrAgo.optional().describe('Seen at or after: an ISO 8601 time or a duration back from now (15m, 6h, 7d)'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  after: storableText().min(1).max(500).optional().describe('The `next` of the previous page'),
});

const iso = z.string().describe('ISO 8601 time');
export const inboxItemView = z
  .object({
    id: z.uuid(),
    kind: z.enum(['resource', 'topology']),
    title: z.string(),
    state: z.enum(INBOX_STATES),
    stateReason: z.string().describe('Why it is in this state, in the operator’s words'),
    stateSince: iso,
    resolvedHow: z.enum(['source', 'verified', 'person']).nullable(),
    source: z.string(),
    name: z.string(),
    host: z.string().nullable(),
    zone: z.string().nullable(),
    role: z.string().nullable(),
    severity: z.enum(SEVERITIES),
    topology: z.object({ label: z.string(), value: z.string() }).nullable(),
    firstSeen: iso,
    lastSeen: iso,
    lastChange: iso,
    firing: z.boolean(),
    resolvedAt: iso.nullable(),
    alertsReceived: z.number().int(),
    policy: z.string().nullable(),
    remediationId: z.string().nullable(),
    remediationPhase: z.string().nullable(),
    flapping: z.object({ since: iso, percent: z.number().nullable() }).nullable(),
    silenceId: z.string().nullable(),
    acknowledged: z.object({ by: z.string(), at: iso }).nullable(),
    assignee: z.object({ to: z.string(), by: z.string().nullable(), at: iso.nullable() }).nullable(),
    snooze: z
      .object({ by: z.string().nullable(), at: iso.nullable(), until: iso.nullable(), untilChange: z.boolean() })
      .nullable(),
    resolution: z.object({ by: z.string(), at: iso.nullable(), note: z.string().nullable() }).nullable(),
    reopened: z.object({ by: z.string(), at: iso.nullable() }).nullable(),
    closedAt: iso.nullable(),
    mergedInto: z.string().nullable().describe('The item this one was folded into; it is no longer listed'),
  })
  .openapi('InboxItem');

export const inboxList = z
  .object({
    items: z.array(inboxItemView),
    next: z.string().nullable().describe('Pass as `after` for the next page; null on the last page'),
    counts: z
      .record(z.enum(INBOX_STATES), z.number().int())
      .describe('Items per state over the same filters, state aside ("automation is handling 37")'),
  })
  .openapi('InboxList');

export const inboxItemPage = z
  .object({
    item: inboxItemView,
    mergedInto: z.string().nullable().describe('Set when the item was folded into another: read that one'),
    alerts: z.array(
      z.object({
        fingerprint: z.string(),
        name: z.string(),
        resource: z.string(),
        host: z.string().nullable(),
        source: z.string(),
        severity: z.string(),
        labels: z.record(z.string(), z.string()),
        topology: z.record(z.string(), z.string()),
        status: z.enum(['firing', 'resolved']),
        firstSeen: iso,
        lastSeen: iso,
        lastChange: iso,
        resolvedAt: iso.nullable(),
        received: z.number().int(),
        flapping: z.boolean(),
        flappingSince: iso.nullable(),
        flapPercent: z.number().nullable(),
      }),
    ),
    signals: z
      .array(
        z.object({
          id: z.string(),
          receivedAt: iso,
          source: z.string(),
          name: z.string(),
          host: z.string().nullable(),
          severity: z.string(),
          status: z.string(),
          fingerprint: z.string(),
          outcome: z.enum(SIGNAL_OUTCOMES).nullable(),
          outcomeReason: z.string().nullable(),
          remediationId: z.string().nullable(),
          policy: z.string().nullable(),
        }),
      )
      .describe('The latest 100 signals, newest first'),
    host: z
      .object({
        id: z.string(),
        zone: z.string(),
        roles: z.array(z.string()),
        poolState: z.string(),
        health: z.string(),
        healthReasons: z.array(z.string()),
      })
      .nullable(),
    remediation: z
      .object({
        id: z.string(),
        host: z.string(),
        phase: z.string(),
        policy: z.string(),
        startedAt: iso,
        closedAt: iso.nullable(),
        handOff: z.object({ reason: z.string(), since: z.string() }).nullable(),
        pendingApproval: z.object({ requestedAt: z.string(), deadline: z.string() }).nullable(),
        waitingFor: z.array(z.object({ guard: z.string(), reason: z.string() })).nullable(),
      })
      .nullable(),
    history: z.array(
      z.object({
        seq: z.number().int(),
        at: iso,
        actor: z.string(),
        fromState: z.string().nullable(),
        toState: z.string().nullable(),
        entry: z.string(),
      }),
    ),
    deliveries: z
      .array(
        z.object({
          receiver: z.string(),
          kind: z.string(),
          state: z.string(),
          status: z.enum(['pending', 'sent', 'failed']),
          attempts: z.number().int(),
          lastError: z.string().nullable(),
          createdAt: iso,
          finishedAt: iso.nullable(),
        }),
      )
      .describe('Notifications about the item, one per receiver and state change; a broken receiver shows here'),
  })
  .openapi('InboxItemPage');

export const acknowledgeRequest = z.strictObject({ comment }).openapi('InboxAcknowledge');
export const assignRequest = z
  .strictObject({
    to: storableText()
      .trim()
      .min(1, 'must name a person; send null to unassign')
      .max(200)
      .nullable()
      .describe('Who owns the item from now; null unassigns it')
      .openapi({ example: 'alice' }),
    comment,
  })
  .openapi('InboxAssign');
export const snoozeRequest = z
  .strictObject({
    until: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 time such as 2026-12-08T09:00:00Z' })
      .optional()
      .describe('In the future, at most 30 days ahead'),
    untilChange: z.boolean().optional().describe('Until an alert of the item arrives or changes state'),
    comment,
  })
  .openapi('InboxSnooze');
export const resolveRequest = z
  .strictObject({
    note: requiredText('say how it was resolved').openapi({ example: 'PDU breaker reset by DC ops' }),
  })
  .openapi('InboxResolve');
export const reopenRequest = z.strictObject({ comment }).openapi('InboxReopen');

export const noiseQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(90).default(7).describe('Items first seen in the last N days'),
});

const noiseRow = z.object({
  source: z.string(),
  name: z.string(),
  items: z.number().int(),
  open: z.number().int(),
  closedByAutomation: z.number().int(),
  closedByPerson: z.number().int(),
  closedBySource: z.number().int(),
  automationShare: z.number().nullable(),
  flapping: z.number().int(),
});
export const noiseReportView = z
  .object({
    days: z.number().int(),
    since: iso,
    rules: z.array(noiseRow).describe('Every rule (source and alert name), most items first'),
    flappers: z.array(noiseRow),
    totals: noiseRow.omit({ source: true, name: true }),
  })
  .openapi('InboxNoiseReport');

export const silenceListQuery = z.strictObject({
  active: z
    .enum(['true', 'all'])
    .default('true')
    .describe('`true`: silences not yet over (default); `all`: ended ones too'),
});

/** `2h`, `30m`, `1d`: how long a silence lasts. */
const DURATION = /^(\d+)(m|h|d)$/;
export function durationMs(text: string): number | null {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'] : null;
}

export const silenceRequest = z
  .strictObject({
    matchers: z
      .array(storableText().max(2000))
      .max(50)
      .describe('Label matchers that must all hold: alertname="PowerLost", rack=~"r7|r8"')
      .openapi({ example: ['alertname="PowerLost"', 'rack="r7"'] }),
    startsAt: z.string().optional().describe('ISO 8601; default now'),
    endsAt: z.string().optional().describe('ISO 8601; or give `duration`'),
    duration: z
      .string()
      .regex(DURATION, 'must be a duration such as 30m, 2h or 1d')
      .optional()
      .describe('From startsAt; or give `endsAt`'),
    comment: requiredText('say why the alerts are silenced'),
    endOnResolve: z.boolean().optional().describe('End the silence once an alert it silenced resolves'),
  })
  .openapi('SilenceRequest');

export const silenceView = z
  .object({
    id: z.string(),
    matchers: z.array(z.string()),
    startsAt: iso,
    endsAt: iso,
    createdBy: z.string(),
    comment: z.string(),
    endOnResolve: z.boolean(),
    endedAt: iso.nullable(),
    endedBy: z.string().nullable(),
    active: z.boolean().describe('Applies now: started and not over'),
    silencing: z.number().int().describe('Open items it keeps quiet now'),
  })
  .openapi('Silence');

// ---------------------------------------------------------------- compliance findings and waivers

const findingState = z.enum(FINDING_STATES);
const ruleSeverity = z.enum(RULE_SEVERITIES);
const complianceName = storableText().min(1).max(200);

export const complianceFindingsQuery = z.strictObject({
  host: complianceName.optional(),
  profile: complianceName.optional(),
  rule: complianceName.optional().describe('One rule id'),
  state: listOf(findingState).optional().describe('One or several states (repeated or comma-separated)'),
  severity: listOf(ruleSeverity).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500).describe('Findings per page, by host, profile, rule'),
  after: storableText().min(1).max(2000).optional().describe('The `next` of the previous page'),
  format: z
    .enum(['json', 'csv'])
    .default('json')
    .describe('`csv`: text/csv with a header row; the next page is in the `Shipshape-Next` header'),
});

export const findingView = z
  .object({
    host: z.string(),
    profile: z.string(),
    ruleId: z.string(),
    state: findingState,
    resultState: z.enum(RESULT_STATES).describe('The last scan’s own result, under `waived` or `fix-pending`'),
    severity: ruleSeverity,
    expected: z.string(),
    observed: z.string(),
    reason: z.string(),
    firstSeen: iso,
    lastSeen: iso,
    lastChanged: iso.describe('When the state last changed'),
    waiverId: z.string().nullable(),
    fixRemediationId: z.string().nullable(),
  })
  .openapi('ComplianceFinding');

export const findingList = z
  .object({
    findings: z.array(findingView),
    next: z.string().nullable().describe('Pass as `after` for the next page; null on the last page'),
  })
  .openapi('ComplianceFindingList');

export const profileScore = z
  .object({
    profile: z.string(),
    hosts: z.number().int(),
    counts: z.record(findingState, z.number().int()),
    passed: z.number().int(),
    applicable: z
      .number()
      .int()
      .describe('Findings that count: pass, fail, error and fix-pending (not-applicable and waived do not)'),
    waived: z.number().int().describe('Counted separately: a waived rule is neither passed nor failed'),
    score: z.number().nullable().describe('passed / applicable, 0 to 1; null when nothing applies'),
  })
  .openapi('ComplianceProfileScore');

export const complianceScore = z.object({ profiles: z.array(profileScore) }).openapi('ComplianceScore');

export const hostComplianceView = z
  .object({ host: z.string(), profiles: z.array(profileScore), findings: z.array(findingView) })
  .openapi('HostCompliance');

export const findingHistoryQuery = z.strictObject({
  profile: complianceName.optional(),
  rule: complianceName.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

export const findingHistoryView = z
  .object({
    entries: z.array(
      z.object({
        seq: z.number().int(),
        profile: z.string(),
        ruleId: z.string(),
        at: iso,
        from: findingState.nullable(),
        to: findingState,
        resultState: z.enum(RESULT_STATES),
        severity: ruleSeverity,
        observed: z.string(),
        waiverId: z.string().nullable(),
        reason: z.string(),
      }),
    ),
  })
  .openapi('ComplianceFindingHistory');

export const waiverRequestBody = z
  .strictObject({
    host: complianceName.describe('A host id, or `*` for every host').openapi({ example: 'cmp-a-01' }),
    profile: complianceName.openapi({ example: 'os-baseline' }),
    rule: complianceName
      .describe('A rule id, a prefix ending in `*`, or `*` for every rule of the profile')
      .openapi({ example: 'os.ssh-root-login-off' }),
    reason: requiredText('say why the rule is waived'),
    riskAcceptance: requiredText('say what risk is accepted and how it is limited'),
    expiresAt: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 time such as 2027-03-01T00:00:00Z' })
      .describe(`In the future, at most ${MAX_WAIVER_DAYS} days ahead`),
  })
  .openapi('ComplianceWaiverRequest');

export const waiverApproveBody = z
  .strictObject({ comment: storableText().max(2000).optional() })
  .openapi('ComplianceWaiverApprove');
export const waiverRejectBody = z
  .strictObject({ comment: requiredText('say why the waiver is refused') })
  .openapi('ComplianceWaiverReject');
export const waiverRevokeBody = z
  .strictObject({ comment: requiredText('say why the risk is no longer accepted') })
  .openapi('ComplianceWaiverRevoke');

export const waiverView = z
  .object({
    id: z.string(),
    host: z.string(),
    profile: z.string(),
    rule: z.string(),
    reason: z.string(),
    riskAcceptance: z.string(),
    state: z.enum(WAIVER_STATES),
    requestedBy: z.string(),
    requestedAt: iso,
    expiresAt: iso,
    expired: z.boolean().describe('The expiry has passed: it covers nothing, whatever its state'),
    approvedBy: z.string().nullable(),
    approvedAt: iso.nullable(),
    rejectedBy: z.string().nullable(),
    rejectedAt: iso.nullable(),
    revokedBy: z.string().nullable(),
    revokedAt: iso.nullable(),
    decisionComment: z.string().nullable(),
    waiving: z.number().int().describe('Findings it makes `waived` now'),
  })
  .openapi('ComplianceWaiver');

export const waiverListQuery = z.strictObject({
  state: listOf(z.enum(WAIVER_STATES)).optional(),
  host: complianceName.optional(),
  profile: complianceName.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

// ---------------------------------------------------------------- compliance scans

export const complianceScanBody = z
  .strictObject({
    hosts: z
      .array(complianceName)
      .min(1)
      .max(10_000)
      .optional()
      .describe('Host ids; every host of the inventory when absent'),
    profiles: z.array(complianceName).min(1).max(100).optional().describe('Profile names; every profile when absent'),
  })
  .openapi('ComplianceScanRequest');

export const complianceScanStarted = z
  .object({ scanId: z.string().describe('The scan; its workflow is `compliance-scan/<scanId>`') })
  .openapi('ComplianceScanStarted');

const resultCounts = z.object({
  pass: z.number().int(),
  fail: z.number().int(),
  error: z.number().int(),
  'not-applicable': z.number().int(),
});
const hostProblem = z.object({ host: z.string(), error: z.string() });

export const complianceScanView = z
  .object({
    scanId: z.string(),
    workflowId: z.string(),
    status: z.enum(SCAN_STATUSES).describe('As Temporal has it'),
    requestedBy: z
      .string()
      .nullable()
      .describe('The person who started it, or `schedule:<profile>`; null for a scan only Temporal knows'),
    profiles: z.array(z.string()).nullable().describe('The profiles asked for; null: every profile'),
    hosts: z.array(z.string()).nullable().describe('The hosts asked for; null: every host of the inventory'),
    startedAt: iso,
    closedAt: iso.nullable(),
    summary: z
      .object({
        hosts: z.number().int(),
        scanned: z.number().int(),
        unknown: z.array(z.string()).describe('Hosts the inventory does not know: nothing recorded'),
        unreachable: z.array(hostProblem).describe('Hosts not read over SSH (their SSH rules are `error`), up to 50'),
        failed: z.array(hostProblem).describe('Hosts whose scan failed and recorded nothing, up to 50'),
        results: resultCounts.describe('Rule results per state over the hosts scanned'),
      })
      .nullable()
      .describe('When completed'),
    error: z.string().nullable().describe('Why the scan failed, when it did'),
  })
  .openapi('ComplianceScan');

export const complianceScanListQuery = z.strictObject({
  status: listOf(z.enum(SCAN_STATUSES)).optional().describe('One or several statuses (repeated or comma-separated)'),
  profile: complianceName.optional().describe('Scans that covered this profile (named it, or every profile)'),
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Scans per page, newest first'),
  after: storableText().min(1).max(500).optional().describe('The `next` of the previous page'),
});

export const complianceScanList = z
  .object({
    scans: z.array(complianceScanView),
    next: z.string().nullable().describe('Pass as `after` for the next page; null on the last page'),
  })
  .openapi('ComplianceScanList');

// ---------------------------------------------------------------- compliance profiles

const profileScheduleView = z
  .union([z.object({ cron: z.string().describe('UTC') }), z.object({ everyMinutes: z.number().int() })])
  .nullable()
  .describe('When the profile is scanned by its Temporal Schedule; null: on demand only');

const complianceScopeView = z
  .object({
    roles: z.array(z.string()).optional(),
    zones: z.array(z.string()).optional(),
    labels: z.array(z.string()).optional().describe('Matchers such as `rack=~"r1.*"`'),
  })
  .describe('Which hosts it applies to; every field given must hold, an empty scope is every host');

const profileFields = {
  name: z.string(),
  version: z.string().describe('The author’s version, as written in the file'),
  digest: z.string().describe('sha256 of the file’s text (12 hex): findings name the text they were judged by'),
  file: z.string(),
  description: z.string(),
  scope: complianceScopeView,
  schedule: profileScheduleView,
  nextRunAt: iso
    .nullable()
    .describe('The next scheduled scan as Temporal has it; null when not scheduled or its schedule is not created yet'),
  ruleCounts: z.object({
    total: z.number().int(),
    byKind: z.record(z.enum(RULE_KINDS), z.number().int()),
    bySeverity: z.record(ruleSeverity, z.number().int()),
  }),
};

export const complianceProfileSummary = z.object(profileFields).openapi('ComplianceProfileSummary');

export const complianceProfileList = z
  .object({ profiles: z.array(complianceProfileSummary) })
  .openapi('ComplianceProfileList');

export const complianceRuleView = z
  .object({
    id: z.string(),
    title: z.string(),
    severity: ruleSeverity,
    kind: z.enum(RULE_KINDS),
    check: z.string().describe('The type of check (setting, package, firmware, compute-service...)'),
    rationale: z.string(),
    scope: complianceScopeView.nullable().describe('The rule’s own scope, beside the profile’s'),
    fix: z
      .object({
        how: z.enum(['ssh', 'action']).describe('An SSH command on the host, or a catalog action of the host workflow'),
        action: z.string().nullable().describe('The catalog action, when `how` is `action`'),
        disruption: z.enum(DISRUPTIONS),
        drain: z.boolean().describe('The host’s servers are moved away first'),
      })
      .nullable(),
  })
  .openapi('ComplianceRule');

export const complianceProfileView = z
  .object({ ...profileFields, rules: z.array(complianceRuleView) })
  .openapi('ComplianceProfile');
