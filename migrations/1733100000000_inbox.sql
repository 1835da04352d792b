-- Up Migration

-- The alert inbox (api/inbox-engine.ts groups signals into items and derives
-- their states; db/inbox.ts reads and writes these tables). Times here are the
-- inbox's: when it took an alert in (within a second of its arrival) and when
-- it saw a remediation change phase.

CREATE TABLE inbox_items (
  id               uuid PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('resource','topology')),
  key              text NOT NULL,
  topology_label   text,
  topology_value   text,
  title            text NOT NULL,
  -- Of its first alert: what routes and filters match on.
  source           text NOT NULL,
  name             text NOT NULL,
  host             text,
  zone             text,
  role             text,
  -- The most severe of its alerts.
  severity         text NOT NULL CHECK (severity IN ('critical','warning','info')),
  first_seen       timestamptz NOT NULL,
  last_seen        timestamptz NOT NULL,
  -- When an alert last arrived as new or changed status (ends a snooze "until it changes").
  last_change      timestamptz NOT NULL,
  firing           boolean NOT NULL,
  resolved_at      timestamptz,
  alerts_received  integer NOT NULL DEFAULT 0,
  -- The policy and remediation its alerts went to (the most relevant, for a topology item).
  policy_name      text,
  remediation_id   text REFERENCES remediations(id),
  remediation_phase text,
  remediation_phase_since timestamptz,
  remediation_waiting_since timestamptz,
  -- Derived (domain/inbox.ts), with why and since when.
  state            text NOT NULL CHECK (state IN ('needs-person','acknowledged','snoozed','automation','silenced','resolved')),
  state_reason     text NOT NULL,
  state_since      timestamptz NOT NULL,
  resolved_how     text CHECK (resolved_how IN ('source','verified','person')),
  -- Set while it is resolved: open items are those with closed_at and merged_into null.
  closed_at        timestamptz,
  merged_into      uuid REFERENCES inbox_items(id),
  flapping_since   timestamptz,
  flap_percent     real,
  -- When it first flapped; kept after the flapping stops (the noise report counts flappers).
  flapped_at       timestamptz,
  silence_id       text,
  -- What people did (each also on the audit log and in the item's history).
  acknowledged_by  text,
  acknowledged_at  timestamptz,
  assignee         text,
  assigned_by      text,
  assigned_at      timestamptz,
  snooze_by        text,
  snooze_at        timestamptz,
  snooze_until     timestamptz,
  snooze_until_change boolean NOT NULL DEFAULT false,
  resolved_by      text,
  resolved_by_at   timestamptz,
  resolved_note    text,
  reopened_by      text,
  reopened_at      timestamptz
);
CREATE INDEX inbox_items_open ON inbox_items (state, last_seen DESC) WHERE closed_at IS NULL AND merged_into IS NULL;
CREATE INDEX inbox_items_closed ON inbox_items (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX inbox_items_host ON inbox_items (host, last_seen DESC);
CREATE INDEX inbox_items_remediation ON inbox_items (remediation_id) WHERE remediation_id IS NOT NULL;

-- One row per alert (fingerprint) of an item, with what flap detection keeps.
CREATE TABLE inbox_alerts (
  item_id          uuid NOT NULL REFERENCES inbox_items(id) ON DELETE CASCADE,
  fingerprint      text NOT NULL,
  name             text NOT NULL,
  resource         text NOT NULL,
  host             text,
  source           text NOT NULL,
  severity         text NOT NULL,
  labels           jsonb NOT NULL DEFAULT '{}'::jsonb,
  topology         jsonb NOT NULL DEFAULT '{}'::jsonb,
  status           text NOT NULL CHECK (status IN ('firing','resolved')),
  first_seen       timestamptz NOT NULL,
  last_seen        timestamptz NOT NULL,
  last_change      timestamptz NOT NULL,
  resolved_at      timestamptz,
  received         integer NOT NULL DEFAULT 0,
  -- The last observations ([{at, status}], oldest first) and the flap verdict (domain/flapping.ts).
  observations     jsonb NOT NULL DEFAULT '[]'::jsonb,
  flapping         boolean NOT NULL DEFAULT false,
  flapping_since   timestamptz,
  flap_percent     real,
  PRIMARY KEY (item_id, fingerprint)
);
CREATE INDEX inbox_alerts_fingerprint ON inbox_alerts (fingerprint);
CREATE INDEX inbox_alerts_resource ON inbox_alerts (resource, name);
CREATE INDEX inbox_alerts_flapping ON inbox_alerts (fingerprint) WHERE flapping;

-- Every state change and every person's action on an item, in order.
CREATE TABLE inbox_history (
  seq        bigserial PRIMARY KEY,
  item_id    uuid NOT NULL REFERENCES inbox_items(id) ON DELETE CASCADE,
  at         timestamptz NOT NULL,
  actor      text NOT NULL,
  from_state text,
  to_state   text,
  entry      text NOT NULL
);
CREATE INDEX inbox_history_item ON inbox_history (item_id, seq);

-- Silences a person made (label matchers, domain/silences.ts). The guards'
-- maintenance windows silence hosts too, without a row here.
CREATE TABLE inbox_silences (
  id             text PRIMARY KEY,
  matchers       text[] NOT NULL,
  starts_at      timestamptz NOT NULL,
  ends_at        timestamptz NOT NULL,
  created_by     text NOT NULL,
  comment        text NOT NULL,
  end_on_resolve boolean NOT NULL DEFAULT false,
  ended_at       timestamptz,
  ended_by       text,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_silences_active ON inbox_silences (ends_at) WHERE ended_at IS NULL;

-- Notifications: one row per message to one receiver, kept after it was sent
-- (or given up on), so the same state change is never told twice.
CREATE TABLE inbox_deliveries (
  id           bigserial PRIMARY KEY,
  item_id      uuid NOT NULL REFERENCES inbox_items(id) ON DELETE CASCADE,
  receiver     text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('opened','changed','reminder','escalated','resolved')),
  -- The item's state_since it told (which state change).
  state_since  timestamptz NOT NULL,
  state        text NOT NULL,
  message      jsonb NOT NULL,
  created_at   timestamptz NOT NULL,
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  finished_at  timestamptz
);
CREATE INDEX inbox_deliveries_item ON inbox_deliveries (item_id, created_at);
CREATE INDEX inbox_deliveries_pending ON inbox_deliveries (created_at) WHERE status = 'pending';
-- A state change is told to a receiver once; reminders are told at most once per created_at.
CREATE UNIQUE INDEX inbox_deliveries_once ON inbox_deliveries (item_id, receiver, kind, state_since) WHERE kind <> 'reminder';

-- Each signal belongs to the item it was grouped into; inbox_grouped_at is
-- null until the inbox took it in (a resolved alert no open item holds is
-- grouped into none). Signals recorded before the inbox existed are not
-- brought in: they would open items for alerts long over.
ALTER TABLE signals ADD COLUMN inbox_item_id uuid REFERENCES inbox_items(id) ON DELETE SET NULL;
ALTER TABLE signals ADD COLUMN inbox_grouped_at timestamptz;
UPDATE signals SET inbox_grouped_at = received_at;
CREATE INDEX signals_ungrouped ON signals (received_at) WHERE inbox_grouped_at IS NULL;
CREATE INDEX signals_inbox_item ON signals (inbox_item_id, received_at) WHERE inbox_item_id IS NOT NULL;

-- Down Migration
DROP INDEX signals_inbox_item;
DROP INDEX signals_ungrouped;
ALTER TABLE signals DROP COLUMN inbox_grouped_at;
ALTER TABLE signals DROP COLUMN inbox_item_id;
DROP TABLE inbox_deliveries, inbox_silences, inbox_history, inbox_alerts, inbox_items;
