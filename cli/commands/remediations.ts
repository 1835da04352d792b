/** `shipshape remediations`: list and inspect remediations, and take the human steps (approve, reject, hand back, cancel). */
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import type { remediationView } from '../../api/schemas';
import { ACTIVE_PHASES, FINAL_PHASES, REPAIR_ACTIONS } from '../../domain/remediation';
import { segment } from '../client';
import { integerIn, withApi, type CommandContext } from '../context';
import { cell as when, type Printer } from '../output';

/** A remediation as the API answers it; one the workflow has not recorded yet carries fewer fields. */
type Remediation = Partial<z.infer<typeof remediationView>> &
  Pick<z.infer<typeof remediationView>, 'remediationId' | 'host' | 'phase'> & {
    workflowId: string;
    startedAt: string;
    closedAt: string | null;
  };

/** What the remediation waits for, in a few words: an approver, an operator, a guard. */
function waitingOn(r: Remediation): string | null {
  if (r.pendingApproval) return `approval until ${when(r.pendingApproval.deadline)}`;
  if (r.handOff) return `operator: ${r.handOff.reason}`;
  if (r.waitingFor?.length) return r.waitingFor.map((w) => `${w.guard}: ${w.reason}`).join('; ');
  if (r.outcome) return r.outcome.reason;
  return null;
}

function showRemediation(print: Printer, r: Remediation): void {
  print.fields([
    ['Remediation', r.remediationId],
    ['Host', r.host],
    ['Zone', r.zone],
    ['Policy', r.policy ? `${r.policy.name} (version ${r.policy.version})` : null],
    ['Phase', r.phase],
    ['Pool state', r.poolState],
    ['Requested by', r.requestedBy],
    ['Started', r.startedAt],
    ['Closed', r.closedAt],
    [
      'Approval',
      r.pendingApproval
        ? `asked ${when(r.pendingApproval.requestedAt)}, deadline ${when(r.pendingApproval.deadline)}`
        : undefined,
    ],
    ['Waiting for', r.waitingFor?.length ? r.waitingFor.map((w) => `${w.guard}: ${w.reason}`).join('; ') : undefined],
    ['Hand-off', r.handOff ? `${r.handOff.reason} (since ${when(r.handOff.since)})` : undefined],
    [
      'Resolution',
      r.resolution
        ? `${r.resolution.by}: ${r.resolution.note}${r.resolution.fixedBy ? ` (fixed by ${r.resolution.fixedBy})` : ''}`
        : undefined,
    ],
    ['Outcome', r.outcome ? `${r.outcome.phase} at ${when(r.outcome.at)}: ${r.outcome.reason}` : undefined],
    ['Signals', r.signals ? `${r.signals.received} received, last ${r.signals.lastName ?? '-'}` : undefined],
    ['Workflow', r.workflowId],
  ]);
  if (r.steps?.length) {
    print.line();
    print.table(
      ['STEP', 'STATUS', 'STARTED', 'ENDED', 'DETAIL'],
      r.steps.map((s) => [s.name, s.status, s.startedAt, s.endedAt, s.detail]),
    );
  }
}

async function decide(ctx: CommandContext, id: string, decision: string, body: Record<string, unknown>): Promise<void> {
  const view = await ctx.api.post<Remediation>(`/v1/remediations/${segment(id)}/${decision}`, body);
  if (ctx.json) return ctx.print.json(view);
  ctx.print.line(`${decision}: ${id} is now ${view.phase}`);
}

export function registerRemediations(program: Command): void {
  const group = program.command('remediations').description('list, inspect and decide on remediations');

  group
    .command('list')
    .description('remediations, newest first')
    .option('--host <host>', 'only this host')
    .addOption(
      new Option('--state <state>', 'open, closed, or one phase').choices([
        'open',
        'closed',
        ...ACTIVE_PHASES,
        ...FINAL_PHASES,
      ]),
    )
    .option('--limit <n>', 'at most this many (1-500)', integerIn(1, 500))
    .action(
      withApi<{ host?: string; state?: string; limit?: number }>(async (ctx, _args, o) => {
        const body = await ctx.api.get<{ remediations: Remediation[] }>('/v1/remediations', {
          host: o.host,
          state: o.state,
          limit: o.limit,
        });
        if (ctx.json) return ctx.print.json(body);
        ctx.print.table(
          ['ID', 'HOST', 'PHASE', 'POLICY', 'STARTED', 'WAITING ON'],
          body.remediations.map((r) => [r.remediationId, r.host, r.phase, r.policy?.name, r.startedAt, waitingOn(r)]),
          'no remediations',
        );
      }),
    );

  group
    .command('show <id>')
    .description('one remediation: phase, what it waits for, its steps')
    .action(
      withApi(async (ctx, [id]) => {
        const r = await ctx.api.get<Remediation>(`/v1/remediations/${segment(id!)}`);
        if (ctx.json) return ctx.print.json(r);
        showRemediation(ctx.print, r);
      }),
    );

  for (const [name, what] of [
    ['approve', 'approve a remediation waiting for approval (role approver)'],
    ['reject', 'reject a remediation waiting for approval (role approver)'],
    ['cancel', 'cancel a running remediation (role operator)'],
  ] as const) {
    group
      .command(`${name} <id>`)
      .description(what)
      .option('--comment <text>', 'why, for the audit log')
      .action(withApi<{ comment?: string }>((ctx, [id], o) => decide(ctx, id!, name, { comment: o.comment })));
  }

  group
    .command('hand-back <id>')
    .description('hand a host back from an operator to be verified and returned (role operator)')
    .option('--comment <text>', 'what was done, for the audit log')
    .addOption(
      new Option('--fixed-by <action>', 'the catalog action that fixed it (drafts a policy from it)').choices(
        REPAIR_ACTIONS,
      ),
    )
    .action(
      withApi<{ comment?: string; fixedBy?: string }>((ctx, [id], o) =>
        decide(ctx, id!, 'hand-back', { comment: o.comment, fixedBy: o.fixedBy }),
      ),
    );
}
