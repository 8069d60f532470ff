import type { RefreshState } from './session-record.js';

/**
 * The refresh state after a step-up: the family moves on to the next generation with a fresh token, so every
 * token issued before it is of an earlier generation and presenting one is reuse. No previous hash, rotation
 * time or sealed successor is kept: a pre-step-up token must not recover the new token through the grace window.
 */
export function reissuedRefresh(refresh: RefreshState, successorHash: string): RefreshState {
  return { familyId: refresh.familyId, generation: refresh.generation + 1, currentHash: successorHash };
}
