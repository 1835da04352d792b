/**
 * Configuration from the environment, validated once at start-up. A bad or
 * missing variable stops the process with a message that names it.
 */
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(1).max(65535);

export const configSchema = z
  .object({
    DATABASE_URL: z
      .string({ error: 'is required (postgres://user:password@host:port/database)' })
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[^\s:]+:\d+$/, 'must be host:port')
      .default('localhost:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('shipshape-remediation'),
    SHIPSHAPE_WORKFLOW_ID_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]*\/?$/, 'letters, digits, ".", "_", "-", optionally ending in "/"')
      .default(''),
    TEMPORAL_TLS: bool.default(false),
    TEMPORAL_TLS_CERT_PATH: z.string().optional(),
    TEMPORAL_TLS_KEY_PATH: z.string().optional(),
    TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    SHIPSHAPE_PROVIDER: z.enum(['simulated', 'openstack']).default('simulated'),
    /** With the OpenStack provider: the BMC credentials reference given to Redfish BMCs found in Ironic's driver_info. */
    SHIPSHAPE_OPENSTACK_BMC_CREDENTIALS_REF: z.string().min(1).optional(),
    SHIPSHAPE_API_PORT: port.default(8080),
    SHIPSHAPE_POLICY_DIR: z.string().min(1).default('policies'),
    /** Defaults to guards.yaml in the policy folder; conservative built-in defaults when absent. */
    SHIPSHAPE_GUARDS_FILE: z.string().min(1).optional(),
    SHIPSHAPE_ALERTMANAGER_HOST_LABEL: z.string().min(1).default('host'),
    SHIPSHAPE_NOTIFY_WEBHOOK_URL: z.url().optional(),
    /** The inbox's notifications file (receivers and routes, config/notifications.ts); without it nobody is notified of inbox items. */
    SHIPSHAPE_NOTIFICATIONS_FILE: z.string().min(1).optional(),
    /** The API's address as people reach it; inbox notifications link to `<url>/v1/inbox/<id>`. */
    SHIPSHAPE_PUBLIC_URL: z
      .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    /** The keys file (JSON): payload encryption keys and decision signing keys; required by the API and the worker. */
    SHIPSHAPE_KEYS_FILE: z.string().min(1).optional(),
    /** The Temporal Web UI's origins (comma-separated), allowed to call the codec endpoint (CORS). */
    SHIPSHAPE_CODEC_CORS_ORIGIN: z
      .string()
      .regex(/^https?:\/\/[^/\s,]+(,https?:\/\/[^/\s,]+)*$/, 'must be origins, http(s)://host[:port], comma-separated')
      .default('http://localhost:8233,http://127.0.0.1:8233')
      .transform((v) => v.split(',')),
    /** The demo's admin token (subject `dev`); only with SHIPSHAPE_DEMO, and refused by an API that is not the demo. */
    SHIPSHAPE_DEV_TOKEN: z.string().min(20, 'must be at least 20 characters').optional(),
    /** This process runs the demo (scripts/demo.ts, docker-compose.yml): the only case where SHIPSHAPE_DEV_TOKEN works. */
    SHIPSHAPE_DEMO: bool.default(false),
    /** The worker seeds the demo's 24-host simulated fleet at start (idempotent), before it syncs the inventory. */
    SHIPSHAPE_SEED_SIMULATED_FLEET: bool.default(false),
    SHIPSHAPE_SIM_MIGRATION_SECONDS: z.coerce.number().min(0).default(3),
    SHIPSHAPE_SIM_POWER_ON_SECONDS: z.coerce.number().min(0).default(4),
    /** How long a simulated power call takes, the host going off halfway (OpenStack's can take 120 s). */
    SHIPSHAPE_SIM_POWER_CALL_SECONDS: z.coerce.number().min(0).default(0),
    /** How often the worker releases capacity leases whose run Temporal says is closed or gone; 0 turns it off. */
    SHIPSHAPE_LEASE_REAP_SECONDS: z.coerce.number().int().min(0).default(60),
    /** The telemetry sweep's interval; 0 turns the schedule off. */
    SHIPSHAPE_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(300),
    SHIPSHAPE_SWEEP_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
    SHIPSHAPE_BMC_READ_DEADLINE_SECONDS: z.coerce.number().gt(0).max(300).default(30),
    SHIPSHAPE_TELEMETRY_RETENTION_DAYS: z.coerce.number().gt(0).default(14),
    /** Signals past this age are pruned by the sweep, except those of a remediation still open. */
    SHIPSHAPE_SIGNAL_RETENTION_DAYS: z.coerce.number().gt(0).default(90),
    /** The inbox: how often it takes signals in, and its timings and grouping (README, "Alert inbox"). */
    SHIPSHAPE_INBOX_TICK_MS: z.coerce.number().int().min(100).default(1000),
    SHIPSHAPE_INBOX_GRACE_MINUTES: z.coerce.number().gt(0).default(5),
    SHIPSHAPE_INBOX_GUARD_WAIT_MINUTES: z.coerce.number().gt(0).default(30),
    SHIPSHAPE_INBOX_GROUP_WINDOW_MINUTES: z.coerce.number().gt(0).default(5),
    SHIPSHAPE_INBOX_TOPOLOGY_LABELS: z
      .string()
      .default('rack,pdu,switch')
      .transform((s) =>
        s
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean),
      )
      .refine((labels) => labels.every((l) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l)), {
        message: 'must be label names separated by commas, such as rack,pdu,switch',
      }),
    SHIPSHAPE_INBOX_FLAP_QUIET_MINUTES: z.coerce.number().gt(0).default(30),
    SHIPSHAPE_BMC_CREDENTIALS_FILE: z.string().min(1).optional(),
    /** What the provider does not know about hosts (SSH endpoints, host keys): config/inventory-file.ts. */
    SHIPSHAPE_INVENTORY_FILE: z.string().min(1).optional(),
    /** The SSH credentials file (providers/ssh/credentials.ts), read by the worker only; without it no host is read over SSH. */
    SHIPSHAPE_SSH_CREDENTIALS_FILE: z.string().min(1).optional(),
    /** The compliance profiles' folder; defaults to compliance/ in the policy folder. */
    SHIPSHAPE_COMPLIANCE_DIR: z.string().min(1).optional(),
    SHIPSHAPE_INLET_WARNING_C: z.coerce.number().default(35),
    SHIPSHAPE_INLET_CRITICAL_C: z.coerce.number().default(40),
    SHIPSHAPE_CORRECTABLE_ERRORS_RISE: z.coerce.number().int().min(1).default(10),
    SHIPSHAPE_CORRECTABLE_ERRORS_WINDOW_MINUTES: z.coerce.number().gt(0).default(60),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((c) => c.SHIPSHAPE_INLET_WARNING_C < c.SHIPSHAPE_INLET_CRITICAL_C, {
    message: 'must be below SHIPSHAPE_INLET_CRITICAL_C',
    path: ['SHIPSHAPE_INLET_WARNING_C'],
  })
  .refine((c) => !c.SHIPSHAPE_DEV_TOKEN || c.SHIPSHAPE_DEMO, {
    message: 'only the demo has a dev token (SHIPSHAPE_DEMO=true); create real tokens with `npm run token create`',
    path: ['SHIPSHAPE_DEV_TOKEN'],
  })
  .refine((c) => !c.TEMPORAL_TLS_CERT_PATH === !c.TEMPORAL_TLS_KEY_PATH, {
    message: 'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together',
    path: ['TEMPORAL_TLS_CERT_PATH'],
  });

export type Config = z.infer<typeof configSchema>;

/** The folder of the compliance profiles: SHIPSHAPE_COMPLIANCE_DIR, or compliance/ in the policy folder. */
export function complianceDir(config: Pick<Config, 'SHIPSHAPE_COMPLIANCE_DIR' | 'SHIPSHAPE_POLICY_DIR'>): string {
  return config.SHIPSHAPE_COMPLIANCE_DIR ?? `${config.SHIPSHAPE_POLICY_DIR.replace(/\/+$/, '')}/compliance`;
}

export class ConfigError extends Error {}

/** Parse the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
