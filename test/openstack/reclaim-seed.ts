/**
 * The reclaim seed of the test cloud (`cloud.sh seed-reclaim`, written by
 * `lib/reclaim_seed.py`): a domain with a fallback contact, users with
 * e-mail, projects with owners, and resources that reclaim should find to be
 * waste, in use or exempt (`shipshape:keep`). Opt-in, because it adds eight
 * servers to the fake computes that other tests count.
 *
 * Every resource is as old as `seededAt`: the cloud cannot age anything, so a
 * test of "SHUTOFF for more than N days" uses a threshold in seconds or a
 * clock offset from that time.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const expected = z.enum(['waste', 'in-use', 'exempt']);

const resource = z.object({
  kind: z.enum(['server', 'volume', 'snapshot', 'image', 'port', 'floating_ip']),
  id: z.string(),
  /** The resource's name; a floating IP's address. */
  name: z.string(),
  project: z.string(),
  projectId: z.string(),
  /** The project owner's e-mail, or the domain's fallback contact when the project has no owner. */
  ownerEmail: z.string(),
  expected,
  /** What the seed left it in: a server or volume status, `associated`, `device`, ... */
  state: z.string(),
  /** How it is exempt: a tag (servers, images, ports, floating IPs) or metadata (volumes, snapshots). */
  keep: z.enum(['tag', 'metadata']).optional(),
  attachedTo: z.string().optional(),
  volumeId: z.string().optional(),
  usedBy: z.array(z.string()).optional(),
  deviceId: z.string().optional(),
  portId: z.string().optional(),
  note: z.string().optional(),
});

export const reclaimSeedSchema = z.object({
  seededAt: z.iso.datetime(),
  keepMarker: z.string(),
  /** Every seeded user's password (domain `domain.name`). */
  userPassword: z.string(),
  externalNetwork: z.object({ id: z.string(), name: z.string() }),
  domain: z.object({
    id: z.string(),
    name: z.string(),
    fallbackContact: z.string(),
    /** The domain attribute that holds the fallback contact (Keystone keeps extra attributes). */
    contactField: z.string(),
  }),
  users: z.array(z.object({ id: z.string(), name: z.string(), email: z.string() })),
  projects: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      owners: z.array(z.string()),
      contact: z.string(),
      contactFrom: z.enum(['owner', 'domain']),
      allWaste: z.boolean(),
      seededAs: z.string(),
    }),
  ),
  resources: z.array(resource),
});

export type ReclaimSeed = z.infer<typeof reclaimSeedSchema>;
export type SeededResource = z.infer<typeof resource>;

/** Reads STATE_DIR/reclaim-seed.json, failing at this edge on any field the seed script changed. */
export async function readReclaimSeed(stateDir: string): Promise<ReclaimSeed> {
  const file = join(stateDir, 'reclaim-seed.json');
  const parsed = reclaimSeedSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
