/**
 * Manage API tokens: `node dist/scripts/token.js create <subject> <role>` prints
 * a new token once (only its hash is stored); `revoke <subject>` revokes all of
 * a subject's tokens, at once for every API process (each request reads the
 * token). Both are on the audit log, with the operating-system user who ran
 * the command. Reads DATABASE_URL.
 */
import { hostname, userInfo } from 'node:os';
import { createToken, DEV_TOKEN_SUBJECT } from '../api/auth';
import { loadConfig } from '../config';
import { createPool } from '../db/pool';
import { revokeTokensOf, type TokenActor } from '../db/tokens';
import { API_ROLES, type ApiRole } from '../domain/types';

async function main(): Promise<void> {
  const [command, subject, role] = process.argv.slice(2);
  const usage = `usage: token create <subject> <${API_ROLES.join('|')}> | token revoke <subject>`;
  if (!subject || (command !== 'create' && command !== 'revoke')) throw new Error(usage);
  const by: TokenActor = { kind: 'person', name: `token-cli:${userInfo().username}@${hostname()}` };
  const db = createPool(loadConfig().DATABASE_URL, 1);
  try {
    if (command === 'create') {
      if (!API_ROLES.includes(role as ApiRole))
        throw new Error(`role: must be one of ${API_ROLES.join(', ')}\n${usage}`);
      if (subject === DEV_TOKEN_SUBJECT)
        throw new Error(`subject: "${DEV_TOKEN_SUBJECT}" is reserved for the demo's token; choose another name`);
      console.log(await createToken(db, subject, role as ApiRole, { by }));
    } else {
      console.log(`revoked ${await revokeTokensOf(db, subject, by)} token(s) of ${subject}`);
    }
  } finally {
    await db.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
