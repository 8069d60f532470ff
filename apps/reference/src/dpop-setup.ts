import type { Clock, DpopReplayCache } from '@sessionkit/core';
import { DpopNonces, DpopProofVerifier } from '@sessionkit/core';
import type { Database } from '@sessionkit/storage-kysely';
import { KyselyDpopReplayCache } from '@sessionkit/storage-kysely';
import { RedisDpopReplayCache } from '@sessionkit/storage-redis';
import type { Infrastructure } from './infrastructure.js';
import { tablesOf } from './infrastructure.js';

/**
 * DPoP for API clients: proofs' `jti`s are remembered where sessions live (Redis when configured, else the SQL
 * database), so every instance refuses a proof replayed to any of them; nonces are required, derived from a
 * secret every instance reads from the shared secrets table, so any instance accepts another's nonce.
 */
export function setUpDpop(infra: Infrastructure, clock: Clock, nonceSecret: string): DpopProofVerifier {
  const replayCache: DpopReplayCache = infra.redis
    ? new RedisDpopReplayCache({ client: infra.redis, prefix: 'sk:', commandTimeoutMs: 500 })
    : new KyselyDpopReplayCache({ db: tablesOf<Database>(infra.sql) });
  return new DpopProofVerifier({
    replayCache,
    clock,
    nonces: new DpopNonces({ secret: nonceSecret, clock }),
  });
}
