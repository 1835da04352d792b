/**
 * Policy lifecycle: list, read (with every version), apply, delete, validate,
 * simulate against recorded signals, and draft a policy from a resolved hand-off.
 */
import express, { Router } from 'express';
import type { Pool } from 'pg';
import { stringify } from 'yaml';
import { z } from 'zod';
import { readGuardState } from '../../db/guards';
import { hostsAsSimulateSees } from '../../db/hosts';
import { findRemediation } from '../../db/remediations';
import { alertNamesOfRemediation, signalsReceivedSince } from '../../db/signals';
import type { GuardConfig } from '../../domain/guards';
import type { LabelMatcher } from '../../domain/label-matcher';
import { storableText } from '../../domain/text';
import { simulatePolicies, type FleetSnapshot, type SimulatedSignal } from '../../domain/simulate';
import { inMatchOrder, PolicyError, type LoadedPolicy } from '../../policies/loader';
import { policyName } from '../../policies/schema';
import { requireRole } from '../auth';
import { AppError, conflict, notFound, unprocessable } from '../errors';
import type { PolicyStore } from '../policy-store';
import { signalRequest } from '../schemas';
import { parse } from '../validate';

export const validateRequest = z.strictObject({ content: z.string().min(1).max(200_000) });

/**
 * What one simulate may ask, so its matching work is bounded. A regular
 * expression is tested in time linear in the value (RE2), at most about
 * program size × value length steps: with MAX_PATTERN_PROGRAM (1,000) and a
 * 1,024-character value, ~0.1 s in the worst case measured (a pattern that
 * defeats RE2's DFA); typical tests take microseconds. Compiling the drafts'
 * patterns (at most `regexMatchers` of them) takes up to ~5 ms each. And the
 * whole replay stops at `timeLimitMs`: the event loop is held at most about
 * 0.5 s of compiling + 2 s + one test, however the request is built.
 */
export const SIMULATE_LIMITS = {
  drafts: 100,
  regexMatchers: 100,
  signals: 10_000,
  labelsPerSignal: 64,
  labelName: 128,
  labelValue: 1024,
  timeLimitMs: 2000,
};

const simulatedLabels = z
  .record(storableText().max(SIMULATE_LIMITS.labelName), storableText().max(SIMULATE_LIMITS.labelValue))
  .refine(
    (labels) => Object.keys(labels).length <= SIMULATE_LIMITS.labelsPerSignal,
    `at most ${SIMULATE_LIMITS.labelsPerSignal} labels`,
  );

export const simulateRequest = z.strictObject({
  drafts: z
    .array(z.string().min(1).max(200_000))
    .max(SIMULATE_LIMITS.drafts)
    .optional()
    .describe('Policy files to simulate instead of the policies in force'),
  sinceDays: z.number().gt(0).max(90).default(7).describe('Replay the signals recorded in the last N days'),
  signals: z
    .array(signalRequest.extend({ labels: simulatedLabels.default({}) }))
    .max(SIMULATE_LIMITS.signals)
    .optional()
    .describe('Replay these signals instead of recorded ones'),
});

function invalidPolicy(err: PolicyError): AppError {
  return new AppError(400, 'invalid_policy', err.message, { issues: err.issues });
}

/** A 400 naming one field, as a schema's refusal does. */
function fieldRefused(field: string, reason: string): AppError {
  return new AppError(400, 'validation_failed', `${field}: ${reason}`, { fields: [{ field, reason }] });
}

function parseOrThrow(store: PolicyStore, file: string, text: string): LoadedPolicy {
  try {
    return store.parse(file, text);
  } catch (err) {
    if (err instanceof PolicyError) throw invalidPolicy(err);
    throw err;
  }
}

export function createPoliciesRouter(deps: { db: Pool; store: PolicyStore; guards: () => GuardConfig }): Router {
  const router = Router();
  const yamlBody = express.text({
    type: ['text/yaml', 'application/yaml', 'application/x-yaml', 'text/plain'],
    limit: '1mb',
  });
  const describe = (p: LoadedPolicy) => ({
    name: p.name,
    version: p.policy.version,
    file: p.file,
    priority: p.priority,
    signals: p.match.signals,
  });

  router.get('/v1/policies', requireRole('viewer'), (_req, res) => {
    res.json({ policies: deps.store.list().map(describe) });
  });

  router.get('/v1/policies/:name', requireRole('viewer'), async (req, res) => {
    const p = deps.store.get(req.params.name as string);
    if (!p) throw notFound(`no policy "${req.params.name as string}"`, { field: 'name' });
    res.json({ ...describe(p), content: p.source, versions: await deps.store.versions(p.name) });
  });

  router.put('/v1/policies/:name', requireRole('admin'), yamlBody, async (req, res) => {
    parse(z.strictObject({ name: policyName }), req.params, 'params');
    const text = typeof req.body === 'string' ? req.body : parse(validateRequest, req.body, 'body').content;
    try {
      const applied = await deps.store.put(req.params.name as string, text, req.caller!.subject);
      res.json(describe(applied));
    } catch (err) {
      if (err instanceof PolicyError) throw invalidPolicy(err);
      throw err;
    }
  });

  router.delete('/v1/policies/:name', requireRole('admin'), async (req, res) => {
    if (!(await deps.store.remove(req.params.name as string, req.caller!.subject)))
      throw notFound(`no policy "${req.params.name as string}"`, { field: 'name' });
    res.status(204).end();
  });

  router.post('/v1/policies/validate', requireRole('operator'), (req, res) => {
    const { content } = parse(validateRequest, req.body, 'body');
    const p = parseOrThrow(deps.store, 'draft.yaml', content);
    res.json({ valid: true, ...describe(p) });
  });

  router.post('/v1/policies/simulate', requireRole('operator'), async (req, res) => {
    const body = parse(simulateRequest, req.body, 'body');
    const policies = body.drafts ? parseDrafts(deps.store, body.drafts) : deps.store.list();
    const signals: SimulatedSignal[] = body.signals
      ? body.signals.map((s) => ({
          signalId: null,
          name: s.name,
          host: s.resource.id,
          labels: s.labels,
          severity: s.severity,
          status: s.status,
        }))
      : await signalsReceivedSince(deps.db, body.sinceDays);
    const fleet = await fleetNow(deps.db, deps.guards());
    const deadline = Date.now() + SIMULATE_LIMITS.timeLimitMs;
    const results = simulatePolicies(stopAt(deadline, policies, signals.length), signals, fleet, deps.guards());
    const count = (o: string) => results.filter((r) => r.outcome === o).length;
    res.json({
      policies: policies.map(describe),
      summary: {
        signals: results.length,
        wouldStart: count('would-start'),
        wouldWait: count('would-wait'),
        wouldJoin: count('would-join'),
        noPolicy: count('no-policy'),
        ignored: count('ignored'),
        approvalsAsked: results.filter((r) => r.approval).length,
      },
      results,
    });
  });

  router.post('/v1/policies/draft-from/:remediationId', requireRole('operator'), async (req, res) => {
    const id = req.params.remediationId as string;
    const row = await findRemediation(deps.db, id);
    if (!row) throw notFound(`no remediation "${id}"`, { field: 'remediationId' });
    const resolution = row.view.resolution;
    if (!resolution?.fixedBy)
      throw conflict(`remediation ${id} has no resolution with the action that fixed it; hand it back with "fixedBy"`);
    const names = await alertNamesOfRemediation(deps.db, id);
    const name = `fix-${names[0] ?? 'alert'}`
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .slice(0, 60);
    const draft = {
      name,
      description: `Drafted from remediation ${id}: ${resolution.by} fixed it with ${resolution.fixedBy} ("${resolution.note}")`,
      priority: 10,
      match: { signals: names },
      approval: { mode: 'never' },
      steps: [{ action: resolution.fixedBy, fixWithinSeconds: 120 }],
    };
    const content = `# Drafted by Shipshape for review: simulate it, then apply it with PUT /v1/policies/${name}.\n# It outranks ${row.view.policy?.name ?? 'the policy that handed off'} (priority 10) for the same alerts.\n${stringify(draft)}`;
    parseOrThrow(deps.store, `${name}.yaml`, content); // a draft is always a valid policy
    res.json({ name, content });
  });

  return router;
}

/** Parse the drafts of a simulate, refusing past the cap on regular-expression matchers before compiling more. */
function parseDrafts(store: PolicyStore, drafts: readonly string[]): LoadedPolicy[] {
  let regexMatchers = 0;
  const parsed = drafts.map((text, i) => {
    const p = parseOrThrow(store, `drafts.${i}.yaml`, text);
    regexMatchers += p.match.labels.filter((m) => m.op === '=~' || m.op === '!~').length;
    if (regexMatchers > SIMULATE_LIMITS.regexMatchers)
      throw fieldRefused(
        `body.drafts.${i}`,
        `the drafts have more than ${SIMULATE_LIMITS.regexMatchers} regular-expression matchers (=~, !~) in all`,
      );
    return p;
  });
  return inMatchOrder(parsed);
}

/** The policies, with every regular-expression test refused once the deadline has passed: simulate stops there. */
function stopAt(deadline: number, policies: readonly LoadedPolicy[], signals: number): LoadedPolicy[] {
  const timed = (m: LabelMatcher): LabelMatcher => {
    if (!('fullMatch' in m)) return m;
    const fullMatch = m.fullMatch;
    return {
      ...m,
      fullMatch: (value: string) => {
        if (Date.now() > deadline)
          throw unprocessable(
            'simulate_too_large',
            `simulate stopped after ${SIMULATE_LIMITS.timeLimitMs} ms of matching ${signals} signals; replay fewer signals (signals, sinceDays) or simpler patterns`,
            { field: 'signals', timeLimitMs: SIMULATE_LIMITS.timeLimitMs },
          );
        return fullMatch(value);
      },
    };
  };
  return policies.map((p) => ({ ...p, match: { ...p.match, labels: p.match.labels.map(timed) } }));
}

/** Fleet state for simulate: hosts, leases, recent take-outs, breakers, pause. Read only. */
async function fleetNow(db: Pool, guards: GuardConfig): Promise<FleetSnapshot> {
  const [hosts, state] = await Promise.all([hostsAsSimulateSees(db), readGuardState(db, guards)]);
  return {
    ...state,
    hosts: Object.fromEntries(
      hosts.map((h) => [
        h.id,
        { zone: h.zone, roles: h.roles, outOfService: h.outOfService, hasOpenRemediation: h.hasOpenRemediation },
      ]),
    ),
    now: new Date(),
  };
}
