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
import type { Queryable } from '../db/pool';
import {
  recordAppliedPolicy,
  recordDeletedPolicy,
  recordLoadedPolicy,
  versionsOfPolicy,
  withPolicyFolderLock,
  type PolicyFile,
} from '../db/policy-versions';
import {
  loadPolicies,
  parsePolicy,
  parsePolicyFolder,
  PolicyError,
  readPolicyFolder,
  type LoadedPolicy,
  type LoadOptions,
} from '../policies/loader';
import { conflict } from './errors';

export class PolicyStore {
  private current: LoadedPolicy[] = [];
  private signature = '';
  private timer: NodeJS.Timeout | null = null;
  /** The change running now, or settled: the next change starts after it. */
  private queue: Promise<unknown> = Promise.resolve();

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

  /**
   * Validate and apply one policy; nothing changes when it is invalid. The
   * policy is written to the file it lives in (a file's stem need not be its
   * policy's name), or to `<name>.yaml` when it is new. Changes take turns
   * (see oneChangeAtATime), and each starts from the folder as it is on disk,
   * so a change made meanwhile by another request or API process is kept.
   * Nothing is written that the next start would refuse: the folder with the
   * change must load as one set.
   */
  async put(name: string, text: string, author: string): Promise<LoadedPolicy> {
    return this.oneChangeAtATime(async (tx) => {
      const folder = readPolicyFolder(this.dir);
      const file = this.fileHolding(name, folder) ?? `${name}.yaml`;
      const parsed = this.parse(file, text);
      if (parsed.name !== name) {
        throw new PolicyError(`${file}:1:1: name: is "${parsed.name}" but the URL names "${name}"`, [
          { file, line: 1, column: 1, field: 'name', message: `must be "${name}" (the name in the URL)` },
        ]);
      }
      const occupant = this.policyIn(file, folder);
      if (occupant && occupant.name !== name)
        throw conflict(`${file} holds policy "${occupant.name}"; "${name}" cannot be written there`, {
          field: 'name',
          file,
        });
      const next = parsePolicyFolder(new Map([...folder, [file, text]]), this.options);
      await recordAppliedPolicy(tx, asPolicyFile(parsed), author, () => {
        // Write last, atomically: if the database said no, the file is untouched.
        const tmp = join(this.dir, `.${file}.tmp`);
        writeFileSync(tmp, text);
        renameSync(tmp, join(this.dir, file));
      });
      return { result: parsed, next };
    });
  }

  /** Delete a policy's file; false when no file holds it. Takes turns with every other change, as put does. */
  async remove(name: string, author: string): Promise<boolean> {
    return this.oneChangeAtATime(async (tx) => {
      const folder = readPolicyFolder(this.dir);
      const file = this.fileHolding(name, folder);
      if (!file) return { result: false, next: this.current };
      const existing = this.policyIn(file, folder) ?? this.get(name)!;
      const rest = new Map(folder);
      rest.delete(file);
      const next = parsePolicyFolder(rest, this.options);
      await recordDeletedPolicy(tx, asPolicyFile(existing), author, () => {
        const path = join(this.dir, file);
        if (existsSync(path)) unlinkSync(path);
      });
      return { result: true, next };
    });
  }

  /**
   * Run one change at a time: in this process by a queue (so waiting changes
   * do not each hold a database connection), across API processes sharing
   * the folder by the database's policy folder lock. The set in force is
   * replaced after the change is committed and before the next one starts.
   */
  private oneChangeAtATime<T>(change: (tx: Queryable) => Promise<{ result: T; next: LoadedPolicy[] }>): Promise<T> {
    const run = this.queue.then(async () => {
      const { result, next } = await withPolicyFolderLock(this.db, change);
      this.current = next;
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The file that holds a policy, as the folder is now: the file whose policy
   * has that name; for a file that does not load, the one the last good set
   * had it in. Undefined when no file holds it.
   */
  private fileHolding(name: string, folder: ReadonlyMap<string, string>): string | undefined {
    for (const file of folder.keys()) if (this.policyIn(file, folder)?.name === name) return file;
    const known = this.get(name)?.file;
    return known !== undefined && folder.has(known) && !this.policyIn(known, folder) ? known : undefined;
  }

  /** The policy a file of the folder holds, or undefined when there is no such file or it does not load. */
  private policyIn(file: string, folder: ReadonlyMap<string, string>): LoadedPolicy | undefined {
    const text = folder.get(file);
    if (text === undefined) return undefined;
    try {
      return this.parse(file, text);
    } catch (err) {
      if (err instanceof PolicyError) return undefined;
      throw err;
    }
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
