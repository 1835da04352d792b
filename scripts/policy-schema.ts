/**
 * Writes policies/policy.schema.json, compliance.schema.json and reclaim.schema.json from their zod schemas (run by npm run
 * build; tests check both are current).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { complianceJsonSchema } from '../policies/compliance-schema';
import { reclaimJsonSchema } from '../policies/reclaim-schema';
import { policyJsonSchema } from '../policies/schema';
import { PROJECT_ROOT } from './services';

export const POLICY_SCHEMA_PATH = join(PROJECT_ROOT, 'policies', 'policy.schema.json');

export const COMPLIANCE_SCHEMA_PATH = join(PROJECT_ROOT, 'policies', 'compliance.schema.json');

export const RECLAIM_SCHEMA_PATH = join(PROJECT_ROOT, 'policies', 'reclaim.schema.json');

export function renderReclaimSchema(): string {
  return `${JSON.stringify(reclaimJsonSchema(), null, 2)}\n`;
}

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
  writeFileSync(RECLAIM_SCHEMA_PATH, renderReclaimSchema());
  console.log(`wrote ${RECLAIM_SCHEMA_PATH}`);
}
