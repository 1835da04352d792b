-- Up Migration

-- A lease for a change made in place (a compliance fix that does not drain
-- the host, workflows/compliance-fix.ts): bounded per zone like take-outs,
-- among themselves, but the host stays in service — it is not counted as
-- out, nor as a take-out for the rate limit and the circuit breaker
-- (db/guards.ts).
ALTER TABLE guard_leases ADD COLUMN in_place boolean NOT NULL DEFAULT false;

-- Down Migration

ALTER TABLE guard_leases DROP COLUMN in_place;
