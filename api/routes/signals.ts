/** Where signals arrive: the generic JSON endpoint and Alertmanager's webhook. */
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Pool } from 'pg';
import type { SignalRecord } from '../../domain/types';
import { requireRole } from '../auth';
import type { SignalDispatcher } from '../dispatch';
import { unprocessable } from '../errors';
import { fingerprintOf, hostFromLabels, severityFromLabel } from '../normalize';
import { alertmanagerWebhook, signalRequest, type SignalResult } from '../schemas';
import { parse } from '../validate';

export interface SignalsRouterDeps {
  db: Pool;
  dispatcher: SignalDispatcher;
  hostLabel: string;
}

interface KnownHost {
  id: string;
  zone: string;
  roles: string[];
}

/**
 * Host look-ups for signals, cached for a few seconds: in a storm the same
 * few hosts are looked up thousands of times. Unknown hosts are not cached,
 * so a host added to the inventory is found at once.
 */
function hostLookup(db: Pool, ttlMs = 5000): (id: string) => Promise<KnownHost | null> {
  const cache = new Map<string, { host: KnownHost; until: number }>();
  return async (id) => {
    const hit = cache.get(id);
    if (hit && hit.until > Date.now()) return hit.host;
    const { rows } = await db.query<KnownHost>('SELECT id, zone, roles FROM hosts WHERE id = $1', [id]);
    const host = rows[0] ?? null;
    if (host) {
      if (cache.size > 100_000) cache.clear();
      cache.set(id, { host, until: Date.now() + ttlMs });
    }
    return host;
  };
}

export function createSignalsRouter(deps: SignalsRouterDeps): Router {
  const router = Router();
  const findHost = hostLookup(deps.db);

  router.post('/v1/signals', requireRole('operator'), async (req, res) => {
    const body = parse(signalRequest, req.body, 'body');
    const host = await findHost(body.resource.id);
    if (!host) {
      throw unprocessable('unknown_host', `resource.id: no host "${body.resource.id}" in the inventory`, { field: 'resource.id' });
    }
    const signal: SignalRecord = {
      id: randomUUID(),
      source: body.source,
      name: body.name,
      host: host.id,
      severity: body.severity,
      status: body.status,
      fingerprint: body.fingerprint ?? fingerprintOf(body.source, body.name, host.id, body.labels),
      labels: body.labels,
      startsAt: body.startsAt,
      receivedBy: req.caller!.subject,
    };
    const result = await deps.dispatcher.accept(signal, body.annotations, host);
    res.status(202).json(result);
  });

  router.post('/v1/integrations/alertmanager', requireRole('operator'), async (req, res) => {
    const payload = parse(alertmanagerWebhook, req.body, 'body');
    const results: (SignalResult & { alertname: string; host: string | null })[] = [];
    for (const alert of payload.alerts) {
      const name = alert.labels.alertname ?? 'unnamed';
      const hostName = hostFromLabels(alert.labels, deps.hostLabel);
      const host = hostName ? await findHost(hostName) : null;
      const base = {
        id: randomUUID(),
        source: `alertmanager/${payload.receiver}`,
        name,
        severity: severityFromLabel(alert.labels.severity),
        status: alert.status,
        labels: alert.labels,
        startsAt: alert.startsAt,
        receivedBy: req.caller!.subject,
      };
      if (!host) {
        const reason = hostName
          ? `no host "${hostName}" in the inventory`
          : `no "${deps.hostLabel}" or "instance" label names the host`;
        const ignored = await deps.dispatcher.recordIgnored({ ...base, resourceId: hostName ?? '', fingerprint: alert.fingerprint ?? '' }, alert.annotations, reason);
        results.push({ ...ignored, alertname: name, host: hostName });
        continue;
      }
      const signal: SignalRecord = { ...base, host: host.id, fingerprint: alert.fingerprint ?? fingerprintOf(base.source, name, host.id, alert.labels) };
      const result = await deps.dispatcher.accept(signal, alert.annotations, host);
      results.push({ ...result, alertname: name, host: host.id });
    }
    res.status(200).json({ groupKey: payload.groupKey, results });
  });

  return router;
}
