/** `shipshape signal send`: raise a signal about a host by hand, as a monitoring system would (role operator). */
import { Option, type Command } from 'commander';
import type { SignalResult } from '../../api/schemas';
import { SEVERITIES, SIGNAL_STATUSES } from '../../domain/types';
import { collect, keyValues, withApi } from '../context';

interface SendOptions {
  host: string;
  name: string;
  severity: string;
  status: string;
  source: string;
  label: string[];
  annotation: string[];
  fingerprint?: string;
}

export function registerSignal(program: Command): void {
  const group = program.command('signal').description('signals: alerts about a host');
  group
    .command('send')
    .description('send one signal; prints what Shipshape did with it (started, joined, suppressed, ...)')
    .requiredOption('--host <host>', 'the host it is about')
    .requiredOption('--name <name>', 'the alert name, e.g. HostDown')
    .addOption(new Option('--severity <severity>', 'how bad').choices(SEVERITIES).makeOptionMandatory())
    .addOption(new Option('--status <status>', 'firing or resolved').choices(SIGNAL_STATUSES).default('firing'))
    .option('--source <source>', 'what raised it', 'shipshape-cli')
    .option('--label <k=v>', 'a label (repeatable)', collect, [])
    .option('--annotation <k=v>', 'an annotation (repeatable)', collect, [])
    .option('--fingerprint <id>', 'the alert’s fingerprint (repeats of one alert share it)')
    .action(
      withApi<SendOptions>(async (ctx, _args, o) => {
        const result = await ctx.api.post<SignalResult>('/v1/signals', {
          source: o.source,
          name: o.name,
          resource: { kind: 'host', id: o.host },
          severity: o.severity,
          status: o.status,
          labels: keyValues(o.label, '--label'),
          annotations: keyValues(o.annotation, '--annotation'),
          startsAt: new Date().toISOString(),
          fingerprint: o.fingerprint,
        });
        if (ctx.json) return ctx.print.json(result);
        ctx.print.fields([
          ['Signal', result.signalId],
          ['Outcome', result.outcome],
          ['Remediation', result.remediationId],
          ['Reason', result.reason],
        ]);
      }),
    );
}
