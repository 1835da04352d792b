/**
 * Check the audit log's hash chain: `npm run audit:verify` (node dist/scripts/audit.js verify).
 * Reads DATABASE_URL (the application role may read the log). Prints the newest row and its hash
 * (worth recording elsewhere) or the first broken row; exits 0 when the chain holds, 1 when it is
 * broken, 2 when it could not be checked.
 */
import { loadConfig } from '../config';
import { verifyAuditChain } from '../db/audit-log';
import { createPool } from '../db/pool';

async function main(): Promise<number> {
  const [command] = process.argv.slice(2);
  if (command !== 'verify') throw new Error('usage: audit verify');
  const db = createPool(loadConfig().DATABASE_URL, 1);
  try {
    const report = await verifyAuditChain(db);
    if (report.firstBreak) {
      const b = report.firstBreak;
      console.log(`BROKEN at row ${b.seq} (${b.problem}): ${b.message}`);
      console.log(`  expected ${b.expected}\n  found    ${b.found}`);
      console.log(`${report.checked} row(s) checked; the last good row is ${report.head?.seq ?? 'none'}`);
      return 1;
    }
    const head = report.head ? `; newest row ${report.head.seq}, hash ${report.head.hash}` : '';
    console.log(`audit log chain intact: ${report.checked} row(s)${head}`);
    return 0;
  } finally {
    await db.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
