/** The built CLI (dist/cli/main.js) run as an operator runs it: a child process against the test env's API. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const CLI_MAIN = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where the CLI runs: its HOME, the API's URL and the token it sends. */
export interface CliTarget {
  home: string;
  apiUrl: string;
  token: string;
}

/** Run `shipshape <args>` with only PATH, HOME, SHIPSHAPE_URL and SHIPSHAPE_TOKEN in its environment. */
export function runCli(args: string[], { home, apiUrl, token }: CliTarget): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    SHIPSHAPE_URL: apiUrl,
    SHIPSHAPE_TOKEN: token,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_MAIN, ...args], { env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

/** Run `shipshape <args> --json`; what it prints, parsed (an error naming the command when it exits non-zero). */
export async function runCliJson(args: string[], target: CliTarget): Promise<any> {
  const r = await runCli([...args, '--json'], target);
  if (r.code !== 0) throw new Error(`shipshape ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
