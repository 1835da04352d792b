/**
 * The policies in force. Files under the policy folder are the source of
 * truth: the store loads them, records every version it sees (content hash,
 * author, time), reloads when the folder changes, and writes through the API.
 * A bad file never replaces a good set: the last good set stays in force.
 */
import { existsSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import type { Logger } from '../config/logger';
import { inTransaction } from '../db/pool';
import { assertUniqueNames, inMatchOrder, loadPolicies, parsePolicy, PolicyError, type LoadedPolicy, type LoadOptions } from '../policies/loader';

export class PolicyStore {
  private current: LoadedPolicy[] = [];
  private signature = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Pool,
    readonly dir: string,
    private readonly logger: Logger,
    /** The fleet provider in use: policies with steps it cannot take are refused. */
    private readonly options: LoadOptions = {},
  ) {}

  /** Validate one policy file as this store would load it (for the provider in use); throws PolicyError. */
  parse(file: string, text: string): LoadedPolicy {
    return parsePolicy(file, text, this.options);
  }

  list(): readonly LoadedPolicy[] {
    return this.current;
  }

  get(name: string): LoadedPolicy | undefined {
    return this.current.find((p) => p.name === name);
  }

  /** Load the folder; throws on a bad file (fail fast at start-up). */
  async load(author = 'file'): Promise<void> {
    const loaded = loadPolicies(this.dir, this.options);
    this.signature = this.folderSignature();
    this.current = loaded;
    for (const p of loaded) await this.recordVersion(this.db, p, author);
  }

  /** Reload when the folder changes (polling: works on every file system, including mounted config maps). */
  watch(everyMs = 2000): void {
    this.timer = setInterval(() => {
      if (this.folderSignature() === this.signature) return;
      this.load('file').then(
        () => this.logger.info({ policies: this.current.map((p) => `${p.name}@${p.policy.version}`) }, 'policies reloaded'),
        (err: unknown) => {
          this.signature = this.folderSignature(); // don't log the same bad file every tick
          this.logger.error({ err: (err as Error).message }, 'policy folder rejected; the last good policies stay in force');
        },
      );
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Validate and apply one policy file; nothing changes when it is invalid. */
  async put(name: string, text: string, author: string): Promise<LoadedPolicy> {
    const file = `${name}.yaml`;
    const parsed = this.parse(file, text);
    if (parsed.name !== name) {
      throw new PolicyError(`${file}:1:1: name: is "${parsed.name}" but the URL names "${name}"`, [{ file, line: 1, column: 1, field: 'name', message: `must be "${name}" (the name in the URL)` }]);
    }
    const next = inMatchOrder([...this.current.filter((p) => p.name !== name), parsed]);
    assertUniqueNames(next);
    await inTransaction(this.db, async (tx) => {
      await this.recordVersion(tx, parsed, author);
      await tx.query(`INSERT INTO audit_log (actor_kind, actor, policy_version, action, reason) VALUES ('person', $1, $2, 'policy applied', $3)`, [author, parsed.policy.version, `${name}@${parsed.policy.version}`]);
      // Write last, atomically: if the database said no, the file is untouched.
      const tmp = join(this.dir, `.${file}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(this.dir, file));
    });
    this.current = next;
    this.signature = this.folderSignature();
    return parsed;
  }

  async remove(name: string, author: string): Promise<boolean> {
    const existing = this.get(name);
    if (!existing) return false;
    await inTransaction(this.db, async (tx) => {
      await tx.query(`INSERT INTO policy_versions (name, version, content, author, deleted) VALUES ($1, $2, $3, $4, true) ON CONFLICT DO NOTHING`, [name, existing.policy.version, existing.source, author]);
      await tx.query(`INSERT INTO audit_log (actor_kind, actor, policy_version, action, reason) VALUES ('person', $1, $2, 'policy deleted', $3)`, [author, existing.policy.version, name]);
      const path = join(this.dir, existing.file);
      if (existsSync(path)) unlinkSync(path);
    });
    this.current = this.current.filter((p) => p.name !== name);
    this.signature = this.folderSignature();
    return true;
  }

  async versions(name: string): Promise<{ version: string; author: string; createdAt: string; deleted: boolean }[]> {
    const { rows } = await this.db.query(
      'SELECT version, author, created_at AS "createdAt", deleted FROM policy_versions WHERE name = $1 ORDER BY created_at DESC',
      [name],
    );
    return rows;
  }

  private async recordVersion(db: Pick<Pool, 'query'>, p: LoadedPolicy, author: string): Promise<void> {
    const { rowCount } = await db.query('INSERT INTO policy_versions (name, version, content, author) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [p.name, p.policy.version, p.source, author]);
    // Changes made through the API are audited by put(); a new version found in the folder is audited here.
    if (rowCount && author === 'file') {
      await db.query(`INSERT INTO audit_log (actor_kind, actor, policy_version, action, reason) VALUES ('system', 'policy folder', $1, 'policy loaded', $2)`, [p.policy.version, `${p.name}@${p.policy.version} from ${p.file}`]);
    }
  }

  private folderSignature(): string {
    return readdirSync(this.dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => {
        const s = statSync(join(this.dir, f));
        return `${f}:${s.size}:${s.mtimeMs}`;
      })
      .join('|');
  }
}
