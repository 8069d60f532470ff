import {
  bareExpress,
  bareExpressWithMiddleware,
  expressSession,
  rawPostgresSelect,
  rawRedisGet,
} from './baseline-variants.js';
import {
  sessionKitJwt,
  sessionKitPostgres,
  sessionKitRedis,
  sessionKitRedisCached,
} from './sessionkit-variants.js';
import type { Variant } from './variant.js';

export const VARIANTS: Record<string, Variant> = {
  a: bareExpress,
  b: expressSession,
  c: sessionKitRedis,
  d: sessionKitJwt,
  e: sessionKitPostgres,
  f: rawRedisGet,
  g: sessionKitRedisCached,
  h: rawPostgresSelect,
  i: bareExpressWithMiddleware,
};
