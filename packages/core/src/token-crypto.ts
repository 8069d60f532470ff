import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hash,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';

/*
 * Random bytes are drawn from the platform CSPRNG 4 KiB at a time and handed out in order, each byte once. The
 * cost of a draw is the call (about 2 µs), not the bytes, and a session create needs four or five tokens.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** Where the next `bytes` unused bytes of the pool start; refills it when they would not fit. */
function reservePool(bytes: number): number {
  if (poolOffset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += bytes;
  return start;
}

/** Random bytes from the platform CSPRNG, as base64url without padding. */
export function randomToken(bytes: number): string {
  if (bytes > POOL_BYTES / 4) return randomBytes(bytes).toString('base64url');
  const start = reservePool(bytes);
  return pool.toString('base64url', start, start + bytes);
}

/** `bytes` random bytes (at most 1 KiB) in a buffer of their own. */
function randomBuffer(bytes: number): Buffer {
  const start = reservePool(bytes);
  return Buffer.from(pool.subarray(start, start + bytes));
}

// The one-shot `hash` skips the Hash object `createHash` allocates: it runs on every validation.
export function sha256(value: string): string {
  return hash('sha256', value, 'base64url');
}

export function hmacSha256(key: string | Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('base64url');
}

/** Constant-time equality of two base64url digests; lengths are public (fixed), contents are not. */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function sealKey(secret: string): Buffer {
  return createHash('sha256').update('sessionkit/refresh-seal\u0000').update(secret).digest();
}

/** AES-256-GCM under a key only the holder of `secret` can derive. */
export function seal(secret: string, plaintext: string): string {
  const iv = randomBuffer(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(secret), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** Returns undefined when the box was not sealed with `secret` or was altered. */
export function unseal(secret: string, sealed: string): string | undefined {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 12 + 16) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealKey(secret), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return undefined;
  }
}
