-- Up Migration

-- SSH endpoints and pinned host keys, for the compliance scans over SSH
-- (providers/ssh/). Keyed by host name like hosts.id, without a foreign key:
-- the inventory file may name a host before the provider's sync brings it in.

-- Where a host is reached over SSH, from the inventory file
-- (SHIPSHAPE_INVENTORY_FILE, config/inventory-file.ts; db/ssh-endpoints.ts).
-- credentials_ref names an entry of the SSH credentials file, which only the
-- worker reads: no secret is ever stored here.
CREATE TABLE host_ssh_endpoints (
  host            text PRIMARY KEY,
  address         text NOT NULL,
  port            integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  credentials_ref text NOT NULL,
  source          text NOT NULL DEFAULT 'inventory-file',
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The host key each host must present (db/ssh-host-keys.ts). Recorded on
-- first contact (trust on first use) or stated by the inventory file; then
-- enforced: a different key is refused and nothing is sent to that host.
CREATE TABLE ssh_host_keys (
  host        text PRIMARY KEY,
  -- SHA256:<base64 without padding>, as `ssh-keygen -lf` prints it.
  fingerprint text NOT NULL CHECK (fingerprint ~ '^SHA256:[A-Za-z0-9+/]{43}$'),
  key_type    text NOT NULL,
  first_seen  timestamptz NOT NULL DEFAULT now(),
  source      text NOT NULL CHECK (source IN ('first-contact','inventory')),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE ssh_host_keys, host_ssh_endpoints;
