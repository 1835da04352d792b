/**
 * Reclaim's activities (issue 14), over a TenantCloud (OpenStack, or the
 * simulated one), the database and an owner mailer: the scan of one rule
 * (read, judge, record, and the resources to start a reclaim for), and the
 * contract the reclaim workflow proxies (activities/reclaim-contract.ts).
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import {
  activeExemptions,
  exemptionFor,
  issueReclaimToken,
  recordReclaimCase,
  recordRuleFindings,
  takeReclaimStep,
  type FlaggedResource,
  type ReclaimCaps,
} from '../db/reclaim';
import { recordResourceSignal } from '../db/signals';
import { judgeResource, CHECK_RESOURCE, isKept, type ReclaimRule, type TenantResource } from '../domain/reclaim';
import type { ProjectInfo, TenantCloud } from '../domain/reclaim-cloud';
import { reclaimWorkflowId, type ReclaimView } from '../domain/reclaim-case';
import { ownerMessage, type OwnerMailer } from '../domain/reclaim-notice';
import type { ReclaimActivities, Recheck } from './reclaim-contract';

export type { OwnerMailer };

export interface ReclaimDeps {
  db: Pool;
  cloud: TenantCloud;
  mailer: OwnerMailer;
  /** The rules as the folder has them now (scans judge by these). */
  rules: () => ReclaimRule[];
  caps: ReclaimCaps;
  /** The Keystone role whose holders own a project (default `owner`). */
  ownerRole?: string;
  /** Where owners open their extend link (SHIPSHAPE_PUBLIC_URL); no link in the notice without it. */
  publicUrl?: string;
  /** The workflow ID prefix of this installation. */
  workflowIdPrefix?: string;
}

/** What a scan of one rule found: how many were judged, flagged, and the ones to start a reclaim for. */
export interface RuleScanResult {
  rule: string;
  /** The rule as judged: what a reclaim started from this scan keeps to. */
  snapshot: Pick<ReclaimRule, 'name' | 'version' | 'check' | 'scope' | 'lifecycle'>;
  judged: number;
  flagged: number;
  dryRun: boolean;
  /** Flagged resources with no open reclaim (none for a dry-run rule). */
  toStart: Array<FlaggedResource & { firstFlagged: string }>;
  /** Projects whose every resource of the rule's kind is flagged. */
  wholeProjects: string[];
}

function directory(projects: readonly ProjectInfo[]) {
  const byId = new Map(projects.map((p) => [p.id, p]));
  return {
    project: (id: string) => {
      const p = byId.get(id);
      return p ? { name: p.name, domainId: p.domainId, domainName: p.domainName } : null;
    },
  };
}

/** Still as the reversible step left it: nobody restored or used it meanwhile. */
function stillReclaimed(action: string, r: TenantResource | null): Recheck {
  if (action === 'snapshot-and-delete')
    return r
      ? { still: false, reason: 'the volume is back (restored by someone)' }
      : { still: true, reason: 'deleted, snapshot kept' };
  if (!r) return { still: false, reason: 'the resource is gone', gone: true };
  if (r.usedBy.length > 0) return { still: false, reason: `used by ${r.usedBy.join(', ')}` };
  if (action === 'shelve' && !r.status.startsWith('SHELVED'))
    return { still: false, reason: `${r.status}, no longer shelved (unshelved by someone)` };
  if (action === 'stop-and-lock' && r.status !== 'SHUTOFF')
    return { still: false, reason: `${r.status}, no longer stopped` };
  return { still: true, reason: r.status };
}

/** A worker without reclaim settings: no rules, and a cloud and mailer that say so if anything reaches them. */
function notConfigured(): never {
  throw ApplicationFailure.nonRetryable(
    'reclaim is not configured on this worker (no tenant cloud or owner mailer)',
    'NotConfigured',
  );
}
export const RECLAIM_NOT_CONFIGURED: Omit<ReclaimDeps, 'db'> = {
  cloud: {
    name: 'none',
    listResources: async () => notConfigured(),
    readResource: async () => notConfigured(),
    project: async () => notConfigured(),
    projectContacts: async () => notConfigured(),
    domainContact: async () => notConfigured(),
    reversibleStep: async () => notConfigured(),
    restore: async () => notConfigured(),
    remove: async () => notConfigured(),
  },
  mailer: { send: async () => notConfigured() },
  rules: () => [],
  caps: { deletionsPerDay: 0, deletionsPerProjectPerDay: 0 },
};

export function createReclaimActivities(deps: ReclaimDeps) {
  const ruleNamed = (name: string) => {
    const rule = deps.rules().find((r) => r.name === name);
    if (!rule) throw ApplicationFailure.nonRetryable(`no reclaim rule named ${name}`, 'UnknownRule');
    return rule;
  };

  const activities: ReclaimActivities & {
    scanReclaimRule(input: { rule: string }): Promise<RuleScanResult>;
    listReclaimRules(): Promise<string[]>;
  } = {
    async listReclaimRules() {
      return deps.rules().map((r) => r.name);
    },

    /** Read the rule's kind of resource across the cloud, judge each, and record what it flags. */
    async scanReclaimRule({ rule: name }) {
      const rule = ruleNamed(name);
      const kind = CHECK_RESOURCE[rule.check.type];
      const { resources, projects } = await deps.cloud.listResources([kind]);
      const now = new Date();
      const ctx = { now, projects: directory(projects) };
      const flagged: FlaggedResource[] = [];
      const judged: Array<{ resource: TenantResource; flagged: boolean }> = [];
      const exemptions = (await activeExemptions(deps.db)).filter((e) => e.rule === '*' || e.rule === rule.name);
      const exempt = (r: TenantResource) =>
        exemptions.some((e) => e.projectId === r.projectId && (e.resourceId === '*' || e.resourceId === r.id));
      for (const resource of resources) {
        const j = judgeResource(rule, resource, ctx);
        const isFlagged = j.verdict === 'flagged' && !exempt(resource);
        judged.push({ resource, flagged: isFlagged });
        if (isFlagged && j.verdict === 'flagged')
          flagged.push({
            rule: rule.name,
            kind,
            id: resource.id,
            name: resource.name,
            projectId: resource.projectId,
            reason: j.reason,
            evidence: j.evidence,
            capacity: j.capacity,
            dryRun: rule.dryRun,
          });
      }
      const fresh = await recordRuleFindings(deps.db, rule.name, flagged, now);
      const whole = new Map<string, number>();
      for (const j of judged)
        whole.set(j.resource.projectId, (whole.get(j.resource.projectId) ?? 0) + (j.flagged ? 0 : 1));
      return {
        rule: rule.name,
        snapshot: {
          name: rule.name,
          version: rule.version,
          check: rule.check,
          scope: rule.scope,
          lifecycle: rule.lifecycle,
        },
        judged: resources.length,
        flagged: flagged.length,
        dryRun: rule.dryRun,
        toStart: rule.dryRun ? [] : fresh.map((f) => ({ ...f, firstFlagged: f.firstFlagged.toISOString() })),
        wholeProjects: [...whole].filter(([, notFlagged]) => notFlagged === 0).map(([p]) => p),
      };
    },

    async recheckReclaim({ rule, resource, stage, action }) {
      const now = await deps.cloud.readResource(resource);
      if (stage === 'restore-window') return stillReclaimed(action, now);
      if (!now) return { still: false, reason: 'the resource is gone', gone: true };
      if (isKept(now)) return { still: false, reason: 'marked shipshape:keep' };
      const exempt = await exemptionFor(deps.db, {
        rule: rule.name,
        projectId: resource.projectId,
        resourceId: resource.id,
      });
      if (exempt) return { still: false, reason: `exempted until ${exempt.expiresAt.toISOString()}: ${exempt.reason}` };
      // Only the resource's own project: a re-check reads one resource, not the cloud's project list.
      const project = await deps.cloud.project(resource.projectId);
      const j = judgeResource(rule, now, { now: new Date(), projects: directory(project ? [project] : []) });
      return j.verdict === 'flagged' ? { still: true, reason: j.reason } : { still: false, reason: j.reason };
    },

    async resolveOwners({ projectId }) {
      const role = deps.ownerRole ?? 'owner';
      const contacts = await deps.cloud.projectContacts(projectId, role);
      if (contacts.length > 0) return { contacts, via: `role ${role} on the project` };
      const fallback = await deps.cloud.domainContact(projectId);
      if (fallback) return { contacts: [fallback], via: "the domain's fallback contact (no user holds the role)" };
      throw ApplicationFailure.nonRetryable(
        `project ${projectId} has no user with role ${role} and its domain no fallback contact: nobody to tell`,
        'NoOwner',
      );
    },

    async sendReclaimNotice({ kind, view }) {
      let url: string | null = null;
      if (deps.publicUrl && (kind === 'notice' || kind === 'reminder') && view.graceEnds) {
        // Valid well past the deadline (extensions move it); the workflow refuses an extension once the grace is over.
        const token = await issueReclaimToken(
          deps.db,
          view.caseId,
          new Date(Date.parse(view.graceEnds) + 365 * 86_400_000),
        );
        url = `${deps.publicUrl.replace(/\/$/, '')}/v1/reclaim/extend?token=${token}`;
      }
      await deps.mailer.send(ownerMessage(kind, view, url));
      return { sentAt: new Date().toISOString() };
    },

    async recordReclaim({ view, audit }) {
      await recordReclaimCase(deps.db, {
        view,
        workflowId: reclaimWorkflowId(view.rule.name, view.resource, deps.workflowIdPrefix),
        audit,
      });
    },

    async reclaimGate(input) {
      const g = await takeReclaimStep(deps.db, input, deps.caps);
      return g.go ? g : { ...g, retryInMs: 15 * 60_000 };
    },

    async takeReversibleStep({ resource, action, snapshotFirst }) {
      return { restorePoint: await deps.cloud.reversibleStep(resource, action, snapshotFirst) };
    },

    async restoreResource({ resource, action, restorePoint }) {
      await deps.cloud.restore(resource, action, restorePoint);
    },

    async deleteResource({ resource, action, restorePoint }) {
      return { freed: await deps.cloud.remove(resource, action, restorePoint) };
    },

    /** Into the alert inbox: a signal about the resource that no policy takes, so a person sees it. */
    async reportReclaimFailure({ view, error }: { view: ReclaimView; error: string }) {
      await recordResourceSignal(deps.db, {
        id: randomUUID(),
        source: 'reclaim',
        name: 'ReclaimFailed',
        resourceKind: view.resource.kind,
        resourceId: view.resource.id,
        severity: 'warning',
        fingerprint: `reclaim/${view.caseId}`,
        labels: { alertname: 'ReclaimFailed', rule: view.rule.name, project: view.resource.projectId },
        annotations: {
          summary: `the reclaim of ${view.resource.kind} ${view.resource.name} (${view.resource.id}) failed`,
          description: error,
        },
        receivedBy: 'reclaim',
        reason: 'a reclaim failed; no automation retries it, a person looks at it',
      });
    },
  };
  return activities;
}

export type ReclaimWorkerActivities = ReturnType<typeof createReclaimActivities>;
