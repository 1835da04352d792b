/**
 * What every command gets: the API client (configured from the global
 * options only when the command runs, so `--help` needs no token), whether
 * to print JSON, and the printer. Commands register on the program with
 * `register(program)`; a later issue adds its group the same way.
 */
import { InvalidArgumentError, type Command, type OptionValues } from 'commander';
import { ApiClient } from './client';
import { UsageError } from './errors';
import { resolveApiConfig } from './settings';
import { createPrinter, type Printer } from './output';

export interface GlobalOptions {
  url?: string;
  tokenFile?: string;
  config?: string;
  json?: boolean;
}

export interface CommandContext {
  api: ApiClient;
  json: boolean;
  print: Printer;
}

/** An action that talks to the API: `fn(ctx, operands, options)`. */
export function withApi<O extends OptionValues = OptionValues>(
  fn: (ctx: CommandContext, operands: string[], options: O) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    const command = args[args.length - 1] as Command;
    const globals = command.optsWithGlobals<GlobalOptions>();
    const ctx: CommandContext = {
      api: new ApiClient(resolveApiConfig(globals)),
      json: Boolean(globals.json),
      print: createPrinter(),
    };
    await fn(ctx, command.processedArgs as string[], command.opts<O>());
  };
}

/** A whole number within bounds, for options such as --limit. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** Collect a repeatable option into a list. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `k=v` pairs (repeatable --label) as a map; a pair without `=` is a usage error naming it. */
export function keyValues(pairs: readonly string[], option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`${option} "${pair}": must be name=value`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}
