import type { ContextAction } from '@sessionkit/core';
import { z } from 'zod';
import type { LockoutSubject } from './lockout-policy.js';

/**
 * What the security package records. IPs appear only as keyed hashes. Optional fields may be present and
 * undefined, as `securityEventSchema` parses them.
 */
export type SecurityEvent =
  | {
      type: 'lockout';
      at: number;
      userId: string;
      tenantId?: string | undefined;
      subject: LockoutSubject;
      ipHash?: string | undefined;
      failures: number;
      lockedUntil: number;
    }
  | {
      type: 'risk';
      at: number;
      userId: string;
      tenantId?: string | undefined;
      sessionId: string;
      score: number;
      action: ContextAction;
      reasons: string[];
    }
  | { type: 'token.reuse'; at: number; userId: string; tenantId?: string | undefined; sessionId: string };

const base = {
  at: z.number().int().nonnegative(),
  userId: z.string().min(1).max(256),
  tenantId: z.string().min(1).max(256).optional(),
};

/** Stored events are read back through this schema: foreign data never reaches a summary unchecked. */
export const securityEventSchema: z.ZodType<SecurityEvent> = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('lockout'),
    ...base,
    subject: z.enum(['accountIp', 'ip', 'account']),
    ipHash: z.string().max(128).optional(),
    failures: z.number().int().nonnegative(),
    lockedUntil: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal('risk'),
    ...base,
    sessionId: z.string().min(1).max(64),
    score: z.number().min(0).max(1),
    action: z.enum(['allow', 'flag', 'step-up', 'revoke']),
    reasons: z.array(z.string().max(200)).max(50),
  }),
  z.object({ type: z.literal('token.reuse'), ...base, sessionId: z.string().min(1).max(64) }),
]);

export interface LockedAccount {
  userId: string;
  tenantId?: string;
  lockedUntil: number;
  subject: LockoutSubject;
}

export interface RiskySession {
  sessionId: string;
  userId: string;
  score: number;
  action: ContextAction;
  reasons: string[];
  at: number;
}

export interface SecuritySummary {
  recentEvents: SecurityEvent[];
  lockedAccounts: LockedAccount[];
  riskySessions: RiskySession[];
}

/** Persists security events and answers summaries per user and per tenant. */
export interface SecurityEventLog {
  record(event: SecurityEvent): Promise<void>;
  summarizeUser(userId: string, options: { now: number; limit?: number }): Promise<SecuritySummary>;
  summarizeTenant(tenantId: string, options: { now: number; limit?: number }): Promise<SecuritySummary>;
}

/** Builds a summary from the newest-first events of one scope. */
export function summarize(events: readonly SecurityEvent[], now: number, limit: number): SecuritySummary {
  const lockedAccounts = new Map<string, LockedAccount>();
  const riskySessions = new Map<string, RiskySession>();
  for (const event of events) {
    if (event.type === 'lockout' && event.subject !== 'ip' && event.lockedUntil > now) {
      const known = lockedAccounts.get(event.userId);
      if (!known || known.lockedUntil < event.lockedUntil) {
        lockedAccounts.set(event.userId, {
          userId: event.userId,
          ...(event.tenantId === undefined ? {} : { tenantId: event.tenantId }),
          lockedUntil: event.lockedUntil,
          subject: event.subject,
        });
      }
    }
    if (event.type === 'risk' && event.action !== 'allow' && !riskySessions.has(event.sessionId)) {
      riskySessions.set(event.sessionId, {
        sessionId: event.sessionId,
        userId: event.userId,
        score: event.score,
        action: event.action,
        reasons: event.reasons,
        at: event.at,
      });
    }
  }
  return {
    recentEvents: events.slice(0, limit),
    lockedAccounts: [...lockedAccounts.values()],
    riskySessions: [...riskySessions.values()].sort((a, b) => b.score - a.score),
  };
}
