import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditEntry, AuditRecord } from './audit-record.js';
import { deviceInfoSchema, ipInfoSchema } from './audit-record.js';
import { jsonValueSchema } from './json-value.js';

/** The member of `details` that holds a record's sealed personal data. */
export const SEALED_PERSONAL_DATA = 'sk.pii';
const FORMAT = 'v1';

/**
 * Per-user data keys (32 random bytes each). Destroying a key is what erases: records sealed under it keep their
 * ciphertext, so the chain still verifies, but nobody can read them again.
 */
export interface SubjectKeyStore {
  /** The user's key, created on first use. */
  keyFor(userId: string): Promise<Buffer>;
  /** The user's key, or undefined if it was destroyed or never made. */
  find(userId: string): Promise<Buffer | undefined>;
  /** Destroys the key for good; answers whether there was one. A later record of the user gets a new key. */
  destroy(userId: string): Promise<boolean>;
}

/** Keys in process memory: for tests and a single process whose audit trail lives no longer than it does. */
export class MemorySubjectKeys implements SubjectKeyStore {
  readonly #keys = new Map<string, Buffer>();

  async keyFor(userId: string): Promise<Buffer> {
    let key = this.#keys.get(userId);
    if (!key) {
      key = randomBytes(32);
      this.#keys.set(userId, key);
    }
    return key;
  }

  async find(userId: string): Promise<Buffer | undefined> {
    return this.#keys.get(userId);
  }

  async destroy(userId: string): Promise<boolean> {
    const key = this.#keys.get(userId);
    key?.fill(0);
    return this.#keys.delete(userId);
  }
}

const personalSchema = z.object({
  ip: ipInfoSchema.optional(),
  deviceLabel: deviceInfoSchema.shape.label,
  reason: z.string().max(200).optional(),
  details: z.record(z.string(), jsonValueSchema),
});
type Personal = z.infer<typeof personalSchema>;

/** What `open` found: the readable record, or that its personal data was erased (or never sealed). */
export interface OpenedRecord {
  record: AuditRecord;
  personalData: 'readable' | 'erased' | 'none';
}

/**
 * Crypto-shredding for the audit trail. Before a record about a user is chained, its personal details (the IP
 * hash and prefix, the device label, the reason and `details`) are encrypted with AES-256-GCM under that user's
 * key and kept as one string in `details["sk.pii"]`; the hash covers the ciphertext. Erasing the user destroys
 * the key: the records stay in place, in sequence, verifiable, and unreadable. Action, time, outcome, the
 * coarse device (browser, OS, type) and the pseudonymous ids stay in the clear, for statistics and chains.
 */
export class PersonalDataVault {
  readonly #keys: SubjectKeyStore;

  constructor(keys: SubjectKeyStore) {
    this.#keys = keys;
  }

  async seal(entry: AuditEntry): Promise<AuditEntry> {
    if (entry.userId === undefined) return entry;
    const personal: Personal = {
      ip: entry.ip,
      deviceLabel: entry.device?.label,
      reason: entry.reason,
      details: entry.details,
    };
    const key = await this.#keys.keyFor(entry.userId);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    // Bound to the record: a sealed blob copied onto another record does not open.
    cipher.setAAD(Buffer.from(`${entry.id}\u0000${entry.userId}`));
    const body = Buffer.concat([cipher.update(JSON.stringify(personal), 'utf8'), cipher.final()]);
    const sealed = [FORMAT, iv, body, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
    const { label: _label, ...device } = entry.device ?? { key: '' };
    return {
      ...entry,
      ip: undefined,
      reason: undefined,
      device: entry.device === undefined ? undefined : device,
      details: { [SEALED_PERSONAL_DATA]: sealed },
    };
  }

  /** The record with its personal details restored, for a data-subject export; never for verification. */
  async open(record: AuditRecord): Promise<OpenedRecord> {
    const sealed = record.details[SEALED_PERSONAL_DATA];
    if (typeof sealed !== 'string' || record.userId === undefined) return { record, personalData: 'none' };
    const key = await this.#keys.find(record.userId);
    const personal = key && decrypt(key, sealed, `${record.id}\u0000${record.userId}`);
    if (!personal) return { record, personalData: 'erased' };
    const device =
      record.device === undefined
        ? undefined
        : {
            ...record.device,
            ...(personal.deviceLabel === undefined ? {} : { label: personal.deviceLabel }),
          };
    return {
      record: {
        ...record,
        ...(personal.ip === undefined ? {} : { ip: personal.ip }),
        ...(personal.reason === undefined ? {} : { reason: personal.reason }),
        ...(device === undefined ? {} : { device }),
        details: personal.details,
      },
      personalData: 'readable',
    };
  }

  /** Destroys the user's key: every record sealed under it becomes unreadable for good. */
  shred(userId: string): Promise<boolean> {
    return this.#keys.destroy(userId);
  }
}

function decrypt(key: Buffer, sealed: string, aad: string): Personal | undefined {
  const [format, iv, body, tag] = sealed.split('.');
  if (format !== FORMAT || iv === undefined || body === undefined || tag === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
    const parsed = personalSchema.safeParse(JSON.parse(text.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
