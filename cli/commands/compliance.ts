/**
 * `shipshape compliance`: findings with filters (a table, JSON, or CSV), a
 * host's compliance and history, the fleet score per profile; waivers
 * requested by an operator and approved, rejected or revoked by another person.
 */
import type { Command } from 'commander';
import type { z } from 'zod';
import type {
  complianceScore,
  findingHistoryView,
  findingList,
  findingView,
  hostComplianceView,
  profileScore,
  waiverView,
} from '../../api/schemas';
import {
  FINDING_CSV_COLUMNS,
  FINDING_STATES,
  RULE_SEVERITIES,
  WAIVER_STATES,
  findingCsvRow,
} from '../../domain/compliance-findings';
import { segment } from '../client';
import { integerIn, withApi } from '../context';
import { UsageError } from '../errors';
import { cell as when, type Printer } from '../output';

type FindingView = z.infer<typeof findingView>;
type Waiver = z.infer<typeof waiverView>;
type Score = z.infer<typeof profileScore>;

const percent = (s: number | null) => (s === null ? '-' : `${(s * 100).toFixed(1)}%`);

function showFindings(print: Printer, findings: FindingView[]): void {
  print.table(
    ['HOST', 'PROFILE', 'RULE', 'STATE', 'SEVERITY', 'OBSERVED', 'EXPECTED', 'LAST CHANGED'],
    findings.map((f) => [
      f.host,
      f.profile,
      f.ruleId,
      f.state === 'waived' || f.state === 'fix-pending' ? `${f.state} (${f.resultState})` : f.state,
      f.severity,
      f.observed,
      f.expected,
      f.lastChanged,
    ]),
    'no findings',
  );
}

function showScores(print: Printer, scores: Score[]): void {
  print.table(
    ['PROFILE', 'HOSTS', 'SCORE', 'PASSED', 'APPLICABLE', 'FAIL', 'ERROR', 'FIX PENDING', 'WAIVED', 'N/A'],
    scores.map((s) => [
      s.profile,
      s.hosts,
      percent(s.score),
      s.passed,
      s.applicable,
      s.counts.fail,
      s.counts.error,
      s.counts['fix-pending'],
      s.waived,
      s.counts['not-applicable'],
    ]),
    'no findings yet',
  );
}

function showWaiver(print: Printer, w: Waiver): void {
  print.fields([
    ['Waiver', w.id],
    ['State', w.expired ? `${w.state} (expired)` : w.state],
    ['Scope', `host ${w.host}, profile ${w.profile}, rule ${w.rule}`],
    ['Reason', w.reason],
    ['Risk accepted', w.riskAcceptance],
    ['Requested', `${w.requestedBy} at ${when(w.requestedAt)}`],
    ['Approved', w.approvedBy ? `${w.approvedBy} at ${when(w.approvedAt)}` : undefined],
    ['Rejected', w.rejectedBy ? `${w.rejectedBy} at ${when(w.rejectedAt)}` : undefined],
    ['Revoked', w.revokedBy ? `${w.revokedBy} at ${when(w.revokedAt)}` : undefined],
    ['Comment', w.decisionComment ?? undefined],
    ['Expires', w.expiresAt],
    ['Waiving', `${w.waiving} finding(s)`],
  ]);
}

/** `--state fail,error` as the API takes it, each state checked. */
function statesOf(value: string | undefined, choices: readonly string[], option: string): string | undefined {
  if (value === undefined) return undefined;
  for (const s of value.split(',').map((x) => x.trim()))
    if (!choices.includes(s)) throw new UsageError(`${option} "${s}": must be one of ${choices.join(', ')}`);
  return value;
}

interface FindingOptions {
  host?: string;
  profile?: string;
  rule?: string;
  state?: string;
  severity?: string;
  limit?: number;
  after?: string;
  all?: boolean;
  csv?: boolean;
}

function registerWaiver(group: Command): void {
  const waiver = group.command('waiver').description('waivers: a failing rule accepted for a while, by four eyes');

  waiver
    .command('request')
    .description('ask for a waiver (role operator); another person approves it')
    .requiredOption('--host <host>', 'a host id, or * for every host')
    .requiredOption('--profile <profile>', 'the profile')
    .requiredOption('--rule <rule>', 'a rule id, a prefix ending in * (os.ssh-*), or * for every rule')
    .requiredOption('--reason <text>', 'why the rule is waived')
    .requiredOption('--risk <text>', 'the risk accepted and how it is limited')
    .requiredOption('--expires <time>', 'an ISO 8601 time, at most 365 days ahead')
    .action(
      withApi<{ host: string; profile: string; rule: string; reason: string; risk: string; expires: string }>(
        async (ctx, _args, o) => {
          const w = await ctx.api.post<Waiver>('/v1/compliance/waivers', {
            host: o.host,
            profile: o.profile,
            rule: o.rule,
            reason: o.reason,
            riskAcceptance: o.risk,
            expiresAt: o.expires,
          });
          if (ctx.json) return ctx.print.json(w);
          ctx.print.line(`waiver ${w.id} requested by ${w.requestedBy}: another approver must approve it`);
        },
      ),
    );

  for (const [action, what, needs] of [
    ['approve', 'approve a requested waiver (role approver; not its requester)', false],
    ['reject', 'refuse a requested waiver (role approver)', true],
    ['revoke', 'end a waiver: its findings show their result again (role approver)', true],
  ] as const) {
    const c = waiver.command(`${action} <id>`).description(what);
    if (needs) c.requiredOption('--comment <text>', 'why (required)');
    else c.option('--comment <text>', 'a note for the audit log');
    c.action(
      withApi<{ comment?: string }>(async (ctx, [id], o) => {
        const w = await ctx.api.post<Waiver & { changed: number }>(`/v1/compliance/waivers/${segment(id!)}/${action}`, {
          comment: o.comment,
        });
        if (ctx.json) return ctx.print.json(w);
        ctx.print.line(`waiver ${w.id} ${w.state}; ${w.changed} finding(s) changed, ${w.waiving} waived by it now`);
      }),
    );
  }

  waiver
    .command('list')
    .description('waivers, newest request first')
    .option('--state <states>', `comma-separated: ${WAIVER_STATES.join(', ')}`)
    .option('--host <host>', 'only waivers for this host (or *)')
    .option('--profile <profile>', 'only this profile')
    .action(
      withApi<{ state?: string; host?: string; profile?: string }>(async (ctx, _args, o) => {
        const body = await ctx.api.get<{ waivers: Waiver[] }>('/v1/compliance/waivers', {
          state: statesOf(o.state, WAIVER_STATES, '--state'),
          host: o.host,
          profile: o.profile,
        });
        if (ctx.json) return ctx.print.json(body);
        ctx.print.table(
          ['ID', 'STATE', 'HOST', 'PROFILE', 'RULE', 'REQUESTED BY', 'APPROVED BY', 'EXPIRES', 'WAIVING'],
          body.waivers.map((w) => [
            w.id,
            w.expired ? `${w.state} (expired)` : w.state,
            w.host,
            w.profile,
            w.rule,
            w.requestedBy,
            w.approvedBy,
            w.expiresAt,
            w.waiving,
          ]),
          'no waivers',
        );
      }),
    );

  waiver
    .command('show <id>')
    .description('one waiver')
    .action(
      withApi(async (ctx, [id]) => {
        const w = await ctx.api.get<Waiver>(`/v1/compliance/waivers/${segment(id!)}`);
        if (ctx.json) return ctx.print.json(w);
        showWaiver(ctx.print, w);
      }),
    );
}

export function registerCompliance(program: Command): void {
  const group = program
    .command('compliance')
    .description('compliance findings per host and rule, the fleet score, and waivers');

  group
    .command('findings')
    .description('findings by host, profile and rule (--all follows every page; --csv prints CSV)')
    .option('--host <host>', 'only this host')
    .option('--profile <profile>', 'only this profile')
    .option('--rule <rule>', 'only this rule id')
    .option('--state <states>', `comma-separated: ${FINDING_STATES.join(', ')}`)
    .option('--severity <severities>', `comma-separated: ${RULE_SEVERITIES.join(', ')}`)
    .option('--limit <n>', 'findings per page (1-1000)', integerIn(1, 1000))
    .option('--after <cursor>', 'the previous page’s next')
    .option('--all', 'follow every page')
    .option('--csv', 'print CSV with a header row (the columns of the API’s format=csv)')
    .action(
      withApi<FindingOptions>(async (ctx, _args, o) => {
        if (o.csv && ctx.json) throw new UsageError('--csv and --json: give one of them');
        const query = {
          host: o.host,
          profile: o.profile,
          rule: o.rule,
          state: statesOf(o.state, FINDING_STATES, '--state'),
          severity: statesOf(o.severity, RULE_SEVERITIES, '--severity'),
          limit: o.limit,
        };
        type List = z.infer<typeof findingList>;
        let page = await ctx.api.get<List>('/v1/compliance/findings', { ...query, after: o.after });
        const findings = [...page.findings];
        while (o.all && page.next) {
          page = await ctx.api.get<List>('/v1/compliance/findings', { ...query, after: page.next });
          findings.push(...page.findings);
        }
        if (o.csv) {
          ctx.print.line(FINDING_CSV_COLUMNS.join(','));
          for (const f of findings)
            ctx.print.line(
              findingCsvRow({
                ...f,
                firstSeen: new Date(f.firstSeen),
                lastSeen: new Date(f.lastSeen),
                lastChanged: new Date(f.lastChanged),
              }),
            );
        } else if (ctx.json) return ctx.print.json({ findings, next: page.next });
        else showFindings(ctx.print, findings);
        if (page.next) ctx.print.note(`more findings after this page: pass --all, or --after ${page.next}`);
      }),
    );

  group
    .command('host <id>')
    .description("a host's compliance: its score per profile and every finding (--history: its changes)")
    .option('--history', 'the history of its findings instead, oldest first')
    .option('--profile <profile>', 'with --history: only this profile')
    .option('--rule <rule>', 'with --history: only this rule')
    .action(
      withApi<{ history?: boolean; profile?: string; rule?: string }>(async (ctx, [id], o) => {
        if (o.history) {
          const h = await ctx.api.get<z.infer<typeof findingHistoryView>>(
            `/v1/compliance/hosts/${segment(id!)}/history`,
            { profile: o.profile, rule: o.rule },
          );
          if (ctx.json) return ctx.print.json(h);
          ctx.print.table(
            ['AT', 'PROFILE', 'RULE', 'FROM', 'TO', 'RESULT', 'REASON'],
            h.entries.map((e) => [e.at, e.profile, e.ruleId, e.from, e.to, e.resultState, e.reason]),
            'no history',
          );
          return;
        }
        if (o.profile || o.rule) throw new UsageError('--profile and --rule go with --history');
        const c = await ctx.api.get<z.infer<typeof hostComplianceView>>(`/v1/compliance/hosts/${segment(id!)}`);
        if (ctx.json) return ctx.print.json(c);
        showScores(ctx.print, c.profiles);
        ctx.print.line();
        showFindings(ctx.print, c.findings);
      }),
    );

  group
    .command('score')
    .description('the fleet score per profile: passed / applicable; waived counted apart')
    .action(
      withApi(async (ctx) => {
        const s = await ctx.api.get<z.infer<typeof complianceScore>>('/v1/compliance/score');
        if (ctx.json) return ctx.print.json(s);
        showScores(ctx.print, s.profiles);
      }),
    );

  registerWaiver(group);
}
