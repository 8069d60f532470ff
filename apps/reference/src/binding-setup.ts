import type { Clock, DpopReplayCache } from '@sessionkit/core';
import { DpopNonces, DpopProofVerifier } from '@sessionkit/core';
import type { DeviceBoundSessions } from '@sessionkit/express';
import { deviceBoundSessions } from '@sessionkit/express';
import type { Database } from '@sessionkit/storage-kysely';
import { KyselyDpopReplayCache } from '@sessionkit/storage-kysely';
import { RedisDpopReplayCache } from '@sessionkit/storage-redis';
import type { Infrastructure } from './infrastructure.js';
import { tablesOf } from './infrastructure.js';

export interface Binding {
  dpop: DpopProofVerifier;
  dbsc: DeviceBoundSessions;
}

/**
 * Sender-constrained sessions. DPoP for API clients: proofs' `jti`s are remembered where sessions live (Redis
 * when configured, else the SQL database), so every instance refuses a proof replayed to any of them; nonces
 * are required, derived from a secret every instance reads from the shared secrets table. DBSC for browsers:
 * challenges and bound cookies keyed from another shared secret, used challenges in the same replay cache.
 */
export function setUpBinding(
  infra: Infrastructure,
  clock: Clock,
  secrets: { dpopNonce: string; dbsc: string; cookieSecure: boolean },
): Binding {
  const replayCache: DpopReplayCache = infra.redis
    ? new RedisDpopReplayCache({ client: infra.redis, prefix: 'sk:', commandTimeoutMs: 500 })
    : new KyselyDpopReplayCache({ db: tablesOf<Database>(infra.sql) });
  return {
    dpop: new DpopProofVerifier({
      replayCache,
      clock,
      nonces: new DpopNonces({ secret: secrets.dpopNonce, clock }),
    }),
    dbsc: deviceBoundSessions({
      secret: secrets.dbsc,
      basePath: '/dbsc',
      secure: secrets.cookieSecure,
      replayCache,
      clock,
    }),
  };
}
