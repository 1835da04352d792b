/**
 * A real SMTP server for tests: aiosmtpd (from PyPI, installed into
 * `.tools/venv` by `scripts/setup.sh --tests`) on a free loopback port, one
 * process per call. STARTTLS is required, then AUTH (PLAIN or LOGIN) with the
 * given username and password; the certificate is a fresh self-signed one
 * (for 127.0.0.1 and localhost) whose PEM a test pins as the CA. Every
 * accepted message is written as JSON to a folder that `messages()` reads.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { freePort } from '../../scripts/services';

const here = resolve(__dirname, '../..');
/** The repository root, whether this runs from source (test/support) or compiled (dist/test/support). */
const PROJECT_ROOT = basename(here) === 'dist' ? dirname(here) : here;
const PYTHON = join(PROJECT_ROOT, '.tools', 'venv', 'bin', 'python');
const SCRIPT = join(PROJECT_ROOT, 'test', 'support', 'smtp-server.py');

export const SMTP_SERVER_MISSING = `aiosmtpd is not installed in ${join(PROJECT_ROOT, '.tools', 'venv')}; run: bash scripts/setup.sh --tests`;

export interface ReceivedMail {
  /** The envelope: MAIL FROM and RCPT TO. */
  mailFrom: string;
  rcptTos: string[];
  /** Headers, decoded. */
  from: string;
  to: string;
  subject: string;
  /** The text/plain body, decoded. */
  text: string;
  /** The user the client logged in as. */
  login: string | null;
  /** Whether the message came over TLS (after STARTTLS). */
  tls: boolean;
}

export interface RunningSmtpServer {
  host: '127.0.0.1';
  port: number;
  username: string;
  password: string;
  /** The server's self-signed certificate, which is also its CA. */
  certificatePem: string;
  /** The messages accepted so far, in order. */
  messages(): ReceivedMail[];
  /** Ends the process and removes its files; safe to call twice. */
  stop(): Promise<void>;
}

export function isSmtpServerInstalled(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import aiosmtpd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface SmtpServerOptions {
  username?: string;
  password?: string;
  /** false: a server that offers no STARTTLS and takes AUTH in the clear (to test that a client refuses it). */
  starttls?: boolean;
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<RunningSmtpServer> {
  const credentials = { username: options.username ?? 'shipshape', password: options.password ?? 'test-password' };
  if (!isSmtpServerInstalled()) throw new Error(SMTP_SERVER_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-smtp-'));
  const maildir = join(dir, 'mail');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  try {
    mkdirSync(maildir);
    selfSignedCertificate(cert, key);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const port = await freePort();
  const child = spawn(
    PYTHON,
    [SCRIPT, String(port), cert, key, maildir, ...(options.starttls === false ? ['--no-starttls'] : [])],
    {
      env: { ...process.env, SMTP_TEST_USERNAME: credentials.username, SMTP_TEST_PASSWORD: credentials.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const stop = stopper(child, dir);
  try {
    await ready(child);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    ...credentials,
    certificatePem: readFileSync(cert, 'utf8'),
    messages: () =>
      readdirSync(maildir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => JSON.parse(readFileSync(join(maildir, f), 'utf8')) as ReceivedMail),
    stop,
  };
}

/** A P-256 key and a one-day certificate for 127.0.0.1 and localhost (openssl CLI). */
function selfSignedCertificate(cert: string, key: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=shipshape test SMTP',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
}

function ready(child: ChildProcess, timeoutMs = 15000): Promise<void> {
  return new Promise((ok, fail) => {
    let err = '';
    const timer = setTimeout(() => fail(new Error(`aiosmtpd did not start within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      if (c.toString().includes('ready')) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`aiosmtpd exited with ${code} before it was ready: ${err}`));
    });
  });
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= new Promise<void>((ok) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        ok();
      };
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(kill);
        done();
      });
      child.kill('SIGTERM');
    });
    return stopping;
  };
}
