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

async function findHost(db: Pool, id: string): Promise<{ id: string; zone: string } | null> {
  const { rows } = await db.query<{ id: string; zone: string }>('SELECT id, zone FROM hosts WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export function createSignalsRouter(deps: SignalsRouterDeps): Router {
  const router = Router();

  router.post('/v1/signals', requireRole('operator'), async (req, res) => {
    const body = parse(signalRequest, req.body, 'body');
    const host = await findHost(deps.db, body.resource.id);
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
    const result = await deps.dispatcher.accept(signal, body.annotations, host.zone);
    res.status(202).json(result);
  });

  router.post('/v1/integrations/alertmanager', requireRole('operator'), async (req, res) => {
    const payload = parse(alertmanagerWebhook, req.body, 'body');
    const results: (SignalResult & { alertname: string; host: string | null })[] = [];
    for (const alert of payload.alerts) {
      const name = alert.labels.alertname ?? 'unnamed';
      const hostName = hostFromLabels(alert.labels, deps.hostLabel);
      const host = hostName ? await findHost(deps.db, hostName) : null;
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
      const result = await deps.dispatcher.accept(signal, alert.annotations, host.zone);
      results.push({ ...result, alertname: name, host: host.id });
    }
    res.status(200).json({ groupKey: payload.groupKey, results });
  });

  return router;
}
