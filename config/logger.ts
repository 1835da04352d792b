import pino from 'pino';

/** Structured logs; fields that may carry secrets are redacted wherever they appear. */
export function createLogger(level: string, name: string): pino.Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        '*.authorization',
        '*.token',
        '*.password',
        '*.apiKey',
        'req.headers.authorization',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}
export type Logger = pino.Logger;
