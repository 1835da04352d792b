/** The OpenAPI document, generated from the same zod schemas that validate requests. */
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  complianceFindingsQuery,
  complianceProfileList,
  complianceProfileView,
  complianceScanBody,
  complianceScanList,
  complianceScanListQuery,
  complianceScanStarted,
  complianceScanView,
  complianceScore,
  findingHistoryQuery,
  findingHistoryView,
  findingList,
  hostComplianceView,
  waiverApproveBody,
  waiverListQuery,
  waiverRejectBody,
  waiverRequestBody,
  waiverRevokeBody,
  waiverView,
  acknowledgeRequest,
  alertmanagerWebhook,
  assignRequest,
  inboxItemPage,
  inboxItemView,
  inboxList,
  inboxListQuery,
  noiseQuery,
  noiseReportView,
  reopenRequest,
  resolveRequest,
  silenceListQuery,
  silenceRequest,
  silenceView,
  snoozeRequest,
  auditEntry,
  auditQuery,
  errorBody,
  fleetSummary,
  hostDetail,
  sshHostKeyChanged,
  sshHostKeyRequest,
  hostList,
  hostListQuery,
  leaseReleaseRequest,
  operatorActionRequest,
  remediationListQuery,
  remediationView,
  signalRequest,
  signalResult,
  telemetryQuery,
  telemetryView,
} from './schemas';
import {
  reclaimCaseListQuery,
  reclaimExemptionRequest,
  reclaimExtendRequest,
  reclaimFindingListQuery,
  reclaimOwnerExtendRequest,
  reclaimScanRequest,
} from './reclaim-schemas';

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  400: json(errorBody, 'Malformed request; `error.details.fields` names each bad field'),
  401: json(errorBody, 'Missing or invalid bearer token'),
  403: json(errorBody, "The token's role may not do this"),
};

export function buildOpenApiDocument(): unknown {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  const add = (route: RouteConfig) => registry.registerPath({ security: [{ bearer: [] }], ...route });
  const id = z.object({ id: z.string() });

  add({
    method: 'post',
    path: '/v1/signals',
    summary: 'Receive a generic signal (role: operator)',
    request: { body: { content: { 'application/json': { schema: signalRequest } } } },
    responses: {
      202: json(signalResult, 'Recorded durably; what it did'),
      ...errors,
      422: json(errorBody, 'Unknown host'),
    },
  });
  add({
    method: 'post',
    path: '/v1/integrations/alertmanager',
    summary: 'Alertmanager webhook receiver, payload version 4 (role: operator)',
    request: { body: { content: { 'application/json': { schema: alertmanagerWebhook } } } },
    responses: {
      200: json(
        z.object({
          groupKey: z.string(),
          truncatedAlerts: z
            .number()
            .describe(
              'Alerts Alertmanager left out of this notification (its max_alerts); they never reached Shipshape',
            ),
          results: z.array(signalResult.extend({ alertname: z.string(), host: z.string().nullable() })),
        }),
        'Every alert recorded before the answer, one result per alert in order; `queued` with reason "recorded; delivered to Temporal after this answer" for those still being delivered',
      ),
      ...errors,
      413: json(errorBody, 'Larger than 64 MiB'),
    },
  });
  add({
    method: 'get',
    path: '/v1/remediations',
    summary: 'List remediations (role: viewer)',
    request: { query: remediationListQuery },
    responses: { 200: json(z.object({ remediations: z.array(remediationView) }), 'Newest first'), ...errors },
  });
  add({
    method: 'get',
    path: '/v1/remediations/{id}',
    summary: 'One remediation: phase, steps with times, pending approval, outcome',
    request: { params: id },
    responses: { 200: json(remediationView, 'The remediation'), ...errors, 404: json(errorBody, 'Unknown') },
  });
  for (const action of ['approve', 'reject', 'hand-back', 'cancel'] as const) {
    add({
      method: 'post',
      path: `/v1/remediations/{id}/${action}`,
      summary: `${action} (role: ${action === 'approve' || action === 'reject' ? 'approver' : 'operator'}); a Temporal Update with a validator`,
      request: {
        params: id,
        body: { content: { 'application/json': { schema: operatorActionRequest } }, required: false },
      },
      responses: {
        200: json(remediationView, 'Accepted by the workflow'),
        ...errors,
        403: json(errorBody, 'The role may not (or the policy names other approver roles, or the caller requested it)'),
        404: json(errorBody, 'Unknown remediation'),
        409: json(errorBody, 'Not in a phase that accepts this; the message says why'),
      },
    });
  }
  add({
    method: 'get',
    path: '/v1/hosts',
    summary: 'Every host, a page at a time: pool state, health, power, BMC reachability (role: viewer)',
    request: { query: hostListQuery },
    responses: { 200: json(hostList, 'Hosts'), ...errors },
  });
  add({
    method: 'get',
    path: '/v1/hosts/{id}',
    summary:
      'One host: power, temperatures, fans, power supplies, CPU and memory health, BMC firmware, utilisation, open remediations (role: viewer)',
    request: { params: id },
    responses: { 200: json(hostDetail, 'The host as last read'), ...errors, 404: json(errorBody, 'Unknown host') },
  });
  add({
    method: 'get',
    path: '/v1/hosts/{id}/telemetry',
    summary: "The host's time series, oldest first (role: viewer); default: the last 24 h of every metric",
    request: { params: id, query: telemetryQuery },
    responses: { 200: json(telemetryView, 'Samples by metric'), ...errors, 404: json(errorBody, 'Unknown host') },
  });
  add({
    method: 'post',
    path: '/v1/hosts/{id}/ssh-host-key',
    summary:
      "Replace the host's pinned SSH key (a rebuilt host shows a new one) or forget it so the next scan pins what it shows; with why, audited (role: admin)",
    request: {
      params: id,
      body: { content: { 'application/json': { schema: sshHostKeyRequest } }, required: true },
    },
    responses: {
      200: json(sshHostKeyChanged, 'The pin before and after'),
      ...errors,
      404: json(errorBody, 'Unknown host'),
    },
  });
  add({
    method: 'post',
    path: '/v1/hosts/{id}/refresh',
    summary: "Read the host's BMC and provider state now, through the worker (role: operator)",
    request: { params: id },
    responses: {
      200: json(hostDetail, 'The host as just read'),
      ...errors,
      404: json(errorBody, 'Unknown host'),
      503: json(errorBody, 'The read could not run (Temporal or the worker away)'),
    },
  });
  add({
    method: 'get',
    path: '/v1/fleet/summary',
    summary: 'Counts by health, pool state, zone and role; utilisation per zone; the last sweep (role: viewer)',
    responses: { 200: json(fleetSummary, 'The fleet'), ...errors },
  });
  add({
    method: 'get',
    path: '/v1/audit-log',
    summary: 'Audit log, oldest first',
    request: { query: auditQuery },
    responses: { 200: json(z.object({ entries: z.array(auditEntry) }), 'Entries'), ...errors },
  });
  add({
    method: 'get',
    path: '/v1/audit-log/verify',
    summary: "Walk the audit log's hash chain; name the first row an edit or delete broke (role: viewer)",
    responses: {
      200: json(
        z.object({
          ok: z.boolean(),
          checked: z.number().int(),
          head: z.object({ seq: z.number().int(), hash: z.string() }).nullable(),
          firstBreak: z
            .object({
              seq: z.number().int(),
              problem: z.enum(['content', 'link']),
              message: z.string(),
              expected: z.string(),
              found: z.string(),
            })
            .nullable(),
        }),
        '`ok: false` and `firstBreak` when the chain is broken',
      ),
      ...errors,
    },
  });
  add({
    method: 'get',
    path: '/v1/guards',
    summary:
      "Fleet-wide guards: configuration, pause, tripped breakers, leases held, each zone's budget (role: viewer)",
    responses: {
      200: json(
        z.object({
          config: z.record(z.string(), z.unknown()),
          paused: z.unknown(),
          breakers: z.array(z.unknown()),
          leases: z.array(z.unknown()),
          zones: z.array(
            z.object({
              zone: z.string(),
              hosts: z.number(),
              inService: z.number(),
              out: z.number(),
              leases: z.number(),
              mayTakeOutNow: z.number().describe('How many more hosts of the zone may be taken out now'),
              boundBy: z.array(z.string()).describe('The guards that set mayTakeOutNow'),
              why: z.string(),
            }),
          ),
        }),
        'Guards',
      ),
      ...errors,
    },
  });
  for (const [path, summary] of [
    ['/v1/guards/pause', 'Pause automation fleet-wide: new remediations wait at the capacity gate (role: admin)'],
    ['/v1/guards/resume', 'Resume automation (role: admin)'],
    ['/v1/guards/breakers/{zone}/reset', 'Reset a tripped circuit breaker (role: admin)'],
  ] as const) {
    add({
      method: 'post',
      path,
      summary,
      request: {
        ...(path.includes('{zone}') ? { params: z.object({ zone: z.string() }) } : {}),
        body: { content: { 'application/json': { schema: operatorActionRequest } }, required: false },
      },
      responses: {
        200: { description: 'Done; written to the audit log' },
        ...errors,
        409: json(errorBody, 'Already in that state'),
      },
    });
  }
  const codecPayloads = z.object({
    payloads: z.array(
      z.object({
        metadata: z.record(z.string(), z.string()).describe('base64 values'),
        data: z.string().describe('base64'),
      }),
    ),
  });
  for (const op of ['decode', 'encode'] as const) {
    add({
      method: 'post',
      path: `/v1/codec/${op}`,
      summary: `Temporal remote codec: ${op} payloads with the keys file (role: viewer; Bearer token or the /v1/codec/login cookie; CORS for the Web UI's origins)`,
      request: { body: { content: { 'application/json': { schema: codecPayloads } }, required: true } },
      responses: {
        200: json(codecPayloads, `The payloads, ${op}d`),
        ...errors,
        422: json(errorBody, 'A payload cannot be decrypted: the message names its key id'),
      },
    });
  }
  registry.registerPath({
    method: 'get',
    path: '/v1/codec/login',
    summary: 'A form to sign in with a token, so the Web UI can decode payloads in this browser',
    responses: { 200: { description: 'HTML form' } },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/codec/login',
    summary: 'Sign in (form field `token`, viewer or higher): sets an HttpOnly cookie scoped to /v1/codec for 8 hours',
    responses: { 200: { description: 'Signed in' }, 401: json(errorBody, 'Token not valid') },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/codec/logout',
    summary: 'Sign out: clears the cookie',
    responses: { 204: { description: 'Signed out' } },
  });
  add({
    method: 'post',
    path: '/v1/guards/leases/{host}/release',
    summary:
      "Give back the capacity lease a host's remediation holds, in place of its workflow (role: admin); audited with the caller and reason",
    request: {
      params: z.object({ host: z.string() }),
      body: { content: { 'application/json': { schema: leaseReleaseRequest } }, required: true },
    },
    responses: {
      200: { description: 'Released; written to the audit log' },
      ...errors,
      404: json(errorBody, 'The host holds no lease'),
    },
  });
  addInboxRoutes(add);
  addComplianceRoutes(add);
  addReclaimRoutes(add, registry);
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    responses: { 200: { description: 'Alive' } },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: PostgreSQL and Temporal reachable',
    responses: { 200: { description: 'Ready' }, 503: { description: 'A dependency is unreachable' } },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Shipshape API', version: '0.1.0', description: 'Day-2 fleet management for OpenStack clouds' },
  });
}

/** The alert inbox and silences. */
function addInboxRoutes(add: (route: RouteConfig) => void): void {
  const id = z.object({ id: z.string() });
  const unprocessable = json(errorBody, 'The request makes no sense; `error.details.fields` names each field and why');
  add({
    method: 'get',
    path: '/v1/inbox',
    summary:
      'Inbox items, by default those that need a person: by state, most severe, newest first; with counts per state (role: viewer)',
    request: { query: inboxListQuery },
    responses: { 200: json(inboxList, 'A page of items and the counts per state'), ...errors },
  });
  add({
    method: 'get',
    path: '/v1/inbox/noise',
    summary: 'The noise report: per rule, the items it made, the share automation closed, the flappers (role: viewer)',
    request: { query: noiseQuery },
    responses: { 200: json(noiseReportView, 'Items first seen in the window'), ...errors },
  });
  add({
    method: 'get',
    path: '/v1/inbox/{id}',
    summary:
      "One item's page: its alerts, signals, host, remediation, history and notifications (role: viewer); a merged item names the item it was folded into",
    request: { params: id },
    responses: { 200: json(inboxItemPage, 'The item'), ...errors, 404: json(errorBody, 'No such item') },
  });
  for (const [action, schema, what] of [
    ['acknowledge', acknowledgeRequest, 'take it: a need newer than the acknowledgement re-opens it'],
    ['assign', assignRequest, 'give it an owner (`to: null` unassigns)'],
    [
      'snooze',
      snoozeRequest,
      'hide it until a time (at most 30 days ahead), until it changes, or whichever comes first',
    ],
    ['resolve', resolveRequest, 'close it with a note (required)'],
    ['reopen', reopenRequest, 'open a resolved item again'],
  ] as const) {
    add({
      method: 'post',
      path: `/v1/inbox/{id}/${action}`,
      summary: `${action}: ${what} (role: operator); audited, recorded in the item's history`,
      request: { params: id, body: { content: { 'application/json': { schema } }, required: action === 'resolve' } },
      responses: {
        200: json(inboxItemView, 'The item, its state re-derived'),
        ...errors,
        404: json(errorBody, 'No such item'),
        409: json(
          errorBody,
          'Makes no sense for the item now (acknowledge a resolved item, reopen an open one, act on a merged one)',
        ),
        422: unprocessable,
      },
    });
  }
  add({
    method: 'get',
    path: '/v1/silences',
    summary: 'Silences, newest first: those not over yet, or `active=all` for every one (role: viewer)',
    request: { query: silenceListQuery },
    responses: { 200: json(z.object({ silences: z.array(silenceView) }), 'Silences'), ...errors },
  });
  add({
    method: 'post',
    path: '/v1/silences',
    summary:
      'Silence alerts by label matchers, from startsAt (default now) until endsAt or for duration; the caller is its creator (role: operator); audited',
    request: { body: { content: { 'application/json': { schema: silenceRequest } }, required: true } },
    responses: { 201: json(silenceView, 'Created'), ...errors, 422: unprocessable },
  });
  add({
    method: 'post',
    path: '/v1/silences/{id}/expire',
    summary: 'End a silence now (role: operator); audited',
    request: {
      params: id,
      body: { content: { 'application/json': { schema: reopenRequest } }, required: false },
    },
    responses: {
      200: json(silenceView, 'Ended'),
      ...errors,
      404: json(errorBody, 'No such silence'),
      409: json(errorBody, 'Already ended'),
    },
  });
}

/** Compliance findings and waivers. */
function addComplianceRoutes(add: (route: RouteConfig) => void): void {
  const id = z.object({ id: z.string() });
  const host = z.object({ host: z.string() });
  const unprocessable = json(errorBody, 'The request makes no sense; `error.details.fields` names each field and why');
  add({
    method: 'get',
    path: '/v1/compliance/findings',
    summary:
      'Findings by host, profile and rule, filtered by host, profile, rule, state and severity; `format=csv` exports them as CSV with a header row (role: viewer)',
    request: { query: complianceFindingsQuery },
    responses: {
      200: {
        description: 'A page of findings (JSON), or the same page as CSV (`Shipshape-Next` header: the next page)',
        content: { 'application/json': { schema: findingList }, 'text/csv': { schema: z.string() } },
      },
      ...errors,
    },
  });
  add({
    method: 'get',
    path: '/v1/compliance/hosts/{host}',
    summary: "A host's compliance: per profile its score, and every finding (role: viewer)",
    request: { params: host },
    responses: { 200: json(hostComplianceView, 'The host'), ...errors, 404: json(errorBody, 'No such host') },
  });
  add({
    method: 'get',
    path: '/v1/compliance/hosts/{host}/history',
    summary: "A host's finding history, oldest first: one line per change of a finding's state (role: viewer)",
    request: { params: host, query: findingHistoryQuery },
    responses: { 200: json(findingHistoryView, 'The history'), ...errors, 404: json(errorBody, 'No such host') },
  });
  add({
    method: 'post',
    path: '/v1/compliance/scans',
    summary:
      'Start a compliance scan of some hosts (all when none named) against some profiles (all when none named), 16 hosts at a time; a host that cannot be read gets `error` findings (role: operator); audited',
    request: { body: { content: { 'application/json': { schema: complianceScanBody } }, required: false } },
    responses: {
      202: json(complianceScanStarted, 'Started'),
      ...errors,
      400: json(
        errorBody,
        'Malformed request, or the profiles folder does not load (`profiles_do_not_load`: the message names the file, line and column; `error.details.issues` lists each)',
      ),
      422: unprocessable,
      503: json(errorBody, 'Temporal did not take the scan'),
    },
  });
  add({
    method: 'get',
    path: '/v1/compliance/scans',
    summary:
      'Recent scans, newest first, on demand and scheduled (requested by `schedule:<profile>`), filtered by status and profile; paged with `next` (role: viewer)',
    request: { query: complianceScanListQuery },
    responses: { 200: json(complianceScanList, 'A page of scans'), ...errors },
  });
  add({
    method: 'get',
    path: '/v1/compliance/scans/{id}',
    summary: "A scan's status, who asked for it, and its summary once completed (role: viewer)",
    request: { params: id },
    responses: { 200: json(complianceScanView, 'The scan'), ...errors, 404: json(errorBody, 'No such scan') },
  });
  const profilesUnavailable = json(
    errorBody,
    'The API cannot read the profiles folder (`profiles_unavailable`), or it does not load (`profiles_do_not_load`, naming the file and line)',
  );
  add({
    method: 'get',
    path: '/v1/compliance/profiles',
    summary:
      'The compliance profiles of the folder: version, digest, scope, schedule and its next run, rules counted by kind and severity (role: viewer)',
    responses: { 200: json(complianceProfileList, 'Every profile'), ...errors, 503: profilesUnavailable },
  });
  add({
    method: 'get',
    path: '/v1/compliance/profiles/{name}',
    summary:
      "One profile with its rules: id, title, severity, kind, check type, rationale, and a fix's disruption and drain (role: viewer)",
    request: { params: z.object({ name: z.string() }) },
    responses: {
      200: json(complianceProfileView, 'The profile'),
      ...errors,
      404: json(errorBody, 'No such profile'),
      503: profilesUnavailable,
    },
  });
  add({
    method: 'get',
    path: '/v1/compliance/score',
    summary: 'The fleet score per profile: passed / applicable, waived counted separately (role: viewer)',
    responses: { 200: json(complianceScore, 'One row per profile'), ...errors },
  });
  add({
    method: 'get',
    path: '/v1/compliance/waivers',
    summary: 'Waivers, newest request first, with the findings each makes `waived` now (role: viewer)',
    request: { query: waiverListQuery },
    responses: { 200: json(z.object({ waivers: z.array(waiverView) }), 'Waivers'), ...errors },
  });
  add({
    method: 'get',
    path: '/v1/compliance/waivers/{id}',
    summary: 'One waiver (role: viewer)',
    request: { params: id },
    responses: { 200: json(waiverView, 'The waiver'), ...errors, 404: json(errorBody, 'No such waiver') },
  });
  add({
    method: 'post',
    path: '/v1/compliance/waivers',
    summary:
      'Request a waiver: scope (host or `*`, profile, rule id, prefix* or `*`), reason, risk acceptance, expiry at most 365 days ahead; the caller is its requester (role: operator); audited',
    request: { body: { content: { 'application/json': { schema: waiverRequestBody } }, required: true } },
    responses: { 201: json(waiverView, 'Requested'), ...errors, 422: unprocessable },
  });
  for (const [action, schema, what] of [
    [
      'approve',
      waiverApproveBody,
      'approve a requested waiver; its requester may not (403): its findings turn `waived`',
    ],
    ['reject', waiverRejectBody, 'refuse a requested waiver, saying why'],
    ['revoke', waiverRevokeBody, 'end a waiver, saying why: its findings return to their result'],
  ] as const) {
    add({
      method: 'post',
      path: `/v1/compliance/waivers/{id}/${action}`,
      summary: `${action}: ${what} (role: approver); audited`,
      request: { params: id, body: { content: { 'application/json': { schema } }, required: action !== 'approve' } },
      responses: {
        200: json(
          waiverView.extend({ changed: z.number().int().describe('Findings whose state changed') }),
          'The waiver after the decision',
        ),
        ...errors,
        403: json(errorBody, "The token's role may not do this, or the approver is the requester"),
        404: json(errorBody, 'No such waiver'),
        409: json(errorBody, 'Not possible in its state (approve an approved one, a request whose expiry passed)'),
      },
    });
  }
}

/** Reclaim of unused capacity (issue 14). */
function addReclaimRoutes(add: (route: RouteConfig) => void, registry: OpenAPIRegistry): void {
  const id = z.object({ id: z.string() });
  const anyJson = (description: string) => json(z.record(z.string(), z.unknown()), description);
  const body = (schema: z.ZodType, required = true) => ({ content: { 'application/json': { schema } }, required });
  const conflictBody = json(errorBody, 'Not possible in the reclaim’s phase (the message says why)');
  add({
    method: 'get',
    path: '/v1/reclaim/findings',
    summary: 'What the reclaim rules flag now, with evidence and capacity (role: viewer)',
    request: { query: reclaimFindingListQuery },
    responses: { 200: anyJson('Flagged resources'), ...errors },
  });
  add({
    method: 'get',
    path: '/v1/reclaim/cases',
    summary: 'Reclaims, newest first, by phase, project, rule and whether open (role: viewer)',
    request: { query: reclaimCaseListQuery },
    responses: { 200: anyJson('Reclaims'), ...errors },
  });
  add({
    method: 'get',
    path: '/v1/reclaim/cases/{id}',
    summary: 'One reclaim: phase, owners, deadlines, extensions, outcome (role: viewer)',
    request: { params: id },
    responses: { 200: anyJson('The reclaim'), ...errors, 404: json(errorBody, 'No such reclaim') },
  });
  add({
    method: 'get',
    path: '/v1/reclaim/report',
    summary:
      'Flagged, in grace, reclaimed and freed per project and in all (vCPU, RAM, GB, IPs); `?format=csv` (role: viewer)',
    request: { query: z.object({ format: z.enum(['json', 'csv']).optional() }) },
    responses: { 200: anyJson('The report'), ...errors },
  });
  for (const [action, schema, what] of [
    ['extend', reclaimExtendRequest, 'move the deadline on, within the rule’s maximum'],
    ['stop', operatorActionRequest, 'end the reclaim, leaving the resource as it is'],
    ['restore', operatorActionRequest, 'undo the reversible step within the restore window'],
  ] as const) {
    add({
      method: 'post',
      path: `/v1/reclaim/cases/{id}/${action}`,
      summary: `${action}: ${what} (role: operator); audited`,
      request: { params: id, body: body(schema, action === 'extend') },
      responses: {
        200: anyJson('The reclaim after it'),
        ...errors,
        404: json(errorBody, 'No such reclaim'),
        409: conflictBody,
      },
    });
  }
  add({
    method: 'post',
    path: '/v1/reclaim/exemptions',
    summary:
      'Ask for an exemption of a resource (or a whole project) from a rule (or every rule), with an expiry (role: operator); audited',
    request: { body: body(reclaimExemptionRequest) },
    responses: { 201: anyJson('Requested'), ...errors },
  });
  add({
    method: 'post',
    path: '/v1/reclaim/exemptions/{id}/approve',
    summary: 'Approve an exemption; its requester may not (403); the reclaims it covers stop (role: approver); audited',
    request: { params: id },
    responses: {
      200: anyJson('Approved, and the reclaims stopped'),
      ...errors,
      404: json(errorBody, 'No such exemption'),
      409: conflictBody,
    },
  });
  for (const [action, what] of [
    ['pause', 'hold every destructive step of every reclaim until resumed'],
    ['resume', 'lift the pause'],
  ] as const)
    add({
      method: 'post',
      path: `/v1/reclaim/${action}`,
      summary: `${what} (role: admin); audited`,
      request: { body: body(operatorActionRequest, false) },
      responses: { 200: anyJson('Done'), ...errors, 409: conflictBody },
    });
  add({
    method: 'post',
    path: '/v1/reclaim/scans',
    summary: 'Scan the cloud with the reclaim rules (all, or those named) now (role: operator)',
    request: { body: body(reclaimScanRequest, false) },
    responses: { 202: anyJson('Started'), ...errors },
  });
  for (const method of ['get', 'post'] as const)
    registry.registerPath({
      method,
      path: '/v1/reclaim/extend',
      summary:
        method === 'get'
          ? 'The owner’s link in a notice: what the reclaim is about and its deadline (no API token: the link’s token is the credential)'
          : 'The owner extends the deadline through the link, within the rule’s maximum',
      request: {
        query: z.object({ token: z.string() }),
        ...(method === 'post' ? { body: body(reclaimOwnerExtendRequest) } : {}),
      },
      responses: {
        200: anyJson(method === 'get' ? 'The reclaim' : 'The new deadline'),
        400: json(errorBody, 'Malformed request'),
        404: json(errorBody, 'The link is not valid (unknown or expired)'),
        409: conflictBody,
      },
    });
}
