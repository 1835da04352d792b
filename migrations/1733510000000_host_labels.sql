-- Up Migration

-- Each host's labels (key → value), from the inventory file's `labels:` map
-- (config/inventory-file.ts; db/hosts.ts `setHostLabels`). Compliance scopes
-- match on them (domain/compliance.ts HostFacts.labels); GET /v1/hosts/{id}
-- shows them. The provider's sync never touches them.
ALTER TABLE hosts ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb
  CHECK (jsonb_typeof(labels) = 'object');

-- Who pinned a host key and why, when a person replaced it through the API
-- (POST /v1/hosts/{host}/ssh-host-key); the audit log holds the full record.
ALTER TABLE ssh_host_keys DROP CONSTRAINT ssh_host_keys_source_check;
ALTER TABLE ssh_host_keys ADD CONSTRAINT ssh_host_keys_source_check
  CHECK (source IN ('first-contact', 'inventory', 'person'));

-- Down Migration
DELETE FROM ssh_host_keys WHERE source = 'person';
ALTER TABLE ssh_host_keys DROP CONSTRAINT ssh_host_keys_source_check;
ALTER TABLE ssh_host_keys ADD CONSTRAINT ssh_host_keys_source_check
  CHECK (source IN ('first-contact', 'inventory'));
ALTER TABLE hosts DROP COLUMN labels;
