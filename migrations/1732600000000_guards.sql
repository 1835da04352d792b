-- Up Migration

-- Fleet-wide guards are enforced with leases: a remediation holds one while its
-- host is out of the pool. Acquisition happens in one transaction under an
-- advisory lock, so concurrent workers never over-commit a zone.
CREATE TABLE guard_leases (
  remediation_id text PRIMARY KEY REFERENCES remediations(id),
  host          text NOT NULL,
  zone          text NOT NULL,
  acquired_at   timestamptz NOT NULL DEFAULT now(),
  released_at   timestamptz
);
CREATE INDEX guard_leases_active_zone ON guard_leases (zone) WHERE released_at IS NULL;
CREATE INDEX guard_leases_acquired ON guard_leases (acquired_at);
CREATE INDEX guard_leases_host ON guard_leases (host, acquired_at);

-- The global pause switch (one row).
CREATE TABLE guard_pause (
  only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  paused_by  text NOT NULL,
  reason     text NOT NULL,
  paused_at  timestamptz NOT NULL DEFAULT now()
);

-- Circuit breakers: a tripped zone stays stopped until a person resets it.
CREATE TABLE guard_breakers (
  id          bigserial PRIMARY KEY,
  zone        text NOT NULL,
  tripped_at  timestamptz NOT NULL DEFAULT now(),
  reason      text NOT NULL,
  reset_at    timestamptz,
  reset_by    text
);
CREATE UNIQUE INDEX guard_breakers_one_open ON guard_breakers (zone) WHERE reset_at IS NULL;

-- Down Migration
DROP TABLE guard_breakers, guard_pause, guard_leases;
