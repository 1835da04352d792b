/**
 * Where the cloud is and how to log in: a standard `clouds.yaml` entry
 * (OS_CLOUD, looked up in OS_CLIENT_CONFIG_FILE, ./clouds.yaml,
 * ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml) or the OS_*
 * variables. Keystone v3 password or application-credential auth. Errors name
 * the file, the cloud and the field, never a secret.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../config';

export interface CloudConfig {
  /** The Keystone v3 endpoint, ending in /v3. */
  authUrl: string;
  auth:
    | {
        type: 'password';
        username: string;
        password: string;
        userDomainName: string;
        projectName: string;
        projectDomainName: string;
      }
    | { type: 'application-credential'; id: string; secret: string };
  regionName: string | null;
  interface: 'public' | 'internal' | 'admin';
  /** PEM text of the CA bundle, when the cloud's certificates are not publicly trusted. */
  ca: string | null;
  insecure: boolean;
  timeoutMs: number;
  /** `<service type>_endpoint_override` entries: the URL to use instead of the catalog's (a proxy, a private endpoint). */
  endpointOverrides: Record<string, string>;
}

const cloudEntry = z.looseObject({
  auth_type: z
    .enum(['password', 'v3password', 'v3applicationcredential', 'application_credential'])
    .default('password'),
  auth: z.looseObject({
    auth_url: z.string().url(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    user_domain_name: z.string().min(1).optional(),
    user_domain_id: z.string().min(1).optional(),
    project_name: z.string().min(1).optional(),
    project_domain_name: z.string().min(1).optional(),
    project_domain_id: z.string().min(1).optional(),
    application_credential_id: z.string().min(1).optional(),
    application_credential_secret: z.string().min(1).optional(),
  }),
  region_name: z.string().min(1).optional(),
  interface: z.enum(['public', 'internal', 'admin']).default('public'),
  cacert: z.string().min(1).optional(),
  verify: z.boolean().default(true),
  api_timeout: z.number().gt(0).optional(),
});

function v3(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

function fromEntry(raw: unknown, where: string): CloudConfig {
  const parsed = cloudEntry.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${where}: ${issue?.path.join('.') || '(entry)'}: ${issue?.message ?? 'invalid'}`);
  }
  const e = parsed.data;
  const a = e.auth;
  const missing = (field: string) =>
    new ConfigError(`${where}: auth.${field}: is required for auth_type ${e.auth_type}`);
  let auth: CloudConfig['auth'];
  if (e.auth_type === 'v3applicationcredential' || e.auth_type === 'application_credential') {
    if (!a.application_credential_id) throw missing('application_credential_id');
    if (!a.application_credential_secret) throw missing('application_credential_secret');
    auth = { type: 'application-credential', id: a.application_credential_id, secret: a.application_credential_secret };
  } else {
    if (!a.username) throw missing('username');
    if (!a.password) throw missing('password');
    if (!a.project_name) throw missing('project_name');
    auth = {
      type: 'password',
      username: a.username,
      password: a.password,
      userDomainName: a.user_domain_name ?? a.user_domain_id ?? 'Default',
      projectName: a.project_name,
      projectDomainName: a.project_domain_name ?? a.project_domain_id ?? 'Default',
    };
  }
  let ca: string | null = null;
  if (e.cacert) {
    if (!existsSync(e.cacert)) throw new ConfigError(`${where}: cacert: ${e.cacert} does not exist`);
    ca = readFileSync(e.cacert, 'utf8');
  }
  const endpointOverrides: Record<string, string> = {};
  for (const [key, value] of Object.entries(e)) {
    const m = /^(.+)_endpoint_override$/.exec(key);
    if (!m) continue;
    if (typeof value !== 'string' || !/^https?:\/\//.test(value))
      throw new ConfigError(`${where}: ${key}: must be an http(s) URL`);
    endpointOverrides[(m[1] as string).replace(/_/g, '-')] = value;
  }
  return {
    endpointOverrides,
    authUrl: v3(a.auth_url),
    auth,
    regionName: e.region_name ?? null,
    interface: e.interface,
    ca,
    insecure: !e.verify,
    timeoutMs: (e.api_timeout ?? 30) * 1000,
  };
}

export function cloudsYamlCandidates(env: Record<string, string | undefined>): string[] {
  return [
    env.OS_CLIENT_CONFIG_FILE,
    'clouds.yaml',
    join(homedir(), '.config', 'openstack', 'clouds.yaml'),
    '/etc/openstack/clouds.yaml',
  ].filter((p): p is string => Boolean(p));
}

/** The cloud named by OS_CLOUD in the first clouds.yaml found; without OS_CLOUD, the OS_* variables. */
export function loadCloudConfig(env: Record<string, string | undefined> = process.env): CloudConfig {
  if (env.OS_CLOUD) {
    const file = cloudsYamlCandidates(env).find((p) => existsSync(p));
    if (!file)
      throw new ConfigError(
        `OS_CLOUD=${env.OS_CLOUD}: no clouds.yaml found (looked in ${cloudsYamlCandidates(env).join(', ')})`,
      );
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${file}: not YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
    const entry = (doc as { clouds?: Record<string, unknown> } | null)?.clouds?.[env.OS_CLOUD];
    if (!entry) throw new ConfigError(`${file}: clouds.${env.OS_CLOUD}: no such cloud`);
    return fromEntry(entry, `${file}: clouds.${env.OS_CLOUD}`);
  }
  if (!env.OS_AUTH_URL)
    throw new ConfigError(
      'SHIPSHAPE_PROVIDER=openstack: set OS_CLOUD (with a clouds.yaml) or the OS_* variables (OS_AUTH_URL, ...)',
    );
  return fromEntry(
    {
      auth_type: env.OS_AUTH_TYPE ?? (env.OS_APPLICATION_CREDENTIAL_ID ? 'v3applicationcredential' : 'password'),
      auth: {
        auth_url: env.OS_AUTH_URL,
        username: env.OS_USERNAME,
        password: env.OS_PASSWORD,
        user_domain_name: env.OS_USER_DOMAIN_NAME,
        project_name: env.OS_PROJECT_NAME,
        project_domain_name: env.OS_PROJECT_DOMAIN_NAME,
        application_credential_id: env.OS_APPLICATION_CREDENTIAL_ID,
        application_credential_secret: env.OS_APPLICATION_CREDENTIAL_SECRET,
      },
      region_name: env.OS_REGION_NAME,
      interface: env.OS_INTERFACE,
      cacert: env.OS_CACERT,
      verify: env.OS_INSECURE ? !['1', 'true', 'yes'].includes(env.OS_INSECURE.toLowerCase()) : true,
    },
    'OS_* variables',
  );
}
