-- Up Migration

-- Every policy version ever loaded or applied: content hash, the text, who, when.
CREATE TABLE policy_versions (
  name        text NOT NULL,
  version     text NOT NULL,
  content     text NOT NULL,
  author      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  deleted     boolean NOT NULL DEFAULT false,
  PRIMARY KEY (name, version, deleted)
);

-- Simulated fault: only this repair action fixes the host (e.g. the service hung, a power cycle does not help).
ALTER TABLE sim_hosts ADD COLUMN fault_fixed_only_by text;

-- Down Migration
ALTER TABLE sim_hosts DROP COLUMN fault_fixed_only_by;
DROP TABLE policy_versions;
