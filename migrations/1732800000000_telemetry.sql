-- Up Migration

-- Where each host's BMC answers. The credentials are a reference to a named
-- entry in the worker's credentials file, never the secret itself.
ALTER TABLE hosts
  ADD COLUMN bmc_address         text,
  ADD COLUMN bmc_credentials_ref text,
  ADD COLUMN bmc_system_id       text,
  ADD COLUMN last_seen_at        timestamptz;
CREATE INDEX hosts_health ON hosts (health);

-- The latest reading of every host: BMC (power, thermal, power supplies,
-- CPU and memory health, firmware, events), provider state and utilisation.
-- `conditions` are the thresholds crossed at this reading (name -> severity):
-- the next sweep compares against them to raise and resolve signals.
CREATE TABLE host_snapshots (
  host            text PRIMARY KEY REFERENCES hosts(id),
  read_at         timestamptz NOT NULL,
  sweep_id        text NOT NULL,
  bmc_reachable   boolean,
  bmc_error       text,
  provider_error  text,
  bmc             jsonb,
  state           jsonb,
  utilisation     jsonb,
  health          text NOT NULL CHECK (health IN ('ok','warning','critical','unknown')),
  reasons         text[] NOT NULL DEFAULT '{}',
  conditions      jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- The time series: one row per host, metric and reading. Pruned by age.
CREATE TABLE telemetry_samples (
  host    text NOT NULL REFERENCES hosts(id),
  metric  text NOT NULL,
  at      timestamptz NOT NULL,
  value   double precision NOT NULL,
  PRIMARY KEY (host, metric, at)
);
CREATE INDEX telemetry_samples_at ON telemetry_samples (at);

-- One row per sweep: how many hosts were read, how many failed, how long it took.
CREATE TABLE telemetry_sweeps (
  id           text PRIMARY KEY,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  hosts        integer NOT NULL DEFAULT 0,
  read_ok      integer NOT NULL DEFAULT 0,
  read_failed  integer NOT NULL DEFAULT 0,
  signals      integer NOT NULL DEFAULT 0,
  pruned       integer NOT NULL DEFAULT 0
);

-- The simulated fleet grows a BMC and capacity: readings the simulated BMC
-- reports, faults to inject into them, and sizes for utilisation.
ALTER TABLE sim_hosts
  ADD COLUMN roles               text[] NOT NULL DEFAULT '{compute}',
  ADD COLUMN bmc_address         text,
  ADD COLUMN bmc_credentials_ref text,
  ADD COLUMN bmc_system_id       text,
  ADD COLUMN inlet_celsius       double precision NOT NULL DEFAULT 23,
  ADD COLUMN psus_failed         integer NOT NULL DEFAULT 0,
  ADD COLUMN correctable_errors  integer NOT NULL DEFAULT 0,
  ADD COLUMN bmc_unreachable     boolean NOT NULL DEFAULT false,
  ADD COLUMN vcpus               integer NOT NULL DEFAULT 64,
  ADD COLUMN ram_mib             integer NOT NULL DEFAULT 262144,
  ADD COLUMN disk_gib            integer NOT NULL DEFAULT 1920,
  ADD COLUMN agents_down         text[] NOT NULL DEFAULT '{}';
ALTER TABLE sim_servers
  ADD COLUMN vcpus    integer NOT NULL DEFAULT 4,
  ADD COLUMN ram_mib  integer NOT NULL DEFAULT 8192,
  ADD COLUMN disk_gib integer NOT NULL DEFAULT 40;

-- Down Migration
ALTER TABLE sim_servers DROP COLUMN vcpus, DROP COLUMN ram_mib, DROP COLUMN disk_gib;
ALTER TABLE sim_hosts DROP COLUMN roles, DROP COLUMN bmc_address, DROP COLUMN bmc_credentials_ref, DROP COLUMN bmc_system_id,
  DROP COLUMN inlet_celsius, DROP COLUMN psus_failed, DROP COLUMN correctable_errors, DROP COLUMN bmc_unreachable,
  DROP COLUMN vcpus, DROP COLUMN ram_mib, DROP COLUMN disk_gib, DROP COLUMN agents_down;
DROP TABLE telemetry_sweeps, telemetry_samples, host_snapshots;
DROP INDEX hosts_health;
ALTER TABLE hosts DROP COLUMN bmc_address, DROP COLUMN bmc_credentials_ref, DROP COLUMN bmc_system_id, DROP COLUMN last_seen_at;
