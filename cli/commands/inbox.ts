/**
 * `shipshape inbox` and `shipshape silence`: what needs a person (and what
 * automation is handling), an item's page, the actions a person takes on an
 * item, the noise report; silences by label matchers.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { z } from 'zod';
import type { inboxItemPage, inboxItemView, inboxList, noiseReportView, silenceView } from '../../api/schemas';
import { INBOX_STATES } from '../../domain/inbox';
import { SEVERITIES } from '../../domain/types';
import { segment } from '../client';
import { collect, integerIn, withApi, type CommandContext } from '../context';
import { UsageError } from '../errors';
import { cell as when, type Printer } from '../output';

type Item = z.infer<typeof inboxItemView>;
type ItemPage = z.infer<typeof inboxItemPage>;
type ItemList = z.infer<typeof inboxList>;
type Silence = z.infer<typeof silenceView>;
type Noise = z.infer<typeof noiseReportView>;

/** `2h`, `30m`, `1d` in milliseconds; a usage error naming the option otherwise. */
function duration(text: string, option: string): number {
  const m = /^(\d+)(m|h|d)$/.exec(text);
  if (!m) throw new UsageError(`${option} "${text}": must be a duration such as 30m, 2h or 1d`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

/** A repeatable option whose values must be among `choices`. */
function collectChoice(choices: readonly string[]): (value: string, previous?: string[]) => string[] {
  return (value, previous = []) => {
    if (!choices.includes(value)) throw new InvalidArgumentError(`must be one of ${choices.join(', ')}`);
    return [...previous, value];
  };
}

/** Who has the item: its assignee, else who acknowledged it, else the remediation at work. */
function owner(i: Item): string | null {
  if (i.assignee) return i.assignee.to;
  if (i.acknowledged) return i.acknowledged.by;
  if (i.remediationId) return `${i.remediationId} (${i.remediationPhase ?? '-'})`;
  return null;
}

/** "automation is handling 37; acknowledged 2; …": the states not listed, so a person knows what else there is. */
function countsLine(counts: ItemList['counts']): string {
  const phrase: Record<string, string> = {
    'needs-person': counts['needs-person'] === 1 ? 'needs a person' : 'need a person',
    automation: 'automation is handling',
    acknowledged: 'acknowledged',
    snoozed: 'snoozed',
    silenced: 'silenced',
    resolved: 'resolved',
  };
  return INBOX_STATES.map((s) =>
    s === 'automation' ? `${phrase[s]} ${counts[s] ?? 0}` : `${counts[s] ?? 0} ${phrase[s]}`,
  ).join('; ');
}

function showItem(print: Printer, p: ItemPage): void {
  const i = p.item;
  print.fields([
    ['Item', i.id],
    ['Title', i.title],
    ['State', `${i.state} since ${when(i.stateSince)}`],
    ['Why', i.stateReason],
    ['Merged into', p.mergedInto ?? undefined],
    ['Severity', i.severity],
    ['Source', `${i.source} ${i.name}`],
    i.kind === 'topology'
      ? ['Hosts', [...new Set(p.alerts.map((a) => a.resource))].sort().join(', ')]
      : [
          'Host',
          p.host ? `${p.host.id} (${p.host.zone}, ${p.host.poolState}, ${p.host.health})` : (i.host ?? undefined),
        ],
    ['Topology', i.topology ? `${i.topology.label}=${i.topology.value}` : undefined],
    ['Firing', i.firing ? 'yes' : `no, resolved ${when(i.resolvedAt)}`],
    ['First seen', i.firstSeen],
    ['Last seen', i.lastSeen],
    ['Alerts received', i.alertsReceived],
    [
      'Flapping',
      i.flapping ? `since ${when(i.flapping.since)} (${i.flapping.percent ?? '-'}% state change)` : undefined,
    ],
    ['Assignee', i.assignee ? `${i.assignee.to} (by ${i.assignee.by ?? '-'} at ${when(i.assignee.at)})` : undefined],
    ['Acknowledged', i.acknowledged ? `by ${i.acknowledged.by} at ${when(i.acknowledged.at)}` : undefined],
    [
      'Snooze',
      i.snooze
        ? `by ${i.snooze.by ?? '-'}${i.snooze.until ? ` until ${when(i.snooze.until)}` : ''}${i.snooze.untilChange ? ' until it changes' : ''}`
        : undefined,
    ],
    ['Silence', i.silenceId ?? undefined],
    ['Resolution', i.resolution ? `${i.resolution.by}: ${i.resolution.note ?? '-'}` : undefined],
    [
      'Remediation',
      p.remediation
        ? `${p.remediation.id}, ${p.remediation.phase} (policy ${p.remediation.policy})${remediationWait(p.remediation)}`
        : undefined,
    ],
  ]);
  print.line();
  print.table(
    ['ALERT', 'RESOURCE', 'STATUS', 'RECEIVED', 'LAST SEEN', 'FLAPPING'],
    p.alerts.map((a) => [a.name, a.resource, a.status, a.received, a.lastSeen, a.flapping ? `${a.flapPercent}%` : '']),
    'no alerts',
  );
  print.line();
  print.table(
    ['AT', 'BY', 'HISTORY'],
    p.history.map((h) => [h.at, h.actor, h.entry]),
    'no history',
  );
  if (p.deliveries.length) {
    print.line();
    print.table(
      ['NOTIFIED', 'KIND', 'STATUS', 'ATTEMPTS', 'ERROR'],
      p.deliveries.map((d) => [d.receiver, d.kind, d.status, d.attempts, d.lastError]),
    );
  }
}

function remediationWait(r: NonNullable<ItemPage['remediation']>): string {
  if (r.pendingApproval) return `; awaits approval until ${when(r.pendingApproval.deadline)}`;
  if (r.handOff) return `; handed off: ${r.handOff.reason}`;
  if (r.waitingFor?.length) return `; waiting for ${r.waitingFor.map((w) => w.guard).join(', ')}`;
  return '';
}

/** Take an action on an item and say where it stands now. */
async function act(ctx: CommandContext, id: string, action: string, body: Record<string, unknown>): Promise<void> {
  const item = await ctx.api.post<Item>(`/v1/inbox/${segment(id)}/${action}`, body);
  if (ctx.json) return ctx.print.json(item);
  ctx.print.line(`${action}: ${item.id} is now ${item.state}: ${item.stateReason}`);
}

interface ListOptions {
  state?: string[];
  severity?: string[];
  host?: string;
  assignee?: string;
  q?: string;
  all?: boolean;
  limit?: number;
  after?: string;
}

export function registerInbox(program: Command): void {
  const group = program.command('inbox').description('alerts grouped into items: what needs a person, and actions');

  group
    .command('list')
    .description('items that need a person, most severe and newest first (--state or --all for others)')
    .addOption(
      new Option('--state <state>', 'only this state (repeatable)')
        .choices(INBOX_STATES)
        .argParser(collectChoice(INBOX_STATES)),
    )
    .addOption(
      new Option('--severity <severity>', 'only this severity (repeatable)')
        .choices(SEVERITIES)
        .argParser(collectChoice(SEVERITIES)),
    )
    .option('--host <host>', 'only items of this host')
    .option('--assignee <who>', 'only items assigned to this person')
    .option('-q, --q <text>', 'only items whose title holds this text')
    .option('--all', 'items in every state, resolved ones included')
    .option('--limit <n>', 'items per page (1-500)', integerIn(1, 500))
    .option('--after <next>', 'the page after this one (the previous page’s next)')
    .action(
      withApi<ListOptions>(async (ctx, _args, o) => {
        if (o.all && o.state) throw new UsageError('--all and --state: give one of them');
        const body = await ctx.api.get<ItemList>('/v1/inbox', {
          state: o.all ? 'all' : o.state?.join(','),
          severity: o.severity?.join(','),
          host: o.host,
          assignee: o.assignee,
          q: o.q,
          limit: o.limit,
          after: o.after,
        });
        if (ctx.json) return ctx.print.json(body);
        ctx.print.table(
          ['ID', 'STATE', 'SEVERITY', 'TITLE', 'HOST', 'OWNER', 'LAST SEEN', 'WHY'],
          body.items.map((i) => [i.id, i.state, i.severity, i.title, i.host, owner(i), i.lastSeen, i.stateReason]),
          o.all || o.state ? 'nothing here' : 'nothing needs a person',
        );
        ctx.print.line();
        ctx.print.line(countsLine(body.counts));
        if (body.next) ctx.print.note(`more items: pass --after ${body.next}`);
      }),
    );

  group
    .command('show <id>')
    .description('one item: why it is in its state, its alerts, host, remediation, history and notifications')
    .action(
      withApi(async (ctx, [id]) => {
        const page = await ctx.api.get<ItemPage>(`/v1/inbox/${segment(id!)}`);
        if (ctx.json) return ctx.print.json(page);
        showItem(ctx.print, page);
      }),
    );

  group
    .command('ack <id>')
    .description('acknowledge an item: you are on it (role operator)')
    .option('--comment <text>', 'why, for the audit log and the item’s history')
    .action(withApi<{ comment?: string }>((ctx, [id], o) => act(ctx, id!, 'acknowledge', { comment: o.comment })));

  group
    .command('assign <id> <who>')
    .description('make someone the item’s owner (role operator)')
    .option('--comment <text>', 'why')
    .action(
      withApi<{ comment?: string }>((ctx, [id, who], o) => act(ctx, id!, 'assign', { to: who, comment: o.comment })),
    );

  group
    .command('unassign <id>')
    .description('take the item’s owner away (role operator)')
    .option('--comment <text>', 'why')
    .action(withApi<{ comment?: string }>((ctx, [id], o) => act(ctx, id!, 'assign', { to: null, comment: o.comment })));

  group
    .command('snooze <id>')
    .description('hide an item until a time, for a while, or until it changes (role operator)')
    .option('--until <time>', 'until this ISO 8601 time (at most 30 days ahead)')
    .option('--for <duration>', 'for this long: 30m, 2h, 1d')
    .option('--until-change', 'until an alert of the item arrives or changes state')
    .option('--comment <text>', 'why')
    .action(
      withApi<{ until?: string; for?: string; untilChange?: boolean; comment?: string }>((ctx, [id], o) => {
        if (o.until && o.for) throw new UsageError('--until and --for: give one of them');
        if (!o.until && !o.for && !o.untilChange)
          throw new UsageError('give --until <time>, --for <duration> or --until-change');
        const until = o.for ? new Date(Date.now() + duration(o.for, '--for')).toISOString() : o.until;
        return act(ctx, id!, 'snooze', { until, untilChange: o.untilChange, comment: o.comment });
      }),
    );

  group
    .command('resolve <id>')
    .description('close an item with a note on what was done (role operator)')
    .requiredOption('--note <text>', 'how it was resolved (required)')
    .action(withApi<{ note: string }>((ctx, [id], o) => act(ctx, id!, 'resolve', { note: o.note })));

  group
    .command('reopen <id>')
    .description('open a resolved item again (role operator)')
    .option('--comment <text>', 'why')
    .action(withApi<{ comment?: string }>((ctx, [id], o) => act(ctx, id!, 'reopen', { comment: o.comment })));

  group
    .command('noise')
    .description('which alert rules make the most items, how many automation closed, which flap')
    .option('--days <n>', 'items first seen in the last n days (1-90, default 7)', integerIn(1, 90))
    .action(
      withApi<{ days?: number }>(async (ctx, _args, o) => {
        const r = await ctx.api.get<Noise>('/v1/inbox/noise', { days: o.days });
        if (ctx.json) return ctx.print.json(r);
        const share = (s: number | null) => (s === null ? '-' : `${Math.round(s * 100)}%`);
        ctx.print.table(
          [
            'SOURCE',
            'ALERT',
            'ITEMS',
            'OPEN',
            'BY AUTOMATION',
            'BY PERSON',
            'BY SOURCE',
            'AUTOMATION SHARE',
            'FLAPPING',
          ],
          r.rules.map((x) => [
            x.source,
            x.name,
            x.items,
            x.open,
            x.closedByAutomation,
            x.closedByPerson,
            x.closedBySource,
            share(x.automationShare),
            x.flapping,
          ]),
          `no items in the last ${r.days} days`,
        );
        ctx.print.line();
        ctx.print.line(
          `${r.totals.items} items since ${when(r.since)}; automation closed ${share(r.totals.automationShare)} of those closed; ${r.totals.flapping} flapping`,
        );
      }),
    );

  registerSilence(program);
}

function showSilences(print: Printer, silences: Silence[]): void {
  print.table(
    ['ID', 'MATCHERS', 'STARTS', 'ENDS', 'BY', 'SILENCING', 'STATUS', 'COMMENT'],
    silences.map((s) => [
      s.id,
      s.matchers.join(' '),
      s.startsAt,
      s.endsAt,
      s.createdBy,
      s.silencing,
      s.active ? 'active' : s.endedAt ? `ended ${when(s.endedAt)}${s.endedBy ? ` (${s.endedBy})` : ''}` : 'pending',
      s.comment,
    ]),
    'no silences',
  );
}

function registerSilence(program: Command): void {
  const group = program.command('silence').description('silence alerts by label matchers, for a while');

  group
    .command('list')
    .description('silences not over yet (--all: ended ones too)')
    .option('--all', 'ended silences too')
    .action(
      withApi<{ all?: boolean }>(async (ctx, _args, o) => {
        const body = await ctx.api.get<{ silences: Silence[] }>('/v1/silences', { active: o.all ? 'all' : undefined });
        if (ctx.json) return ctx.print.json(body);
        showSilences(ctx.print, body.silences);
      }),
    );

  group
    .command('add')
    .description('silence alerts whose labels match every --matcher (role operator)')
    .requiredOption('--matcher <matcher>', 'a label matcher: alertname="X", rack=~"r7|r8" (repeatable)', collect)
    .option('--for <duration>', 'for this long: 30m, 2h, 1d')
    .option('--until <time>', 'until this ISO 8601 time')
    .option('--starts <time>', 'from this ISO 8601 time (default now)')
    .requiredOption('--comment <text>', 'why (required)')
    .option('--end-on-resolve', 'end the silence once an alert it silenced resolves')
    .action(
      withApi<{
        matcher: string[];
        for?: string;
        until?: string;
        starts?: string;
        comment: string;
        endOnResolve?: boolean;
      }>(async (ctx, _args, o) => {
        if (o.for && o.until) throw new UsageError('--for and --until: give one of them');
        if (!o.for && !o.until) throw new UsageError('give --for <duration> or --until <time>');
        if (o.for) duration(o.for, '--for');
        const s = await ctx.api.post<Silence>('/v1/silences', {
          matchers: o.matcher,
          startsAt: o.starts,
          endsAt: o.until,
          duration: o.for,
          comment: o.comment,
          endOnResolve: o.endOnResolve,
        });
        if (ctx.json) return ctx.print.json(s);
        ctx.print.line(`silence ${s.id}: ${s.matchers.join(' ')} until ${when(s.endsAt)}`);
      }),
    );

  group
    .command('expire <id>')
    .description('end a silence now (role operator)')
    .option('--comment <text>', 'why, for the audit log')
    .action(
      withApi<{ comment?: string }>(async (ctx, [id], o) => {
        const s = await ctx.api.post<Silence>(`/v1/silences/${segment(id!)}/expire`, { comment: o.comment });
        if (ctx.json) return ctx.print.json(s);
        ctx.print.line(`silence ${s.id} ended at ${when(s.endedAt)}`);
      }),
    );
}
