/** Turning what arrives (a generic signal, an Alertmanager alert) into Shipshape's signal record. Pure. */
import { createHash } from 'node:crypto';
import type { Severity } from '../domain/types';

/** A stable identity for "the same alert": source, name, host and labels, like Alertmanager's own. */
export function fingerprintOf(source: string, name: string, host: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
  return createHash('sha256').update(`${source}\u0000${name}\u0000${host}\u0000${sorted}`).digest('hex').slice(0, 16);
}

const CRITICAL = new Set(['critical', 'page', 'error', 'high', 'disaster']);
const INFO = new Set(['info', 'informational', 'none', 'low']);

export function severityFromLabel(value: string | undefined): Severity {
  const v = (value ?? '').toLowerCase();
  if (CRITICAL.has(v)) return 'critical';
  if (INFO.has(v)) return 'info';
  return 'warning';
}

/** The host an alert is about: the configured label, else `instance` without its port. */
export function hostFromLabels(labels: Record<string, string>, hostLabel: string): string | null {
  const direct = labels[hostLabel];
  if (direct) return direct;
  const instance = labels.instance;
  if (!instance) return null;
  // "[::1]:9100" → "::1"; "node-1:9100" → "node-1"; "node-1" stays.
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(instance);
  if (bracketed?.[1]) return bracketed[1];
  return instance.replace(/:\d+$/, '');
}
