/**
 * Manage API tokens: `node dist/scripts/token.js create <subject> <role>` prints
 * a new token once (only its hash is stored); `revoke <subject>` revokes all of
 * a subject's tokens. Reads DATABASE_URL.
 */
import { createToken } from '../api/auth';
import { loadConfig } from '../config';
import { createPool } from '../db/pool';
import { revokeTokensOf } from '../db/tokens';
import { API_ROLES, type ApiRole } from '../domain/types';

async function main(): Promise<void> {
  const [command, subject, role] = process.argv.slice(2);
  const usage = `usage: token create <subject> <${API_ROLES.join('|')}> | token revoke <subject>`;
  if (!subject || (command !== 'create' && command !== 'revoke')) throw new Error(usage);
  const db = createPool(loadConfig().DATABASE_URL, 1);
  try {
    if (command === 'create') {
      if (!API_ROLES.includes(role as ApiRole))
        throw new Error(`role: must be one of ${API_ROLES.join(', ')}\n${usage}`);
      console.log(await createToken(db, subject, role as ApiRole));
    } else {
      console.log(`revoked ${await revokeTokensOf(db, subject)} token(s) of ${subject}`);
    }
  } finally {
    await db.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
