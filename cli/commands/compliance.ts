/**
 * `shipshape compliance`: findings with filters (a table, JSON, or CSV), a
 * host's compliance and history, the fleet score per profile; waivers
 * requested by an operator and approved, rejected or revoked by another
 * person; the profiles, and scans (start, wait, status, list).
 */
import type { Command } from 'commander';
import type { z } from 'zod';
import type {
  complianceProfileList,
  complianceProfileView,
  complianceScanList,
  complianceScanView,
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
import { SCAN_STATUSES } from '../../domain/compliance-scans';
import { collect, integerIn, withApi, type CommandContext } from '../context';
import { EXIT, ExitWith, UsageError } from '../errors';
import { cell as when, type Printer } from '../output';

type FindingView = z.infer<typeof findingView>;
type Waiver = z.infer<typeof waiverView>;
type Score = z.infer<typeof profileScore>;
type Scan = z.infer<typeof complianceScanView>;
type Profile = z.infer<typeof complianceProfileView>;

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

const scheduleOf = (s: Profile['schedule']) =>
  s === null ? '-' : 'cron' in s ? `cron ${s.cron}` : `every ${s.everyMinutes} min`;
const countsOf = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '-';

/** Most severe first, as an operator reads them. */
const severities = (counts: Record<string, number>) =>
  countsOf(Object.fromEntries([...RULE_SEVERITIES].reverse().map((s) => [s, counts[s] ?? 0])));

function registerProfiles(group: Command): void {
  group
    .command('profiles [name]')
    .description('the compliance profiles (with a name: that profile and its rules)')
    .action(
      withApi(async (ctx, [name]) => {
        if (name) {
          const p = await ctx.api.get<Profile>(`/v1/compliance/profiles/${segment(name)}`);
          if (ctx.json) return ctx.print.json(p);
          ctx.print.fields([
            ['Profile', `${p.name} ${p.version} (${p.digest})`],
            ['File', p.file],
            ['Description', p.description],
            ['Scope', Object.keys(p.scope).length ? p.scope : 'every host'],
            ['Schedule', scheduleOf(p.schedule)],
            ['Next run', p.nextRunAt ?? undefined],
            [
              'Rules',
              `${p.ruleCounts.total}: ${countsOf(p.ruleCounts.byKind)}; ${severities(p.ruleCounts.bySeverity)}`,
            ],
          ]);
          ctx.print.line();
          ctx.print.table(
            ['RULE', 'SEVERITY', 'KIND', 'CHECK', 'FIX', 'TITLE'],
            p.rules.map((r) => [
              r.id,
              r.severity,
              r.kind,
              r.check,
              r.fix ? `${r.fix.action ?? r.fix.how}, ${r.fix.disruption}${r.fix.drain ? ', drain' : ''}` : '-',
              r.title,
            ]),
            'no rules',
          );
          return;
        }
        const list = await ctx.api.get<z.infer<typeof complianceProfileList>>('/v1/compliance/profiles');
        if (ctx.json) return ctx.print.json(list);
        ctx.print.table(
          ['PROFILE', 'VERSION', 'DIGEST', 'RULES', 'SCHEDULE', 'NEXT RUN', 'BY SEVERITY'],
          list.profiles.map((p) => [
            p.name,
            p.version,
            p.digest,
            p.ruleCounts.total,
            scheduleOf(p.schedule),
            p.nextRunAt,
            severities(p.ruleCounts.bySeverity),
          ]),
          'no profiles',
        );
      }),
    );
}

function showScan(print: Printer, s: Scan): void {
  print.fields([
    ['Scan', s.scanId],
    ['Status', s.status],
    ['Requested by', s.requestedBy ?? undefined],
    ['Profiles', s.profiles ?? 'every profile'],
    ['Hosts', s.hosts ?? 'every host'],
    ['Started', s.startedAt],
    ['Closed', s.closedAt ?? undefined],
    ['Error', s.error ?? undefined],
  ]);
  const m = s.summary;
  if (!m) return;
  print.fields([
    ['Hosts scanned', `${m.scanned} of ${m.hosts}`],
    ['Results', countsOf(m.results)],
    ['Unknown hosts', m.unknown.length ? m.unknown : undefined],
  ]);
  for (const [what, list] of [
    ['not read over SSH', m.unreachable],
    ['not scanned', m.failed],
  ] as const)
    if (list.length) {
      print.line();
      print.table(
        ['HOST', what.toUpperCase()],
        list.map((h) => [h.host, h.error]),
      );
    }
}

/** Ask for the scan until it is no longer running (or the time is up). */
async function waitForScan(ctx: CommandContext, scanId: string, timeoutSeconds: number): Promise<Scan> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const scan = await ctx.api.get<Scan>(`/v1/compliance/scans/${segment(scanId)}`);
    if (scan.status !== 'running') return scan;
    if (Date.now() > deadline) {
      ctx.print.note(
        `scan ${scanId} still running after ${timeoutSeconds} s: shipshape compliance scan status ${scanId}`,
      );
      throw new ExitWith(EXIT.failed);
    }
    await new Promise((ok) => setTimeout(ok, 1000));
  }
}

function registerScan(group: Command): void {
  const scan = group.command('scan').description('compliance scans: start one, follow it, list recent ones');

  scan
    .command('start')
    .description('scan hosts against profiles (role operator); every host and every profile when none named')
    .option('--host <host>', 'a host to scan (repeatable)', collect)
    .option('--profile <profile>', 'a profile to scan against (repeatable)', collect)
    .option('--wait', 'wait until the scan ends and print its summary (exit 1 when it did not complete)')
    .option('--timeout <seconds>', 'with --wait: how long to wait (default 600)', integerIn(1, 86_400))
    .action(
      withApi<{ host?: string[]; profile?: string[]; wait?: boolean; timeout?: number }>(async (ctx, _args, o) => {
        if (o.timeout !== undefined && !o.wait) throw new UsageError('--timeout goes with --wait');
        const started = await ctx.api.post<{ scanId: string }>('/v1/compliance/scans', {
          ...(o.host ? { hosts: o.host } : {}),
          ...(o.profile ? { profiles: o.profile } : {}),
        });
        if (!o.wait) {
          if (ctx.json) return ctx.print.json(started);
          ctx.print.line(`scan ${started.scanId} started: shipshape compliance scan status ${started.scanId}`);
          return;
        }
        const done = await waitForScan(ctx, started.scanId, o.timeout ?? 600);
        if (ctx.json) ctx.print.json(done);
        else showScan(ctx.print, done);
        if (done.status !== 'completed') throw new ExitWith(EXIT.failed);
      }),
    );

  scan
    .command('status <id>')
    .description("a scan's status, who asked for it, and its summary once completed")
    .action(
      withApi(async (ctx, [id]) => {
        const s = await ctx.api.get<Scan>(`/v1/compliance/scans/${segment(id!)}`);
        if (ctx.json) return ctx.print.json(s);
        showScan(ctx.print, s);
      }),
    );

  scan
    .command('list')
    .description('recent scans, newest first, on demand and scheduled')
    .option('--status <statuses>', `comma-separated: ${SCAN_STATUSES.join(', ')}`)
    .option('--profile <profile>', 'only scans that covered this profile')
    .option('--limit <n>', 'scans per page (1-500)', integerIn(1, 500))
    .option('--after <cursor>', 'the previous page’s next')
    .action(
      withApi<{ status?: string; profile?: string; limit?: number; after?: string }>(async (ctx, _args, o) => {
        const page = await ctx.api.get<z.infer<typeof complianceScanList>>('/v1/compliance/scans', {
          status: statesOf(o.status, SCAN_STATUSES, '--status'),
          profile: o.profile,
          limit: o.limit,
          after: o.after,
        });
        if (ctx.json) return ctx.print.json(page);
        ctx.print.table(
          ['SCAN', 'STATUS', 'REQUESTED BY', 'PROFILES', 'HOSTS', 'STARTED', 'CLOSED', 'RESULTS'],
          page.scans.map((s) => [
            s.scanId,
            s.status,
            s.requestedBy,
            s.profiles ?? 'all',
            s.hosts ? s.hosts.length : 'all',
            s.startedAt,
            s.closedAt,
            s.summary ? countsOf(s.summary.results) : s.error,
          ]),
          'no scans',
        );
        if (page.next) ctx.print.note(`more scans after this page: --after ${page.next}`);
      }),
    );
}

export function registerCompliance(program: Command): void {
  const group = program
    .command('compliance')
    .description('compliance profiles and scans, findings per host and rule, the fleet score, and waivers');

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

  registerProfiles(group);
  registerScan(group);
  registerWaiver(group);
}
