/** Request and answer shapes of the reclaim routes (api/routes/reclaim.ts), validated and in the OpenAPI document. */
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { readDuration } from '../domain/reclaim';
import { storableText } from '../domain/text';

extendZodWithOpenApi(z);

/** A duration with its unit (`7d`, `12h`, `30m`), in milliseconds. */
const duration = z
  .string()
  .transform((text, ctx) => {
    const read = readDuration(text);
    if (typeof read === 'number' && read > 0) return read;
    ctx.addIssue({ code: 'custom', message: typeof read === 'number' ? 'must be more than 0' : read.problem });
    return z.NEVER;
  })
  .openapi({ type: 'string', example: '7d' });

export const reclaimOwnerExtendRequest = z
  .strictObject({ extend: duration, comment: storableText().max(2000).optional() })
  .openapi('ReclaimOwnerExtend');

export const reclaimExtendRequest = z
  .strictObject({ extend: duration, comment: storableText().max(2000).optional() })
  .openapi('ReclaimExtend');

const limit = z.coerce.number().int().min(1).max(1000).default(200);

export const reclaimFindingListQuery = z.strictObject({
  rule: storableText().min(1).optional(),
  project: storableText().min(1).optional(),
  limit,
});

export const reclaimCaseListQuery = z.strictObject({
  rule: storableText().min(1).optional(),
  project: storableText().min(1).optional(),
  phase: storableText().min(1).optional(),
  open: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  limit,
});

export const reclaimExemptionRequest = z
  .strictObject({
    rule: storableText().min(1).max(100).describe('A rule name, or * for every rule'),
    project: storableText().min(1).max(200),
    resource: storableText()
      .min(1)
      .max(200)
      .default('*')
      .describe('A resource id, or * for every resource of the project'),
    reason: storableText().trim().min(1, 'must say why').max(2000),
    expiresAt: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
      .refine((t) => Date.parse(t) > Date.now(), 'must be in the future')
      .refine(
        (t) => Date.parse(t) <= Date.now() + 365 * 86_400_000,
        'must be within 365 days: an exemption is looked at again',
      ),
  })
  .openapi('ReclaimExemptionRequest');

export const reclaimScanRequest = z
  .strictObject({ rules: z.array(storableText().min(1)).min(1).optional() })
  .openapi('ReclaimScanRequest');
