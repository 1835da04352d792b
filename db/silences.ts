/**
 * Silences people make (domain/silences.ts checks them; this stores them).
 * A silence is never deleted: it ends (at its time, early by a person, or
 * when the alert it silenced resolved) and stays listed with how it ended.
 */
import { fromStored, matcherText, silenceEnd, type Silence, type StoredSilence } from '../domain/silences';
import type { Queryable } from './pool';

const COLUMNS = `id, matchers, starts_at AS "startsAt", ends_at AS "endsAt", created_by AS "createdBy", comment,
                 end_on_resolve AS "endOnResolve", ended_at AS "endedAt"`;

/** A silence as listed: with who ended it early, when someone did. */
export interface SilenceRecord extends StoredSilence {
  endedBy: string | null;
  /** Applies now (started, not ended). */
  active: boolean;
}

export async function createSilence(db: Queryable, silence: Silence): Promise<void> {
  await db.query(
    `INSERT INTO inbox_silences (id, matchers, starts_at, ends_at, created_by, comment, end_on_resolve)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      silence.id,
      silence.matchers.map(matcherText),
      silence.startsAt,
      silence.endsAt,
      silence.createdBy,
      silence.comment,
      silence.endOnResolve,
    ],
  );
}

/** Silences newest first: those not yet over (`active`), or every one. */
export async function listSilences(
  db: Queryable,
  options: { active?: boolean; now?: Date; limit?: number } = {},
): Promise<SilenceRecord[]> {
  const now = options.now ?? new Date();
  const where = options.active === false ? '' : 'WHERE ended_at IS NULL AND ends_at > $2';
  const { rows } = await db.query<StoredSilence & { endedBy: string | null }>(
    `SELECT ${COLUMNS}, ended_by AS "endedBy" FROM inbox_silences ${where} ORDER BY created_at DESC, id LIMIT $1`,
    options.active === false ? [options.limit ?? 500] : [options.limit ?? 500, now],
  );
  return rows.map((r) => ({ ...r, active: r.startsAt <= now && now < silenceEnd(r as unknown as Silence) }));
}

export async function findSilence(db: Queryable, id: string): Promise<SilenceRecord | null> {
  const { rows } = await db.query<StoredSilence & { endedBy: string | null }>(
    `SELECT ${COLUMNS}, ended_by AS "endedBy" FROM inbox_silences WHERE id = $1`,
    [id],
  );
  const r = rows[0];
  if (!r) return null;
  const now = new Date();
  return { ...r, active: r.startsAt <= now && now < silenceEnd(r as unknown as Silence) };
}

/** End a silence now, by a person; false when it had ended already. */
export async function expireSilence(db: Queryable, id: string, by: string, now = new Date()): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE inbox_silences SET ended_at = $3, ended_by = $2 WHERE id = $1 AND ended_at IS NULL AND ends_at > $3`,
    [id, by, now],
  );
  return (rowCount ?? 0) > 0;
}

/** The silences that may apply at `now` (started or not, not over), as domain/silences.ts reads them. */
export async function loadActiveSilences(db: Queryable, now: Date): Promise<Silence[]> {
  const { rows } = await db.query<StoredSilence>(
    `SELECT ${COLUMNS} FROM inbox_silences WHERE ended_at IS NULL AND ends_at > $1`,
    [now],
  );
  return rows.map(fromStored);
}

/** Record that these silences ended because an alert they silenced resolved (end-on-resolve). */
export async function endSilencesOnResolve(db: Queryable, ids: string[], at: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `UPDATE inbox_silences SET ended_at = $2, ended_by = 'the alert resolved' WHERE id = ANY($1) AND ended_at IS NULL`,
    [ids, at],
  );
}
