/**
 * The codec endpoint for the Temporal Web UI (`--ui-codec-endpoint`, or the
 * UI's "Codec Server" setting): it decodes (and encodes) payloads with the
 * keys file, following Temporal's remote codec protocol, so people with a
 * Shipshape token (viewer or higher) can read a history that Temporal only
 * holds encrypted. CORS lets the UI's origin call it from the browser.
 */
import type { Payload } from '@temporalio/common';
import { Router, type RequestHandler } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { ShipshapeKeys } from '../../config/keys';
import { CodecError, EncryptionCodec } from '../../workers/data-converter';
import { authenticate, requireRole } from '../auth';
import { unprocessable } from '../errors';
import { parse } from '../validate';

export const CODEC_PATH = '/v1/codec';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const codecRequest = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() }), {
    error: 'is required: a list of { metadata, data } with base64 values',
  }),
});

type JsonPayload = z.infer<typeof codecRequest>['payloads'][number];

function fromJson(p: JsonPayload): Payload {
  return {
    metadata: p.metadata
      ? Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]))
      : undefined,
    data: p.data ? new Uint8Array(Buffer.from(p.data, 'base64')) : undefined,
  };
}

function toJson(p: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

/** CORS for the Temporal UI's origin only; the preflight (no token) is answered here. */
function cors(origin: string): RequestHandler {
  return (req, res, next) => {
    res.vary('Origin');
    if (req.headers.origin === origin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Namespace');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

export function createCodecRouter(deps: { db: Pool; keys: ShipshapeKeys; corsOrigin: string }): Router {
  const router = Router();
  const codec = new EncryptionCodec(deps.keys.codecKeys);
  router.use(CODEC_PATH, cors(deps.corsOrigin));
  for (const op of ['decode', 'encode'] as const) {
    router.post(`${CODEC_PATH}/${op}`, authenticate(deps.db), requireRole('viewer'), async (req, res) => {
      const body = parse(codecRequest, req.body ?? {}, 'body');
      let payloads: Payload[];
      try {
        payloads = await codec[op](body.payloads.map(fromJson));
      } catch (err) {
        if (err instanceof CodecError) throw unprocessable('codec_failed', err.message);
        throw err;
      }
      res.json({ payloads: payloads.map(toJson) });
    });
  }
  return router;
}
