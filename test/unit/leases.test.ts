/** When the reaper gives a lease back: one row per answer Temporal can give about the run that holds it. */
import { staleLeaseReason, type HolderRun } from '../../domain/leases';

const lease = { remediationId: 'r-1', workflowId: 'remediation/cmp-a-01' };

const cases: [string, HolderRun, RegExp | null][] = [
  ['a running run keeps its lease', { state: 'running', runId: 'run-1' }, null],
  ['a run that Temporal could not be asked about keeps it', { state: 'unknown', error: 'UNAVAILABLE' }, null],
  ['a terminated run gives it back', { state: 'closed', runId: 'run-1', status: 'TERMINATED' }, /closed: terminated/],
  ['a failed run gives it back', { state: 'closed', runId: 'run-1', status: 'FAILED' }, /closed: failed/],
  ['a timed-out run gives it back', { state: 'closed', runId: 'run-1', status: 'TIMED_OUT' }, /closed: timed out/],
  ['a cancelled run gives it back', { state: 'closed', runId: 'run-1', status: 'CANCELLED' }, /closed: cancelled/],
  [
    'a run completed without its finish gives it back',
    { state: 'closed', runId: 'run-2', status: 'COMPLETED' },
    /\(run-2\) is closed: completed/,
  ],
  ['a run Temporal does not know gives it back', { state: 'not-found' }, /Temporal does not know its run/],
];

test.each(cases)('%s', (_name, run, expected) => {
  const reason = staleLeaseReason(lease, run);
  if (expected === null) expect(reason).toBeNull();
  else expect(reason).toMatch(expected);
});
