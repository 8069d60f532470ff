import type { Clock } from '@sessionkit/core';
import { parseInput, SessionKitError, systemClock } from '@sessionkit/core';
import { z } from 'zod';
import type { UpstreamTokenVault } from './token-vault.js';
import { UpstreamUnavailableError } from './upstream-errors.js';

const sweepOptionsSchema = z.object({
  batchSize: z.number().int().positive().max(1000).default(100),
  maxBatches: z.number().int().positive().max(10_000).default(10),
  cursor: z.string().max(1024).optional(),
});
export type OrphanSweepConfig = z.input<typeof sweepOptionsSchema>;

/** One page of sessions to check; the store contract has no global listing, so the app supplies it. */
export type CandidateSource = (
  cursor: string | undefined,
  limit: number,
) => Promise<{ sessionIds: string[]; nextCursor?: string }>;

export interface OrphanSweepReport {
  /** Sessions the provider was asked about. */
  checked: number;
  revoked: number;
  /** Gone, no longer live, or holding nothing the provider could vouch for. */
  skipped: number;
  /** Records that failed to open (corrupt envelope, unknown key): left alone, counted for alerting. */
  failed: number;
  batches: number;
  /** Where to resume; undefined when the candidates are exhausted. */
  nextCursor?: string;
  /** Set when the sweep stopped early because the provider did not answer: nothing is revoked on doubt. */
  stoppedBecause?: 'provider.unavailable';
}

/**
 * Checks sessions against the provider in bounded batches and revokes (`upstream.revoked`) those whose
 * upstream refresh token (or, lacking one, unexpired access token) the provider calls inactive.
 */
export async function sweepOrphans(
  options: OrphanSweepConfig & { vault: UpstreamTokenVault; candidates: CandidateSource; clock?: Clock },
): Promise<OrphanSweepReport> {
  const { vault, candidates, clock = systemClock, ...rest } = options;
  const config = parseInput(sweepOptionsSchema, rest, 'orphan sweep options');
  const report: OrphanSweepReport = { checked: 0, revoked: 0, skipped: 0, failed: 0, batches: 0 };
  let cursor = config.cursor;
  for (let batch = 0; batch < config.maxBatches; batch += 1) {
    const page = await candidates(cursor, config.batchSize);
    report.batches += 1;
    for (const sessionId of page.sessionIds.slice(0, config.batchSize)) {
      try {
        const outcome = await checkOne(vault, sessionId, clock.now());
        if (outcome === 'skipped') {
          report.skipped += 1;
        } else {
          report.checked += 1;
          if (outcome === 'revoked') report.revoked += 1;
        }
      } catch (error) {
        if (error instanceof UpstreamUnavailableError) {
          // Resume at this page: the ones already checked are cheap to check again.
          return {
            ...report,
            stoppedBecause: 'provider.unavailable',
            ...(cursor === undefined ? {} : { nextCursor: cursor }),
          };
        }
        if (!(error instanceof SessionKitError)) throw error;
        report.failed += 1;
      }
    }
    cursor = page.nextCursor;
    if (cursor === undefined) break;
  }
  return { ...report, ...(cursor === undefined ? {} : { nextCursor: cursor }) };
}

async function checkOne(vault: UpstreamTokenVault, sessionId: string, now: number) {
  let tokens: Awaited<ReturnType<UpstreamTokenVault['read']>>;
  try {
    tokens = await vault.read(sessionId);
  } catch (error) {
    if (
      error instanceof SessionKitError &&
      ['session.not_found', 'session.revoked', 'session.expired'].includes(error.code)
    ) {
      return 'skipped' as const;
    }
    throw error;
  }
  if (!tokens) return 'skipped' as const;
  const [token, hint] = tokens.refreshToken
    ? ([tokens.refreshToken, 'refresh_token'] as const)
    : ([tokens.accessToken, 'access_token'] as const);
  if (hint === 'access_token' && tokens.expiresAt <= now) return 'skipped' as const;
  const answer = await vault.client.introspect(token, hint);
  if (answer.active) return 'active' as const;
  await vault.revokeForUpstream(sessionId);
  return 'revoked' as const;
}
