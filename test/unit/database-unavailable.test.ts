/** Which failures mean "PostgreSQL is away" (answered 503 with Retry-After), and which are the statement's own. Table-driven, no services. */
import express from 'express';
import request from 'supertest';
import { errorHandler } from '../../api/errors';
import { createLogger } from '../../config/logger';
import { isDatabaseUnavailable } from '../../db/pool';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

const cases: [string, unknown, boolean][] = [
  ['refused: nothing listens on the port', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), true],
  [
    'a fast shutdown terminated the session (57P01)',
    pgError('57P01', 'terminating connection due to administrator command'),
    true,
  ],
  ['the server is starting up or shutting down (57P03)', pgError('57P03', 'the database system is starting up'), true],
  ['too many connections (53300)', pgError('53300'), true],
  ['a connection failure (08006)', pgError('08006'), true],
  ['the socket reset', pgError('ECONNRESET'), true],
  ['node-postgres: connection terminated unexpectedly', new Error('Connection terminated unexpectedly'), true],
  ['node-postgres: no free connection in time', new Error('timeout exceeded when trying to connect'), true],
  ['wrapped as the cause of another error', new Error('claim failed', { cause: pgError('57P01') }), true],
  ['a unique violation (23505) is the statement', pgError('23505', 'duplicate key value'), false],
  ['a permission denied (42501) is the statement', pgError('42501', 'permission denied for table audit_log'), false],
  ['a syntax error (42601) is the statement', pgError('42601'), false],
  ['a plain error', new Error('boom'), false],
  ['not an error at all', 'ECONNREFUSED', false],
];

test.each(cases.map(([what, err, unavailable]) => [what, unavailable, err] as const))(
  '%s → database unavailable: %s',
  (_what, unavailable, err) => {
    expect(isDatabaseUnavailable(err)).toBe(unavailable);
  },
);

describe('the API answer', () => {
  const app = express();
  app.get('/down', () => {
    throw pgError('57P01', 'terminating connection due to administrator command');
  });
  app.get('/bug', () => {
    throw pgError('42601', 'syntax error at or near "SELEC"');
  });
  app.use(errorHandler(createLogger('silent', 'test')));

  test('PostgreSQL away: 503, Retry-After in seconds, a JSON error that says to retry and names no server detail', async () => {
    const res = await request(app).get('/down');
    expect(res.status).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.body.error).toMatchObject({
      code: 'database_unavailable',
      details: { retryAfterSeconds: expect.any(Number) },
    });
    expect(res.body.error.message).toMatch(/retry/);
    expect(JSON.stringify(res.body)).not.toMatch(/administrator|57P01/);
  });

  test('a fault of the statement stays a 500 without Retry-After', async () => {
    const res = await request(app).get('/bug');
    expect(res.status).toBe(500);
    expect(res.headers['retry-after']).toBeUndefined();
  });
});
