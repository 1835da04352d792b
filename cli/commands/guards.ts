/** `shipshape guards`: what holds automation back, and the switches a person controls (role admin to change). */
import type { Command } from 'commander';
import type { ZoneBudget } from '../../domain/guards';
import { segment } from '../client';
import { withApi } from '../context';
import { cell } from '../output';

interface GuardsAnswer {
  config: unknown;
  paused: { by: string; reason: string; at: string } | null;
  breakers: Array<{ zone: string; trippedAt: string; reason: string }>;
  leases: Array<{ zone: string; host: string; remediationId: string; acquiredAt: string }>;
  zones: ZoneBudget[];
}

export function registerGuards(program: Command): void {
  const group = program
    .command('guards')
    .description('fleet-wide guards: pause, breakers, capacity leases, zone budgets');

  group
    .command('show')
    .description('whether automation is paused, tripped breakers, held leases, and what each zone may take out now')
    .action(
      withApi(async (ctx) => {
        const g = await ctx.api.get<GuardsAnswer>('/v1/guards');
        if (ctx.json) return ctx.print.json(g);
        ctx.print.fields([
          ['Automation', g.paused ? `paused by ${g.paused.by} at ${cell(g.paused.at)}: ${g.paused.reason}` : 'running'],
        ]);
        ctx.print.line();
        ctx.print.table(
          ['ZONE', 'HOSTS', 'IN SERVICE', 'OUT', 'LEASES', 'MAY TAKE OUT', 'WHY'],
          g.zones.map((z) => [z.zone, z.hosts, z.inService, z.out, z.leases, z.mayTakeOutNow, z.why]),
          'no zones',
        );
        ctx.print.line();
        ctx.print.table(
          ['TRIPPED BREAKER', 'AT', 'REASON'],
          g.breakers.map((b) => [b.zone, b.trippedAt, b.reason]),
          'no tripped breakers',
        );
        ctx.print.line();
        ctx.print.table(
          ['LEASE HOST', 'ZONE', 'REMEDIATION', 'SINCE'],
          g.leases.map((l) => [l.host, l.zone, l.remediationId, l.acquiredAt]),
          'no capacity leases held',
        );
      }),
    );

  group
    .command('pause')
    .description('stop automation fleet-wide: no new remediation starts (role admin)')
    .option('--comment <text>', 'why, for the audit log')
    .action(
      withApi<{ comment?: string }>(async (ctx, _args, o) => {
        const answer = await ctx.api.post<unknown>('/v1/guards/pause', { comment: o.comment });
        if (ctx.json) return ctx.print.json(answer);
        ctx.print.line('automation paused');
      }),
    );

  group
    .command('resume')
    .description('let automation start remediations again (role admin)')
    .option('--comment <text>', 'why, for the audit log')
    .action(
      withApi<{ comment?: string }>(async (ctx, _args, o) => {
        const answer = await ctx.api.post<unknown>('/v1/guards/resume', { comment: o.comment });
        if (ctx.json) return ctx.print.json(answer);
        ctx.print.line('automation resumed');
      }),
    );

  group
    .command('reset-breaker <zone>')
    .description('reset the tripped circuit breaker of a zone (role admin)')
    .option('--comment <text>', 'why, for the audit log')
    .action(
      withApi<{ comment?: string }>(async (ctx, [zone], o) => {
        const answer = await ctx.api.post<unknown>(`/v1/guards/breakers/${segment(zone!)}/reset`, {
          comment: o.comment,
        });
        if (ctx.json) return ctx.print.json(answer);
        ctx.print.line(`breaker of ${zone} reset`);
      }),
    );

  group
    .command('release-lease <host>')
    .description('give back a capacity lease its workflow will not (role admin)')
    .requiredOption('--reason <text>', 'why, for the audit log (required)')
    .action(
      withApi<{ reason: string }>(async (ctx, [host], o) => {
        const answer = await ctx.api.post<{ zone: string; remediationId: string }>(
          `/v1/guards/leases/${segment(host!)}/release`,
          { reason: o.reason },
        );
        if (ctx.json) return ctx.print.json(answer);
        ctx.print.line(`lease of ${host} in ${answer.zone} (remediation ${answer.remediationId}) released`);
      }),
    );
}
