/** The worker's compliance settings: the SSH credentials file (a bad one stops the worker, naming it) and the profiles' folder. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { loadConfig } from '../../config';
import { createComplianceSettings } from '../../workers/composition';

const base = { DATABASE_URL: 'postgres://u@localhost/db' };
const dir = mkdtempSync(join(tmpdir(), 'shipshape-compliance-config-'));

test('without a credentials file, no host has SSH credentials, and profiles are read from <policy dir>/compliance', () => {
  const settings = createComplianceSettings(loadConfig({ ...base, SHIPSHAPE_POLICY_DIR: '/etc/shipshape/policies/' }));
  expect(settings.profilesDir).toBe('/etc/shipshape/policies/compliance');
  expect(() => settings.sshCredentials.resolve('fleet-root')).toThrow('no SSH credentials named "fleet-root"');
});

test('SHIPSHAPE_COMPLIANCE_DIR names another profiles folder', () => {
  const settings = createComplianceSettings(loadConfig({ ...base, SHIPSHAPE_COMPLIANCE_DIR: '/srv/profiles' }));
  expect(settings.profilesDir).toBe('/srv/profiles');
});

test('a credentials file is loaded: its entries resolve by name', () => {
  const file = join(dir, 'ssh.yaml');
  writeFileSync(file, 'fleet-root:\n  username: root\n  privateKeyEnv: FLEET_KEY\n');
  const key = utils.generateKeyPairSync('ed25519').private;
  const settings = createComplianceSettings(loadConfig({ ...base, SHIPSHAPE_SSH_CREDENTIALS_FILE: file }), {
    FLEET_KEY: key,
  });
  expect(settings.sshCredentials.resolve('fleet-root').username).toBe('root');
});

test.each([
  [
    'a file that does not exist',
    'missing.yaml',
    null,
    /SHIPSHAPE_SSH_CREDENTIALS_FILE: .*missing\.yaml does not exist/,
  ],
  ['a file that is not YAML', 'bad.yaml', 'fleet-root: [', /bad\.yaml: not YAML/],
  ['an entry without a key', 'nokey.yaml', 'fleet-root:\n  username: root\n', /nokey\.yaml: fleet-root/],
])('%s stops the worker, naming the file', (_case, name, text, message) => {
  const file = join(dir, name);
  if (text !== null) writeFileSync(file, text);
  expect(() => createComplianceSettings(loadConfig({ ...base, SHIPSHAPE_SSH_CREDENTIALS_FILE: file }), {})).toThrow(
    message,
  );
});
