import type { RefreshState } from './session-record.js';
import { RETIRED_HASHES_KEPT } from './store.js';
import { truncateHash } from './store-rules.js';

/**
 * The refresh state after a step-up: the family moves on to a fresh token, and the tokens issued before it
 * (current and previous) are retired, so presenting one is reuse. No previous hash, rotation time or sealed
 * successor is kept: a pre-step-up token must not recover the new token through the grace window.
 */
export function reissuedRefresh(refresh: RefreshState, successorHash: string): RefreshState {
  const issuedBefore = [
    refresh.currentHash,
    ...(refresh.previousHash === undefined ? [] : [refresh.previousHash]),
  ];
  return {
    familyId: refresh.familyId,
    generation: refresh.generation + 1,
    currentHash: successorHash,
    retiredHashes: [...issuedBefore.map(truncateHash), ...(refresh.retiredHashes ?? [])].slice(
      0,
      RETIRED_HASHES_KEPT,
    ),
  };
}
