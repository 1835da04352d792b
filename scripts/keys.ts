/**
 * Manage the keys file (SHIPSHAPE_KEYS_FILE): `node dist/scripts/keys.js create <file>`
 * writes a new one (owner-only; never overwrites); `--if-missing` makes that a
 * no-op when the file exists (containers). `rotate <file> <id>` appends a
 * fresh codec key and decision key named <id>: they become the newest (they
 * encrypt and sign), the old ones stay to decrypt and verify. Restart the API
 * and the worker after a rotation. Keys are never printed.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '../config';
import { loadKeys, rotateKeysFile, writeNewKeysFile } from '../config/keys';

function main(): void {
  const [command, file, ...rest] = process.argv.slice(2);
  const usage = 'usage: keys create <file> [--if-missing] | keys rotate <file> <new-key-id> | keys check <file>';
  if (!file) throw new Error(usage);
  if (command === 'create') {
    if (existsSync(file)) {
      if (!rest.includes('--if-missing'))
        throw new Error(`${file} exists: a keys file is never overwritten (to add a key: keys rotate ${file} <id>)`);
      loadKeys(file);
      console.log(`${file} exists and is valid; left as it is`);
      return;
    }
    writeNewKeysFile(file);
    console.log(`wrote ${file} (mode 600): one codec key and one decision key`);
  } else if (command === 'rotate') {
    const id = rest[0];
    if (!id) throw new Error(usage);
    rotateKeysFile(file, id);
    console.log(`${file}: "${id}" is now the newest codec and decision key; restart the API and the worker`);
  } else if (command === 'check') {
    const keys = loadKeys(file);
    console.log(
      `${file}: codec keys ${keys.codecKeys.map((k) => k.id).join(', ')}; decision keys ${keys.decisionKeys.map((k) => k.id).join(', ')}`,
    );
  } else {
    throw new Error(usage);
  }
}

try {
  main();
} catch (err) {
  console.error(err instanceof ConfigError || err instanceof Error ? err.message : err);
  process.exit(1);
}
