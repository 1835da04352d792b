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
import {
  recordAppliedPolicy,
  recordDeletedPolicy,
  recordLoadedPolicy,
  versionsOfPolicy,
  type PolicyFile,
} from '../db/policy-versions';
import {
  assertUniqueNames,
  inMatchOrder,
  loadPolicies,
  parsePolicy,
  PolicyError,
  type LoadedPolicy,
  type LoadOptions,
} from '../policies/loader';

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
    for (const p of loaded) await recordLoadedPolicy(this.db, asPolicyFile(p), author);
  }

  /** Reload when the folder changes (polling: works on every file system, including mounted config maps). */
  watch(everyMs = 2000): void {
    this.timer = setInterval(() => {
      if (this.folderSignature() === this.signature) return;
      this.load('file').then(
        () =>
          this.logger.info({ policies: this.current.map((p) => `${p.name}@${p.policy.version}`) }, 'policies reloaded'),
        (err: unknown) => {
          this.signature = this.folderSignature(); // don't log the same bad file every tick
          this.logger.error(
            { err: (err as Error).message },
            'policy folder rejected; the last good policies stay in force',
          );
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
      throw new PolicyError(`${file}:1:1: name: is "${parsed.name}" but the URL names "${name}"`, [
        { file, line: 1, column: 1, field: 'name', message: `must be "${name}" (the name in the URL)` },
      ]);
    }
    const next = inMatchOrder([...this.current.filter((p) => p.name !== name), parsed]);
    assertUniqueNames(next);
    await recordAppliedPolicy(this.db, asPolicyFile(parsed), author, () => {
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
    await recordDeletedPolicy(this.db, asPolicyFile(existing), author, () => {
      const path = join(this.dir, existing.file);
      if (existsSync(path)) unlinkSync(path);
    });
    this.current = this.current.filter((p) => p.name !== name);
    this.signature = this.folderSignature();
    return true;
  }

  async versions(name: string): Promise<{ version: string; author: string; createdAt: Date; deleted: boolean }[]> {
    return versionsOfPolicy(this.db, name);
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

function asPolicyFile(p: LoadedPolicy): PolicyFile {
  return { name: p.name, version: p.policy.version, content: p.source, file: p.file };
}
