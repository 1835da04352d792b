/**
 * `shipshape reclaim`: unused capacity (issue 14) — what the rules flag, each
 * resource's reclaim and the levers on it (extend, stop, restore), exemptions
 * with four eyes, the report per project, the global pause, and scans.
 */
import type { Command } from 'commander';
import type { Capacity } from '../../domain/reclaim';
import type { ReclaimView } from '../../domain/reclaim-case';
import { segment } from '../client';
import { withApi } from '../context';
import { cell } from '../output';

interface Finding {
  rule: string;
  kind: string;
  id: string;
  name: string;
  projectId: string;
  reason: string;
  capacity: Capacity;
  dryRun: boolean;
  caseId: string | null;
}

interface Totals {
  count: number;
  capacity: Capacity;
}

const holds = (c: Capacity) =>
  [
    c.vcpus ? `${c.vcpus} vCPU` : '',
    c.ramMb ? `${Math.round(c.ramMb / 1024)} GiB` : '',
    c.diskGb ? `${c.diskGb} GB` : '',
    c.ips ? `${c.ips} IP` : '',
  ]
    .filter(Boolean)
    .join(', ') || '-';

export function registerReclaim(program: Command): void {
  const group = program
    .command('reclaim')
    .description('unused capacity: flagged resources, their reclaims, exemptions, the report');

  group
    .command('findings')
    .description('what the reclaim rules flag now, with what it holds')
    .option('--rule <rule>', 'only this rule')
    .option('--project <project>', 'only this project id')
    .action(
      withApi<{ rule?: string; project?: string }>(async (ctx, _args, o) => {
        const r = await ctx.api.get<{ findings: Finding[] }>('/v1/reclaim/findings', {
          rule: o.rule,
          project: o.project,
        });
        if (ctx.json) return ctx.print.json(r);
        ctx.print.table(
          ['RULE', 'KIND', 'RESOURCE', 'PROJECT', 'HOLDS', 'WHY', 'RECLAIM'],
          r.findings.map((f) => [
            f.rule,
            f.kind,
            `${f.name} (${f.id})`,
            f.projectId,
            holds(f.capacity),
            f.reason,
            f.dryRun ? 'dry run' : (f.caseId ?? '-'),
          ]),
          'nothing flagged',
        );
      }),
    );

  group
    .command('list')
    .description('reclaims, newest first')
    .option('--open', 'only those still running')
    .option('--phase <phase>', 'only in this phase')
    .option('--project <project>', 'only this project id')
    .action(
      withApi<{ open?: boolean; phase?: string; project?: string }>(async (ctx, _args, o) => {
        const r = await ctx.api.get<{ cases: ReclaimView[] }>('/v1/reclaim/cases', {
          open: o.open ? 'true' : undefined,
          phase: o.phase,
          project: o.project,
        });
        if (ctx.json) return ctx.print.json(r);
        ctx.print.table(
          ['ID', 'RULE', 'RESOURCE', 'PROJECT', 'PHASE', 'NOT BEFORE', 'OWNERS'],
          r.cases.map((c) => [
            c.caseId,
            c.rule.name,
            `${c.resource.kind} ${c.resource.name}`,
            c.resource.projectId,
            c.phase,
            cell(c.phase === 'restore-window' ? c.deleteAfter : c.graceEnds),
            c.owners?.contacts.join(', ') ?? '-',
          ]),
          'no reclaims',
        );
      }),
    );

  group
    .command('show <id>')
    .description('one reclaim: phase, owners, deadlines, extensions, outcome')
    .action(
      withApi(async (ctx, [id]) => {
        const c = await ctx.api.get<ReclaimView>(`/v1/reclaim/cases/${segment(id!)}`);
        if (ctx.json) return ctx.print.json(c);
        ctx.print.fields([
          ['Resource', `${c.resource.kind} ${c.resource.name} (${c.resource.id}) in ${c.resource.projectId}`],
          ['Rule', `${c.rule.name} (${c.rule.version})`],
          ['Phase', c.phase],
          ['Why', c.reason],
          ['Holds', holds(c.capacity)],
          ['Owners', c.owners ? `${c.owners.contacts.join(', ')} (${c.owners.via})` : '-'],
          ['Not before', cell(c.graceEnds)],
          ['Deleted after', cell(c.deleteAfter)],
          ['Extensions', c.extensions.map((e) => `${e.by} ${Math.round(e.ms / 86_400_000)} d`).join(', ') || '-'],
          ['Outcome', c.outcome ? `${c.outcome.phase}: ${c.outcome.reason}` : '-'],
        ]);
      }),
    );

  for (const [action, what] of [
    ['stop', 'end a reclaim, leaving the resource as it is (role operator)'],
    ['restore', 'undo the reversible step within the restore window (role operator)'],
  ] as const)
    group
      .command(`${action} <id>`)
      .description(what)
      .option('--comment <text>', 'why, for the audit log')
      .action(
        withApi<{ comment?: string }>(async (ctx, [id], o) => {
          const c = await ctx.api.post<ReclaimView>(`/v1/reclaim/cases/${segment(id!)}/${action}`, {
            comment: o.comment,
          });
          if (ctx.json) return ctx.print.json(c);
          ctx.print.line(`${action}: ${c.resource.kind} ${c.resource.name} is ${c.phase}`);
        }),
      );

  group
    .command('extend <id>')
    .description('move the deadline on, within the rule’s maximum (role operator)')
    .requiredOption('--by <duration>', 'how much: 7d, 12h, 30m')
    .option('--comment <text>', 'why')
    .action(
      withApi<{ by: string; comment?: string }>(async (ctx, [id], o) => {
        const c = await ctx.api.post<ReclaimView>(`/v1/reclaim/cases/${segment(id!)}/extend`, {
          extend: o.by,
          comment: o.comment,
        });
        if (ctx.json) return ctx.print.json(c);
        ctx.print.line(`extended by ${o.by}`);
      }),
    );

  const exemption = group
    .command('exemption')
    .description('exemptions: a resource (or a project) kept from a rule, by four eyes');
  exemption
    .command('request')
    .description('ask for an exemption (role operator); another person approves it')
    .requiredOption('--rule <rule>', 'a rule name, or * for every rule')
    .requiredOption('--project <project>', 'the project id')
    .option('--resource <id>', 'a resource id (default: every resource of the project)')
    .requiredOption('--reason <text>', 'why it is kept')
    .requiredOption('--expires <iso>', 'when the exemption ends (at most 365 days ahead)')
    .action(
      withApi<{ rule: string; project: string; resource?: string; reason: string; expires: string }>(
        async (ctx, _a, o) => {
          const e = await ctx.api.post<{ id: string }>('/v1/reclaim/exemptions', {
            rule: o.rule,
            project: o.project,
            ...(o.resource ? { resource: o.resource } : {}),
            reason: o.reason,
            expiresAt: o.expires,
          });
          if (ctx.json) return ctx.print.json(e);
          ctx.print.line(`exemption ${e.id} requested; another approver approves it`);
        },
      ),
    );
  exemption
    .command('approve <id>')
    .description('approve an exemption (role approver; not its requester); the reclaims it covers stop')
    .action(
      withApi(async (ctx, [id]) => {
        const r = await ctx.api.post<{ stopped: string[] }>(`/v1/reclaim/exemptions/${segment(id!)}/approve`, {});
        if (ctx.json) return ctx.print.json(r);
        ctx.print.line(`approved; reclaims stopped: ${r.stopped.join(', ') || 'none'}`);
      }),
    );

  group
    .command('report')
    .description('flagged, in grace, reclaimed and freed, per project and in all')
    .action(
      withApi(async (ctx) => {
        const r = await ctx.api.get<{
          projects: Array<{ projectId: string } & Record<'flagged' | 'inGrace' | 'reclaimed' | 'freed', Totals>>;
          all: Record<'flagged' | 'inGrace' | 'reclaimed' | 'freed', Totals>;
        }>('/v1/reclaim/report');
        if (ctx.json) return ctx.print.json(r);
        const row = (name: string, t: Record<'flagged' | 'inGrace' | 'reclaimed' | 'freed', Totals>) => [
          name,
          `${t.flagged.count} (${holds(t.flagged.capacity)})`,
          `${t.inGrace.count}`,
          `${t.reclaimed.count}`,
          `${t.freed.count} (${holds(t.freed.capacity)})`,
        ];
        ctx.print.table(
          ['PROJECT', 'FLAGGED', 'IN GRACE', 'RECLAIMED', 'FREED'],
          [...r.projects.map((p) => row(p.projectId, p)), row('all', r.all)],
          'nothing to report',
        );
      }),
    );

  for (const [action, what] of [
    ['pause', 'hold every destructive step of every reclaim (role admin)'],
    ['resume', 'lift the pause (role admin)'],
  ] as const)
    group
      .command(action)
      .description(what)
      .option('--comment <text>', 'why, for the audit log')
      .action(
        withApi<{ comment?: string }>(async (ctx, _args, o) => {
          const r = await ctx.api.post<unknown>(`/v1/reclaim/${action}`, { comment: o.comment });
          if (ctx.json) return ctx.print.json(r);
          ctx.print.line(action === 'pause' ? 'reclaim paused' : 'reclaim resumed');
        }),
      );

  group
    .command('scan')
    .description('scan the cloud with the reclaim rules now (role operator)')
    .option('--rule <rule...>', 'only these rules')
    .action(
      withApi<{ rule?: string[] }>(async (ctx, _args, o) => {
        const r = await ctx.api.post<{ scanId: string }>('/v1/reclaim/scans', o.rule ? { rules: o.rule } : {});
        if (ctx.json) return ctx.print.json(r);
        ctx.print.line(`scan ${r.scanId} started`);
      }),
    );
}
