/**
 * The files the SSH provider reads: the inventory file (where each host is
 * reached and, optionally, its host key) and the SSH credentials file (names
 * to keys). Bad input is refused with the file, the line and column (the
 * inventory) and the field; a secret is never echoed. And a host key's
 * fingerprint is the one `ssh-keygen -lf` prints.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { utils } from 'ssh2';
import { parseInventoryFile } from '../../config/inventory-file';
import { SshCredentials, SshCredentialsError } from '../../providers/ssh/credentials';
import { fingerprintOf, hostKeyAlgorithmsFor, keyTypeOf } from '../../providers/ssh/host-key';
import { expectInventoryFileRefused } from '../support/inventory-file';

const FP = 'SHA256:TNXITcYk7W20mkwhqVtlooyhHe77vNk3+s7to/PY6HY';

describe('the inventory file', () => {
  it('gives each host its SSH endpoint (port 22 by default), its stated host key and its BMC', () => {
    const inventory = parseInventoryFile(
      [
        'hosts:',
        '  compute-01:',
        '    ssh:',
        '      address: 10.0.0.5',
        '      credentials: fleet-root',
        '      hostKey: { fingerprint: "' + FP + '", type: ssh-ed25519 }',
        '    bmc: { address: "https://10.0.1.5", credentials: bmc-default, systemId: System.Embedded.1 }',
        '  compute-02:',
        '    ssh: { address: compute-02.example.net, port: 2222, credentials: fleet-root }',
      ].join('\n'),
      'inventory.yaml',
    );
    expect(inventory).toEqual({
      ssh: [
        {
          host: 'compute-01',
          address: '10.0.0.5',
          port: 22,
          credentialsRef: 'fleet-root',
          hostKey: { fingerprint: FP, keyType: 'ssh-ed25519' },
        },
        {
          host: 'compute-02',
          address: 'compute-02.example.net',
          port: 2222,
          credentialsRef: 'fleet-root',
          hostKey: null,
        },
      ],
      bmc: [
        {
          host: 'compute-01',
          address: 'https://10.0.1.5',
          credentialsRef: 'bmc-default',
          systemId: 'System.Embedded.1',
        },
      ],
      labels: [],
    });
  });

  it.each([
    [
      'a port out of range, at its line and column',
      'hosts:\n  h1:\n    ssh:\n      address: 10.0.0.5\n      port: 70000\n      credentials: c\n',
      'inv.yaml:5:13: hosts.h1.ssh.port: Too big: expected number to be <=65535',
    ],
    [
      'a missing credentials name, at its parent',
      'hosts:\n  h1:\n    ssh:\n      address: 10.0.0.5\n',
      /^inv\.yaml:4:7: hosts\.h1\.ssh\.credentials: /,
    ],
    [
      'a fingerprint not in ssh-keygen form',
      `hosts:\n  h1:\n    ssh:\n      address: a\n      credentials: c\n      hostKey: { fingerprint: "MD5:aa:bb", type: ssh-ed25519 }\n`,
      /^inv\.yaml:6:31: hosts\.h1\.ssh\.hostKey\.fingerprint: a SHA256 fingerprint as `ssh-keygen -lf` prints it/,
    ],
    [
      'an unknown host key type',
      `hosts:\n  h1:\n    ssh:\n      address: a\n      credentials: c\n      hostKey: { fingerprint: "${FP}", type: ssh-dss }\n`,
      /^inv\.yaml:6:\d+: hosts\.h1\.ssh\.hostKey\.type: /,
    ],
    [
      'an unknown field (a typo is not ignored)',
      'hosts:\n  h1:\n    ssh: { address: a, credentials: c, prot: 22 }\n',
      /^inv\.yaml:3:10: hosts\.h1\.ssh: Unrecognized key: "prot"/,
    ],
    [
      'a host with neither ssh, bmc nor labels',
      'hosts:\n  h1: {}\n',
      'inv.yaml:2:7: hosts.h1: give ssh, bmc, labels or several of them',
    ],
    [
      'a credentials name that is a path',
      'hosts:\n  h1:\n    ssh: { address: a, credentials: /etc/key }\n',
      /^inv\.yaml:3:\d+: hosts\.h1\.ssh\.credentials: the name of an SSH credentials entry/,
    ],
    ['no hosts at all', 'servers: {}\n', /^inv\.yaml:1:1: hosts: /],
    ['not YAML', 'hosts:\n  h1: [\n', /^inv\.yaml:\d+:\d+: not YAML: /],
    [
      'a host name with a space',
      'hosts:\n  "compute 01":\n    ssh: { address: a, credentials: c }\n',
      'inv.yaml:3:5: hosts.compute 01: host names are letters, digits, ".", "_", "-"',
    ],
  ])('refuses %s', (_name, text, message) => {
    expectInventoryFileRefused(text, message);
  });
});

describe('the SSH credentials file', () => {
  const key = utils.generateKeyPairSync('ed25519').private;
  const dir = mkdtempSync(join(tmpdir(), 'ssh-credentials-'));
  const keyFile = join(dir, 'id');
  writeFileSync(keyFile, key, { mode: 0o600 });
  const keyLines = key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));

  it('resolves a name to a username and a key, from a file or an environment variable', () => {
    const credentials = SshCredentials.fromText(
      `fleet:\n  username: root\n  privateKeyFile: ${keyFile}\nci:\n  username: scanner\n  privateKeyEnv: CI_SSH_KEY\n`,
      'creds.yaml',
      { CI_SSH_KEY: key },
    );
    expect(credentials.resolve('fleet').username).toBe('root');
    expect(credentials.resolve('fleet').privateKey().toString()).toBe(key);
    expect(credentials.resolve('ci').username).toBe('scanner');
    expect(credentials.resolve('ci').privateKey().toString()).toBe(key);
  });

  it('never shows the key when the resolved entry is logged or serialised', () => {
    const access = SshCredentials.fromText(`fleet:\n  username: root\n  privateKeyFile: ${keyFile}\n`, 'c').resolve(
      'fleet',
    );
    for (const shown of [JSON.stringify(access), inspect(access), inspect({ access }, { depth: 5 }), String(access)])
      for (const line of keyLines) expect(shown).not.toContain(line);
    expect(JSON.stringify(access)).toBe('{"name":"fleet","username":"root"}');
  });

  it.each([
    [
      'neither key source',
      'a:\n  username: root\n',
      'creds.yaml: a.privateKeyFile: set exactly one of privateKeyFile and privateKeyEnv',
    ],
    [
      'both key sources',
      `a:\n  username: root\n  privateKeyFile: ${keyFile}\n  privateKeyEnv: K\n`,
      'creds.yaml: a.privateKeyFile: set exactly one of privateKeyFile and privateKeyEnv',
    ],
    [
      'a key file that is not there',
      'a:\n  username: root\n  privateKeyFile: /nonexistent/id\n',
      'creds.yaml: a.privateKeyFile: cannot read /nonexistent/id (ENOENT)',
    ],
    [
      'an unset variable',
      'a:\n  username: root\n  privateKeyEnv: NOT_SET_HERE\n',
      'creds.yaml: a.privateKeyEnv: the environment variable NOT_SET_HERE is not set',
    ],
    [
      'an unknown field',
      `a:\n  username: root\n  privateKeyFile: ${keyFile}\n  password: hunter2\n`,
      /^creds\.yaml: a: Unrecognized key: "password"$/,
    ],
    [
      'a bad entry name',
      `"a b":\n  username: root\n  privateKeyFile: ${keyFile}\n`,
      /^creds\.yaml: a b: names are letters/,
    ],
  ])('refuses %s, naming the entry and field', (_name, text, message) => {
    let error: unknown;
    try {
      SshCredentials.fromText(text, 'creds.yaml', {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SshCredentialsError);
    if (typeof message === 'string') expect((error as Error).message).toBe(message);
    else expect((error as Error).message).toMatch(message);
  });

  it('refuses a value that is not a private key, without echoing it', () => {
    const secretish = 'not-a-key-but-secret-0123456789abcdef';
    let error: unknown;
    try {
      SshCredentials.fromText('a:\n  username: root\n  privateKeyEnv: K\n', 'creds.yaml', { K: secretish });
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).toMatch(/^creds\.yaml: a: the private key cannot be used: /);
    expect((error as Error).message).not.toContain(secretish);
  });

  it('an unknown reference is an error naming it', () => {
    expect(() => SshCredentials.empty().resolve('nope')).toThrow(
      'no SSH credentials named "nope" in the credentials file',
    );
  });
});

describe('host keys', () => {
  // A key made with `ssh-keygen -t ed25519`; `ssh-keygen -lf` printed the fingerprint FP for it.
  const blob = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIO+ALVljc+VhdyfYxLKu8BufrBHHKiibwYTQzXzC//+B', 'base64');

  it('fingerprints a key as ssh-keygen -lf does, and reads its type', () => {
    expect(fingerprintOf(blob)).toBe(FP);
    expect(keyTypeOf(blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(Buffer.from([0, 0]))).toBe('unknown');
  });

  it('offers only the pinned key type (RSA with its SHA-2 signatures)', () => {
    expect(hostKeyAlgorithmsFor('ssh-ed25519')).toEqual(['ssh-ed25519']);
    expect(hostKeyAlgorithmsFor('ssh-rsa')).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithmsFor('ssh-dss')).toBeUndefined();
  });
});
