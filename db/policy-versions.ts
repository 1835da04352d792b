/**
 * Every policy version ever loaded, applied or deleted: the content, who and
 * when, each with its audit record. Written by the API only (its policy store
 * loads the folder and applies changes made through the API).
 */
import type { Pool } from 'pg';
import { appendAudit, appendPersonAudit } from './audit-log';
import { inTransaction, type Queryable } from './pool';

/** A policy as the store has it: the name and version from the file, its text, and the file it came from. */
export interface PolicyFile {
  name: string;
  version: string;
  content: string;
  file: string;
}

async function recordVersion(db: Queryable, p: PolicyFile, author: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'INSERT INTO policy_versions (name, version, content, author) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
    [p.name, p.version, p.content, author],
  );
  return Boolean(rowCount);
}

/**
 * Record a version found in the policy folder (at start-up or on a change).
 * A version seen for the first time is audited when the folder is its author;
 * a change made through the API is audited as applied, by whoever applied it.
 */
export async function recordLoadedPolicy(db: Queryable, p: PolicyFile, author: string): Promise<void> {
  const isNew = await recordVersion(db, p, author);
  if (isNew && author === 'file') {
    await appendAudit(db, {
      actorKind: 'system',
      actor: 'policy folder',
      policyVersion: p.version,
      action: 'policy loaded',
      reason: `${p.name}@${p.version} from ${p.file}`,
    });
  }
}

/**
 * Key of the advisory lock that serialises changes to the policy folder.
 * Every API process sharing the folder shares the database, so two of them
 * take turns; a change holds it for its transaction only.
 */
const POLICY_FOLDER_LOCK = 0x9011c7;

/**
 * Run one change to the policy folder in a transaction that holds the policy
 * folder lock: the change reads the folder, records and writes while no other
 * change (in this process or another) can, so none is lost. The lock ends with
 * the transaction, also when the change throws.
 */
export async function withPolicyFolderLock<T>(db: Pool, change: (tx: Queryable) => Promise<T>): Promise<T> {
  return inTransaction(db, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [POLICY_FOLDER_LOCK]);
    return change(tx);
  });
}

/**
 * Record a policy a person applies, with the audit record, then `writeFile`,
 * in the caller's transaction: if the database says no the file is untouched,
 * and if writing the file fails nothing is recorded.
 */
export async function recordAppliedPolicy(
  tx: Queryable,
  p: PolicyFile,
  person: string,
  writeFile: () => void,
): Promise<void> {
  await recordVersion(tx, p, person);
  await appendPersonAudit(tx, person, 'policy applied', `${p.name}@${p.version}`, p.version);
  writeFile();
}

/** Record that a person deleted a policy, with the audit record, then `removeFile`, in the caller's transaction. */
export async function recordDeletedPolicy(
  tx: Queryable,
  p: PolicyFile,
  person: string,
  removeFile: () => void,
): Promise<void> {
  await tx.query(
    `INSERT INTO policy_versions (name, version, content, author, deleted) VALUES ($1, $2, $3, $4, true) ON CONFLICT DO NOTHING`,
    [p.name, p.version, p.content, person],
  );
  await appendPersonAudit(tx, person, 'policy deleted', p.name, p.version);
  removeFile();
}

/** The policy's versions, newest first. */
export async function versionsOfPolicy(
  db: Queryable,
  name: string,
): Promise<{ version: string; author: string; createdAt: Date; deleted: boolean }[]> {
  const { rows } = await db.query(
    'SELECT version, author, created_at AS "createdAt", deleted FROM policy_versions WHERE name = $1 ORDER BY created_at DESC',
    [name],
  );
  return rows;
}
