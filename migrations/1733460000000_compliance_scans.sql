-- Up Migration

-- Compliance scans: one row per scan (db/compliance-scans.ts), however it was
-- started: through the API (the route records it as it starts the workflow), or
-- by a profile's Temporal Schedule (the workflow records its own start). The
-- workflow writes the end: completed with its summary, or failed with why.

CREATE TABLE compliance_scans (
  -- The scan as the API names it: the workflow ID after `<prefix>compliance-scan/`
  -- (a UUID for a scan on demand, `<profile>-<time>` for a scheduled one).
  id            text PRIMARY KEY,
  workflow_id   text NOT NULL UNIQUE,
  -- NULL: every profile of the folder.
  profiles      text[],
  -- NULL: every host of the inventory.
  hosts         text[],
  -- A person's subject, or `schedule:<profile>`.
  requested_by  text NOT NULL,
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz,
  status        text NOT NULL
    CHECK (status IN ('running', 'completed', 'failed', 'canceled', 'terminated', 'timed-out')),
  summary       jsonb,
  error         text,
  CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX compliance_scans_recent ON compliance_scans (started_at DESC, id DESC);
CREATE INDEX compliance_scans_by_status ON compliance_scans (status, started_at DESC);

-- Down Migration
DROP TABLE compliance_scans;
