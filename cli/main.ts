#!/usr/bin/env node
/**
 * `shipshape`: the operator's command line for the Shipshape API. One binary,
 * one group of subcommands per part of the API; it talks to the API over HTTP
 * only, with a token from the environment or a config file (cli/config.ts).
 *
 * Exit codes: 0 done; 1 the API refused (its `error.code: message` on stderr),
 * could not be reached, or `audit verify` found the chain broken; 2 the
 * command was used wrongly or no URL or token is configured.
 */
import { Command, CommanderError, Option } from 'commander';
import { registerAudit } from './commands/audit';
import { registerCompliance } from './commands/compliance';

import { registerGuards } from './commands/guards';
import { registerFleet, registerHosts } from './commands/hosts';
import { registerInbox } from './commands/inbox';
import { registerPolicies } from './commands/policies';
import { registerReclaim } from './commands/reclaim';
import { registerRemediations } from './commands/remediations';
import { registerSignal } from './commands/signal';
import { ApiError, EXIT, ExitWith, TransportError, UsageError } from './errors';

/** Each group adds its subcommands here; the inbox's and later issues' groups join this list. */
const GROUPS = [
  registerInbox,
  registerCompliance,
  registerReclaim,
  registerRemediations,
  registerHosts,
  registerPolicies,
  registerGuards,
  registerAudit,
  registerFleet,
  registerSignal,
];

export function buildProgram(): Command {
  const program = new Command('shipshape')
    .description('Operate a Shipshape fleet through its API')
    .addOption(new Option('--url <url>', 'the API URL (else SHIPSHAPE_URL, else the config file)'))
    .addOption(
      new Option(
        '--token-file <path>',
        'read the API token from this file (else SHIPSHAPE_TOKEN, else the config file)',
      ),
    )
    .addOption(
      new Option('--config <path>', 'config file with url and token or tokenFile').default(
        undefined,
        '~/.config/shipshape/config.yaml',
      ),
    )
    .option('--json', "print the API's JSON as is")
    .showSuggestionAfterError()
    .exitOverride()
    .addHelpText(
      'after',
      '\nExit codes: 0 done, 1 the API refused or was unreachable (or audit verify found the chain broken), 2 usage error.',
    );
  for (const register of GROUPS) register(program);
  return program;
}

/** Say what went wrong on stderr, and the exit code for it. */
export function reportError(err: unknown, stderr: { write(s: string): unknown } = process.stderr): number {
  const say = (s: string) => stderr.write(`${s}\n`);
  if (err instanceof ExitWith) return err.code;
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage; // commander printed it
  if (err instanceof UsageError) {
    say(`error: ${err.message}`);
    return EXIT.usage;
  }
  if (err instanceof ApiError) {
    say(`${err.code}: ${err.message}`);
    for (const line of detailLines(err)) say(`  ${line}`);
    return EXIT.failed;
  }
  if (err instanceof TransportError) {
    say(`transport: ${err.message}`);
    return EXIT.failed;
  }
  say(`error: ${(err as Error)?.message ?? String(err)}`);
  return EXIT.failed;
}

/** The details a person acts on: every field refused, every policy problem, and the role a refusal asks for. */
function detailLines(err: ApiError): string[] {
  const lines: string[] = [];
  const fields = err.details.fields as Array<{ field: string; reason: string }> | undefined;
  if (Array.isArray(fields) && fields.length > 1) for (const f of fields) lines.push(`${f.field}: ${f.reason}`);
  const issues = err.details.issues as
    | Array<{ file: string; line: number; column: number; field: string; message: string }>
    | undefined;
  if (Array.isArray(issues))
    for (const i of issues) lines.push(`${i.file}:${i.line}:${i.column}: ${i.field}: ${i.message}`);
  if (err.status === 403) {
    const role = /needs (?:role )?(viewer|operator|approver|admin)\b/.exec(err.message)?.[1];
    if (role) lines.push(`needs a token with role ${role} or higher`);
  }
  if (err.status === 401) lines.push('check the token: SHIPSHAPE_TOKEN, --token-file, or the config file');
  return lines;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
