/**
 * The alert inbox as a person uses it: what needs them (and what automation
 * is handling), an item's page, the actions (acknowledge, assign, snooze,
 * resolve, reopen), the noise report, and silences. Each action is one
 * transaction in db/inbox-actions.ts; the engine re-derives the item's state
 * in it, so the answer shows where the item stands now.
 */
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import type { Pool } from 'pg';
import type { z } from 'zod';
import { actOnInboxItem, createSilenceAudited, expireSilenceAudited, type InboxAction } from '../../db/inbox-actions';
import { decodeCursor, inboxItemPage, itemsSilencedBy, listInboxItems, noiseItemsSince } from '../../db/inbox-views';
import type { Queryable } from '../../db/pool';
import { findSilence, listSilences, type SilenceRecord } from '../../db/silences';
import type { InboxState } from '../../domain/inbox';
import { noiseReport } from '../../domain/inbox-noise';
import { readSilence } from '../../domain/silences';
import { requireRole } from '../auth';
import { AppError, conflict, notFound } from '../errors';
import {
  acknowledgeRequest,
  assignRequest,
  durationMs,
  inboxListQuery,
  noiseQuery,
  reopenRequest,
  resolveRequest,
  silenceListQuery,
  silenceRequest,
  snoozeRequest,
} from '../schemas';
import { parse } from '../validate';

/** What the routes need of the inbox engine: re-derive items now, in the caller's transaction. */
export interface InboxEvaluator {
  evaluate(ids: string[], db: Queryable): Promise<void>;
}

export interface InboxRouterDeps {
  db: Pool;
  inbox: InboxEvaluator;
  /** The inbox's clock (item times are its times); real time by default. */
  now?: () => Date;
}

/** How far ahead a snooze may end: a longer one is a silence, or the rule needs fixing. */
export const MAX_SNOOZE_DAYS = 30;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A 422 naming each field and why: what a person sent makes no sense (the shape may be fine). */
function unprocessableFields(fields: Array<{ field: string; reason: string }>): AppError {
  const first = fields[0]!;
  return new AppError(422, 'validation_failed', `${first.field}: ${first.reason}`, { fields });
}

/** Parse an action's body; what is wrong with it is a 422 naming the field. */
function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  try {
    return parse(schema, body ?? {}, 'body');
  } catch (err) {
    if (err instanceof AppError && err.status === 400) throw new AppError(422, err.code, err.message, err.details);
    throw err;
  }
}

function snoozeOf(body: z.output<typeof snoozeRequest>, now: Date): InboxAction {
  const untilChange = body.untilChange ?? false;
  if (!body.until && !untilChange)
    throw unprocessableFields([
      { field: 'body.until', reason: 'give until (a time), untilChange: true, or both; a snooze must end' },
    ]);
  const until = body.until ? new Date(body.until) : null;
  if (until && until <= now)
    throw unprocessableFields([
      { field: 'body.until', reason: `${body.until} has already passed; a snooze ends in the future` },
    ]);
  if (until && until.getTime() > now.getTime() + MAX_SNOOZE_DAYS * 86_400_000)
    throw unprocessableFields([
      {
        field: 'body.until',
        reason: `${body.until} is more than ${MAX_SNOOZE_DAYS} days ahead; silence the alert instead, or fix its rule`,
      },
    ]);
  return { kind: 'snooze', until, untilChange, comment: body.comment };
}

/** Each action: its body, and the action it asks for. */
const ACTIONS: Record<InboxAction['kind'], (body: unknown, now: Date) => InboxAction> = {
  acknowledge: (b) => ({ kind: 'acknowledge', comment: parseBody(acknowledgeRequest, b).comment }),
  assign: (b) => {
    const body = parseBody(assignRequest, b);
    return { kind: 'assign', to: body.to, comment: body.comment };
  },
  snooze: (b, now) => snoozeOf(parseBody(snoozeRequest, b), now),
  resolve: (b) => ({ kind: 'resolve', note: parseBody(resolveRequest, b).note }),
  reopen: (b) => ({ kind: 'reopen', comment: parseBody(reopenRequest, b).comment }),
};

/** A silence as listed: whether it applies now by the inbox's clock, and how many open items it keeps quiet. */
function silenceView(s: SilenceRecord, silencing: Map<string, number>, now: Date) {
  const end = s.endedAt && s.endedAt < s.endsAt ? s.endedAt : s.endsAt;
  return {
    ...s,
    endedBy: s.endedBy ?? null,
    active: s.startsAt <= now && now < end,
    silencing: silencing.get(s.id) ?? 0,
  };
}

export function createInboxRouter(deps: InboxRouterDeps): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());
  const evaluate = (ids: string[], tx: Queryable) => deps.inbox.evaluate(ids, tx);

  router.get('/v1/inbox', requireRole('viewer'), async (req, res) => {
    const q = parse(inboxListQuery, req.query, 'query');
    const after = q.after === undefined ? undefined : decodeCursor(q.after);
    if (after === null)
      throw new AppError(400, 'validation_failed', 'query.after: not a `next` this API gave out', {
        fields: [{ field: 'query.after', reason: 'not a `next` this API gave out' }],
      });
    const states = q.state?.includes('all') ? 'all' : (q.state as InboxState[] | undefined);
    res.json(await listInboxItems(deps.db, { ...q, states, severities: q.severity, after }));
  });

  router.get('/v1/inbox/noise', requireRole('viewer'), async (req, res) => {
    const { days } = parse(noiseQuery, req.query, 'query');
    const since = new Date(now().getTime() - days * 86_400_000);
    res.json({ days, since, ...noiseReport(await noiseItemsSince(deps.db, since)) });
  });

  router.get('/v1/inbox/:id', requireRole('viewer'), async (req, res) => {
    const id = req.params.id as string;
    const page = UUID.test(id) ? await inboxItemPage(deps.db, id) : null;
    if (!page) throw notFound(`no inbox item "${id}"`, { field: 'id' });
    res.json({ ...page, mergedInto: page.item.mergedInto });
  });

  for (const name of Object.keys(ACTIONS) as Array<InboxAction['kind']>) {
    router.post(`/v1/inbox/:id/${name}`, requireRole('operator'), async (req, res) => {
      const id = req.params.id as string;
      const at = now();
      const action = ACTIONS[name](req.body, at);
      const result = UUID.test(id)
        ? await actOnInboxItem(deps.db, id, req.caller!.subject, action, { evaluate, now: at })
        : { notFound: true as const };
      if ('notFound' in result) throw notFound(`no inbox item "${id}"`, { field: 'id' });
      if ('refused' in result) throw conflict(result.refused, { action: name });
      res.json(result.done);
    });
  }

  router.get('/v1/silences', requireRole('viewer'), async (req, res) => {
    const q = parse(silenceListQuery, req.query, 'query');
    const silences = await listSilences(deps.db, { active: q.active === 'true' ? true : false, now: now() });
    const silencing = await itemsSilencedBy(
      deps.db,
      silences.map((s) => s.id),
    );
    res.json({ silences: silences.map((s) => silenceView(s, silencing, now())) });
  });

  router.post('/v1/silences', requireRole('operator'), async (req, res) => {
    const body = parseBody(silenceRequest, req.body);
    const at = now();
    const startsAt = body.startsAt ?? at.toISOString();
    if (body.endsAt !== undefined && body.duration !== undefined)
      throw unprocessableFields([{ field: 'body.duration', reason: 'give endsAt or duration, not both' }]);
    let endsAt = body.endsAt;
    if (body.duration !== undefined) {
      const start = new Date(startsAt);
      endsAt = Number.isNaN(start.getTime())
        ? 'not a time'
        : new Date(start.getTime() + durationMs(body.duration)!).toISOString();
    }
    if (endsAt === undefined)
      throw unprocessableFields([{ field: 'body.endsAt', reason: 'give endsAt (a time) or duration (such as 2h)' }]);
    const id = `s-${randomBytes(6).toString('hex')}`;
    const read = readSilence(
      id,
      {
        matchers: body.matchers,
        startsAt,
        endsAt,
        createdBy: req.caller!.subject,
        comment: body.comment,
        endOnResolve: body.endOnResolve,
      },
      at,
    );
    if ('problems' in read)
      throw unprocessableFields(read.problems.map((p) => ({ field: `body.${p.field}`, reason: p.problem })));
    await createSilenceAudited(deps.db, read.silence);
    const created = (await findSilence(deps.db, id))!;
    res.status(201).json(silenceView(created, new Map(), at));
  });

  router.post('/v1/silences/:id/expire', requireRole('operator'), async (req, res) => {
    const id = req.params.id as string;
    const body = parseBody(reopenRequest, req.body);
    const silence = await findSilence(deps.db, id);
    if (!silence) throw notFound(`no silence "${id}"`, { field: 'id' });
    const by = req.caller!.subject;
    if (!(await expireSilenceAudited(deps.db, silence, by, body.comment ?? 'expired', now())))
      throw conflict(
        `silence ${id} has already ended${silence.endedBy ? ` (${silence.endedBy})` : ''}; nothing to expire`,
      );
    const silencing = await itemsSilencedBy(deps.db, [id]);
    res.json(silenceView((await findSilence(deps.db, id))!, silencing, now()));
  });

  return router;
}
