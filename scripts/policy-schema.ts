/** Writes policies/policy.schema.json from the zod schema (run by npm run build; a test checks it is current). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { policyJsonSchema } from '../policies/schema';
import { PROJECT_ROOT } from './services';

export const POLICY_SCHEMA_PATH = join(PROJECT_ROOT, 'policies', 'policy.schema.json');

export function renderPolicySchema(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(POLICY_SCHEMA_PATH, renderPolicySchema());
  console.log(`wrote ${POLICY_SCHEMA_PATH}`);
}
