/** Where signals arrive: the generic JSON endpoint and Alertmanager's webhook. */
import { randomUUID } from 'node:crypto';
import express, { Router } from 'express';
import type { Pool } from 'pg';
import type { Logger } from '../../config/logger';
import { placeOfHost, placesOfHosts, type HostPlace } from '../../db/hosts';
import type { SignalRecord } from '../../domain/types';
import { requireRole } from '../auth';
import type { GroupSignal, SignalDispatcher } from '../dispatch';
import { unprocessable } from '../errors';
import { fingerprintOf, hostFromLabels, severityFromLabel } from '../normalize';
import { alertmanagerWebhook, signalRequest, type AlertmanagerWebhook } from '../schemas';
import { parse } from '../validate';

export interface SignalsRouterDeps {
  db: Pool;
  dispatcher: SignalDispatcher;
  hostLabel: string;
  logger: Logger;
}

export const ALERTMANAGER_WEBHOOK_PATH = '/v1/integrations/alertmanager';
/**
 * Alertmanager sends a group in one notification, and by default (max_alerts 0)
 * without a limit: 5,000 alerts are about 3 MiB. The bound here is the API's memory.
 */
export const ALERTMANAGER_BODY_LIMIT = '64mb';

type KnownHost = HostPlace;

/**
 * Host look-ups for signals, cached for a few seconds: in a storm the same
 * few hosts are looked up thousands of times. Unknown hosts are not cached,
 * so a host added to the inventory is found at once.
 */
function hostLookup(db: Pool, ttlMs = 5000) {
  const cache = new Map<string, { host: KnownHost; until: number }>();
  const remember = (host: KnownHost) => {
    if (cache.size > 100_000) cache.clear();
    cache.set(host.id, { host, until: Date.now() + ttlMs });
  };
  const cached = (id: string) => {
    const hit = cache.get(id);
    return hit && hit.until > Date.now() ? hit.host : undefined;
  };
  return {
    async one(id: string): Promise<KnownHost | null> {
      const hit = cached(id);
      if (hit) return hit;
      const host = await placeOfHost(db, id);
      if (host) remember(host);
      return host;
    },
    /** Every host of a group in one query: a rack's worth of alerts names hundreds. */
    async many(ids: readonly string[]): Promise<Map<string, KnownHost>> {
      const found = new Map<string, KnownHost>();
      const missing = [...new Set(ids)].filter((id) => {
        const hit = cached(id);
        if (hit) found.set(id, hit);
        return !hit;
      });
      if (missing.length > 0) {
        for (const host of await placesOfHosts(db, missing)) {
          remember(host);
          found.set(host.id, host);
        }
      }
      return found;
    },
  };
}

type WebhookAlert = AlertmanagerWebhook['alerts'][number];

export function createSignalsRouter(deps: SignalsRouterDeps): Router {
  const router = Router();
  const hosts = hostLookup(deps.db);

  router.post('/v1/signals', requireRole('operator'), async (req, res) => {
    const body = parse(signalRequest, req.body, 'body');
    const host = await hosts.one(body.resource.id);
    if (!host) {
      throw unprocessable('unknown_host', `resource.id: no host "${body.resource.id}" in the inventory`, {
        field: 'resource.id',
      });
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

  /** One alert of a group as a signal; an alert for no host Shipshape knows is kept as ignored, with the reason. */
  function signalOf(
    alert: WebhookAlert,
    receiver: string,
    subject: string,
    known: Map<string, KnownHost>,
  ): GroupSignal {
    const name = alert.labels.alertname ?? 'unnamed';
    const source = `alertmanager/${receiver}`;
    const hostName = hostFromLabels(alert.labels, deps.hostLabel);
    const host = hostName ? known.get(hostName) : undefined;
    const unknown = hostName
      ? `no host "${hostName}" in the inventory`
      : `no "${deps.hostLabel}" or "instance" label names the host`;
    return {
      id: randomUUID(),
      source,
      name,
      resourceId: host?.id ?? hostName ?? '',
      host: host?.id ?? null,
      severity: severityFromLabel(alert.labels.severity),
      status: alert.status,
      fingerprint: alert.fingerprint ?? (host ? fingerprintOf(source, name, host.id, alert.labels) : ''),
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      receivedBy: subject,
      decided: host ? null : { outcome: 'ignored', reason: unknown },
      place: host ? { zone: host.zone, roles: host.roles } : null,
    };
  }

  // Authenticated before its body is read; the body is a whole group, of any size Alertmanager sends.
  router.post(
    ALERTMANAGER_WEBHOOK_PATH,
    requireRole('operator'),
    express.json({ limit: ALERTMANAGER_BODY_LIMIT }),
    async (req, res) => {
      const payload = parse(alertmanagerWebhook, req.body, 'body');
      if (payload.truncatedAlerts) {
        deps.logger.warn(
          { groupKey: payload.groupKey, truncatedAlerts: payload.truncatedAlerts, received: payload.alerts.length },
          "Alertmanager left alerts out of this group's notification (webhook max_alerts): they never reached Shipshape",
        );
      }
      const known = await hosts.many(
        payload.alerts.map((a) => hostFromLabels(a.labels, deps.hostLabel)).filter((h): h is string => h !== null),
      );
      const signals = payload.alerts.map((alert) => signalOf(alert, payload.receiver, req.caller!.subject, known));
      const results = await deps.dispatcher.acceptGroup(signals);
      res.status(200).json({
        groupKey: payload.groupKey,
        truncatedAlerts: payload.truncatedAlerts ?? 0,
        results: results.map((r, i) => ({
          ...r,
          alertname: signals[i]!.name,
          host: signals[i]!.host ?? (signals[i]!.resourceId || null),
        })),
      });
    },
  );

  return router;
}
