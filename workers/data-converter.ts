/**
 * Encrypted Temporal payloads. Workflow inputs, Update arguments, activity
 * results and the views the workflow returns carry operator comments and host
 * facts; Temporal stores them in its history, so they leave Shipshape only
 * encrypted (AES-256-GCM, a fresh 12-byte nonce per payload, the key id in
 * the payload's metadata). The API's client and the worker use the same data
 * converter; the codec endpoint (api/routes/codec.ts) decodes for the Web UI.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { newest, type NamedKey, type ShipshapeKeys } from '../config/keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const str = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : '');

export class CodecError extends Error {}

/** Encrypts with the newest codec key; decrypts with whichever key the payload names. */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: NamedKey;

  constructor(keys: NamedKey[]) {
    if (keys.length === 0) throw new CodecError('the payload codec needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    this.current = newest(keys);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, nonce);
      cipher.setAAD(Buffer.from(this.current.id, 'utf8'));
      const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: text(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: text(this.current.id) },
        data: new Uint8Array(sealed),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (str(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
      const id = str(payload.metadata?.[KEY_ID_METADATA]);
      const key = this.byId.get(id);
      if (!key)
        throw new CodecError(
          `payload was encrypted with key "${id}", which is not in the keys file (codecKeys: ${[...this.byId.keys()].join(', ')}); add it back to decrypt`,
        );
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new CodecError(`encrypted payload (key "${id}") is truncated`);
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(id, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new CodecError(
          `encrypted payload (key "${id}") does not authenticate: altered, or another key has that id`,
        );
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** The one data converter of the API's client and the worker. */
export function shipshapeDataConverter(keys: ShipshapeKeys): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys.codecKeys)] };
}
