/**
 * `shipshape hosts` (alias `host`) and `shipshape fleet`: the inventory, one host's reading, its telemetry, a
 * read on demand, and its pinned SSH key replaced or forgotten after a rebuild.
 */
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import type { fleetSummary, hostDetail, hostList, sshHostKeyChanged, telemetryView } from '../../api/schemas';
import { METRICS } from '../../domain/telemetry';
import { HEALTH_STATES, POOL_STATES, ROLES } from '../../domain/types';
import { segment } from '../client';
import { integerIn, withApi } from '../context';
import { cell, type Printer } from '../output';

type HostList = z.infer<typeof hostList>;
type HostDetail = z.infer<typeof hostDetail>;

const bmcState = (reachable: boolean | null) =>
  reachable === null ? 'not read yet' : reachable ? 'reachable' : 'unreachable';
const used = (u: { used: number; total: number }) => `${u.used}/${u.total}`;

function showHost(print: Printer, h: HostDetail): void {
  print.fields([
    ['Host', h.id],
    ['Zone', h.zone],
    ['Roles', h.roles],
    [
      'Labels',
      Object.keys(h.labels).length
        ? Object.entries(h.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')
        : undefined,
    ],
    [
      'SSH host key',
      h.sshHostKey ? `${h.sshHostKey.fingerprint} (${h.sshHostKey.keyType}, ${h.sshHostKey.source})` : undefined,
    ],
    ['Pool state', h.poolState],
    ['Health', h.healthReasons.length ? `${h.health}: ${h.healthReasons.join('; ')}` : h.health],
    ['Health checked', h.healthCheckedAt],
    ['Power', h.power],
    ['BMC', h.bmc.address ? `${h.bmc.address} (${bmcState(h.bmcReachable)})` : 'none configured'],
    ['BMC error', h.bmc.error ?? undefined],
    ['Firmware', h.bmc.firmware ?? undefined],
    ['PSU redundancy', h.psuRedundancy],
    ['Power drawn', h.powerConsumedWatts === null ? undefined : `${h.powerConsumedWatts} W`],
    [
      'Compute',
      h.compute
        ? `${h.compute.enabled ? 'enabled' : `disabled (${h.compute.disabledReason ?? '-'})`}, ${h.compute.up ? 'up' : 'down'}`
        : undefined,
    ],
    ['Servers', h.serverCount ?? undefined],
    [
      'Utilisation',
      h.utilisation
        ? `vCPU ${used(h.utilisation.vcpus)}, RAM MiB ${used(h.utilisation.ramMiB)}, disk GiB ${used(h.utilisation.diskGiB)}`
        : undefined,
    ],
    [
      'Conditions',
      Object.keys(h.conditions).length
        ? Object.entries(h.conditions)
            .map(([k, c]) => `${k} (${c.severity}): ${c.reason}`)
            .join('; ')
        : undefined,
    ],
    ['Provider error', h.providerError ?? undefined],
    ['Last seen', h.lastSeenAt],
    ['Read at', h.bmc.readAt],
  ]);
  if (h.temperatures.length) {
    print.line();
    print.table(
      ['SENSOR', 'CELSIUS', 'WARN', 'CRIT', 'HEALTH'],
      h.temperatures.map((t) => [t.name, t.celsius, t.upperWarning, t.upperCritical, t.health]),
    );
  }
  if (h.powerSupplies.length) {
    print.line();
    print.table(
      ['POWER SUPPLY', 'HEALTH', 'STATE', 'OUTPUT W', 'CAPACITY W'],
      h.powerSupplies.map((p) => [p.name, p.health, p.state, p.outputWatts, p.capacityWatts]),
    );
  }
  if (h.openRemediations.length) {
    print.line();
    print.table(
      ['OPEN REMEDIATION', 'PHASE', 'POLICY', 'STARTED'],
      h.openRemediations.map((r) => [r.id, r.phase, r.policy, r.startedAt]),
    );
  }
}

interface ListOptions {
  zone?: string;
  role?: string;
  health?: string;
  poolState?: string;
  limit?: number;
  after?: string;
  all?: boolean;
}

export function registerHosts(program: Command): void {
  const group = program.command('hosts').alias('host').description('the inventory and each host’s latest reading');

  group
    .command('list')
    .description('hosts by ID, a page at a time (--all follows every page)')
    .option('--zone <zone>', 'only this zone')
    .addOption(new Option('--role <role>', 'only hosts with this role').choices(ROLES))
    .addOption(new Option('--health <health>', 'only this health').choices(HEALTH_STATES))
    .addOption(new Option('--pool-state <state>', 'only this pool state').choices(POOL_STATES))
    .option('--limit <n>', 'hosts per page (1-1000)', integerIn(1, 1000))
    .option('--after <id>', 'start after this host ID (the previous page’s next)')
    .option('--all', 'follow every page')
    .action(
      withApi<ListOptions>(async (ctx, _args, o) => {
        const query = { zone: o.zone, role: o.role, health: o.health, poolState: o.poolState, limit: o.limit };
        let page = await ctx.api.get<HostList>('/v1/hosts', { ...query, after: o.after });
        const hosts = [...page.hosts];
        while (o.all && page.next) {
          page = await ctx.api.get<HostList>('/v1/hosts', { ...query, after: page.next });
          hosts.push(...page.hosts);
        }
        // With --all the pages are joined into one answer of the same shape, whose next is null.
        if (ctx.json) return ctx.print.json({ hosts, next: page.next });
        ctx.print.table(
          ['HOST', 'ZONE', 'ROLES', 'POOL STATE', 'HEALTH', 'POWER', 'BMC', 'REMEDIATION'],
          hosts.map((h) => [
            h.id,
            h.zone,
            h.roles,
            h.poolState,
            h.health,
            h.power,
            h.bmcReachable === null ? null : bmcState(h.bmcReachable),
            h.openRemediationId,
          ]),
          'no hosts',
        );
        if (page.next) ctx.print.note(`more hosts after ${page.next}: pass --all, or --after ${page.next}`);
      }),
    );

  group
    .command('show <id>')
    .description('one host: health and why, BMC reading, utilisation, open remediations')
    .action(
      withApi(async (ctx, [id]) => {
        const h = await ctx.api.get<HostDetail>(`/v1/hosts/${segment(id!)}`);
        if (ctx.json) return ctx.print.json(h);
        showHost(ctx.print, h);
      }),
    );

  group
    .command('refresh <id>')
    .description('read the host now through the worker, and show the new reading (role operator)')
    .action(
      withApi(async (ctx, [id]) => {
        const h = await ctx.api.post<HostDetail>(`/v1/hosts/${segment(id!)}/refresh`);
        if (ctx.json) return ctx.print.json(h);
        showHost(ctx.print, h);
      }),
    );

  group
    .command('telemetry <id>')
    .description('the host’s time series (the last 24 hours unless --since)')
    .addOption(new Option('--metric <metric>', 'only this metric').choices(METRICS))
    .option('--since <time>', 'an ISO 8601 time or a duration back from now (15m, 6h, 7d)')
    .option('--until <time>', 'an ISO 8601 time or a duration back from now')
    .option('--limit <n>', 'at most this many samples (1-10000)', integerIn(1, 10_000))
    .action(
      withApi<{ metric?: string; since?: string; until?: string; limit?: number }>(async (ctx, [id], o) => {
        const t = await ctx.api.get<z.infer<typeof telemetryView>>(`/v1/hosts/${segment(id!)}/telemetry`, o);
        if (ctx.json) return ctx.print.json(t);
        const rows = Object.entries(t.series).flatMap(([metric, samples]) =>
          samples.map((s) => [metric, s.at, s.value]),
        );
        ctx.print.table(['METRIC', 'AT', 'VALUE'], rows, `no samples for ${t.host} from ${t.since} to ${t.until}`);
        if (t.truncated) ctx.print.note('more samples than --limit: the newest were kept');
      }),
    );

  registerSshKey(group);
}

const SSH_KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];
type KeyChange = z.infer<typeof sshHostKeyChanged>;

function showKeyChange(print: Printer, c: KeyChange): void {
  const key = (k: KeyChange['before']) => (k ? `${k.fingerprint} (${k.keyType}, ${k.source})` : 'none');
  print.fields([
    ['Host', c.host],
    ['Pinned before', key(c.before)],
    ['Pinned now', c.after ? key(c.after) : 'none: the next scan pins the key the host shows'],
  ]);
  if (c.warning) print.note(c.warning);
}

/** `shipshape host ssh-key replace|forget`: a rebuilt host's new key, pinned by an admin with why (audited). */
function registerSshKey(group: Command): void {
  const sshKey = group
    .command('ssh-key')
    .description('the host’s pinned SSH key: replace it after a rebuild, or forget it (role admin, audited)');
  sshKey
    .command('replace <host>')
    .description('pin the key the host now shows (compare with `ssh-keygen -lf` on its console)')
    .requiredOption('--fingerprint <fp>', 'SHA256:<43 characters>, as `ssh-keygen -lf` prints it')
    .addOption(new Option('--key-type <type>', 'the key’s type').choices(SSH_KEY_TYPES).default('ssh-ed25519'))
    .requiredOption('--reason <text>', 'why, for the audit log (required)')
    .action(
      withApi<{ fingerprint: string; keyType: string; reason: string }>(async (ctx, [host], o) => {
        const c = await ctx.api.post<KeyChange>(`/v1/hosts/${segment(host!)}/ssh-host-key`, {
          fingerprint: o.fingerprint,
          keyType: o.keyType,
          reason: o.reason,
        });
        if (ctx.json) return ctx.print.json(c);
        showKeyChange(ctx.print, c);
      }),
    );
  sshKey
    .command('forget <host>')
    .description('drop the pin: the next scan that reaches the host pins the key it shows')
    .requiredOption('--reason <text>', 'why, for the audit log (required)')
    .action(
      withApi<{ reason: string }>(async (ctx, [host], o) => {
        const c = await ctx.api.post<KeyChange>(`/v1/hosts/${segment(host!)}/ssh-host-key`, {
          forget: true,
          reason: o.reason,
        });
        if (ctx.json) return ctx.print.json(c);
        showKeyChange(ctx.print, c);
      }),
    );
}

type Summary = z.infer<typeof fleetSummary>;
const counts = (m: Record<string, number>) =>
  Object.entries(m)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '-';

export function registerFleet(program: Command): void {
  const group = program.command('fleet').description('the whole fleet at a glance');
  group
    .command('summary')
    .description('hosts by health, pool state, role and zone; utilisation; the last telemetry sweep')
    .action(
      withApi(async (ctx) => {
        const s = await ctx.api.get<Summary>('/v1/fleet/summary');
        if (ctx.json) return ctx.print.json(s);
        const u = s.utilisation;
        ctx.print.fields([
          ['Hosts', s.hosts],
          ['Health', counts(s.byHealth)],
          ['Pool states', counts(s.byPoolState)],
          ['Roles', counts(s.byRole)],
          [
            'Utilisation',
            `vCPU ${used(u.vcpus)}, RAM MiB ${used(u.ramMiB)}, disk GiB ${used(u.diskGiB)}, agents down ${u.agentsDown}`,
          ],
          ['BMC unreachable', s.bmcUnreachable],
          [
            'Last sweep',
            s.lastSweep
              ? `${cell(s.lastSweep.startedAt)}: ${s.lastSweep.readOk}/${s.lastSweep.hosts} read, ${s.lastSweep.readFailed} failed, ${s.lastSweep.signals} signals`
              : 'none yet',
          ],
        ]);
        ctx.print.line();
        ctx.print.table(
          ['ZONE', 'HOSTS', 'OUT OF SERVICE', 'HEALTH', 'VCPU USED'],
          Object.entries(s.byZone).map(([zone, z]) => [
            zone,
            z.hosts,
            z.outOfService,
            counts(z.byHealth),
            used(z.utilisation.vcpus),
          ]),
          'no zones',
        );
      }),
    );
}
