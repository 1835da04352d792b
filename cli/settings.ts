/**
 * Where the tool finds the API and its token. Flags win (`--url`,
 * `--token-file`), then the environment (`SHIPSHAPE_URL`, `SHIPSHAPE_TOKEN`),
 * then the config file (`--config`, else `$XDG_CONFIG_HOME/shipshape/config.yaml`,
 * else `~/.config/shipshape/config.yaml`) with `url` and `token` or `tokenFile`.
 * The token is never printed; errors name where it was looked for.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UsageError } from './errors';

export interface ConfigFlags {
  url?: string;
  tokenFile?: string;
  config?: string;
}

export interface ApiConfig {
  url: string;
  token: string;
}

const configFile = z.strictObject({
  url: z.string().min(1, 'must not be empty').optional(),
  token: z.string().min(1, 'must not be empty').optional(),
  tokenFile: z.string().min(1, 'must not be empty').optional(),
});
type ConfigFile = z.infer<typeof configFile>;

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'shipshape', 'config.yaml');
}

function readConfigFile(path: string, explicit: boolean): ConfigFile {
  if (!existsSync(path)) {
    if (explicit) throw new UsageError(`--config ${path}: no such file`);
    return {};
  }
  let data: unknown;
  try {
    data = parseYaml(readFileSync(path, 'utf8')) ?? {};
  } catch (err) {
    throw new UsageError(`config file ${path}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const parsed = configFile.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(file)';
    const reason = issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message;
    throw new UsageError(`config file ${path}: ${field}: ${reason} (fields: url, token, tokenFile)`);
  }
  if (parsed.data.token && parsed.data.tokenFile)
    throw new UsageError(`config file ${path}: token, tokenFile: give one of them, not both`);
  return parsed.data;
}

function readTokenFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${what} ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const token = text.trim();
  if (!token) throw new UsageError(`${what} ${path}: is empty`);
  return token;
}

function checkedUrl(url: string, from: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${from}: "${url}" is not a URL (for example http://localhost:8080)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new UsageError(`${from}: "${url}" must start with http:// or https://`);
  return url.replace(/\/+$/, '');
}

/** The API URL and token, or a UsageError naming what is missing and where it was looked for. */
export function resolveApiConfig(
  flags: ConfigFlags,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): ApiConfig {
  const path = resolve(flags.config ?? defaultConfigPath(env, home));
  // The file is read only when the flags and the environment leave something to find.
  const needsFile = !(flags.url ?? env.SHIPSHAPE_URL) || !(flags.tokenFile ?? env.SHIPSHAPE_TOKEN);
  const file = needsFile || flags.config ? readConfigFile(path, Boolean(flags.config)) : {};

  const url = flags.url
    ? checkedUrl(flags.url, '--url')
    : env.SHIPSHAPE_URL
      ? checkedUrl(env.SHIPSHAPE_URL, 'SHIPSHAPE_URL')
      : file.url
        ? checkedUrl(file.url, `config file ${path}: url`)
        : undefined;
  if (!url) throw new UsageError(`no API URL: set SHIPSHAPE_URL, pass --url, or set url in ${path}`);

  const token = flags.tokenFile
    ? readTokenFile(flags.tokenFile, '--token-file')
    : env.SHIPSHAPE_TOKEN?.trim()
      ? env.SHIPSHAPE_TOKEN.trim()
      : file.token
        ? file.token.trim()
        : file.tokenFile
          ? readTokenFile(resolve(dirname(path), file.tokenFile), `config file ${path}: tokenFile`)
          : undefined;
  if (!token)
    throw new UsageError(
      `no API token: set SHIPSHAPE_TOKEN, pass --token-file, or set token or tokenFile in ${path} (npm run token issues one)`,
    );
  return { url, token };
}
