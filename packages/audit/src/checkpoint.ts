import { digestsEqual } from '@sessionkit/core';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import type { Keyring } from './keyring.js';

/**
 * Where a chain's retained part starts after retention deleted its oldest records: the sequence number and
 * `prevHash` its first retained record must have. Signed, so it cannot be moved to hide a later deletion.
 */
export const checkpointSchema = z.object({
  chain: z.string().min(1).max(300),
  seq: z.number().int().positive(),
  prevHash: z.string().min(1).max(64),
  at: z.number().int().nonnegative(),
  /** Records deleted by retention so far, all batches together. */
  deleted: z.number().int().nonnegative(),
  keyId: z.string().min(1).max(64),
  signature: z.string().min(1).max(64),
});
export type ChainCheckpoint = z.infer<typeof checkpointSchema>;

function signedPart(checkpoint: Omit<ChainCheckpoint, 'keyId' | 'signature'>): string {
  return canonicalJson({
    kind: 'sessionkit.audit.checkpoint/v1',
    chain: checkpoint.chain,
    seq: checkpoint.seq,
    prevHash: checkpoint.prevHash,
    at: checkpoint.at,
    deleted: checkpoint.deleted,
  });
}

export function signCheckpoint(
  checkpoint: Omit<ChainCheckpoint, 'keyId' | 'signature'>,
  keys: Keyring,
): ChainCheckpoint {
  return { ...checkpoint, keyId: keys.currentKeyId, signature: keys.signCurrent(signedPart(checkpoint)) };
}

export function checkpointIsAuthentic(checkpoint: ChainCheckpoint, keys: Keyring): boolean {
  const expected = keys.sign(signedPart(checkpoint), checkpoint.keyId);
  return expected !== undefined && digestsEqual(expected, checkpoint.signature);
}
