import { counter, traced } from '@sessionkit/core/telemetry';

/* Spans and counters of the security checks; names in docs/observability.md. No subject (IP, user) is recorded. */
const SCOPE = '@sessionkit/security';

const rejections = counter(SCOPE, 'sessionkit.security.rate_limit.rejections', {
  description: 'Requests refused by a rate limit, by outcome (limited, blocked, store.unavailable)',
  unit: '{request}',
});
const lockouts = counter(SCOPE, 'sessionkit.security.lockouts', {
  description: 'Login attempts refused by the lockout policy',
  unit: '{attempt}',
});

interface Verdict {
  allowed: boolean;
  outcome?: string | undefined;
}

/** A rate-limit check in a span `sessionkit.security.rate_limit`, and its refusals counted. */
export function tracedRateLimit<T extends Verdict | undefined>(check: () => Promise<T>): Promise<T> {
  return traced(SCOPE, 'sessionkit.security.rate_limit', {}, async (notes) => {
    const verdict = await check();
    const outcome =
      verdict === undefined ? 'none' : (verdict.outcome ?? (verdict.allowed ? 'allowed' : 'limited'));
    notes.set('sessionkit.outcome', outcome);
    if (verdict && !verdict.allowed) rejections.add(1, { 'sessionkit.outcome': outcome });
    return verdict;
  });
}

/** A lockout check in a span `sessionkit.security.lockout`, and its refusals counted. */
export function tracedLockout<T extends Verdict>(check: () => Promise<T>): Promise<T> {
  return traced(SCOPE, 'sessionkit.security.lockout', {}, async (notes) => {
    const verdict = await check();
    notes.set('sessionkit.outcome', verdict.outcome ?? (verdict.allowed ? 'allowed' : 'locked'));
    if (!verdict.allowed && verdict.outcome === 'locked') lockouts.add(1);
    return verdict;
  });
}

/** A risk assessment in a span `sessionkit.security.risk`, with the action decided. */
export function tracedRisk<T extends { action: string }>(assess: () => Promise<T>): Promise<T> {
  return traced(SCOPE, 'sessionkit.security.risk', {}, async (notes) => {
    const assessment = await assess();
    notes.set('sessionkit.risk.action', assessment.action);
    return assessment;
  });
}
