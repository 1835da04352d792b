/** Lint probe files with the project's own ESLint config, as if they stood at the paths given: the import and SQL rules' tests. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Lint every probe in one ESLint process (building the type-aware program once
 * costs seconds); returns, per probe, the messages of `rule`.
 */
export function lintProbes(rule: string, probes: { file: string; code: string }[]): string[][] {
  const script = `
    const { ESLint } = require('eslint');
    const probes = JSON.parse(process.argv[1]);
    (async () => {
      const eslint = new ESLint({ cwd: ${JSON.stringify(ROOT)} });
      const out = [];
      for (const p of probes) {
        const [r] = await eslint.lintText(p.code, { filePath: p.file });
        out.push(r.messages.filter((m) => m.ruleId === ${JSON.stringify(rule)}).map((m) => m.message));
      }
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script, JSON.stringify(probes)], { cwd: ROOT, encoding: 'utf8' }),
  );
}
