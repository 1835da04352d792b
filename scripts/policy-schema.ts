/**
 * Writes policies/policy.schema.json and policies/compliance.schema.json from their zod schemas (run by npm run
 * build; tests check both are current).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { complianceJsonSchema } from '../policies/compliance-schema';
import { policyJsonSchema } from '../policies/schema';
import { PROJECT_ROOT } from './services';

export const POLICY_SCHEMA_PATH = join(PROJECT_ROOT, 'policies', 'policy.schema.json');

export const COMPLIANCE_SCHEMA_PATH = join(PROJECT_ROOT, 'policies', 'compliance.schema.json');

export function renderPolicySchema(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}

export function renderComplianceSchema(): string {
  return `${JSON.stringify(complianceJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(POLICY_SCHEMA_PATH, renderPolicySchema());
  console.log(`wrote ${POLICY_SCHEMA_PATH}`);
  writeFileSync(COMPLIANCE_SCHEMA_PATH, renderComplianceSchema());
  console.log(`wrote ${COMPLIANCE_SCHEMA_PATH}`);
}
