/**
 * Compliance profiles as the folder has them now: each with its version,
 * digest, scope, schedule and the next scheduled scan (from its Temporal
 * Schedule), and its rules counted by kind and severity; one profile with
 * its rules (what they check, why, and how a fix disrupts the host). A fix's
 * SSH command and a check's command are not shown: what runs on hosts stays
 * in the files, read by those who may read them.
 */
import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { z } from 'zod';
import { RULE_KINDS, type ComplianceProfile, type ComplianceRule, type ComplianceScope } from '../../domain/compliance';
import { RULE_SEVERITIES } from '../../domain/compliance-findings';
import { scanScheduleId } from '../../domain/compliance-scans';
import { requireRole } from '../auth';
import { profilesDoNotLoad, readComplianceFolder } from '../compliance-folder';
import { AppError, notFound } from '../errors';
import type { complianceProfileSummary, complianceRuleView } from '../schemas';

export interface ComplianceProfilesRouterDeps {
  client: Client;
  workflowIdPrefix: string;
  /** The profiles' folder as this API reads it; none: the routes answer 503. */
  profilesDir?: string;
}

type Summary = z.infer<typeof complianceProfileSummary>;

function scopeView(s: ComplianceScope): Summary['scope'] {
  return {
    ...(s.roles ? { roles: s.roles } : {}),
    ...(s.zones ? { zones: s.zones } : {}),
    ...(s.labels ? { labels: s.labels.map((m) => `${m.name}${m.op}"${m.value}"`) } : {}),
  };
}

function ruleView(r: ComplianceRule): z.infer<typeof complianceRuleView> {
  const own = r.scopes[1];
  return {
    id: r.id,
    title: r.title,
    severity: r.severity,
    kind: r.kind,
    check: r.check.type,
    rationale: r.rationale,
    scope: own ? scopeView(own) : null,
    fix: r.fix
      ? {
          how: 'ssh' in r.fix ? 'ssh' : 'action',
          action: 'action' in r.fix ? r.fix.action : null,
          disruption: r.fix.disruption,
          drain: r.fix.drain,
        }
      : null,
  };
}

export function createComplianceProfilesRouter(deps: ComplianceProfilesRouterDeps): Router {
  const router = Router();

  function profiles(): ComplianceProfile[] {
    const folder = readComplianceFolder(deps.profilesDir);
    if ('invalid' in folder) throw profilesDoNotLoad(503, deps.profilesDir!, folder.invalid);
    if ('unreadable' in folder)
      throw new AppError(
        503,
        'profiles_unavailable',
        `${folder.unreadable}; give the API the worker's folder (SHIPSHAPE_COMPLIANCE_DIR)`,
      );
    return folder.profiles;
  }

  /** The next run of the profile's schedule as Temporal has it; null when it has none (yet) or Temporal does not answer. */
  async function nextRunAt(p: ComplianceProfile): Promise<string | null> {
    if (!p.schedule) return null;
    try {
      const d = await deps.client.schedule.getHandle(scanScheduleId(deps.workflowIdPrefix, p.name)).describe();
      return d.info.nextActionTimes[0]?.toISOString() ?? null;
    } catch {
      return null; // not created yet (the worker does it), or Temporal away: the profile is still worth showing
    }
  }

  async function summaryOf(p: ComplianceProfile): Promise<Summary> {
    const byKind = Object.fromEntries(RULE_KINDS.map((k) => [k, 0])) as Summary['ruleCounts']['byKind'];
    const bySeverity = Object.fromEntries(RULE_SEVERITIES.map((s) => [s, 0])) as Summary['ruleCounts']['bySeverity'];
    for (const r of p.rules) {
      byKind[r.kind]++;
      bySeverity[r.severity]++;
    }
    return {
      name: p.name,
      version: p.version,
      digest: p.digest,
      file: p.file,
      description: p.description,
      scope: scopeView(p.scope),
      schedule: p.schedule,
      nextRunAt: await nextRunAt(p),
      ruleCounts: { total: p.rules.length, byKind, bySeverity },
    };
  }

  router.get('/v1/compliance/profiles', requireRole('viewer'), async (_req, res) => {
    res.json({ profiles: await Promise.all(profiles().map(summaryOf)) });
  });

  router.get('/v1/compliance/profiles/:name', requireRole('viewer'), async (req, res) => {
    const name = req.params.name as string;
    const profile = profiles().find((p) => p.name === name);
    if (!profile) throw notFound(`no compliance profile "${name}"`, { field: 'name' });
    res.json({ ...(await summaryOf(profile)), rules: profile.rules.map(ruleView) });
  });

  return router;
}
