/**
 * The codec endpoint for the Temporal Web UI (`--ui-codec-endpoint`, or the
 * UI's "Codec Server" setting) and the Temporal CLI (`--codec-endpoint`): it
 * decodes (and encodes) payloads with the keys file, following Temporal's
 * remote codec protocol, so people with a Shipshape token (viewer or higher)
 * can read a history that Temporal only holds encrypted. CORS lets the UI's
 * origins call it from the browser.
 *
 * The CLI sends the token as `Authorization: Bearer`. A browser cannot add a
 * header to the UI's requests, so a person signs in once at
 * `/v1/codec/login` (their token, in a form): an HttpOnly cookie scoped to
 * /v1/codec then carries it, and the UI sends it when its codec setting
 * "Include cross-origin credentials" is on.
 */
import type { Payload } from '@temporalio/common';
import express, { Router, type RequestHandler } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { ShipshapeKeys } from '../../config/keys';
import { holderOfToken } from '../../db/tokens';
import { roleAtLeast } from '../../domain/types';
import { CodecError, EncryptionCodec } from '../../workers/data-converter';
import { authenticate, hashToken, requireRole } from '../auth';
import { AppError, unprocessable } from '../errors';
import { parse } from '../validate';

export const CODEC_PATH = '/v1/codec';
const COOKIE = 'shipshape_codec';
const SESSION_SECONDS = 8 * 3600;

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

/** CORS for the Temporal UI's origins only; the preflight (no token) is answered here. */
function cors(origins: readonly string[]): RequestHandler {
  return (req, res, next) => {
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin && origins.includes(origin)) {
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

function cookieToken(header: string | undefined): string | null {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE && value.length > 0) {
      try {
        return decodeURIComponent(value.join('='));
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** Without an Authorization header, the sign-in cookie's token stands in for it. */
const tokenFromCookie: RequestHandler = (req, _res, next) => {
  const token = req.headers.authorization ? null : cookieToken(req.headers.cookie);
  if (token) req.headers.authorization = `Bearer ${token}`;
  next();
};

const html = (body: string) =>
  `<!doctype html><meta charset="utf-8"><title>Shipshape codec</title><body style="font-family:sans-serif;max-width:40em;margin:3em auto">${body}</body>`;
const escapeHtml = (t: string) =>
  t.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const LOGIN_FORM = html(`<h1>Decode Temporal payloads</h1>
<p>Sign in with your Shipshape API token (viewer or higher). The Temporal Web UI can then show decrypted payloads
in this browser: in the UI's codec server settings, turn on <em>Include cross-origin credentials</em>.</p>
<form method="post" action="${CODEC_PATH}/login"><input type="password" name="token" size="50" autofocus required>
<button>Sign in</button></form>`);

export function createCodecRouter(deps: { db: Pool; keys: ShipshapeKeys; corsOrigins: readonly string[] }): Router {
  const router = Router();
  const codec = new EncryptionCodec(deps.keys.codecKeys);
  router.use(CODEC_PATH, cors(deps.corsOrigins));

  router.get(`${CODEC_PATH}/login`, (_req, res) => {
    res.type('html').send(LOGIN_FORM);
  });
  router.post(`${CODEC_PATH}/login`, express.urlencoded({ extended: false, limit: '4kb' }), async (req, res) => {
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : '';
    const caller = token ? await holderOfToken(deps.db, hashToken(token)) : null;
    if (!caller || !roleAtLeast(caller.role, 'viewer'))
      throw new AppError(401, 'unauthenticated', 'token is not valid or has been revoked');
    const secure = req.secure ? '; Secure' : '';
    res.setHeader(
      'Set-Cookie',
      `${COOKIE}=${encodeURIComponent(token)}; Path=${CODEC_PATH}; HttpOnly; SameSite=Lax; Max-Age=${SESSION_SECONDS}${secure}`,
    );
    res
      .type('html')
      .send(
        html(
          `<p>Signed in as ${escapeHtml(caller.subject)} (${caller.role}) for ${SESSION_SECONDS / 3600} hours. The Temporal UI can decode payloads in this browser now.</p>`,
        ),
      );
  });
  router.post(`${CODEC_PATH}/logout`, (_req, res) => {
    res.setHeader('Set-Cookie', `${COOKIE}=; Path=${CODEC_PATH}; HttpOnly; SameSite=Lax; Max-Age=0`);
    res.status(204).end();
  });

  for (const op of ['decode', 'encode'] as const) {
    router.post(
      `${CODEC_PATH}/${op}`,
      tokenFromCookie,
      authenticate(deps.db),
      requireRole('viewer'),
      async (req, res) => {
        const body = parse(codecRequest, req.body ?? {}, 'body');
        let payloads: Payload[];
        try {
          payloads = await codec[op](body.payloads.map(fromJson));
        } catch (err) {
          if (err instanceof CodecError) throw unprocessable('codec_failed', err.message);
          throw err;
        }
        res.json({ payloads: payloads.map(toJson) });
      },
    );
  }
  return router;
}
