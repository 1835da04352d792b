/**
 * A reclaim scan (issue 14): each rule (or those named) reads its kind of
 * resource across the cloud, judges it and records what it flags; each newly
 * flagged resource of a rule that acts gets its own reclaim workflow, keyed
 * by rule and resource, so a resource already being reclaimed by the rule is
 * not started twice, and one rule never ends another's reclaim.
 */
import { ParentClosePolicy, proxyActivities, startChild, uuid4, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { RuleScanResult } from '../activities/reclaim';
import type { ProfileActivities } from './activity-profiles';
import type { ResourceKind } from '../domain/reclaim';
import { reclaimWorkflowId } from '../domain/reclaim-case';
import { reclaimWorkflow } from './reclaim';

const scans = proxyActivities<ProfileActivities<'reclaimScans'>>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

export interface ReclaimScanInput {
  rules?: string[];
  /** The installation's workflow ID prefix, for the reclaims this scan starts. */
  workflowIdPrefix?: string;
}

export interface ReclaimScanSummary {
  rules: Array<Omit<RuleScanResult, 'toStart' | 'snapshot'> & { started: number; alreadyRunning: number }>;
}

export async function reclaimScanWorkflow(input: ReclaimScanInput = {}): Promise<ReclaimScanSummary> {
  const names = input.rules ?? (await scans.listReclaimRules());
  const summary: ReclaimScanSummary = { rules: [] };
  for (const name of names) {
    const result = await scans.scanReclaimRule({ rule: name });
    let started = 0;
    let alreadyRunning = 0;
    for (const f of result.toStart) {
      try {
        await startChild(reclaimWorkflow, {
          workflowId: reclaimWorkflowId(name, { kind: f.kind as ResourceKind, id: f.id }, input.workflowIdPrefix ?? ''),
          taskQueue: workflowInfo().taskQueue,
          parentClosePolicy: ParentClosePolicy.ABANDON,
          args: [
            {
              caseId: uuid4(),
              rule: result.snapshot,
              resource: { kind: f.kind as ResourceKind, id: f.id, name: f.name, projectId: f.projectId },
              flaggedAt: f.firstFlagged,
              reason: f.reason,
              capacity: f.capacity,
            },
          ],
          staticSummary: `Reclaim ${f.kind} ${f.name} (${f.projectId}): ${name}`,
        });
        started++;
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        alreadyRunning++;
      }
    }
    const { toStart: _t, snapshot: _s, ...counts } = result;
    summary.rules.push({ ...counts, started, alreadyRunning });
  }
  return summary;
}
