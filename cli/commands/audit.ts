/** `shipshape audit`: the audit log, and whether its hash chain is intact. */
import type { Command } from 'commander';
import type { z } from 'zod';
import type { auditEntry } from '../../api/schemas';
import { integerIn, withApi } from '../context';
import { ExitWith, UsageError, EXIT } from '../errors';

interface ChainReport {
  ok: boolean;
  checked: number;
  head: { seq: number; hash: string } | null;
  firstBreak: { seq: number; problem: string; message: string } | null;
}

/** `--since` as the API takes it (ISO 8601), from an ISO time or a duration back from now (15m, 6h, 7d). */
export function sinceAsIso(value: string | undefined, now = Date.now()): string | undefined {
  if (value === undefined) return undefined;
  const ago = /^(\d+)(s|m|h|d)$/.exec(value);
  if (ago)
    return new Date(now - Number(ago[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[ago[2] as 's']! * 1000).toISOString();
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(new Date(value).getTime()))
    throw new UsageError(`--since "${value}": must be an ISO 8601 time or a duration such as 15m, 6h, 7d`);
  return value;
}

export function registerAudit(program: Command): void {
  const group = program.command('audit').description('the audit log of every action, by people and by automation');

  group
    .command('list')
    .description('audit entries, newest first')
    .option('--host <host>', 'only this host')
    .option('--remediation <id>', 'only this remediation')
    .option('--since <time>', 'an ISO 8601 time or a duration back from now (15m, 6h, 7d)')
    .option('--limit <n>', 'at most this many (1-1000)', integerIn(1, 1000))
    .action(
      withApi<{ host?: string; remediation?: string; since?: string; limit?: number }>(async (ctx, _args, o) => {
        const body = await ctx.api.get<{ entries: Array<z.infer<typeof auditEntry>> }>('/v1/audit-log', {
          host: o.host,
          remediationId: o.remediation,
          since: sinceAsIso(o.since),
          limit: o.limit,
        });
        if (ctx.json) return ctx.print.json(body);
        ctx.print.table(
          ['SEQ', 'AT', 'ACTOR', 'ACTION', 'HOST', 'REMEDIATION', 'REASON'],
          body.entries.map((e) => [
            e.seq,
            e.at,
            `${e.actorKind}:${e.actor}`,
            e.action,
            e.host,
            e.remediationId,
            e.reason,
          ]),
          'no audit entries',
        );
      }),
    );

  group
    .command('verify')
    .description('walk the hash chain; exits 1 when a row was edited, deleted or inserted')
    .action(
      withApi(async (ctx) => {
        const r = await ctx.api.get<ChainReport>('/v1/audit-log/verify');
        if (ctx.json) ctx.print.json(r);
        else if (r.ok)
          ctx.print.line(
            `audit chain intact: ${r.checked} rows checked${r.head ? `; head seq ${r.head.seq}, hash ${r.head.hash}` : ''}`,
          );
        else
          ctx.print.line(
            `audit chain BROKEN at seq ${r.firstBreak?.seq} (${r.firstBreak?.problem}): ${r.firstBreak?.message}; ${r.checked} rows checked`,
          );
        if (!r.ok) throw new ExitWith(EXIT.failed);
      }),
    );
}
