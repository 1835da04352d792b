-- Up Migration

-- Two roles. This migration (and every one after it) runs as the OWNER role,
-- which owns the tables. The API and the worker connect as the APPLICATION role
-- `shipshape_app`: it may read and write the working tables, but it may only
-- INSERT and SELECT the audit log and the policy versions, and since it owns
-- nothing it cannot drop or disable their triggers. A real deployment creates
-- `shipshape_app` (LOGIN, or a group its login role belongs to) as a superuser
-- before migrating; an owner allowed to create roles creates it here.
DO $$
BEGIN
  IF current_user = 'shipshape_app' THEN
    RAISE EXCEPTION 'migrations must run as the owner role, not as the application role shipshape_app'
      USING HINT = 'set MIGRATION_DATABASE_URL to a URL of the role that owns the tables';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shipshape_app') THEN
    BEGIN
      CREATE ROLE shipshape_app NOLOGIN;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE EXCEPTION 'role shipshape_app does not exist, and % may not create it', current_user
        USING HINT = 'as a superuser: CREATE ROLE shipshape_app LOGIN PASSWORD ''...''; then migrate again';
    END;
  END IF;
END $$;

GRANT USAGE ON SCHEMA public TO shipshape_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO shipshape_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO shipshape_app;
-- Append-only tables: no UPDATE, DELETE or TRUNCATE for the application.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, policy_versions FROM shipshape_app;
-- The migrations' own bookkeeping is the owner's alone.
DO $$
BEGIN
  IF to_regclass('public.pgmigrations') IS NOT NULL THEN
    REVOKE ALL ON pgmigrations FROM shipshape_app;
  END IF;
END $$;
-- Tables of later migrations (run by this same owner) are the application's to read and write;
-- a later append-only table revokes UPDATE, DELETE and TRUNCATE as above.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO shipshape_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO shipshape_app;

-- TRUNCATE fires no row trigger, so the append-only rule needs a statement trigger too
-- (it also stops the owner by mistake; a deliberate owner must drop the trigger first).
CREATE FUNCTION refuse_truncate() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: TRUNCATE is refused', TG_TABLE_NAME;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();
CREATE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON policy_versions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- The hash chain: every row stores the hash of the row before it (in seq order) and its own hash,
-- sha256 over a canonical text of its fields and that previous hash. A row edited, inserted or
-- deleted behind the application's back no longer matches; db/audit-log.ts verifyAuditChain
-- walks the chain and names the first row that does not.
ALTER TABLE audit_log ADD COLUMN prev_hash text, ADD COLUMN hash text;

-- The canonical text is a JSON array (unambiguous whatever the fields hold; jsonb's text form is
-- normalised), with the time in UTC so that the session's TimeZone does not change it.
CREATE FUNCTION audit_log_row_hash(r audit_log) RETURNS text AS $$
  SELECT encode(sha256(convert_to(jsonb_build_array(
    r.seq, to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), r.actor_kind, r.actor,
    r.policy_version, r.host, r.remediation_id, r.action, r.reason, r.before, r.after, r.idempotency_key,
    r.prev_hash)::text, 'UTF8')), 'hex')
$$ LANGUAGE sql STABLE;

-- Rows chain in the order they are numbered, so the number is taken under the same lock as the
-- previous hash: an advisory lock held to the end of the inserting transaction, so the next insert
-- waits until this row is committed (or rolled back) and then sees it. The column default is dropped:
-- the trigger numbers every row. Inserts into the audit log are serialised; they are few.
ALTER TABLE audit_log ALTER COLUMN seq DROP DEFAULT;
CREATE FUNCTION audit_log_chain() RETURNS trigger AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('shipshape.audit_log.chain'));
  NEW.seq := nextval('audit_log_seq_seq');
  NEW.prev_hash := coalesce((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), repeat('0', 64));
  NEW.hash := audit_log_row_hash(NEW);
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- Rows written before this migration join the chain in seq order.
LOCK TABLE audit_log IN EXCLUSIVE MODE;
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
DO $$
DECLARE
  r audit_log;
  prev text := repeat('0', 64);
BEGIN
  FOR r IN SELECT * FROM audit_log ORDER BY seq LOOP
    r.prev_hash := prev;
    prev := audit_log_row_hash(r);
    UPDATE audit_log SET prev_hash = r.prev_hash, hash = prev WHERE seq = r.seq;
  END LOOP;
END $$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;
ALTER TABLE audit_log ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;

-- Down Migration
DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_log_chain();
ALTER TABLE audit_log ALTER COLUMN seq SET DEFAULT nextval('audit_log_seq_seq');
ALTER TABLE audit_log DROP COLUMN prev_hash, DROP COLUMN hash;
DROP FUNCTION audit_log_row_hash(audit_log);
DROP TRIGGER policy_versions_no_truncate ON policy_versions;
DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP FUNCTION refuse_truncate();
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM shipshape_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM shipshape_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM shipshape_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM shipshape_app;
REVOKE USAGE ON SCHEMA public FROM shipshape_app;
