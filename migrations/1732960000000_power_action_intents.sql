-- Up Migration

-- A power action's intent, written before the provider is asked and marked
-- issued once it has answered. Keyed by the activity that issues it (workflow,
-- run, activity ID are the same on every retry of that activity), so a retry
-- after a worker died knows whether an earlier attempt may already have cut
-- the power, even when no heartbeat said so. See activities/host-actions.ts. Rows older than
-- SHIPSHAPE_SIGNAL_RETENTION_DAYS are pruned with the signals at the end of each sweep.
CREATE TABLE power_action_intents (
  workflow_id   text NOT NULL,
  run_id        text NOT NULL,
  activity_id   text NOT NULL,
  host          text NOT NULL,
  action        text NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  issued_at     timestamptz,
  PRIMARY KEY (workflow_id, run_id, activity_id)
);
CREATE INDEX power_action_intents_requested ON power_action_intents (requested_at);

-- Down Migration
DROP TABLE power_action_intents;
