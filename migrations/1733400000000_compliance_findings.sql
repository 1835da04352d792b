-- Up Migration

-- Compliance findings: the standing judgement of one rule on one host, keyed by
-- (host, profile, rule_id); its history, append-only; and waivers with four eyes
-- and an expiry. The lifecycle is domain/compliance-findings.ts; every statement
-- on these tables is in db/compliance-findings.ts.

CREATE TABLE compliance_waivers (
  id                uuid PRIMARY KEY,
  -- A host id, or '*' for every host.
  host              text NOT NULL,
  profile           text NOT NULL,
  -- A rule id, a prefix ending in '*', or '*' for every rule of the profile.
  rule              text NOT NULL,
  reason            text NOT NULL CHECK (reason <> ''),
  risk_acceptance   text NOT NULL CHECK (risk_acceptance <> ''),
  requested_by      text NOT NULL,
  requested_at      timestamptz NOT NULL,
  expires_at        timestamptz NOT NULL CHECK (expires_at > requested_at),
  state             text NOT NULL CHECK (state IN ('requested', 'approved', 'rejected', 'revoked')),
  approved_by       text,
  approved_at       timestamptz,
  rejected_by       text,
  rejected_at       timestamptz,
  revoked_by        text,
  revoked_at        timestamptz,
  decision_comment  text,
  -- Four eyes, held by the database too: whoever asked never approves.
  CONSTRAINT compliance_waivers_four_eyes CHECK (approved_by IS NULL OR approved_by <> requested_by),
  CONSTRAINT compliance_waivers_approved_has_approver CHECK (state <> 'approved' OR approved_by IS NOT NULL)
);
CREATE INDEX compliance_waivers_active ON compliance_waivers (profile, host) WHERE state = 'approved';

CREATE TABLE compliance_findings (
  host                text NOT NULL,
  profile             text NOT NULL,
  rule_id             text NOT NULL,
  state               text NOT NULL
    CHECK (state IN ('pass', 'fail', 'error', 'not-applicable', 'waived', 'fix-pending')),
  -- The last scan's own result, under a waived or fix-pending state.
  result_state        text NOT NULL CHECK (result_state IN ('pass', 'fail', 'error', 'not-applicable')),
  severity            text NOT NULL,
  expected            text NOT NULL,
  observed            text NOT NULL,
  reason              text NOT NULL,
  first_seen          timestamptz NOT NULL,
  last_seen           timestamptz NOT NULL,
  last_changed        timestamptz NOT NULL,
  waiver_id           uuid REFERENCES compliance_waivers (id),
  fix_remediation_id  text,
  PRIMARY KEY (host, profile, rule_id),
  CHECK ((state = 'waived') = (waiver_id IS NOT NULL))
);
CREATE INDEX compliance_findings_by_profile ON compliance_findings (profile, state);
CREATE INDEX compliance_findings_by_state ON compliance_findings (state, severity);
CREATE INDEX compliance_findings_by_waiver ON compliance_findings (waiver_id) WHERE waiver_id IS NOT NULL;

-- One row per change of a finding's state: append-only, like the audit log.
CREATE TABLE compliance_finding_history (
  seq           bigserial PRIMARY KEY,
  host          text NOT NULL,
  profile       text NOT NULL,
  rule_id       text NOT NULL,
  at            timestamptz NOT NULL,
  from_state    text,
  to_state      text NOT NULL,
  result_state  text NOT NULL,
  severity      text NOT NULL,
  observed      text NOT NULL,
  waiver_id     uuid,
  reason        text NOT NULL
);
CREATE INDEX compliance_finding_history_by_rule ON compliance_finding_history (host, profile, rule_id, seq);

-- The application may read and append the history, never rewrite it (1732950000000_audit_chain_and_roles.sql
-- grants it the rest by default privileges); TRUNCATE is refused to everyone by the statement trigger.
REVOKE UPDATE, DELETE, TRUNCATE ON compliance_finding_history FROM shipshape_app;
CREATE TRIGGER compliance_finding_history_no_truncate BEFORE TRUNCATE ON compliance_finding_history
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- Down Migration
DROP TABLE compliance_finding_history;
DROP TABLE compliance_findings;
DROP TABLE compliance_waivers;
