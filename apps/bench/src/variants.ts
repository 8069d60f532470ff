import { bareExpress, expressSession, rawRedisGet } from './baseline-variants.js';
import type { Variant } from './variant.js';

export const VARIANTS: Record<string, Variant> = {
  a: bareExpress,
  b: expressSession,
  f: rawRedisGet,
};
