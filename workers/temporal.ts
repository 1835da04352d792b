/**
 * Connections to Temporal built from configuration: the local dev server, a
 * self-hosted cluster with mTLS, or Temporal Cloud with an API key.
 */
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { Config } from '../config';
import type { ShipshapeKeys } from '../config/keys';
import { shipshapeDataConverter } from './data-converter';
import { ALL_SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import type { Logger } from '../config/logger';

function tlsOptions(config: Config) {
  if (!config.TEMPORAL_TLS && !config.TEMPORAL_API_KEY) return undefined;
  const clientCertPair =
    config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH
      ? { crt: readFileSync(config.TEMPORAL_TLS_CERT_PATH), key: readFileSync(config.TEMPORAL_TLS_KEY_PATH) }
      : undefined;
  return { clientCertPair, serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME };
}

export function connectClient(config: Config): Promise<Connection> {
  return Connection.connect({
    address: config.TEMPORAL_ADDRESS,
    tls: tlsOptions(config),
    apiKey: config.TEMPORAL_API_KEY,
  });
}

export function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: config.TEMPORAL_ADDRESS,
    tls: tlsOptions(config),
    apiKey: config.TEMPORAL_API_KEY,
  });
}

/** The client the API and the worker process use: payloads encrypted with the keys file's codec keys. */
export function createClient(connection: Connection, config: Config, keys: ShipshapeKeys): Client {
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: shipshapeDataConverter(keys) });
}

/**
 * Register Shipshape's search attributes if the namespace lacks them. On
 * Temporal Cloud this needs the namespace admin; failure is logged with what
 * to do, not fatal, because the dev server and docker-compose register them.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string, logger: Logger): Promise<void> {
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !existing.customAttributes?.[k.name]);
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
    logger.info({ added: missing.map((k) => k.name) }, 'registered search attributes');
  } catch (err) {
    logger.warn(
      { err: (err as Error).message, needed: ALL_SEARCH_ATTRIBUTES.map((k) => `${k.name}=Keyword`) },
      'could not register search attributes; register them in the namespace before starting remediations',
    );
  }
}
