-- Up Migration

-- Inventory: every host Shipshape knows, its pool state and last known health.
CREATE TABLE hosts (
  id                text PRIMARY KEY,
  zone              text NOT NULL,
  roles             text[] NOT NULL DEFAULT '{compute}',
  provider          text NOT NULL,
  pool_state        text NOT NULL DEFAULT 'in-service'
                    CHECK (pool_state IN ('in-service','draining','in-remediation','awaiting-operator','out-of-service')),
  health            text NOT NULL DEFAULT 'unknown' CHECK (health IN ('ok','warning','critical','unknown')),
  health_reasons    text[] NOT NULL DEFAULT '{}',
  health_checked_at timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hosts_zone ON hosts (zone);

-- The remediations index: one row per remediation run; the workflow owns the truth,
-- this row is its durable, queryable shadow (written by activities and the API).
CREATE TABLE remediations (
  id            text PRIMARY KEY,
  host          text NOT NULL REFERENCES hosts(id),
  workflow_id   text NOT NULL,
  run_id        text NOT NULL,
  policy_name   text NOT NULL,
  policy_version text NOT NULL,
  phase         text NOT NULL,
  requested_by  text NOT NULL,
  view          jsonb NOT NULL DEFAULT '{}'::jsonb,
  view_seq      integer NOT NULL DEFAULT 0,
  started_at    timestamptz NOT NULL DEFAULT now(),
  closed_at     timestamptz
);
-- At most one open remediation per host, enforced by the database as well as by Temporal.
CREATE UNIQUE INDEX remediations_one_open_per_host ON remediations (host) WHERE closed_at IS NULL;
CREATE INDEX remediations_host_started ON remediations (host, started_at DESC);

-- Every signal received, durable before the API answers.
CREATE TABLE signals (
  id             uuid PRIMARY KEY,
  received_at    timestamptz NOT NULL DEFAULT now(),
  source         text NOT NULL,
  name           text NOT NULL,
  resource_kind  text NOT NULL,
  resource_id    text NOT NULL,
  host           text REFERENCES hosts(id),
  severity       text NOT NULL,
  status         text NOT NULL CHECK (status IN ('firing','resolved')),
  fingerprint    text NOT NULL,
  labels         jsonb NOT NULL DEFAULT '{}'::jsonb,
  annotations    jsonb NOT NULL DEFAULT '{}'::jsonb,
  starts_at      timestamptz,
  received_by    text NOT NULL,
  -- NULL until dispatched; the API's redispatcher picks up rows left NULL.
  outcome        text CHECK (outcome IN ('started','joined','suppressed','no-policy','ignored','queued')),
  outcome_reason text,
  remediation_id text REFERENCES remediations(id),
  policy_name    text,
  dispatched_at  timestamptz
);
CREATE INDEX signals_host_received ON signals (host, received_at DESC);
CREATE INDEX signals_remediation_fp ON signals (remediation_id, fingerprint);
CREATE INDEX signals_pending ON signals (received_at) WHERE outcome IS NULL OR outcome = 'queued';

-- Append-only audit log: who (person, or policy and version), what, why, before/after.
CREATE TABLE audit_log (
  seq            bigserial PRIMARY KEY,
  at             timestamptz NOT NULL DEFAULT now(),
  actor_kind     text NOT NULL CHECK (actor_kind IN ('person','policy','system')),
  actor          text NOT NULL,
  policy_version text,
  host           text,
  remediation_id text,
  action         text NOT NULL,
  reason         text NOT NULL,
  before         jsonb,
  after          jsonb,
  -- Activities retry: an idempotency key makes a retried write a no-op.
  idempotency_key text UNIQUE
);
CREATE INDEX audit_log_host_at ON audit_log (host, at);
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();

-- API tokens, stored as SHA-256 of a high-entropy secret (never the secret itself).
CREATE TABLE api_tokens (
  id          bigserial PRIMARY KEY,
  subject     text NOT NULL,
  role        text NOT NULL CHECK (role IN ('viewer','operator','approver','admin')),
  token_hash  text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- The simulated fleet: a fake cloud kept in PostgreSQL so it survives worker
-- restarts and activities are idempotent against it. Time moves it along:
-- migrations and power actions complete when their due time has passed.
CREATE TABLE sim_hosts (
  id               text PRIMARY KEY,
  zone             text NOT NULL,
  power            text NOT NULL DEFAULT 'on' CHECK (power IN ('on','off')),
  power_on_due     timestamptz,
  health           text NOT NULL DEFAULT 'ok',
  health_reasons   text[] NOT NULL DEFAULT '{}',
  compute_enabled  boolean NOT NULL DEFAULT true,
  disabled_reason  text,
  fault_repair_ineffective boolean NOT NULL DEFAULT false,
  fault_migration_fails    boolean NOT NULL DEFAULT false,
  power_cycles     integer NOT NULL DEFAULT 0
);
CREATE TABLE sim_servers (
  id    text PRIMARY KEY,
  name  text NOT NULL,
  host  text NOT NULL REFERENCES sim_hosts(id)
);
CREATE INDEX sim_servers_host ON sim_servers (host);
CREATE TABLE sim_migrations (
  id          bigserial PRIMARY KEY,
  server_id   text NOT NULL REFERENCES sim_servers(id),
  source      text NOT NULL,
  dest        text,
  status      text NOT NULL CHECK (status IN ('running','completed','failed')),
  error       text,
  started_at  timestamptz NOT NULL DEFAULT now(),
  due_at      timestamptz NOT NULL
);
-- One migration in flight per server, as Nova allows.
CREATE UNIQUE INDEX sim_migrations_one_running ON sim_migrations (server_id) WHERE status = 'running';

-- Down Migration
DROP TABLE sim_migrations, sim_servers, sim_hosts, api_tokens, audit_log, signals, remediations, hosts;
DROP FUNCTION audit_log_is_append_only();
