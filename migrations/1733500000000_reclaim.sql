-- Up Migration

-- Reclaim of unused virtual capacity (issue 14): what each rule flags, each
-- resource's reclaim (one workflow per rule and resource), the owners' link
-- tokens (stored hashed), approved exemptions, the global pause, and the log
-- of destructive steps the caps count. Every statement on these tables is in
-- db/reclaim.ts; the lifecycle is domain/reclaim.ts and workflows/reclaim.ts.

-- The latest judgement of each flagged resource by each rule (a scan upserts;
-- a resource no longer flagged is removed by the scan that sees it so).
CREATE TABLE reclaim_findings (
  rule           text NOT NULL,
  resource_kind  text NOT NULL,
  resource_id    text NOT NULL,
  resource_name  text NOT NULL,
  project_id     text NOT NULL,
  reason         text NOT NULL,
  evidence       jsonb NOT NULL,
  capacity       jsonb NOT NULL,
  dry_run        boolean NOT NULL,
  first_flagged  timestamptz NOT NULL,
  last_seen      timestamptz NOT NULL,
  case_id        uuid,
  PRIMARY KEY (rule, resource_kind, resource_id)
);
CREATE INDEX reclaim_findings_by_project ON reclaim_findings (project_id);

-- One resource's reclaim as its workflow last recorded it.
CREATE TABLE reclaim_cases (
  case_id        uuid PRIMARY KEY,
  workflow_id    text NOT NULL,
  rule           text NOT NULL,
  rule_version   text NOT NULL,
  resource_kind  text NOT NULL,
  resource_id    text NOT NULL,
  resource_name  text NOT NULL,
  project_id     text NOT NULL,
  phase          text NOT NULL,
  view           jsonb NOT NULL,
  capacity       jsonb NOT NULL,
  freed          jsonb,
  flagged_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  closed_at      timestamptz
);
CREATE INDEX reclaim_cases_open ON reclaim_cases (rule, resource_kind, resource_id) WHERE closed_at IS NULL;
CREATE INDEX reclaim_cases_by_project ON reclaim_cases (project_id, phase);

-- The owner's link: an unguessable token per case, kept only as its sha256.
CREATE TABLE reclaim_tokens (
  token_sha256  text PRIMARY KEY,
  case_id       uuid NOT NULL REFERENCES reclaim_cases (case_id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);

-- An exemption: a resource (or a whole project) kept from a rule (or every
-- rule), with a reason, four eyes and an expiry.
CREATE TABLE reclaim_exemptions (
  id             uuid PRIMARY KEY,
  rule           text NOT NULL,          -- a rule name, or '*'
  project_id     text NOT NULL,
  resource_id    text NOT NULL,          -- a resource id, or '*' for the whole project
  reason         text NOT NULL CHECK (reason <> ''),
  requested_by   text NOT NULL,
  requested_at   timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL CHECK (expires_at > requested_at),
  state          text NOT NULL CHECK (state IN ('requested', 'approved', 'rejected', 'revoked')),
  approved_by    text,
  approved_at    timestamptz,
  decided_comment text,
  CONSTRAINT reclaim_exemptions_four_eyes CHECK (approved_by IS NULL OR approved_by <> requested_by)
);
CREATE INDEX reclaim_exemptions_active ON reclaim_exemptions (project_id) WHERE state = 'approved';

-- The global pause: one row while reclaim is paused.
CREATE TABLE reclaim_pause (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  paused_by  text NOT NULL,
  reason     text NOT NULL,
  paused_at  timestamptz NOT NULL DEFAULT now()
);

-- Every destructive step taken (reversible or deletion): what the caps per day and per project count.
CREATE TABLE reclaim_steps (
  seq         bigserial PRIMARY KEY,
  case_id     uuid NOT NULL,
  project_id  text NOT NULL,
  step        text NOT NULL CHECK (step IN ('reversible', 'delete')),
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reclaim_steps_recent ON reclaim_steps (at, project_id);

-- Down Migration

DROP TABLE reclaim_steps, reclaim_pause, reclaim_exemptions, reclaim_tokens, reclaim_cases, reclaim_findings;
